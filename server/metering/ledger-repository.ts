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

/**
 * The intake's write in ONE statement (one round trip): the event unless its `webhookId` is already stored, and
 * — only for a new event — its usage records, except those whose message a backfill already imported for the
 * same sub-account (delivery key `backfill:<locationId>:<messageId>`, server/metering/backfilled-usage.ts): such a
 * message is kept as an event but not counted again. A concurrent insert of the same id waits on the unique index
 * until the first transaction ends, so exactly one caller gets an id.
 * @returns the new event id and the drafts stored (in input order), or `id: null` for a replay (nothing stored).
 * @throws the database error.
 */
export async function insertEventWithUsage(db: Executor, event: NewActivityEvent, drafts: UsageDraft[]): Promise<{ id: number | null; stored: UsageDraft[] }> {
  const input = JSON.stringify(
    drafts.map((d, index) => ({
      index,
      location_id: d.locationId,
      metric: d.metric,
      quantity: d.quantity,
      unit: d.unit,
      direction: d.direction,
      occurred_at: d.occurredAt.toISOString(),
      source_type: d.sourceType,
      source_id: d.sourceId,
      attributes: d.attributes,
    })),
  );
  const [row] = await selectRows<{ id: string | null; stored: number[] | null }>(
    db,
    sql`with event as (
          insert into activity_events (webhook_id, event_type, status, company_id, location_id, signature_scheme, payload, occurred_at)
          values (${event.webhookId}, ${event.eventType}, ${event.status}, ${event.companyId}, ${event.locationId},
                  ${event.signatureScheme}, ${JSON.stringify(event.payload)}::jsonb, ${event.occurredAt?.toISOString() ?? null}::timestamptz)
          on conflict (webhook_id) do nothing
          returning id
        ), fresh as (
          select d.* from jsonb_to_recordset(${input}::jsonb) as d(index int, location_id text, metric text, quantity numeric, unit text,
                 direction text, occurred_at timestamptz, source_type text, source_id text, attributes jsonb)
          where d.source_id is null
             or not exists (select 1 from activity_events b where b.webhook_id = 'backfill:' || d.location_id || ':' || d.source_id)
        ), stored as (
          insert into usage_records (activity_event_id, location_id, metric, quantity, unit, direction, occurred_at, source_type, source_id, attributes)
          select event.id, f.location_id, f.metric, f.quantity, f.unit, f.direction, f.occurred_at, f.source_type, f.source_id, f.attributes
          from event, fresh f
          returning 1
        )
        select (select id from event)::text as id,
               (select json_agg(f.index order by f.index) from fresh f where exists (select 1 from event)) as stored,
               (select count(*) from stored) as n`,
  );
  const id = row?.id ?? null;
  if (id === null) return { id: null, stored: [] };
  return { id: Number(id), stored: (row!.stored ?? []).map((index) => drafts[index]!) };
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
