/**
 * What a meter-event call's result means for its batch, from Stripe's documented errors only: HTTP status codes and
 * error types (docs.stripe.com/api/errors), error codes (docs.stripe.com/error-codes), rate limits
 * (docs.stripe.com/rate-limits) and the `Stripe-Should-Retry` header (docs.stripe.com/error-low-level).
 *
 * Stripe does not document what it answers when an identifier it already took is sent again (the spec only says
 * identifiers are unique "within a rolling period of at least 24 hours", docs.stripe.com/api/billing/meter-event/create),
 * so no answer is read as "already delivered": a refusal that fits none of the documented cases is `unconfirmed`
 * — Stripe may or may not have counted the event — and is left to reconciliation instead of being resent or
 * counted as delivered.
 */

/**
 * sent: Stripe took the event (its asynchronous validation may still refuse it: see server/stripe/error-reports.ts).
 * retry: transient (network, timeout, 409, 429, 5xx), resent with the same identifier while the window allows.
 * failed: Stripe refused THIS request before processing it (bad key, missing permission, invalid parameter) — it
 *   was not counted; the agency fixes the cause and retries.
 * unconfirmed: a refusal we cannot classify; it may follow an earlier attempt Stripe counted.
 */
export type MeterEventOutcome =
  | { kind: 'sent' }
  | { kind: 'retry'; message: string }
  | { kind: 'failed'; message: string }
  | { kind: 'unconfirmed'; message: string };

interface StripeLikeError {
  type?: string;
  statusCode?: number;
  code?: string;
  message?: string;
  headers?: Record<string, string | undefined>;
}

/**
 * Error codes (docs.stripe.com/error-codes) by which Stripe says a request was refused as invalid, before anything
 * was recorded.
 */
const REFUSED_REQUEST_CODES = new Set([
  'parameter_missing',
  'parameter_unknown',
  'parameter_invalid_empty',
  'parameter_invalid_integer',
  'parameter_invalid_string_blank',
  'parameter_invalid_string_empty',
  'parameters_exclusive',
  'resource_missing',
  'api_key_expired',
  'secret_key_required',
  'livemode_mismatch',
]);

/** Classifies an error thrown by `stripe.billing.meterEvents.create`. Never throws. */
export function classifyMeterEventError(err: unknown): MeterEventOutcome {
  const e = (err ?? {}) as StripeLikeError;
  const message = typeof e.message === 'string' && e.message ? e.message : String(err);
  const status = e.statusCode;
  // No HTTP answer (connection reset, timeout): Stripe may or may not have the event; resending is what the
  // identifier is for.
  if (e.type === 'StripeConnectionError' || status === undefined) return { kind: 'retry', message };
  // 409 "conflicts with another request", 429 "too many requests", 5xx "something went wrong on Stripe's end".
  if (status === 429 || status === 409 || status >= 500) return { kind: 'retry', message };
  if (e.headers?.['stripe-should-retry'] === 'true') return { kind: 'retry', message };
  // 401 "no valid API key provided", 403 "the API key doesn't have permissions": the request was not processed.
  if (status === 401 || status === 403) return { kind: 'failed', message };
  if ((status === 400 || status === 404) && e.code !== undefined && REFUSED_REQUEST_CODES.has(e.code)) return { kind: 'failed', message };
  return { kind: 'unconfirmed', message };
}

/**
 * Exponential backoff with jitter: base × 2^(attempt−1), capped, then scaled by a random factor in [0.5, 1).
 * @param attempt 1 for the first retry. @returns seconds.
 */
export function retryDelaySeconds(attempt: number, baseSeconds: number, maxSeconds: number, random = Math.random): number {
  const exponential = Math.min(maxSeconds, baseSeconds * 2 ** Math.max(0, attempt - 1));
  return exponential * (0.5 + random() * 0.5);
}
