/**
 * Records many activity events in ONE transaction: the batched form of record-activity.ts, for sources that send
 * many at once (the usage API). The same guarantees hold — every event is deduplicated on its delivery key, its
 * usage records and the threshold crossings they cause commit with it or not at all, nothing is reserved before
 * the write — at a few statements per batch instead of several per event:
 * - the events go in with one multi-row insert (`on conflict do nothing`), in delivery-key order, so two batches
 *   sharing keys wait on each other in the same order and never deadlock on them;
 * - the usage records of the new events go in with one insert;
 * - their quantities are summed exactly per (sub-account, metric, direction) and each sum goes once through
 *   `applyUsageToCounters`, the pipeline every webhook goes through. Units billed stay floor(total / N) (DESIGN
 *   invariant 3); a batch just writes one meter report per crossed counter rather than one per event.
 */
import { inArray } from 'drizzle-orm';
import type { Database, Transaction } from '../../models/database';
import { activityEvents, usageRecords } from '../../models/schema';
import { sumQuantities } from './decimal-quantity';
import type { UsageDraft } from './normalise';
import { applyUsageToCounters } from './thresholds';

/** One event of a batch and the usage it carries (all for `locationId`). */
export interface BatchActivity {
  /** The delivery key (`activity_events.webhook_id`), distinct within a batch. */
  webhookId: string;
  eventType: string;
  source: 'usage_api' | 'backfill';
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

/** Rows per insert statement (PostgreSQL takes at most 65,535 parameters; a usage record has 10). */
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
    const inserted = await tx
      .insert(activityEvents)
      .values(
        chunk.map((item) => ({
          webhookId: item.webhookId,
          eventType: item.eventType,
          status: 'processed' as const,
          source: item.source,
          companyId: item.companyId,
          locationId: item.locationId,
          signatureScheme: null,
          payload: item.payload,
          occurredAt: item.occurredAt,
        })),
      )
      .onConflictDoNothing({ target: activityEvents.webhookId })
      .returning({ id: activityEvents.id, webhookId: activityEvents.webhookId });
    for (const row of inserted) idByKey.set(row.webhookId, row.id);
  }

  const storedPayloads = new Map<string, unknown>();
  const existing = items.filter((item) => !idByKey.has(item.webhookId)).map((item) => item.webhookId);
  for (const keys of chunks(existing)) {
    const rows = await tx.select({ webhookId: activityEvents.webhookId, payload: activityEvents.payload }).from(activityEvents).where(inArray(activityEvents.webhookId, keys));
    for (const row of rows) storedPayloads.set(row.webhookId, row.payload);
  }

  const fresh = items.filter((item) => idByKey.has(item.webhookId));
  const usageRows = fresh.flatMap((item) => item.usage.map((draft) => ({ ...draft, activityEventId: idByKey.get(item.webhookId)! })));
  for (const chunk of chunks(usageRows)) await tx.insert(usageRecords).values(chunk);

  let crossings = 0;
  for (const group of groupForCounters(fresh, idByKey)) {
    crossings += (await applyUsageToCounters(tx, [group.draft], group.lastEventId)).reports.length;
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
 * One usage draft per (sub-account, metric, direction): the exact sum of the quantities, the latest time (when the
 * crossing happened) and the last event in input order (the one a crossing is attributed to). Sorted by key, so
 * concurrent batches lock counters in one order.
 */
function groupForCounters(fresh: BatchActivity[], idByKey: Map<string, number>) {
  const groups = new Map<string, { drafts: UsageDraft[]; lastEventId: number }>();
  for (const item of fresh) {
    for (const draft of item.usage) {
      const key = JSON.stringify([draft.locationId, draft.metric, draft.direction]);
      const group = groups.get(key) ?? { drafts: [], lastEventId: 0 };
      group.drafts.push(draft);
      group.lastEventId = idByKey.get(item.webhookId)!;
      groups.set(key, group);
    }
  }
  return [...groups]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([, { drafts, lastEventId }]) => {
      const latest = drafts.reduce((max, d) => (d.occurredAt > max.occurredAt ? d : max));
      const draft: UsageDraft = { ...latest, quantity: sumQuantities(drafts.map((d) => d.quantity)) };
      return { draft, lastEventId };
    });
}

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
