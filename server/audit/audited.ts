/**
 * Audited changes of billing configuration (issue 19, item 3), for use cases that have no single transaction of
 * their own (a Stripe call sits between their writes). With a `describe`, the before is read, the change runs, and
 * the after is read and the entry written in one transaction; a change that left its subject as it was writes
 * nothing. Without one, the entry records `summarize(result)` as the after (an action such as "backfill billed").
 * A change that throws writes nothing. Describers (server/audit/describe.ts) and summaries read fixed field lists
 * (`pick`), never stored rows, so no secret can reach the log.
 */
import type { Database, Executor } from '../../models/database';
import { actorOf, recordAudit, type AuditActor } from './audit-log';
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
 * Runs `work` and records it (see the module comment).
 * @returns what `work` returned. @throws what `work` throws (nothing is then recorded).
 */
export async function audited<T>(db: Database, target: AuditTarget<T>, work: () => Promise<T>): Promise<T> {
  const before = target.describe ? await target.describe(db) : null;
  const result = await work();
  // The after is read outside any transaction: a describer that reads through a route of the table uses the database
  // itself, and on PGlite (one connection) a read outside an open transaction would wait for it forever.
  const after = target.describe ? await target.describe(db) : (target.summarize?.(result) ?? null);
  if (target.describe && JSON.stringify(before) === JSON.stringify(after)) return result;
  await recordAudit(db, { companyId: target.companyId, actor: target.actor, action: target.action, subject: target.subject, before, after });
  return result;
}
