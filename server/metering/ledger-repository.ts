/**
 * The usage ledger: activity events (one row per HighLevel delivery) and the usage records derived from them.
 * Every function takes an `Executor` so the intake can write an event and its usage in one transaction.
 */
import { sql } from 'drizzle-orm';
import { selectRows, type Executor } from '../../models/database';
import { activityEvents, usageRecords } from '../../models/schema';
import type { UsageDraft } from './normalise';

/** An activity event to store; `payload` is the delivery's parsed JSON. */
export interface NewActivityEvent {
  webhookId: string;
  eventType: string;
  status: 'processed' | 'ignored';
  companyId: string | null;
  locationId: string | null;
  signatureScheme: 'ed25519' | 'rsa-sha256';
  payload: unknown;
  occurredAt: Date | null;
}

/**
 * Inserts the event unless its `webhookId` is already stored. A concurrent insert of the same id waits on the
 * unique index until the first transaction ends, so exactly one caller gets an id.
 * @returns the new row id, or null when the webhookId was already there (a replay).
 */
export async function insertActivityEvent(db: Executor, event: NewActivityEvent): Promise<number | null> {
  const rows = await db
    .insert(activityEvents)
    .values(event)
    .onConflictDoNothing({ target: activityEvents.webhookId })
    .returning({ id: activityEvents.id });
  return rows[0]?.id ?? null;
}

/** Stores the usage records of one activity event. */
export async function insertUsageRecords(db: Executor, activityEventId: number, drafts: UsageDraft[]): Promise<void> {
  if (drafts.length === 0) return;
  await db.insert(usageRecords).values(drafts.map((draft) => ({ ...draft, activityEventId })));
}

/** Usage records of one activity event, by HighLevel webhookId; for audit screens and tests. */
export async function findUsageByWebhookId(db: Executor, webhookId: string) {
  return db
    .select({
      metric: usageRecords.metric,
      quantity: usageRecords.quantity,
      unit: usageRecords.unit,
      direction: usageRecords.direction,
      locationId: usageRecords.locationId,
      occurredAt: usageRecords.occurredAt,
      sourceId: usageRecords.sourceId,
      attributes: usageRecords.attributes,
    })
    .from(usageRecords)
    .innerJoin(activityEvents, sql`${activityEvents.id} = ${usageRecords.activityEventId}`)
    .where(sql`${activityEvents.webhookId} = ${webhookId}`)
    .orderBy(usageRecords.id);
}
