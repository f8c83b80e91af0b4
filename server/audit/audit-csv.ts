/**
 * The audit log as CSV (`GET /api/audit-log.csv`), produced page by page so it streams whatever its size. Fields
 * go through `csvField` (server/reporting/usage-csv.ts): quoted when needed, a leading =, +, -, @ neutralised so a
 * spreadsheet never runs a value as a formula. `before`/`after` are their JSON.
 */
import type { Executor } from '../../models/database';
import { csvField } from '../reporting/usage-csv';
import { listAudit, type AuditEntry, type AuditFilter } from './audit-log';

const PAGE = 500;
const HEADER = 'id,occurred_at,actor_type,actor_user_id,actor_name,action,subject,before,after\n';

/** One entry as a CSV line. */
export function auditCsvLine(e: AuditEntry): string {
  const user = e.actor.type === 'user' ? e.actor : null;
  return (
    [e.id, e.occurredAt, e.actor.type, user?.userId ?? null, user?.name ?? null, e.action, e.subject, e.before ? JSON.stringify(e.before) : null, e.after ? JSON.stringify(e.after) : null]
      .map(csvField)
      .join(',') + '\n'
  );
}

/** The agency's filtered entries as CSV, newest first: the header, then one chunk per page. */
export async function* auditCsv(db: Executor, companyId: string, filter: AuditFilter): AsyncGenerator<string> {
  yield HEADER;
  let beforeId: number | undefined;
  for (;;) {
    const page = await listAudit(db, companyId, { ...filter, beforeId, limit: PAGE }, PAGE);
    if (page.length === 0) return;
    yield page.map(auditCsvLine).join('');
    if (page.length < PAGE) return;
    beforeId = page[page.length - 1]!.id;
  }
}
