/**
 * The audit log's routes (server/audit/audit-log.ts). Any agency user may read them (reads are open to an agency's
 * users, server/access/policy.ts); sub-account users may not.
 * - `GET /api/audit-log`: entries newest first, filtered by subject, action, user and UTC days, paged by `beforeId`.
 * - `GET /api/audit-log.csv`: the same filters, every matching entry, streamed.
 */
import { z } from 'zod';
import type { Database } from '../../models/database';
import { defineRoute, defineStreamRoute, type ApiRoute } from '../http/api-route';
import { auditCsv } from './audit-csv';
import { listAudit } from './audit-log';
import { auditFilterQuery, auditListQuery, auditListResponse } from './schemas';

/** The audit-log routes. */
export function auditRoutes(deps: { db: Database }): ApiRoute<any, any, any, any>[] {
  return [
    defineRoute({
      method: 'get', path: '/api/audit-log', tag: 'Audit', access: 'agency',
      summary: 'Changes to the agency’s billing configuration: who made them, when, before and after (never a secret)',
      query: auditListQuery, response: auditListResponse,
      handler: async ({ caller, query: q }) => ({ entries: await listAudit(deps.db, caller!.companyId, q) }),
    }),
    defineStreamRoute({
      method: 'get', path: '/api/audit-log.csv', tag: 'Audit', access: 'agency', contentType: 'text/csv',
      summary: 'The audit log as CSV (streamed), with the same filters as GET /api/audit-log',
      query: auditFilterQuery,
      response: z.string().describe('text/csv: id,occurred_at,actor_type,actor_user_id,actor_name,action,subject,before,after'),
      handler: async ({ caller, query }) => ({
        filename: `meterbridge-activity-${new Date().toISOString().slice(0, 10)}.csv`,
        chunks: auditCsv(deps.db, caller!.companyId, query),
      }),
    }),
  ];
}
