/**
 * Response schemas of the usage API and of its settings (API keys, custom metrics). They are allow-lists: a key's
 * hash never leaves the server, and the key itself only in the answer that creates it.
 */
import { z } from 'zod';

const time = z.iso.datetime();
const optionalTime = time.nullable();

/** `POST /api/api-keys` body: the key's name. */
export const apiKeyInput = z.object({
  /** What the key is for, e.g. "Voice vendor" (1–100 characters). */
  name: z
    .string()
    .trim()
    .min(1)
    .max(100)
    .refine((v) => !/\p{Cc}/u.test(v), 'must not contain control characters'),
});

/** A key as listed: never the key or its hash. Times are ISO 8601. */
export const apiKeySummarySchema = z.object({
  id: z.number().int(),
  name: z.string(),
  prefix: z.string(),
  createdAt: time,
  lastUsedAt: optionalTime,
  revokedAt: optionalTime,
});
/** `GET /api/api-keys`: newest first, revoked ones included. */
export const apiKeyListResponse = z.object({ keys: z.array(apiKeySummarySchema) });
/** The only answer that carries a key: shown once. */
export const createdApiKeyResponse = apiKeySummarySchema.extend({
  key: z.string().describe('The API key. Shown once: store it now; Meterbridge keeps only its hash.'),
});
/** `:keyId`, a positive integer. */
export const apiKeyIdParam = z.object({ keyId: z.coerce.number().int().positive().max(Number.MAX_SAFE_INTEGER) });

/** A custom metric; `archivedAt` set means new usage for it is refused. */
export const customMetricSchema = z.object({
  key: z.string(),
  label: z.string(),
  unit: z.string(),
  archivedAt: optionalTime,
  createdAt: time,
});
/** `GET /api/custom-metrics`: active first, then by key. */
export const customMetricListResponse = z.object({ metrics: z.array(customMetricSchema) });
/** `:key` of a custom metric. */
export const customMetricKeyParam = z.object({ key: z.string().regex(/^[a-z][a-z0-9_]{0,62}$/, 'must be a metric key in lower snake case') });

/** `POST /api/v1/usage`: one outcome per event, in request order, and the counts. */
export const usageIngestResponse = z.object({
  results: z.array(
    z.object({
      index: z.number().int(),
      idempotencyKey: z.string(),
      status: z
        .enum(['accepted', 'duplicate', 'conflict'])
        .describe('accepted: stored and counted by the rules in force; duplicate: this key was already recorded with the same event; conflict: this key was already used for a different event (nothing stored).'),
    }),
  ),
  totals: z.object({ received: z.number().int(), accepted: z.number().int(), duplicate: z.number().int(), conflict: z.number().int() }),
});

/**
 * The codes of one event's problem in a 422 `invalid_events` answer (server/usage-api/usage-request.ts and
 * ingest-usage.ts): a field that does not match its schema, a sub-account not of the agency, a metric neither built
 * in nor an active custom one, or a time more than 5 minutes ahead or before 2000-01-01.
 */
export const USAGE_EVENT_PROBLEM_CODES = ['invalid_field', 'unknown_location', 'unknown_metric', 'occurred_in_future', 'occurred_too_early'] as const;

/** The 422 answer: every problem of every event, by index; nothing was stored. */
export const invalidEventsErrorSchema = z.object({
  error: z.object({
    code: z.literal('invalid_events'),
    message: z.string(),
    events: z.array(z.object({ index: z.number().int(), field: z.string().nullable(), code: z.enum(USAGE_EVENT_PROBLEM_CODES), message: z.string() })),
  }),
  requestId: z.string().optional(),
});
