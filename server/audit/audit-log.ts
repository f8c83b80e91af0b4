/**
 * The audit log of billing-configuration changes (issue 19, item 3): who (the HighLevel user of the SSO session, or
 * Stripe, or Meterbridge itself), when, what, before and after. An entry is written with the executor of the change's
 * own transaction, so a change is never recorded without happening nor happens unrecorded. `before`/`after` must be
 * descriptions built from allow-lists (e.g. server/stripe/connection-audit.ts), never stored rows: no secret may
 * reach this table. Kept forever (nothing deletes from it).
 */
import { and, desc, eq, gte, lt, sql } from 'drizzle-orm';
import type { Executor } from '../../models/database';
import { auditEntries } from '../../models/schema';
import type { Caller } from '../http/api-route';

/** Who made a change. */
export type AuditActor = { type: 'user'; userId: string; name: string | null } | { type: 'stripe' } | { type: 'system' };

/** The actor of an API call: the HighLevel user of the SSO session (API-key callers are the system). */
export function actorOf(caller: Caller | null): AuditActor {
  if (!caller || caller.type === 'api-key') return { type: 'system' };
  return { type: 'user', userId: caller.userId, name: caller.userName ?? null };
}

/** One change to record. */
export interface AuditChange {
  companyId: string;
  actor: AuditActor;
  action: string;
  subject: string;
  before: Record<string, unknown> | null;
  after: Record<string, unknown> | null;
}

/** One entry as read back; `occurredAt` ISO 8601. */
export interface AuditEntry extends Omit<AuditChange, 'companyId'> {
  id: number;
  occurredAt: string;
}

/** Records a change; call it with the change's own transaction. */
export async function recordAudit(tx: Executor, change: AuditChange): Promise<void> {
  const actor = change.actor;
  await tx.insert(auditEntries).values({
    companyId: change.companyId,
    actorType: actor.type,
    actorUserId: actor.type === 'user' ? actor.userId : null,
    actorName: actor.type === 'user' ? actor.name : null,
    action: change.action,
    subject: change.subject,
    before: change.before,
    after: change.after,
  });
}

/** Filters of the log: `subject`/`action`/`userId` exactly; `from`/`to` UTC days (YYYY-MM-DD), both included. */
export interface AuditFilter {
  subject?: string;
  action?: string;
  userId?: string;
  from?: string;
  to?: string;
}

const nextDay = (day: string): Date => new Date(Date.parse(`${day}T00:00:00Z`) + 86_400_000);

/**
 * The agency's entries, newest first, filtered (AuditFilter); `beforeId` pages (entries with a smaller id).
 * @param limit 1–200 (the CSV export pages with up to 1000).
 */
export async function listAudit(db: Executor, companyId: string, filter: AuditFilter & { beforeId?: number; limit: number }, maxLimit = 200): Promise<AuditEntry[]> {
  const rows = await db
    .select()
    .from(auditEntries)
    .where(
      and(
        eq(auditEntries.companyId, companyId),
        filter.subject ? eq(auditEntries.subject, filter.subject) : undefined,
        filter.action ? eq(auditEntries.action, filter.action) : undefined,
        filter.userId ? eq(auditEntries.actorUserId, filter.userId) : undefined,
        filter.from ? gte(auditEntries.occurredAt, new Date(`${filter.from}T00:00:00Z`)) : undefined,
        filter.to ? lt(auditEntries.occurredAt, nextDay(filter.to)) : undefined,
        filter.beforeId ? lt(auditEntries.id, filter.beforeId) : undefined,
      ),
    )
    .orderBy(desc(auditEntries.id))
    .limit(Math.min(Math.max(filter.limit, 1), maxLimit));
  return rows.map((r) => ({
    id: r.id,
    occurredAt: r.occurredAt.toISOString(),
    actor: r.actorType === 'user' ? { type: 'user', userId: r.actorUserId ?? '', name: r.actorName } : { type: r.actorType },
    action: r.action,
    subject: r.subject,
    before: r.before ?? null,
    after: r.after ?? null,
  }));
}

/** How many entries the agency has (tests, the Activity page's total). */
export async function countAudit(db: Executor, companyId: string): Promise<number> {
  const [row] = await db.select({ n: sql<number>`count(*)::int` }).from(auditEntries).where(eq(auditEntries.companyId, companyId));
  return row?.n ?? 0;
}
