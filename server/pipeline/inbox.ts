/**
 * Writing to the inbox (`activity_events`, see models/schema/ledger.ts) from the sources other than a plain webhook
 * delivery (which goes through group-commit.ts): a source stores its events and answers; the inbox processor
 * (inbox-processor.ts) turns them into usage, counters and meter reports later, in set-based batches.
 * - `storeBatch`: the usage API, the workflow action and the monthly phone-number job store many events at once,
 *   each with the usage drafts they already derived, and learn per event whether it is new or what was stored under
 *   its key before (so the usage API can answer accepted / duplicate / conflict synchronously);
 * - `recordLifecycleEvent`: an install-lifecycle webhook (INSTALL, UNINSTALL, LocationCreate, …) carries no usage;
 *   its effects commit with the event itself, before the acknowledgement, so an uninstall stops billing at once.
 */
import { sql } from 'drizzle-orm';
import { selectRows, type Database, type Transaction } from '../../models/database';
import { isTransient } from '../../models/database-errors';
import { insertActivityEvents, type NewActivityEvent } from '../metering/ledger-writer';
import type { UsageDraft } from '../metering/normalise';

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

/** Tries of the whole transaction when PostgreSQL aborts it for a deadlock or a serialization failure. */
const ATTEMPTS = 3;

/**
 * Stores a batch of events in the inbox in ONE transaction: all or none. Events go in delivery-key order, so two
 * batches sharing keys wait on each other in one order and never deadlock.
 * @returns per item, in input order, what happened.
 * @throws Error when two items share a delivery key (the caller resolves repeats first); the database error after the
 *   last try. Nothing is stored then.
 */
export async function storeBatch(db: Database, items: BatchActivity[]): Promise<BatchItemOutcome[]> {
  if (new Set(items.map((i) => i.webhookId)).size !== items.length) throw new Error('storeBatch: delivery keys must be distinct');
  if (items.length === 0) return [];
  for (let attempt = 1; ; attempt++) {
    try {
      return await db.transaction((tx) => storeInTransaction(tx, items));
    } catch (err) {
      if (attempt >= ATTEMPTS || !isTransient(err)) throw err;
    }
  }
}

async function storeInTransaction(tx: Transaction, items: BatchActivity[]): Promise<BatchItemOutcome[]> {
  const inKeyOrder = [...items].sort((a, b) => (a.webhookId < b.webhookId ? -1 : a.webhookId > b.webhookId ? 1 : 0));
  const ids = await insertActivityEvents(
    tx,
    inKeyOrder.map((item): NewActivityEvent => ({ ...item, status: 'received', signatureScheme: null })),
  );
  const existing = items.filter((item) => !ids.has(item.webhookId)).map((item) => item.webhookId);
  const storedPayloads = new Map<string, unknown>();
  if (existing.length > 0) {
    const rows = await selectRows<{ webhookId: string; payload: unknown }>(
      tx,
      sql`select webhook_id as "webhookId", payload from activity_events
          where webhook_id in (select jsonb_array_elements_text(${JSON.stringify(existing)}::jsonb))`,
    );
    for (const row of rows) storedPayloads.set(row.webhookId, row.payload);
  }
  return items.map((item): BatchItemOutcome => {
    const id = ids.get(item.webhookId);
    return id !== undefined ? { status: 'recorded', id } : { status: 'exists', storedPayload: storedPayloads.get(item.webhookId) ?? null };
  });
}

/**
 * Stores a lifecycle event (status `processed`) and, for a first delivery only, runs its effects in the same
 * transaction. @returns whether the delivery key was stored before. @throws the database error; nothing is stored.
 */
export async function recordLifecycleEvent(
  db: Database,
  event: NewActivityEvent,
  effects: (tx: Transaction) => Promise<void>,
): Promise<{ duplicate: boolean }> {
  return db.transaction(async (tx) => {
    const ids = await insertActivityEvents(tx, [{ ...event, status: 'processed' }]);
    if (!ids.has(event.webhookId)) return { duplicate: true };
    await effects(tx);
    return { duplicate: false };
  });
}
