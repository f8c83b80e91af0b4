/**
 * The body of `POST /api/v1/usage`: one usage event, or `{ events: [...] }` with 1 to 1,000 of them. Each event is
 * checked on its own, so the answer lists every problem by index; the checks that need the database (metric,
 * sub-account) and the clock happen in the use case (ingest-usage.ts).
 */
import { z } from 'zod';
import { badRequest } from '../http/errors';
import { canonicalQuantity } from '../metering/decimal-quantity';

/** Most events one request may carry. */
export const MAX_EVENTS_PER_REQUEST = 1_000;

/** Any metric key's shape (built-in or custom); whether it exists is checked against the agency's metrics. */
const METRIC_SHAPE = /^[a-z][a-z0-9_]{0,62}$/;
/** 1–255 visible ASCII characters (no spaces or control characters). */
const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;
/** Location ids are short alphanumeric strings; anything PostgreSQL cannot take as text (NUL) is kept out. */
const VISIBLE_ASCII_200 = /^[\x21-\x7e]{1,200}$/;

/** One usage event as clients send it (also its OpenAPI description). */
export const usageEventSchema = z
  .object({
    locationId: z
      .string()
      .regex(VISIBLE_ASCII_200, 'must be a HighLevel location id (visible ASCII, at most 200 characters)')
      .describe('The sub-account (HighLevel location id); it must belong to the API key’s agency.'),
    metric: z.string().regex(METRIC_SHAPE, 'must be a metric key in lower snake case').describe('A built-in metric (sms, call_minutes, ai_tokens, …) or one of the agency’s active custom metrics.'),
    quantity: z
      .union([z.string(), z.number()], { error: 'must be a decimal string or a number' })
      .describe('Non-negative decimal with at most 6 decimals, e.g. "12.5". A string keeps large or fractional values exact.'),
    occurredAt: z.iso
      .datetime({ offset: true, error: 'must be an ISO 8601 date-time with a time zone, e.g. 2026-11-20T09:30:00Z' })
      .describe('When the usage happened, ISO 8601 with a time zone; at most 5 minutes ahead of the server clock.'),
    idempotencyKey: z
      .string()
      .regex(IDEMPOTENCY_KEY, 'must be 1 to 255 visible ASCII characters')
      .describe('Your unique id for this event. A repeat within the agency stores and bills nothing (duplicate); reused for a different event it is a conflict.'),
  })
  .strict();

/** The request body: one event, or a batch (the wire format, for the OpenAPI document). */
export const usageRequestSchema = z.union([
  usageEventSchema,
  z.object({ events: z.array(usageEventSchema).min(1).max(MAX_EVENTS_PER_REQUEST) }).strict(),
]);

/** A well-formed event, normalised: `quantity` canonical decimal string, `occurredAt` a Date. */
export interface UsageEvent {
  locationId: string;
  metric: string;
  quantity: string;
  occurredAt: Date;
  idempotencyKey: string;
}

/** One problem with one event. `field` is null for the event as a whole. */
export interface EventProblem {
  index: number;
  field: string | null;
  code: string;
  message: string;
}

/** Every event of a request, in order: normalised, or null when it has problems (listed in `problems`). */
export interface ParsedUsageRequest {
  events: Array<UsageEvent | null>;
  problems: EventProblem[];
}

/**
 * Reads the body of a usage request without stopping at the first bad event.
 * @throws AppError 400 `invalid_request` when the body is neither an event object nor `{ events }` with 1 to
 *   1,000 entries (per-event problems are returned, not thrown).
 */
export function parseUsageRequest(raw: unknown): ParsedUsageRequest {
  const items = envelope(raw);
  const events: Array<UsageEvent | null> = [];
  const problems: EventProblem[] = [];
  items.forEach((item, index) => {
    const result = usageEventSchema.safeParse(item);
    const before = problems.length;
    if (!result.success) {
      for (const issue of result.error.issues) {
        const field = issue.path.length > 0 ? issue.path.join('.') : null;
        problems.push({ index, field, code: 'invalid_field', message: field ? `${field}: ${issue.message}` : issue.message });
      }
    }
    const given = (item as { quantity?: unknown } | null)?.quantity;
    const quantity = canonicalQuantity(given);
    if (!quantity.ok && !problems.slice(before).some((p) => p.field === 'quantity') && given !== undefined) {
      problems.push({ index, field: 'quantity', code: 'invalid_field', message: `quantity: ${quantity.problem}` });
    }
    if (!result.success || !quantity.ok) {
      events.push(null);
      return;
    }
    events.push({ ...result.data, quantity: quantity.quantity, occurredAt: new Date(result.data.occurredAt) });
  });
  return { events, problems };
}

function envelope(raw: unknown): unknown[] {
  const shape = `The body must be one usage event, or { "events": [...] } with 1 to ${MAX_EVENTS_PER_REQUEST} events, as JSON.`;
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw badRequest('invalid_request', shape);
  if (!('events' in raw)) return [raw];
  const { events, ...rest } = raw as { events: unknown };
  const extra = Object.keys(rest);
  if (extra.length > 0) throw badRequest('invalid_request', `${shape} Unknown field(s) beside "events": ${extra.slice(0, 5).join(', ')}.`);
  if (!Array.isArray(events) || events.length === 0 || events.length > MAX_EVENTS_PER_REQUEST) {
    const got = Array.isArray(events) ? `${events.length} events` : `"events" is not an array`;
    throw badRequest('invalid_request', `${shape} Got ${got}.`);
  }
  return events;
}
