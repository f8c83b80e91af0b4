/**
 * The ledger side of a backfill: which exported messages Meterbridge already knows, storing the new ones as
 * activity events (`source` 'backfill') with their usage records, and what a job imported.
 *
 * A message is known when the sub-account has a usage record with its id as `source_id` (a webhook delivered it:
 * the intake stores HighLevel's `messageId` there), or with its `<conversationId>@<dateAdded>` as `message_key` (a
 * webhook without a `messageId` delivered it: server/metering/message-key.ts), or its backfill delivery key
 * `backfill:<locationId>:<messageId>` is already an activity event (an earlier backfill imported it). The delivery key is unique across every source,
 * so even two imports racing cannot store a message twice.
 */
import { sql } from 'drizzle-orm';
import { selectRows, type Executor } from '../../models/database';
import { findUnstorableJson } from '../highlevel/storable-json';
import { insertActivityEvents, insertUsageRecords } from '../metering/ledger-writer';
import { backfillDeliveryKey, type ImportableMessage } from './export-message';

/**
 * The ids of the messages the sub-account already has usage for, from a webhook or an earlier backfill.
 * Uses the (location_id, source_id) and (location_id, message_key) indexes and the unique delivery key index.
 * @param messages each exported message's id and, when it has one, its message key.
 */
export async function findKnownMessageIds(
  db: Executor,
  locationId: string,
  messages: Array<{ messageId: string; messageKey: string | null }>,
): Promise<Set<string>> {
  if (messages.length === 0) return new Set();
  const ids = sql.join(messages.map((m) => sql`${m.messageId}`), sql`, `);
  const keys = sql.join(messages.map((m) => sql`${backfillDeliveryKey(locationId, m.messageId)}`), sql`, `);
  const prefix = backfillDeliveryKey(locationId, '');
  const messageKeys = messages.filter((m) => m.messageKey !== null).map((m) => sql`${m.messageKey}`);
  const byKey =
    messageKeys.length === 0
      ? sql``
      : sql`union
            select message_key as id from usage_records where location_id = ${locationId} and message_key in (${sql.join(messageKeys, sql`, `)})`;
  const rows = await selectRows<{ id: string }>(
    db,
    sql`select source_id as id from usage_records where location_id = ${locationId} and source_id in (${ids})
        union
        select substr(webhook_id, ${prefix.length + 1}) as id from activity_events where webhook_id in (${keys})
        ${byKey}`,
  );
  const found = new Set(rows.map((r) => r.id));
  return new Set(messages.filter((m) => found.has(m.messageId) || (m.messageKey !== null && found.has(m.messageKey))).map((m) => m.messageId));
}

/**
 * Stores each message as an activity event and its usage records, skipping any whose delivery key exists by now.
 * The event's payload is `{ backfillJobId, message }` (the message as exported; fields PostgreSQL cannot store are
 * replaced by a note), so the job's usage can be found again to bill it.
 * @param counted false to hold the usage out of the counters (imported but not billed).
 * @returns the messages actually stored, with their event's id (the caller counts the rest as duplicates).
 */
export async function insertImportedMessages(
  db: Executor,
  job: { id: number; companyId: string; locationId: string },
  messages: ImportableMessage[],
  counted: boolean,
): Promise<Array<ImportableMessage & { activityEventId: number }>> {
  if (messages.length === 0) return [];
  const eventIds = await insertActivityEvents(
    db,
    messages.map((m) => ({
      webhookId: backfillDeliveryKey(job.locationId, m.messageId),
      eventType: m.eventType,
      status: 'processed' as const,
      source: 'backfill' as const,
      companyId: job.companyId,
      locationId: job.locationId,
      signatureScheme: null,
      payload: { backfillJobId: job.id, message: storable(m) },
      occurredAt: m.occurredAt,
    })),
  );
  const stored = messages.flatMap((m) => {
    const activityEventId = eventIds.get(backfillDeliveryKey(job.locationId, m.messageId));
    return activityEventId === undefined ? [] : [{ ...m, activityEventId }];
  });
  await insertUsageRecords(
    db,
    stored.flatMap((m) => m.usage.map((draft) => ({ draft, activityEventId: m.activityEventId }))),
    counted,
  );
  return stored;
}

/** Per metric: what a job imported and how much of it is still held out of the counters. Quantities are decimals. */
export interface ImportedUsage {
  metric: string;
  unit: string;
  records: number;
  quantity: string;
  heldQuantity: string;
}

/** The usage a job imported, per metric. */
export async function importedUsage(db: Executor, locationId: string, jobId: number): Promise<ImportedUsage[]> {
  return selectRows<ImportedUsage>(
    db,
    sql`select u.metric, min(u.unit) as unit, count(*)::int as records, sum(u.quantity)::text as quantity,
               coalesce(sum(u.quantity) filter (where not u.counted), 0)::text as "heldQuantity"
        from activity_events e join usage_records u on u.activity_event_id = e.id
        where e.location_id = ${locationId} and e.source = 'backfill' and ${importedBy(jobId)}
        group by u.metric order by u.metric`,
  );
}

/** The SQL condition on an activity event (aliased `e`) that it was imported by backfill `jobId`. */
export function importedBy(jobId: number) {
  return sql`e.payload->>'backfillJobId' = ${String(jobId)}`;
}

function storable(message: ImportableMessage): unknown {
  const problem = findUnstorableJson(message.raw);
  if (!problem) return message.raw;
  return { id: message.messageId, dateAdded: message.occurredAt.toISOString(), note: `not stored verbatim: ${problem}` };
}
