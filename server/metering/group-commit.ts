/**
 * Group commit for the webhook intake: deliveries that arrive while earlier ones are still being written go to the
 * database together, as ONE call of `meterbridge_record_deliveries` (models/migrations/0008_group_commit.sql) in
 * ONE transaction. Each caller's promise settles only after that transaction has committed (or failed), so every
 * acknowledged delivery is durably stored, as before; what the deliveries share is the commit — one WAL flush, one
 * round trip, one pool checkout — which is what a busy intake waits on (README, Benchmarks).
 *
 * No timer: a delivery that finds a free slot (fewer than `maxInFlight` calls running) is written on the next turn
 * of the event loop, with whatever arrived in the same turn, so a quiet intake answers as fast as without batching.
 * Under load deliveries queue, and the next free slot takes up to `maxBatch` of them.
 *
 * If a batch of several fails (a deadlock, a bad row, a lost connection), each of its deliveries is tried again on
 * its own (a batch of one), so one bad delivery never fails the others and each caller gets
 * its own outcome or error. A batch that committed but whose answer was lost is then answered "duplicate" per
 * delivery, which is what it is.
 */
import type { Database } from '../../models/database';
import type { NewActivityEvent } from './ledger-repository';
import type { UsageDraft } from './normalise';
import { recordDeliveries, recordDelivery, type RecordedActivity } from './record-activity';

/** Tuning (the composition root sets `maxInFlight` from `INTAKE_WRITES_IN_FLIGHT`). */
export interface GroupCommitOptions {
  /** Most deliveries in one call (one transaction). Default 64. */
  maxBatch?: number;
  /** Most calls running at once; keep it below the pool size so other work still gets a connection. Default 4. */
  maxInFlight?: number;
}

/** Counters since start, for the benchmark and diagnostics. */
export interface GroupCommitStats {
  /** Calls of the batch function (each one transaction). */
  calls: number;
  /** Deliveries those calls carried. */
  deliveries: number;
  largestBatch: number;
  /** Batches that failed and whose deliveries were then written one by one. */
  fallbacks: number;
  /** Deliveries waiting for a free slot right now. */
  waiting: number;
  /** Deliveries being written right now. */
  writing: number;
}

/** Writes deliveries through group commit. */
export interface GroupCommit {
  /**
   * Stores one delivery (event, usage records, crossings) and resolves once it is committed.
   * @param usage the usage derived from the event, all for one sub-account.
   * @throws the database error of its own write (after a failed batch, of its retry alone); nothing is then stored.
   */
  record(event: NewActivityEvent, usage: UsageDraft[]): Promise<RecordedActivity>;
  stats(): GroupCommitStats;
}

interface Pending {
  event: NewActivityEvent;
  usage: UsageDraft[];
  resolve: (recorded: RecordedActivity) => void;
  reject: (err: unknown) => void;
}

/** @throws RangeError when an option is not a positive integer. */
export function createGroupCommit(db: Database, options: GroupCommitOptions = {}): GroupCommit {
  const maxBatch = positive('maxBatch', options.maxBatch ?? 64);
  const maxInFlight = positive('maxInFlight', options.maxInFlight ?? 4);
  const queue: Pending[] = [];
  const stats: Omit<GroupCommitStats, 'waiting' | 'writing'> = { calls: 0, deliveries: 0, largestBatch: 0, fallbacks: 0 };
  let inFlight = 0;
  let writing = 0;
  let gathering = false;

  /**
   * Starts writing on the next turn of the event loop (setImmediate: after the I/O callbacks now ready), so the
   * deliveries whose requests arrived in the same turn go together. Without it nothing would ever gather on PGlite,
   * whose statements run on this thread: a write finishes before the next request is even read.
   */
  function schedule(): void {
    if (gathering) return;
    gathering = true;
    setImmediate(() => {
      gathering = false;
      pump();
    });
  }

  function pump(): void {
    while (inFlight < maxInFlight && queue.length > 0) {
      const batch = queue.splice(0, maxBatch);
      inFlight++;
      writing += batch.length;
      void write(batch).finally(() => {
        inFlight--;
        writing -= batch.length;
        pump();
      });
    }
  }

  async function write(batch: Pending[]): Promise<void> {
    if (batch.length === 1) {
      const [one] = batch as [Pending];
      await recordDelivery(db, one.event, one.usage).then(one.resolve, one.reject);
      return;
    }
    stats.calls++;
    stats.deliveries += batch.length;
    stats.largestBatch = Math.max(stats.largestBatch, batch.length);
    let outcomes: RecordedActivity[];
    try {
      outcomes = await recordDeliveries(db, batch);
    } catch {
      // The batch rolled back as a whole; each delivery gets its own try and its own error.
      stats.fallbacks++;
      await Promise.all(batch.map((p) => recordDelivery(db, p.event, p.usage).then(p.resolve, p.reject)));
      return;
    }
    batch.forEach((p, i) => p.resolve(outcomes[i]!));
  }

  return {
    record(event, usage) {
      return new Promise<RecordedActivity>((resolve, reject) => {
        queue.push({ event, usage, resolve, reject });
        schedule();
      });
    },
    stats: () => ({ ...stats, waiting: queue.length, writing }),
  };
}

function positive(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1) throw new RangeError(`GroupCommit ${name} must be a positive integer, got ${value}`);
  return value;
}
