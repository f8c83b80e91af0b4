/**
 * Audited changes of billing configuration (issue 19, item 3): each entry commits in the same database transaction
 * as the change's own writes, so a change is never recorded without happening nor happens unrecorded.
 *
 * How, per kind of change:
 * - Database writes, with or without Stripe calls (`audited`): the change runs inside one transaction that its use
 *   case joins through the ambient database (server/audit/ambient-transaction.ts) — its writes, the before and after
 *   read there, and the entry commit together; a change that throws, or a fault before the commit, leaves neither.
 *   Stripe calls made by the change happen before that commit: each is idempotent (find-or-create by our metadata,
 *   or an idempotency key from our rows), so a change whose commit fails leaves at most a Stripe object that the
 *   retried change finds again, and nothing local or in the log. The price is that the transaction stays open while
 *   Stripe answers (seconds at worst; row locks the change takes are held that long).
 * - Changes with no local write at all (a coupon archived, a discount applied: Stripe is the only store): the same
 *   path; the entry is then the transaction's only write and commits only after Stripe said yes, because there is
 *   nothing local to commit with it — an entry before Stripe's answer could record a change that never happened.
 * - Use cases that commit their own steps around Stripe calls by design (a one-time charge, a wallet top-up, a
 *   reconciliation run: their row must survive a failed Stripe call so the next run finds Stripe's objects again)
 *   (`auditedStep`): the use case calls `recordAuditStep(tx, after)` inside the transaction of the write that makes
 *   the change (the charge's or top-up's row, the run's row); the entry commits with that row.
 * With a `describe`, a change that left its subject as it was writes nothing. Describers (server/audit/describe.ts)
 * and summaries read fixed field lists (`pick`), never stored rows, so no secret can reach the log.
 */
import type { Database, Executor } from '../../models/database';
import { actorOf, recordAudit, type AuditActor } from './audit-log';
import { inAuditedTransaction, withAuditStep } from './ambient-transaction';
import type { Caller } from '../http/api-route';

/** What the log says of a subject (null: it does not exist). */
export type Description = Record<string, unknown> | null;

/** Reads what the log says of a subject. */
export type Describe = (db: Executor) => Promise<Description>;

/** What an audited change is about. */
export interface AuditTarget<T> {
  companyId: string;
  actor: AuditActor;
  action: string;
  subject: string;
  /** The subject before and after (preferred). */
  describe?: Describe;
  /** Without `describe`: the after, from the change's result. */
  summarize?: (result: T) => Description;
}

/** Only `keys` of `value` (a fixed field list; absent fields are left out). */
export function pick(value: unknown, keys: readonly string[]): Record<string, unknown> {
  const source = (value ?? {}) as Record<string, unknown>;
  return Object.fromEntries(keys.filter((k) => source[k] !== undefined).map((k) => [k, source[k]]));
}

/** The audit who/what of a route's change: its caller's agency and user. */
export function auditBy(caller: Caller | null, action: string, subject: string): { companyId: string; actor: AuditActor; action: string; subject: string } {
  return { companyId: caller!.companyId, actor: actorOf(caller), action, subject };
}

/**
 * Runs `work` and records it in one transaction (see the module comment). `db` is the bare database.
 * @returns what `work` returned. @throws what `work` throws (nothing is then changed or recorded).
 */
export async function audited<T>(db: Database, target: AuditTarget<T>, work: () => Promise<T>): Promise<T> {
  return inAuditedTransaction(db, async (tx) => {
    const before = target.describe ? await target.describe(tx) : null;
    const result = await work();
    const after = target.describe ? await target.describe(tx) : (target.summarize?.(result) ?? null);
    if (target.describe && JSON.stringify(before) === JSON.stringify(after)) return result;
    await recordAudit(tx, { companyId: target.companyId, actor: target.actor, action: target.action, subject: target.subject, before, after });
    return result;
  });
}

/**
 * Runs `work`, whose use case records the entry itself in its own step (`recordAuditStep`, see the module comment);
 * `fields` is the allow-list kept of what it describes.
 * @returns what `work` returned. @throws what `work` throws (the use case's committed steps, entry included, stay).
 */
export async function auditedStep<T>(target: Omit<AuditTarget<T>, 'describe' | 'summarize'>, fields: readonly string[], work: () => Promise<T>): Promise<T> {
  const { result } = await withAuditStep(
    (tx, after) => recordAudit(tx, { companyId: target.companyId, actor: target.actor, action: target.action, subject: target.subject, before: null, after: pick(after, fields) }),
    work,
  );
  return result;
}
