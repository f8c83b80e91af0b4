/**
 * What the stored Stripe reads have in common — the next-invoice previews (stored-previews.ts, preview-refresh.ts)
 * and the cards (stored-cards.ts, card-refresh.ts): every read is stored with when it last succeeded and Stripe's
 * last error; a stored read is due again when a webhook or a change asks, when it is too old, or when it failed a
 * while ago; a page reads a few due ones itself and leaves more to the background job, which reads them agency by
 * agency (each agency its own Stripe account), a few in flight and paced.
 */
import type { Logger } from 'pino';
import type Stripe from 'stripe';
import { sql, type Column, type SQL } from 'drizzle-orm';
import type { PgColumn, PgInsertValue, PgTable } from 'drizzle-orm/pg-core';
import type { Database } from '../../models/database';
import type { StripeForAgency } from '../billing-setup/stripe-for-agency';
import { forEachConcurrently, pacer } from '../jobs/concurrently';

/** The bookkeeping columns of a stored read (models/schema/invoice-previews.ts, card-summaries.ts). */
export interface ReadColumns {
  fetchedAt: Column;
  attemptedAt: Column;
  lastError: Column;
  refreshRequestedAt: Column;
}

/** Old or failed: the last success is older than `maxAgeSeconds`, or the last attempt failed over `retrySeconds` ago. */
export const staleSql = (c: ReadColumns, maxAgeSeconds: number, retrySeconds: number): SQL =>
  sql`((${c.lastError} is null and ${c.fetchedAt} < now() - make_interval(secs => ${maxAgeSeconds}))
  or (${c.lastError} is not null and ${c.attemptedAt} < now() - make_interval(secs => ${retrySeconds})))`;

/**
 * The refresh request left after a read that began at `startedAt`: a request made before then is answered by it; one
 * made after (a webhook during the read) stays, so the next run reads again.
 */
const settledRequest = (c: ReadColumns, startedAt: Date): SQL =>
  sql`case when ${c.refreshRequestedAt} > ${startedAt.toISOString()}::timestamptz then ${c.refreshRequestedAt} end`;

/** A table of stored reads: one row per sub-account (`locationId`), with the bookkeeping columns. */
export type ReadTable = PgTable & ReadColumns & { locationId: PgColumn };

/**
 * Writes the outcome of a read begun at `startedAt` into the sub-account's row of `table` (inserted, or replacing the
 * columns `row` names): a success (`error` null: read now, no error) or Stripe's message (the values of the last
 * success stay); either settles the refresh request (`settledRequest`).
 */
export async function storeRead<T extends ReadTable>(db: Database, table: T, row: PgInsertValue<T>, startedAt: Date, error: string | null = null): Promise<void> {
  const outcome = error === null ? { fetchedAt: sql`now()`, attemptedAt: sql`now()`, lastError: null } : { attemptedAt: sql`now()`, lastError: error };
  const values = { ...row, ...outcome } as PgInsertValue<T>;
  await db
    .insert(table)
    .values(values)
    .onConflictDoUpdate({ target: table.locationId, set: { ...values, refreshRequestedAt: settledRequest(table, startedAt) } });
}

/**
 * Reads from Stripe with `load` and stores what it read (`save`), or stores Stripe's message (`saveError`) and
 * rethrows; both are told when the read began (`settledRequest`).
 * @throws what `load` throws, after storing its message.
 */
export async function readAndStore<T>(load: () => Promise<T>, save: (value: T, startedAt: Date) => Promise<void>, saveError: (message: string, startedAt: Date) => Promise<void>): Promise<T> {
  const startedAt = new Date();
  try {
    const value = await load();
    await save(value, startedAt);
    return value;
  } catch (err) {
    await saveError((err as Error).message, startedAt);
    throw err;
  }
}

/**
 * Due reads a request makes itself, side by side (one round of calls, as a small agency's page always did); when
 * more are due the page answers from the stored ones and the job reads them.
 */
export const INLINE_READS = 6;

/**
 * The stored rows, after reading on the request the due ones `readsItself` picks when there are at most INLINE_READS
 * (a failed read is stored with Stripe's message, which the rows then carry); the job is nudged for every other due
 * one, and for all of them when there are more.
 */
export async function withFewDueRead<T extends { due: boolean }>(
  load: () => Promise<T[]>,
  read: (row: T) => Promise<unknown>,
  nudge: () => void,
  readsItself: (row: T) => boolean = () => true,
): Promise<T[]> {
  const rows = await load();
  const due = rows.filter((r) => r.due);
  const own = due.filter(readsItself);
  const inline = own.length <= INLINE_READS ? own : [];
  if (inline.length < due.length) nudge();
  if (inline.length === 0) return rows;
  await Promise.all(inline.map((r) => read(r).catch(() => undefined)));
  return load();
}

/**
 * How a refresh job reads: `perAgency` reads in flight at once per agency, at most `perSecond` Stripe calls started
 * per second per agency (the reader paces each call), `agencies` agencies at once, and at most `perRun` reads per run
 * (the next run goes on).
 */
export interface RefreshLimits {
  perAgency: number;
  perSecond: number;
  agencies: number;
  perRun: number;
}

/**
 * What a refresh (preview-refresh.ts, card-refresh.ts) is made with: the database, the agencies' Stripe clients, a
 * logger, `nudge` asking the scheduler for a run of its job soon (server/jobs/scheduled-jobs.ts `paymentNudges`; must
 * not throw), and limits other than its defaults (tests).
 */
export interface RefreshDeps {
  db: Database;
  stripeForAgency: StripeForAgency;
  logger: Logger;
  nudge?: () => void;
  options?: Partial<RefreshLimits>;
}

/** What one run of a refresh job did. */
export interface RefreshSummary {
  read: number;
  failed: number;
  /** Agencies skipped: Stripe not connected, or its key unreadable. */
  skippedAgencies: number;
}

/**
 * Reads the due rows, agencies side by side, each agency's bounded and paced (RefreshLimits). `readerFor` gives the
 * agency's reader (it may read what all its rows share first), which awaits `pace` before each Stripe call it makes;
 * a read that throws counts as failed (the reader stored Stripe's message). An agency whose Stripe cannot be used is
 * skipped and logged at debug level with `what`.
 */
export async function refreshByAgency<T extends { companyId: string }>(
  due: T[],
  limits: RefreshLimits,
  deps: { stripeForAgency: StripeForAgency; logger: Logger; what: string },
  readerFor: (companyId: string, stripe: Stripe, pace: () => Promise<void>) => Promise<(row: T) => Promise<unknown>>,
): Promise<RefreshSummary> {
  const byAgency = new Map<string, T[]>();
  for (const row of due) byAgency.set(row.companyId, byAgency.get(row.companyId) ?? []).get(row.companyId)!.push(row);
  const summary: RefreshSummary = { read: 0, failed: 0, skippedAgencies: 0 };
  await forEachConcurrently([...byAgency], limits.agencies, async ([companyId, rows]) => {
    let stripe: Stripe;
    try {
      stripe = await deps.stripeForAgency(companyId);
    } catch (err) {
      summary.skippedAgencies += 1;
      deps.logger.debug({ companyId, reason: (err as Error).message }, `${deps.what} not refreshed: Stripe cannot be used`);
      return;
    }
    const read = await readerFor(companyId, stripe, pacer(limits.perSecond));
    await forEachConcurrently(rows, limits.perAgency, async (row) => {
      try {
        await read(row);
        summary.read += 1;
      } catch {
        summary.failed += 1; // stored with Stripe's message; tried again after the retry delay
      }
    });
  });
  return summary;
}
