/**
 * Group commit for the webhook inbox: deliveries that arrive while earlier ones are still being written go to the
 * database together, as ONE multi-row insert (server/metering/ledger-writer.ts) — one statement, so one implicit
 * transaction. Each caller's promise settles only after that statement has committed (or failed), so every
 * acknowledged delivery is durably stored; what the deliveries share is the commit — one WAL flush, one round trip,
 * one pool checkout — which is what a busy intake waits on (README, Benchmarks). Processing happens later, in the
 * inbox processor (inbox-processor.ts).
 *
 * No timer: a delivery that finds a free slot (fewer than `maxInFlight` writes running) is written on the next turn
 * of the event loop, with whatever arrived in the same turn, so a quiet intake answers as fast as without batching.
 * Under load deliveries queue, and the next free slot takes up to `maxBatch` of them.
 *
 * If a batch of several fails (a lost connection, a row PostgreSQL refuses), each of its deliveries is tried again on
 * its own, so one bad delivery never fails the others and each caller gets its own outcome or error. A batch that
 * committed but whose answer was lost is then answered "duplicate" per delivery, which is what it is.
 */
import type { Database } from '../../models/database';
import { insertActivityEvents, type NewActivityEvent } from '../metering/ledger-writer';

/** What storing one delivery did: a delivery key stored before stores nothing. */
export interface StoredDelivery {
  duplicate: boolean;
}

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
   * Stores one delivery in the inbox and resolves once it is committed.
   * @throws the database error of its own write (after a failed batch, of its retry alone); nothing is then stored.
   */
  record(event: NewActivityEvent): Promise<StoredDelivery>;
  stats(): GroupCommitStats;
}

interface Pending {
  event: NewActivityEvent;
  resolve: (stored: StoredDelivery) => void;
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
      await storeDeliveries(db, [one.event]).then((o) => one.resolve(o[0]!), one.reject);
      return;
    }
    stats.calls++;
    stats.deliveries += batch.length;
    stats.largestBatch = Math.max(stats.largestBatch, batch.length);
    let outcomes: StoredDelivery[];
    try {
      outcomes = await storeDeliveries(db, batch.map((p) => p.event));
    } catch {
      // The statement failed as a whole; each delivery gets its own try and its own error.
      stats.fallbacks++;
      await Promise.all(batch.map((p) => storeDeliveries(db, [p.event]).then((o) => p.resolve(o[0]!), p.reject)));
      return;
    }
    batch.forEach((p, i) => p.resolve(outcomes[i]!));
  }

  return {
    record(event) {
      return new Promise<StoredDelivery>((resolve, reject) => {
        queue.push({ event, resolve, reject });
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

/**
 * Stores deliveries with one insert, in delivery-key order (byte order, so concurrent batches sharing keys wait on
 * each other in one order and never deadlock). A key twice in one batch stores the first and reports the second a
 * duplicate. @returns per delivery, in input order. @throws the database error; nothing is then stored.
 */
export async function storeDeliveries(db: Database, events: NewActivityEvent[]): Promise<StoredDelivery[]> {
  const inKeyOrder = [...events].sort((a, b) => (a.webhookId < b.webhookId ? -1 : a.webhookId > b.webhookId ? 1 : 0));
  const ids = await insertActivityEvents(db, inKeyOrder);
  const claimed = new Set<string>();
  return events.map((e) => {
    const fresh = ids.has(e.webhookId) && !claimed.has(e.webhookId);
    if (fresh) claimed.add(e.webhookId);
    return { duplicate: !fresh };
  });
}
