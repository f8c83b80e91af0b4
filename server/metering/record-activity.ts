/**
 * Records one activity event and everything it implies in ONE transaction: the event (deduplicated on its
 * delivery key), its usage records, and the threshold crossings they cause (counters + meter reports).
 * Nothing is reserved before the write: a failure rolls back all of it and a retry starts clean (DESIGN
 * invariants 1–3). Every intake write is one call of the SQL function `meterbridge_record_deliveries`
 * (models/migrations/0008_group_commit.sql): the webhook intake's through group-commit.ts, install-lifecycle events
 * (with their effects) through `recordActivity`. The usage API's batches go through record-activity-batch.ts.
 */
import { sql } from 'drizzle-orm';
import { selectRows, type Database, type Executor, type Transaction } from '../../models/database';
import type { NewActivityEvent } from './ledger-repository';
import type { UsageDraft } from './normalise';

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
  // One call of the SQL function: one round trip and, without lifecycle effects, one implicit transaction.
  // Lifecycle events (which carry no usage) add their effects in the same transaction once the event is stored.
  if (!effects) return recordDelivery(db, event, usage);
  return db.transaction(async (tx) => {
    const recorded = await recordDelivery(tx, event, usage);
    if (!recorded.duplicate) await effects(tx);
    return recorded;
  });
}

/** One delivery (a batch of one), on the database or inside a transaction. @throws the database error. */
export async function recordDelivery(db: Executor, event: NewActivityEvent, usage: UsageDraft[]): Promise<RecordedActivity> {
  const [outcome] = await recordDeliveries(db, [{ event, usage }]);
  return outcome!;
}

/**
 * Deliveries in one call of `meterbridge_record_deliveries`, so in one transaction (the caller's, inside one).
 * @returns per delivery, in input order, what was stored; a crossing counts toward the last new delivery of its
 *   sub-account in the call.
 * @throws the database error; nothing is then stored.
 */
export async function recordDeliveries(
  db: Executor,
  deliveries: Array<{ event: NewActivityEvent; usage: UsageDraft[] }>,
): Promise<RecordedActivity[]> {
  const input = deliveries.map(({ event, usage }) => ({
    webhook_id: event.webhookId,
    event_type: event.eventType,
    status: event.status,
    company_id: event.companyId,
    location_id: event.locationId,
    signature_scheme: event.signatureScheme,
    payload: event.payload,
    occurred_at: event.occurredAt?.toISOString() ?? null,
    usage: usage.map(usageJson),
  }));
  const [row] = await selectRows<{ recorded: { deliveries: DeliveryOutcome[] } }>(
    db,
    sql`select meterbridge_record_deliveries(${JSON.stringify(input)}::jsonb) as recorded`,
  );
  const outcomes = row!.recorded.deliveries;
  if (outcomes.length !== deliveries.length) {
    throw new Error(`meterbridge_record_deliveries answered ${outcomes.length} of ${deliveries.length} deliveries`);
  }
  return outcomes.map((o) =>
    o.id === null ? { duplicate: true, usageRecords: 0, crossings: 0 } : { duplicate: false, usageRecords: o.stored.length, crossings: o.reports },
  );
}

/** What `meterbridge_record_deliveries` returns for one delivery. */
type DeliveryOutcome = { id: null } | { id: string; stored: number[]; reports: number };

/** A usage draft as the intake's SQL functions read it (snake_case; quantity a decimal string; time ISO 8601). */
function usageJson(d: UsageDraft) {
  return {
    location_id: d.locationId,
    metric: d.metric,
    quantity: d.quantity,
    unit: d.unit,
    direction: d.direction,
    occurred_at: d.occurredAt.toISOString(),
    source_type: d.sourceType,
    source_id: d.sourceId,
    message_key: d.messageKey ?? null,
    attributes: d.attributes,
  };
}
