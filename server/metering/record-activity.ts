/**
 * Records one activity event and everything it implies in ONE transaction: the event (deduplicated on its
 * delivery key), its usage records, and the threshold crossings they cause (counters + meter reports).
 * Nothing is reserved before the write: a failure rolls back all of it and a retry starts clean (DESIGN
 * invariants 1–3). The webhook intake writes through group-commit.ts, which uses `recordDelivery` for a lone
 * delivery and after a failed batch; install-lifecycle events come through `recordActivity`; the usage API's
 * batches through record-activity-batch.ts.
 */
import { sql } from 'drizzle-orm';
import { selectRows, type Database, type Executor, type Transaction } from '../../models/database';
import type { NewActivityEvent } from './ledger-repository';
import type { UsageDraft } from './normalise';
import type { AppliedUsage } from './thresholds';

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
  // One call of the SQL function: one round trip and, without lifecycle effects, one implicit transaction
  // (models/migrations/0005_intake_functions.sql, replaced by 0007_message_locks.sql). Lifecycle events (which carry
  // no usage) add their effects in the same transaction once the event is stored.
  if (!effects) return recordDelivery(db, event, usage);
  return db.transaction(async (tx) => {
    const recorded = await recordDelivery(tx, event, usage);
    if (!recorded.duplicate) await effects(tx);
    return recorded;
  });
}

/** One delivery through `meterbridge_record_delivery`, on the database or inside a transaction. @throws the database error. */
export async function recordDelivery(db: Executor, event: NewActivityEvent, usage: UsageDraft[]): Promise<RecordedActivity> {
  const [row] = await selectRows<{ recorded: { id: string | null; stored?: number[] } & Partial<AppliedUsage> }>(
    db,
    sql`select meterbridge_record_delivery(${event.webhookId}, ${event.eventType}, ${event.status}, ${event.companyId},
             ${event.locationId}, ${event.signatureScheme}, ${JSON.stringify(event.payload)}::jsonb,
             ${event.occurredAt?.toISOString() ?? null}::timestamptz, ${JSON.stringify(usage.map(usageJson))}::jsonb) as recorded`,
  );
  const recorded = row!.recorded;
  if (recorded.id === null) return { duplicate: true, usageRecords: 0, crossings: 0 };
  return { duplicate: false, usageRecords: recorded.stored?.length ?? 0, crossings: recorded.reports?.length ?? 0 };
}

/** A usage draft as the intake's SQL functions read it (snake_case; quantity a decimal string; time ISO 8601). */
export function usageJson(d: UsageDraft) {
  return {
    location_id: d.locationId,
    metric: d.metric,
    quantity: d.quantity,
    unit: d.unit,
    direction: d.direction,
    occurred_at: d.occurredAt.toISOString(),
    source_type: d.sourceType,
    source_id: d.sourceId,
    attributes: d.attributes,
  };
}
