/**
 * The one writer of the ledger (`activity_events`, `usage_records`) and its one row mapping. Every source goes through
 * it: the webhook intake and the usage API store inbox rows (server/pipeline/), the inbox processor and a backfill page
 * store usage records. Rows travel as ONE JSON parameter per statement (`jsonb_to_recordset`): far cheaper than
 * thousands of bind parameters, on PGlite especially, and one statement per chunk whatever the batch size.
 */
import { sql } from 'drizzle-orm';
import { selectRows, type Executor } from '../../models/database';
import type { UsageDraft } from './normalise';

/** An activity event to store. `webhookId` is the delivery key of every source (unique). */
export interface NewActivityEvent {
  webhookId: string;
  eventType: string;
  /** `received` for the inbox; `processed` when its effects commit with it (lifecycle events, backfill pages). */
  status: 'received' | 'processed' | 'ignored';
  source?: 'webhook' | 'usage_api' | 'backfill' | 'phone_numbers' | 'workflow_action';
  companyId: string | null;
  locationId: string | null;
  signatureScheme: 'ed25519' | 'rsa-sha256' | null;
  /** The delivery's parsed JSON, stored verbatim. */
  payload: unknown;
  occurredAt: Date | null;
  /** Usage the source already derived (stored in `activity_events.usage` for the processor); omitted for webhooks. */
  usage?: UsageDraft[];
}

/** A usage draft as stored in `activity_events.usage`: ISO time, decimal-string quantity. */
export type StoredDraft = ReturnType<typeof draftJson>;

/** A draft as JSON (the inbox's `usage` column and the usage records' insert). */
export function draftJson(d: UsageDraft) {
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

/** The inverse of `draftJson`. */
export function draftFromJson(j: StoredDraft): UsageDraft {
  return {
    locationId: j.location_id,
    metric: j.metric,
    quantity: j.quantity,
    unit: j.unit,
    direction: j.direction,
    occurredAt: new Date(j.occurred_at),
    sourceType: j.source_type,
    sourceId: j.source_id,
    messageKey: j.message_key,
    attributes: j.attributes,
  };
}

/** Rows per statement, so one statement's JSON stays a few hundred kB. */
const ROWS_PER_STATEMENT = 1_000;

/**
 * Inserts events in the order given (callers sort by delivery key, so concurrent writers wait on shared keys in one
 * order and never deadlock), skipping delivery keys already stored — or being stored by a concurrent transaction,
 * which this one then waits for.
 * @returns the id of every event inserted, by delivery key (a key missing from it was stored before: a duplicate).
 * @throws the database error.
 */
export async function insertActivityEvents(db: Executor, events: NewActivityEvent[]): Promise<Map<string, number>> {
  const ids = new Map<string, number>();
  for (let i = 0; i < events.length; i += ROWS_PER_STATEMENT) {
    const rows = events.slice(i, i + ROWS_PER_STATEMENT).map((e, n) => ({
      n,
      webhook_id: e.webhookId,
      event_type: e.eventType,
      status: e.status,
      source: e.source ?? 'webhook',
      company_id: e.companyId,
      location_id: e.locationId,
      signature_scheme: e.signatureScheme,
      payload: e.payload,
      occurred_at: e.occurredAt?.toISOString() ?? null,
      usage: e.usage ? e.usage.map(draftJson) : null,
    }));
    const inserted = await selectRows<{ id: string | number; webhookId: string }>(
      db,
      sql`insert into activity_events (webhook_id, event_type, status, source, company_id, location_id, signature_scheme, payload, occurred_at, usage)
          select x.webhook_id, x.event_type, x.status, x.source, x.company_id, x.location_id, x.signature_scheme, x.payload, x.occurred_at, x.usage
          from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb)
               as x(n int, webhook_id text, event_type text, status text, source text, company_id text, location_id text,
                    signature_scheme text, payload jsonb, occurred_at timestamptz, usage jsonb)
          order by x.n
          on conflict (webhook_id) do nothing
          returning id, webhook_id as "webhookId"`,
    );
    for (const row of inserted) ids.set(row.webhookId, Number(row.id));
  }
  return ids;
}

/**
 * Inserts usage records (quantities as decimal strings, read by PostgreSQL as numeric: exact).
 * @param counted false to hold them out of the counters (imported history not billed yet: server/backfill/).
 * @throws the database error (a second record of one (event, metric) violates `usage_records_event_metric_key`).
 */
export async function insertUsageRecords(db: Executor, records: Array<{ draft: UsageDraft; activityEventId: number }>, counted = true): Promise<void> {
  for (let i = 0; i < records.length; i += ROWS_PER_STATEMENT) {
    const rows = records.slice(i, i + ROWS_PER_STATEMENT).map(({ draft, activityEventId }) => ({ ...draftJson(draft), activity_event_id: activityEventId }));
    await db.execute(
      sql`insert into usage_records (activity_event_id, location_id, metric, quantity, unit, direction, occurred_at, source_type, source_id,
                                     message_key, attributes, counted)
          select x.activity_event_id, x.location_id, x.metric, x.quantity, x.unit, x.direction, x.occurred_at, x.source_type, x.source_id,
                 x.message_key, coalesce(x.attributes, '{}'::jsonb), ${counted}
          from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb)
               as x(activity_event_id bigint, location_id text, metric text, quantity numeric, unit text, direction text,
                    occurred_at timestamptz, source_type text, source_id text, message_key text, attributes jsonb)`,
    );
  }
}
