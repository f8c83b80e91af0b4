/**
 * The inbox processor: turns stored events (`activity_events` with status `received`, or `failed` and due again) into
 * usage records, counters and meter reports, in set-based batches. Any number of processes run it at once: each
 * batch claims its rows with `FOR UPDATE SKIP LOCKED` and does all its work in ONE transaction, ending with the rows
 * marked `processed`, so a crash or a kill mid-batch rolls everything back and the rows are simply claimed again —
 * nothing is processed twice, nothing is lost (DESIGN invariants 1–3; lago-api's inbound webhooks: store,
 * acknowledge, process, retry).
 *
 * Per batch: derive each row's usage (stored-usage.ts) → leave out messages a backfill already imported
 * (backfilled-usage.ts) → store the usage records (ledger-writer.ts) → count them with THE billing rule
 * (billing-rule.ts) → mark the rows processed. A row whose usage cannot be derived is marked `failed` with its error
 * and retried later with backoff; if the batch as a whole fails (a deadlock, a row PostgreSQL refuses), each row is
 * tried alone so one bad row never holds up the others, and the one that still fails is kept `failed` with its error.
 */
import { sql } from 'drizzle-orm';
import type { Logger } from 'pino';
import { selectRows, type Database, type Transaction } from '../../models/database';
import { isConnectionError, isTransient } from '../../models/database-errors';
import { withoutBackfilled } from '../metering/backfilled-usage';
import { countUsage, type CountableUsage } from '../metering/billing-rule';
import { insertUsageRecords } from '../metering/ledger-writer';
import type { InboxRow, StoredUsage } from './stored-usage';

/** Tuning. */
export interface InboxProcessorOptions {
  /** Most rows per batch (one transaction). Default 500. */
  batchSize?: number;
  /** How often an idle processor looks for work it was not nudged about (other replicas' rows, retries), ms. Default 1,000. */
  pollMs?: number;
  /** First retry delay of a failed row, seconds; doubles per attempt up to `maxRetrySeconds`. Default 5. */
  retrySeconds?: number;
  /** Longest retry delay, seconds. Default 3,600. */
  maxRetrySeconds?: number;
  /**
   * How long a nudge waits before its batch, ms, so the deliveries of that moment are counted together. Default 50:
   * one batch per nudge per delivery made the processor's fixed cost per batch (a transaction, ~10 statements) compete
   * with the acknowledgements (`npm run bench`, "the wall"), while ack → counted has a 1 s budget.
   */
  gatherMs?: number;
}

/** What one batch did. `lagsMs`: per processed row, milliseconds from its acknowledgement (received_at) to its commit. */
export interface BatchOutcome {
  claimed: number;
  processed: number;
  failed: number;
  crossings: number;
  lagsMs: number[];
  /** Sub-accounts whose usage the batch counted (for `onCounted`). */
  locationIds?: string[];
}

/** The processor. */
export interface InboxProcessor {
  /**
   * Processes one batch now. A failed batch is retried row by row; a row that fails alone is kept `failed`.
   * @throws the database error when the database cannot be reached (or a row lost a race): nothing is marked, the
   *   rows stay ready for the next batch.
   */
  runOnce(): Promise<BatchOutcome>;
  /**
   * Processes until no row is ready (received, or failed and due) — for tests, the CLI and shutdown.
   * @throws Error when rows are still ready after `timeoutMs` (default 30,000).
   */
  drain(timeoutMs?: number): Promise<void>;
  /** Asks the running loop for a batch in `gatherMs` (nudges meanwhile are merged); does nothing before `start()`. */
  nudge(): void;
  /** Starts the loop: a batch after every nudge and every `pollMs`, batches back to back while they come full. */
  start(): void;
  /** Stops the loop and waits for the batch in progress. */
  stop(): Promise<void>;
  /** Totals since start, for diagnostics and the benchmark. */
  stats(): { batches: number; processed: number; failed: number; crossings: number };
}

export interface InboxProcessorDependencies {
  db: Database;
  storedUsage: StoredUsage;
  logger: Logger;
  /** Called after a batch wrote meter reports, e.g. to nudge the reporter. */
  onCrossings?: () => void;
  /** Called after a committed batch counted usage, with its sub-accounts (the prepaid wallets' check: server/wallets). */
  onCounted?: (locationIds: string[]) => void;
  /** Called after every batch that claimed rows (metrics). */
  onBatch?: (outcome: BatchOutcome) => void;
  options?: InboxProcessorOptions;
}

/** @throws RangeError when an option is not a positive number. */
export function createInboxProcessor(deps: InboxProcessorDependencies): InboxProcessor {
  const batchSize = positive('batchSize', deps.options?.batchSize ?? 500);
  const pollMs = positive('pollMs', deps.options?.pollMs ?? 1_000);
  const retrySeconds = positive('retrySeconds', deps.options?.retrySeconds ?? 5);
  const maxRetrySeconds = positive('maxRetrySeconds', deps.options?.maxRetrySeconds ?? 3_600);
  const gatherMs = deps.options?.gatherMs ?? 50;
  const totals = { batches: 0, processed: 0, failed: 0, crossings: 0 };
  let started = false;
  let loop: Promise<void> | null = null;
  let again = false;
  let nudged = false;
  let timer: NodeJS.Timeout | undefined;

  async function runOnce(): Promise<BatchOutcome> {
    let outcome: BatchOutcome;
    try {
      outcome = await deps.db.transaction((tx) => processBatch(tx, { limit: batchSize }));
    } catch (err) {
      if (isConnectionError(err)) throw err;
      deps.logger.warn({ err }, 'inbox batch failed; its rows are tried one by one');
      outcome = await oneByOne();
    }
    if (outcome.claimed > 0) {
      totals.batches++;
      totals.processed += outcome.processed;
      totals.failed += outcome.failed;
      totals.crossings += outcome.crossings;
      deps.onBatch?.(outcome);
    }
    if (outcome.crossings > 0) deps.onCrossings?.();
    if (outcome.locationIds?.length) deps.onCounted?.(outcome.locationIds);
    return outcome;
  }

  /** After a failed batch: each ready row in its own transaction; a row that fails alone is marked failed. */
  async function oneByOne(): Promise<BatchOutcome> {
    const total: BatchOutcome = { claimed: 0, processed: 0, failed: 0, crossings: 0, lagsMs: [] };
    const ids = await selectRows<{ id: string }>(deps.db, sql`select id::text as id from activity_events where ${READY} order by id limit ${batchSize}`);
    for (const { id } of ids) {
      try {
        const one = await deps.db.transaction((tx) => processBatch(tx, { id: Number(id) }));
        add(total, one);
      } catch (err) {
        // The database is away, or the row lost a race: not the event's fault. It stays ready for the next batch.
        if (isConnectionError(err) || isTransient(err)) throw err;
        total.claimed++;
        total.failed++;
        await markFailed(deps.db, [Number(id)], errorText(err));
        deps.logger.error({ err, activityEventId: id }, 'inbox event failed; kept with its error and retried later');
      }
    }
    return total;
  }

  async function processBatch(tx: Transaction, which: { limit: number } | { id: number }): Promise<BatchOutcome> {
    const rows = await claim(tx, which);
    if (rows.length === 0) return { claimed: 0, processed: 0, failed: 0, crossings: 0, lagsMs: [] };
    const derived = await deps.storedUsage.derive(tx, rows);
    const failed = rows.filter((r) => 'error' in derived.get(r.id)!);
    const usable = rows.filter((r) => !('error' in derived.get(r.id)!));
    const entries: Array<CountableUsage & { activityEventId: number }> = usable.flatMap((r) =>
      (derived.get(r.id) as { drafts: CountableUsage['draft'][] }).drafts.map((draft) => ({ draft, activityEventId: r.id })),
    );
    const kept = await withoutBackfilled(tx, entries);
    await insertUsageRecords(tx, kept);
    const { reports } = await countUsage(tx, kept);
    const finished = await selectRows<{ lagMs: number }>(
      tx,
      sql`update activity_events set status = 'processed', processed_at = clock_timestamp(), last_error = null, next_attempt_at = null
          where id in (select jsonb_array_elements_text(${JSON.stringify(usable.map((r) => r.id))}::jsonb)::bigint)
          returning (extract(epoch from clock_timestamp() - received_at) * 1000)::float8 as "lagMs"`,
    );
    for (const row of failed) {
      const { error } = derived.get(row.id) as { error: string };
      await markFailed(tx, [row.id], error);
      deps.logger.error({ activityEventId: row.id, webhookId: row.webhookId, error }, 'inbox event could not be processed; kept with its error and retried later');
    }
    const locationIds = [...new Set(kept.map((k) => k.draft.locationId))];
    return { claimed: rows.length, processed: usable.length, failed: failed.length, crossings: reports.length, lagsMs: finished.map((f) => Number(f.lagMs)), locationIds };
  }

  async function markFailed(db: Database | Transaction, ids: number[], error: string): Promise<void> {
    await db.execute(sql`
      update activity_events set status = 'failed', attempts = attempts + 1, last_error = ${error.slice(0, 2_000)},
             next_attempt_at = now() + least(${retrySeconds}::float8 * power(2, attempts), ${maxRetrySeconds}::float8) * interval '1 second'
      where id in (select jsonb_array_elements_text(${JSON.stringify(ids)}::jsonb)::bigint) and status in ('received', 'failed')`);
  }

  function kick(): void {
    if (!started) return;
    if (loop) {
      again = true;
      return;
    }
    loop = (async () => {
      while (started) {
        const outcome = await runOnce();
        if (outcome.claimed < batchSize) break;
      }
    })()
      .catch((err) => deps.logger.warn({ err }, 'inbox batch not processed; tried again on the next poll'))
      .finally(() => {
        loop = null;
        if (again) {
          again = false;
          kick();
        }
      });
  }

  return {
    runOnce,
    async drain(timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        await loop;
        const outcome = await runOnce();
        if (outcome.claimed > 0) continue;
        const [ready] = await selectRows<{ n: number }>(deps.db, sql`select count(*)::int as n from activity_events where ${READY}`);
        if (!ready || ready.n === 0) return;
        if (Date.now() > deadline) throw new Error(`inbox not drained after ${timeoutMs} ms: ${ready.n} events ready`);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    },
    nudge() {
      if (!started || nudged) return;
      nudged = true;
      setTimeout(() => {
        nudged = false;
        kick();
      }, gatherMs).unref();
    },
    start() {
      if (started) return;
      started = true;
      timer = setInterval(kick, pollMs);
      timer.unref();
      kick();
    },
    async stop() {
      started = false;
      if (timer) clearInterval(timer);
      await loop;
    },
    stats: () => ({ ...totals }),
  };
}

/** Rows ready to process: received, or failed and due again. */
const READY = sql`(status = 'received' or (status = 'failed' and next_attempt_at <= now()))`;

/** Claims ready rows (oldest first), or one given row, skipping rows another processor holds. */
async function claim(tx: Transaction, which: { limit: number } | { id: number }): Promise<InboxRow[]> {
  const filter = 'id' in which ? sql`id = ${which.id} and ${READY}` : READY;
  const limit = 'id' in which ? 1 : which.limit;
  const rows = await selectRows<InboxRow & { id: string | number; receivedAt: Date | string }>(
    tx,
    sql`select id, webhook_id as "webhookId", event_type as "eventType", source, location_id as "locationId", payload, usage,
               received_at as "receivedAt", attempts
        from activity_events where ${filter} order by id limit ${limit} for update skip locked`,
  );
  return rows.map((r) => ({ ...r, id: Number(r.id), receivedAt: new Date(r.receivedAt) }));
}

function add(total: BatchOutcome, one: BatchOutcome): void {
  total.claimed += one.claimed;
  total.processed += one.processed;
  total.failed += one.failed;
  total.crossings += one.crossings;
  total.lagsMs.push(...one.lagsMs);
  if (one.locationIds?.length) total.locationIds = [...new Set([...(total.locationIds ?? []), ...one.locationIds])];
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function positive(name: string, value: number): number {
  if (!Number.isFinite(value) || value <= 0) throw new RangeError(`InboxProcessor ${name} must be a positive number, got ${value}`);
  return value;
}
