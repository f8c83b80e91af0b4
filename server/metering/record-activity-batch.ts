/**
 * Records many activity events in ONE transaction: the batched form of record-activity.ts, for sources that send
 * many at once (the usage API). The same guarantees hold — every event is deduplicated on its delivery key, its
 * usage records and the threshold crossings they cause commit with it or not at all, nothing is reserved before
 * the write — at a few statements per batch instead of several per event:
 * - the events go in with one multi-row insert (`on conflict do nothing`), in delivery-key order, so two batches
 *   sharing keys wait on each other in the same order and never deadlock on them;
 * - the usage records of the new events go in with one insert;
 * - their quantities are summed exactly per (sub-account, metric, direction), and each sub-account's sums go once
 *   through `applyUsageToCounters`, the pipeline every webhook goes through. Units billed stay floor(total / N)
 *   (DESIGN invariant 3); a batch just writes one meter report per crossed counter rather than one per event.
 */
import { sql } from 'drizzle-orm';
import { selectRows, type Database, type Transaction } from '../../models/database';
import { sumQuantities } from './decimal-quantity';
import type { UsageDraft } from './normalise';
import { applyUsageToCounters } from './thresholds';

/** One event of a batch and the usage it carries (all for `locationId`). */
export interface BatchActivity {
  /** The delivery key (`activity_events.webhook_id`), distinct within a batch. */
  webhookId: string;
  eventType: string;
  source: 'usage_api' | 'backfill' | 'phone_numbers' | 'workflow_action';
  companyId: string;
  locationId: string;
  /** Stored verbatim for audit; compared by callers to tell a replay from a conflicting reuse of a key. */
  payload: Record<string, unknown>;
  occurredAt: Date;
  usage: UsageDraft[];
}

/** Per item, in input order: stored now, or already stored under its delivery key (with what was stored then). */
export type BatchItemOutcome = { status: 'recorded'; id: number } | { status: 'exists'; storedPayload: unknown };

/** What a batch did. `crossings`: meter reports it wrote. */
export interface RecordedBatch {
  items: BatchItemOutcome[];
  crossings: number;
}

/** Rows per statement, so one statement's JSON stays a few hundred kB. */
const ROWS_PER_INSERT = 1_000;
/** Tries of the whole transaction when PostgreSQL aborts it for a deadlock or a serialization failure. */
const ATTEMPTS = 3;

/**
 * @throws Error when two items share a delivery key (the caller resolves repeats first); the database error after
 *   the last try. Nothing is stored then.
 */
export async function recordActivityBatch(db: Database, items: BatchActivity[]): Promise<RecordedBatch> {
  if (new Set(items.map((i) => i.webhookId)).size !== items.length) throw new Error('recordActivityBatch: delivery keys must be distinct');
  if (items.length === 0) return { items: [], crossings: 0 };
  for (let attempt = 1; ; attempt++) {
    try {
      return await db.transaction((tx) => recordInTransaction(tx, items));
    } catch (err) {
      if (attempt >= ATTEMPTS || !isTransient(err)) throw err;
    }
  }
}

async function recordInTransaction(tx: Transaction, items: BatchActivity[]): Promise<RecordedBatch> {
  const inKeyOrder = [...items].sort((a, b) => (a.webhookId < b.webhookId ? -1 : a.webhookId > b.webhookId ? 1 : 0));
  const idByKey = new Map<string, number>();
  for (const chunk of chunks(inKeyOrder)) {
    for (const row of await insertEvents(tx, chunk)) idByKey.set(row.webhookId, Number(row.id));
  }

  const storedPayloads = new Map<string, unknown>();
  const existing = items.filter((item) => !idByKey.has(item.webhookId)).map((item) => item.webhookId);
  for (const keys of chunks(existing)) {
    const rows = await selectRows<{ webhookId: string; payload: unknown }>(
      tx,
      sql`select webhook_id as "webhookId", payload from activity_events
          where webhook_id in (select jsonb_array_elements_text(${JSON.stringify(keys)}::jsonb))`,
    );
    for (const row of rows) storedPayloads.set(row.webhookId, row.payload);
  }

  const fresh = items.filter((item) => idByKey.has(item.webhookId));
  const usageRows = fresh.flatMap((item) => item.usage.map((draft) => ({ draft, activityEventId: idByKey.get(item.webhookId)! })));
  for (const chunk of chunks(usageRows)) await insertUsage(tx, chunk);

  let crossings = 0;
  for (const subAccount of groupForCounters(fresh, idByKey)) {
    crossings += (await applyUsageToCounters(tx, subAccount.drafts, subAccount.lastEventId)).reports.length;
  }

  return {
    items: items.map((item): BatchItemOutcome => {
      const id = idByKey.get(item.webhookId);
      return id !== undefined ? { status: 'recorded', id } : { status: 'exists', storedPayload: storedPayloads.get(item.webhookId) ?? null };
    }),
    crossings,
  };
}

/**
 * Inserts events in the order given, skipping delivery keys already stored (or being stored by a concurrent
 * transaction, which this one then waits for). The rows travel as one JSON parameter: far cheaper than thousands
 * of bind parameters, on PGlite especially.
 * @returns the rows inserted.
 */
async function insertEvents(tx: Transaction, chunk: BatchActivity[]) {
  const rows = chunk.map((item, n) => ({
    n,
    webhook_id: item.webhookId,
    event_type: item.eventType,
    source: item.source,
    company_id: item.companyId,
    location_id: item.locationId,
    payload: item.payload,
    occurred_at: item.occurredAt.toISOString(),
  }));
  return selectRows<{ id: string | number; webhookId: string }>(
    tx,
    sql`insert into activity_events (webhook_id, event_type, status, source, company_id, location_id, signature_scheme, payload, occurred_at)
        select x.webhook_id, x.event_type, 'processed', x.source, x.company_id, x.location_id, null, x.payload, x.occurred_at
        from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb)
             as x(n int, webhook_id text, event_type text, source text, company_id text, location_id text, payload jsonb, occurred_at timestamptz)
        order by x.n
        on conflict (webhook_id) do nothing
        returning id, webhook_id as "webhookId"`,
  );
}

/** Inserts usage records (quantities as decimal strings, read by PostgreSQL as numeric: exact). */
async function insertUsage(tx: Transaction, chunk: Array<{ draft: UsageDraft; activityEventId: number }>) {
  const rows = chunk.map(({ draft, activityEventId }) => ({
    activity_event_id: activityEventId,
    location_id: draft.locationId,
    metric: draft.metric,
    quantity: draft.quantity,
    unit: draft.unit,
    direction: draft.direction,
    occurred_at: draft.occurredAt.toISOString(),
    source_type: draft.sourceType,
    source_id: draft.sourceId,
    attributes: draft.attributes,
  }));
  await tx.execute(
    sql`insert into usage_records (activity_event_id, location_id, metric, quantity, unit, direction, occurred_at, source_type, source_id, attributes)
        select x.activity_event_id, x.location_id, x.metric, x.quantity, x.unit, x.direction, x.occurred_at, x.source_type, x.source_id, x.attributes
        from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb)
             as x(activity_event_id bigint, location_id text, metric text, quantity numeric, unit text, direction text,
                  occurred_at timestamptz, source_type text, source_id text, attributes jsonb)`,
  );
}

/**
 * Per sub-account, one usage draft per (metric, direction): the exact sum of the quantities and the latest time
 * (when the crossing happened); and the sub-account's last event in input order, which its crossings are
 * attributed to. Sub-accounts and drafts come sorted, so concurrent batches lock counters in one order.
 */
function groupForCounters(fresh: BatchActivity[], idByKey: Map<string, number>) {
  const bySubAccount = new Map<string, { drafts: Map<string, UsageDraft[]>; lastEventId: number }>();
  for (const item of fresh) {
    for (const draft of item.usage) {
      const sub = bySubAccount.get(draft.locationId) ?? { drafts: new Map<string, UsageDraft[]>(), lastEventId: 0 };
      const key = JSON.stringify([draft.metric, draft.direction]);
      sub.drafts.set(key, [...(sub.drafts.get(key) ?? []), draft]);
      sub.lastEventId = idByKey.get(item.webhookId)!;
      bySubAccount.set(draft.locationId, sub);
    }
  }
  return sortedByKey(bySubAccount).map(({ drafts, lastEventId }) => ({
    lastEventId,
    drafts: sortedByKey(drafts).map((group): UsageDraft => {
      const latest = group.reduce((max, d) => (d.occurredAt > max.occurredAt ? d : max));
      return { ...latest, quantity: sumQuantities(group.map((d) => d.quantity)) };
    }),
  }));
}

const sortedByKey = <T>(map: Map<string, T>): T[] => [...map].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, v]) => v);

function* chunks<T>(rows: T[]): Generator<T[]> {
  for (let i = 0; i < rows.length; i += ROWS_PER_INSERT) yield rows.slice(i, i + ROWS_PER_INSERT);
}

/** Deadlock (40P01) or serialization failure (40001): the transaction rolled back and may simply be run again. */
function isTransient(err: unknown): boolean {
  for (let e: unknown = err; e; e = (e as { cause?: unknown }).cause) {
    const code = (e as { code?: unknown }).code;
    if (code === '40P01' || code === '40001') return true;
    if ((e as { cause?: unknown }).cause === e) break;
  }
  return false;
}
