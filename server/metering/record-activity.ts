/**
 * Records one activity event and everything it implies in ONE transaction: the event (deduplicated on its
 * delivery key), its usage records, and the threshold crossings they cause (counters + meter reports).
 * Nothing is reserved before the write: a failure rolls back all of it and a retry starts clean (DESIGN
 * invariants 1–3). The webhook intake and, later, the usage API both come through here.
 */
import type { Database, Transaction } from '../../models/database';
import { insertActivityEvent, insertUsageRecords, type NewActivityEvent } from './ledger-repository';
import type { UsageDraft } from './normalise';
import { applyUsageToCounters } from './thresholds';
import { withoutBackfilledUsage } from './backfilled-usage';

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
 * @param effects other changes the event implies (install lifecycle), run first in the same transaction and only
 *   for a first delivery.
 * @throws the database error; nothing is then stored.
 */
export async function recordActivity(
  db: Database,
  event: NewActivityEvent,
  usage: UsageDraft[],
  effects?: (tx: Transaction) => Promise<void>,
): Promise<RecordedActivity> {
  return db.transaction(async (tx) => {
    const id = await insertActivityEvent(tx, event);
    if (id === null) return { duplicate: true, usageRecords: 0, crossings: 0 };
    if (effects) await effects(tx);
    // A message a backfill already imported is kept as an event but not counted again.
    const fresh = await withoutBackfilledUsage(tx, usage);
    await insertUsageRecords(tx, id, fresh);
    const crossings = fresh.length > 0 ? (await applyUsageToCounters(tx, fresh, id)).reports.length : 0;
    return { duplicate: false, usageRecords: fresh.length, crossings };
  });
}
