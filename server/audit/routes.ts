/**
 * `GET /api/audit-log`: the agency's audit entries, newest first (server/audit/audit-log.ts). Any agency user may
 * read them (reads are open to an agency's users, server/access/policy.ts). Query: `subject` and `action` filter
 * exactly (e.g. `subject=stripe_connection`), `beforeId` pages, `limit` 1–200 (default 50).
 */
import { z } from 'zod';
import type { Database } from '../../models/database';
import { defineRoute, type ApiRoute } from '../http/api-route';
import { listAudit } from './audit-log';

const json = z.record(z.string(), z.unknown()).nullable();
/** One entry on the wire: never a secret (descriptions only). */
export const auditEntrySchema = z.object({
  id: z.number().int(),
  occurredAt: z.string(),
  actor: z.union([
    z.object({ type: z.literal('user'), userId: z.string(), name: z.string().nullable() }),
    z.object({ type: z.enum(['stripe', 'system']) }),
  ]),
  action: z.string(),
  subject: z.string(),
  before: json,
  after: json,
});
const query = z.object({
  subject: z.string().max(100).optional(),
  action: z.string().max(100).optional(),
  beforeId: z.coerce.number().int().positive().optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
});

export function auditRoutes(deps: { db: Database }): ApiRoute<any, any, any, any>[] {
  return [
    defineRoute({
      method: 'get', path: '/api/audit-log', tag: 'Audit', access: 'agency',
      summary: 'Changes to the agency’s billing configuration (today: its Stripe connection), who made them, before and after',
      query, response: z.object({ entries: z.array(auditEntrySchema) }),
      handler: async ({ caller, query: q }) => ({ entries: await listAudit(deps.db, caller!.companyId, q) }),
    }),
  ];
}
