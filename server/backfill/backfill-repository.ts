/**
 * Backfill jobs (`backfill_jobs`): creation, reads for the settings API, and the runner's lease. Plain rows in and
 * out; every function takes an `Executor` so a use case can compose them in one transaction. Lease and retry times
 * come from the database clock (`now()`), the one clock every replica shares.
 */
import { and, desc, eq, sql } from 'drizzle-orm';
import { selectRows, type Executor } from '../../models/database';
import { backfillJobs } from '../../models/schema';
import type { BackfillChannel } from './export-position';

/** A stored backfill job (times are Dates; `channels` in reading order; `cursor` an encoded export position). */
export type BackfillJob = Omit<typeof backfillJobs.$inferSelect, 'channels'> & { channels: BackfillChannel[] };

/** What starting a backfill stores. */
export interface NewBackfillJob {
  companyId: string;
  locationId: string;
  channels: BackfillChannel[];
  startAt: Date;
  endAt: Date;
  bill: boolean;
}

/** Inserts a queued job. @returns the stored row. */
export async function insertBackfillJob(db: Executor, job: NewBackfillJob): Promise<BackfillJob> {
  const [row] = await db.insert(backfillJobs).values(job).returning();
  return row as BackfillJob;
}

/** One job of a sub-account, or null (a job of another sub-account is not found). */
export async function findBackfillJob(db: Executor, locationId: string, id: number): Promise<BackfillJob | null> {
  const [row] = await db.select().from(backfillJobs).where(and(eq(backfillJobs.id, id), eq(backfillJobs.locationId, locationId)));
  return (row as BackfillJob | undefined) ?? null;
}

/** A sub-account's jobs, newest first, at most `limit`. */
export async function listBackfillJobs(db: Executor, locationId: string, limit: number): Promise<BackfillJob[]> {
  const rows = await db.select().from(backfillJobs).where(eq(backfillJobs.locationId, locationId)).orderBy(desc(backfillJobs.createdAt), desc(backfillJobs.id)).limit(limit);
  return rows as BackfillJob[];
}

/** The sub-account's queued or running job, if any. */
export async function findActiveBackfillJob(db: Executor, locationId: string): Promise<BackfillJob | null> {
  const [row] = await db
    .select()
    .from(backfillJobs)
    .where(and(eq(backfillJobs.locationId, locationId), sql`${backfillJobs.status} in ('queued', 'running')`))
    .limit(1);
  return (row as BackfillJob | undefined) ?? null;
}

/**
 * Locks the sub-account's row for the rest of the transaction, so two requests starting a backfill for it at once
 * take turns (the second then sees the first's job). @returns its status, or null when it is unknown.
 */
export async function lockSubAccountRow(db: Executor, locationId: string): Promise<{ companyId: string; status: string } | null> {
  const [row] = await selectRows<{ companyId: string; status: string }>(
    db,
    sql`select company_id as "companyId", status from sub_accounts where location_id = ${locationId} for update`,
  );
  return row ?? null;
}

/** Locks one job's row for the rest of the transaction (page imports, cancel, bill take it first). */
export async function lockBackfillJob(db: Executor, id: number): Promise<BackfillJob | null> {
  const [row] = await db.select().from(backfillJobs).where(eq(backfillJobs.id, id)).for('update');
  return (row as BackfillJob | undefined) ?? null;
}

/**
 * Takes the oldest job that is queued, or running with an expired lease (a crashed runner's, or one waiting out a
 * retry delay), marks it running and leases it for `leaseSeconds`. Rows another runner is claiming are skipped.
 * @param excludeIds jobs this run already worked on (each gets its turn once per run).
 * @returns the claimed job, or null when none is due.
 */
export async function claimNextBackfillJob(db: Executor, leaseSeconds: number, excludeIds: number[] = []): Promise<BackfillJob | null> {
  const exclude = excludeIds.length > 0 ? sql`and id not in (${sql.join(excludeIds.map((id) => sql`${id}`), sql`, `)})` : sql``;
  const [row] = await db
    .update(backfillJobs)
    .set({
      status: 'running',
      startedAt: sql`coalesce(${backfillJobs.startedAt}, now())`,
      lockedUntil: sql`now() + make_interval(secs => ${leaseSeconds})`,
      updatedAt: sql`now()`,
    })
    .where(
      sql`${backfillJobs.id} = (
        select id from backfill_jobs
        where status in ('queued', 'running') and (locked_until is null or locked_until <= now()) ${exclude}
        order by created_at, id limit 1
        for update skip locked)`,
    )
    .returning();
  return (row as BackfillJob | undefined) ?? null;
}

/** Progress made by one page, written in the page's transaction. */
export interface PageProgress {
  /** The next position (encoded), or null when the backfill is complete. */
  cursor: string | null;
  seen: number;
  imported: number;
  duplicate: number;
  leaseSeconds: number;
}

/**
 * Advances the job past one page: cursor, counters, a fresh lease; a successful page clears the failure streak.
 * With `cursor` null the job is completed (lease dropped).
 * @returns the updated job.
 */
export async function savePageProgress(db: Executor, id: number, progress: PageProgress): Promise<BackfillJob> {
  const done = progress.cursor === null;
  const [row] = await db
    .update(backfillJobs)
    .set({
      cursor: progress.cursor,
      pages: sql`${backfillJobs.pages} + 1`,
      messagesSeen: sql`${backfillJobs.messagesSeen} + ${progress.seen}`,
      messagesImported: sql`${backfillJobs.messagesImported} + ${progress.imported}`,
      messagesDuplicate: sql`${backfillJobs.messagesDuplicate} + ${progress.duplicate}`,
      attempts: 0,
      lastError: null,
      status: done ? 'completed' : 'running',
      finishedAt: done ? sql`now()` : null,
      lockedUntil: done ? null : sql`now() + make_interval(secs => ${progress.leaseSeconds})`,
      updatedAt: sql`now()`,
    })
    .where(eq(backfillJobs.id, id))
    .returning();
  return row as BackfillJob;
}

/**
 * Records a failed attempt while the job is still running (a cancel in between wins). Fatal failures, and the
 * `maxAttempts`-th failure in a row, fail the job; otherwise it waits `retryInSeconds` (its lease) before the next
 * runner takes it up again from its saved position.
 * @returns the job's status afterwards, or null when it was no longer running.
 */
export async function recordFailedAttempt(
  db: Executor,
  id: number,
  failure: { message: string; fatal: boolean; maxAttempts: number; retryInSeconds: number },
): Promise<'running' | 'failed' | null> {
  const gaveUp = failure.fatal ? sql`true` : sql`${backfillJobs.attempts} + 1 >= ${failure.maxAttempts}`;
  const [row] = await selectRows<{ status: 'running' | 'failed' }>(
    db,
    sql`update backfill_jobs set
          attempts = attempts + 1,
          last_error = ${failure.message},
          status = case when ${gaveUp} then 'failed' else 'running' end,
          finished_at = case when ${gaveUp} then now() else null end,
          locked_until = case when ${gaveUp} then null else now() + make_interval(secs => ${failure.retryInSeconds}) end,
          updated_at = now()
        where id = ${id} and status = 'running'
        returning status`,
  );
  return row?.status ?? null;
}

/** Drops a running job's lease so the next run continues it at once (the run's time or page budget ran out). */
export async function releaseLease(db: Executor, id: number): Promise<void> {
  await db.execute(sql`update backfill_jobs set locked_until = null, updated_at = now() where id = ${id} and status = 'running'`);
}

/** Cancels a queued or running job. @returns the updated job, or null when it was not active. */
export async function cancelBackfillJob(db: Executor, id: number): Promise<BackfillJob | null> {
  const [row] = await db
    .update(backfillJobs)
    .set({ status: 'cancelled', finishedAt: sql`now()`, lockedUntil: null, updatedAt: sql`now()` })
    .where(and(eq(backfillJobs.id, id), sql`${backfillJobs.status} in ('queued', 'running')`))
    .returning();
  return (row as BackfillJob | undefined) ?? null;
}

/**
 * The agency asked to bill the job's usage: pages still to come are billed as they are imported (`bill`), and the
 * first such request's time is kept (`billedAt`). @returns the updated job.
 */
export async function markBillRequested(db: Executor, id: number): Promise<BackfillJob> {
  const [row] = await db
    .update(backfillJobs)
    .set({ bill: true, billedAt: sql`coalesce(${backfillJobs.billedAt}, now())`, updatedAt: sql`now()` })
    .where(eq(backfillJobs.id, id))
    .returning();
  return row as BackfillJob;
}
