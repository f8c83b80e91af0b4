/**
 * The audit log's wire contracts (zod only, so the UI can infer its types: ui/src/api-types-audit.ts).
 * An entry never holds a secret: `before`/`after` are descriptions from fixed field lists (server/audit/describe.ts).
 */
import { z } from 'zod';

const json = z.record(z.string(), z.unknown()).nullable();

/** Who made a change: a HighLevel user (SSO session), Stripe (a webhook) or Meterbridge itself. */
export const auditActorSchema = z.union([
  z.object({ type: z.literal('user'), userId: z.string(), name: z.string().nullable() }),
  z.object({ type: z.enum(['stripe', 'system']) }),
]);

/** One entry on the wire; `occurredAt` ISO 8601. */
export const auditEntrySchema = z.object({
  id: z.number().int(),
  occurredAt: z.string(),
  actor: auditActorSchema,
  action: z.string(),
  subject: z.string(),
  before: json,
  after: json,
});

const day = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'a date YYYY-MM-DD');

/**
 * Filters of the log and its CSV: `subject`, `action`, `userId` match exactly; `from`/`to` are UTC days, both
 * included.
 */
export const auditFilterQuery = z.object({
  subject: z.string().max(100).optional(),
  action: z.string().max(100).optional(),
  userId: z.string().max(100).optional(),
  from: day.optional(),
  to: day.optional(),
});

/** `GET /api/audit-log` query: the filters, plus `beforeId` to page and `limit` 1–200 (default 50). */
export const auditListQuery = auditFilterQuery.extend({
  beforeId: z.coerce.number().int().positive().optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
});

/** `GET /api/audit-log`: newest first. */
export const auditListResponse = z.object({ entries: z.array(auditEntrySchema) });
