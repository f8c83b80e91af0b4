/**
 * The transaction of an audited change, shared with its use case without changing the use case's signature
 * (issue 19: "recorded … in the same transaction as the change").
 *
 * The composition root hands every service `ambientDatabase(db)` instead of the bare database. Outside an audited
 * change it IS the database. Inside `inAuditedTransaction(db, work)`, every query a use case runs through it joins
 * the audited change's transaction, and each `transaction()` it opens becomes a savepoint of it, so the change's
 * writes and its audit entry commit or roll back together. The scope is carried by Node's AsyncLocalStorage
 * (nodejs.org/api/async_context.html), the maintained, built-in way to follow one request through its awaits; no
 * library does this for Drizzle. Work started from inside that should not join (scheduled jobs) runs through
 * `outsideAuditedChange`, and once the transaction has ended the scope falls back to the database.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { Database, Executor, Transaction } from '../../models/database';

/** An audited change: its open transaction (`open` turns false when it ends), or the entry its use case records. */
interface Scope {
  tx?: Transaction;
  open: boolean;
  /** Set by `recordAuditStep`: the use case recorded the entry in a transaction of its own steps. */
  claimed: boolean;
  /** The entry a use case records in its own step (routes whose use case commits its steps itself), if any. */
  step?: StepRecorder;
}

/** Records the entry of a step: in `tx`, with `after`, what the use case says of its subject (picked by the route's spec). */
type StepRecorder = (tx: Executor, after: Record<string, unknown>) => Promise<void>;

const scopes = new AsyncLocalStorage<Scope>();

/**
 * The database as the services see it: while an audited change runs, its transaction; otherwise `db`.
 * Methods are bound to whichever one answers, so query builders and `transaction()` behave as on a Drizzle database.
 */
export function ambientDatabase(db: Database): Database {
  return new Proxy(db, {
    get(target, prop) {
      const scope = scopes.getStore();
      const source: object = scope?.open && scope.tx ? scope.tx : target;
      const value = Reflect.get(source, prop, source) as unknown;
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(source) : value;
    },
  });
}

/**
 * Runs `work(tx)` in one transaction of the bare `db` that every query through `ambientDatabase` joins while it
 * runs. Throws what `work` throws, after rolling everything back.
 */
export async function inAuditedTransaction<T>(db: Database, work: (tx: Transaction) => Promise<T>): Promise<T> {
  return db.transaction(async (tx) => {
    const scope: Scope = { tx, open: true, claimed: false };
    try {
      return await scopes.run(scope, () => work(tx));
    } finally {
      scope.open = false;
    }
  });
}

/**
 * For use cases that commit their own steps around Stripe calls by design (a charge's or top-up's row is committed
 * before Stripe is called, so a lost answer is found again): runs `work` with `record` waiting for the use case to
 * call `recordAuditStep(tx, after)` inside the transaction of its first write. Queries are not redirected.
 * @returns what `work` returned and whether the entry was recorded.
 */
export async function withAuditStep<T>(record: StepRecorder, work: () => Promise<T>): Promise<{ result: T; recorded: boolean }> {
  const scope: Scope = { open: false, claimed: false, step: record };
  const result = await scopes.run(scope, work);
  return { result, recorded: scope.claimed };
}

/**
 * Called by a use case inside the transaction of the write that makes its change (see `withAuditStep`): records the
 * route's audit entry there, once per request, `after` describing the subject (the route's spec keeps only its
 * allow-listed fields). Outside an audited route (a scheduled job) it does nothing.
 */
export async function recordAuditStep(tx: Executor, after: Record<string, unknown>): Promise<void> {
  const scope = scopes.getStore();
  if (!scope?.step || scope.claimed) return;
  await scope.step(tx, after);
  scope.claimed = true;
}

/** Runs `work` outside any audited change (it never joins one): scheduled jobs nudged from inside a change. */
export function outsideAuditedChange<T>(work: () => T): T {
  return scopes.exit(work);
}
