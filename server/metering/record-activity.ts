/**
 * Records one activity event and everything it implies in ONE transaction: the event (deduplicated on its
 * delivery key), its usage records, and the threshold crossings they cause (counters + meter reports).
 * Nothing is reserved before the write: a failure rolls back all of it and a retry starts clean (DESIGN
 * invariants 1–3). The webhook intake and, later, the usage API both come through here.
 */
import type { Database, Transaction } from '../../models/database';
import { insertEventWithUsage, type NewActivityEvent } from './ledger-repository';
import type { UsageDraft } from './normalise';
import { applyUsageToCounters } from './thresholds';

/** The outcome: a duplicate delivery key stores nothing. */
export interface RecordedActivity {
  duplicate: boolean;
  usageRecords: number;
  /** Meter reports (threshold crossings) this activity created. */
  crossings: number;
}

/**
 * @param event the activity event row; `webhookId` is the delivery key.
 * @param usage the usage derived from it (all for `event.locationId`).
 * @param effects other changes the event implies (install lifecycle; such events carry no usage), run in the same
 *   transaction once the event is stored, and only for a first delivery.
 * @throws the database error; nothing is then stored.
 */
export async function recordActivity(
  db: Database,
  event: NewActivityEvent,
  usage: UsageDraft[],
  effects?: (tx: Transaction) => Promise<void>,
): Promise<RecordedActivity> {
  return db.transaction(async (tx) => {
    // The event and its usage in one statement; a message a backfill already imported is not counted again.
    const { id, stored } = await insertEventWithUsage(tx, event, usage);
    if (id === null) return { duplicate: true, usageRecords: 0, crossings: 0 };
    if (effects) await effects(tx);
    const crossings = stored.length > 0 ? (await applyUsageToCounters(tx, stored, id)).reports.length : 0;
    return { duplicate: false, usageRecords: stored.length, crossings };
  });
}
