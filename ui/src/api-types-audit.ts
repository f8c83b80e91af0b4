/**
 * The Activity page's types for the audit log, inferred from the server's zod schemas (server/audit/schemas.ts;
 * see api-types.ts).
 */
import type { z } from 'zod';
import type { auditActorSchema, auditEntrySchema, auditFilterQuery, auditListResponse } from '../../server/audit/schemas';

/** Who made a change: a HighLevel user, Stripe, or Meterbridge itself. */
export type AuditActor = z.infer<typeof auditActorSchema>;
/** One change: who, when, what, before and after (never a secret). */
export type AuditEntry = z.infer<typeof auditEntrySchema>;
/** `GET /api/audit-log`: newest first. */
export type AuditList = z.infer<typeof auditListResponse>;
/** Filters of the log and its CSV: subject, action, user id, and UTC days `from`/`to` (YYYY-MM-DD, included). */
export type AuditFilter = z.input<typeof auditFilterQuery>;
