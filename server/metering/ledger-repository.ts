/**
 * The usage ledger: activity events (one row per HighLevel delivery) and the usage records derived from them.
 * Writes go through ledger-writer.ts; what is here reads the ledger.
 */
import { sql } from 'drizzle-orm';
import type { Executor } from '../../models/database';
import { activityEvents, usageRecords } from '../../models/schema';

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
