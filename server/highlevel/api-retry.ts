/**
 * HighLevel API retry policy: which failures are retried, and how long to wait before the next attempt.
 * HighLevel answers 429 past its limits (100 requests / 10 s and 200,000 / day per app and location or company) with
 * `Retry-After` or `X-RateLimit-*` headers (marketplace.gohighlevel.com/docs, "Rate limits").
 */
import type { HttpMethod } from './api-errors';

/** First exponential backoff step, milliseconds. */
const BACKOFF_BASE_MS = 1_000;
/** Largest exponential backoff step, milliseconds. */
const BACKOFF_CAP_MS = 10_000;
const RETRYABLE_STATUSES_FOR_GET = new Set([502, 503, 504]);
const RETRYABLE_NETWORK_CODES = new Set(['ECONNRESET', 'ETIMEDOUT', 'ECONNABORTED', 'ECONNREFUSED', 'EAI_AGAIN', 'EPIPE']);

/** The outcome of one attempt: an HTTP response (any status), or no response at all. */
export type Attempt =
  | { kind: 'response'; status: number; headers: Record<string, unknown>; body: unknown }
  | { kind: 'network'; errorCode: string | undefined; errorMessage: string };

/**
 * The wait before retry number `retry + 1` when HighLevel gave no hint: exponential from 1 s, doubling, capped at
 * 10 s (1, 2, 4, 8, 10, 10 … s), with "equal jitter": a uniformly random value between half and all of that step,
 * so clients that were limited together do not retry together. Milliseconds.
 */
export function backoffMs(retry: number, random: () => number = Math.random): number {
  const step = Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** retry);
  return Math.round(step / 2 + random() * (step / 2));
}

/**
 * The wait HighLevel asked for, in milliseconds, or undefined when the headers give none:
 * `Retry-After` (delta-seconds, or an HTTP date), else `X-RateLimit-Interval-Milliseconds` when
 * `X-RateLimit-Remaining` is 0. Header names are lower-case (as axios exposes them).
 */
export function serverRequestedWaitMs(headers: Record<string, unknown>, now: () => number = Date.now): number | undefined {
  const retryAfter = headerText(headers['retry-after']);
  if (retryAfter !== undefined) {
    if (/^\d+(\.\d+)?$/.test(retryAfter)) return Math.round(Number(retryAfter) * 1000);
    const at = Date.parse(retryAfter);
    if (!Number.isNaN(at)) return Math.max(0, at - now());
  }
  const remaining = headerText(headers['x-ratelimit-remaining']);
  const interval = headerText(headers['x-ratelimit-interval-milliseconds']);
  if (remaining !== undefined && Number(remaining) === 0 && interval !== undefined && /^\d+$/.test(interval)) {
    return Number(interval);
  }
  return undefined;
}

function headerText(value: unknown): string | undefined {
  const first = Array.isArray(value) ? value[0] : value;
  if (typeof first === 'number') return String(first);
  if (typeof first !== 'string') return undefined;
  const trimmed = first.trim();
  return trimmed === '' ? undefined : trimmed;
}

/** Whether an attempt is worth repeating: a 429 always; a 502/503/504 or a dropped connection only for a GET. */
export function isRetryable(method: HttpMethod, attempt: Attempt): boolean {
  if (attempt.kind === 'response') {
    if (attempt.status === 429) return true;
    return method === 'GET' && RETRYABLE_STATUSES_FOR_GET.has(attempt.status);
  }
  return method === 'GET' && attempt.errorCode !== undefined && RETRYABLE_NETWORK_CODES.has(attempt.errorCode);
}

