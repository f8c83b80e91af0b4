/**
 * Usage already imported by a backfill (server/backfill/). A backfill skips messages a webhook delivered; this is
 * the other direction: a webhook processed after a backfill imported the same message (HighLevel retries a delivery
 * for hours) must not count it a second time. The inbox processor (server/pipeline/inbox-processor.ts) leaves such
 * usage out, matching the message by its id or by its `<conversationId>@<dateAdded>` key (message-key.ts).
 */
import { sql } from 'drizzle-orm';
import { MESSAGE_LOCK } from '../../models/advisory-locks';
import { selectRows, type Executor } from '../../models/database';
import type { UsageDraft } from './normalise';

/** The delivery key (`activity_events.webhook_id`) of a message imported by a backfill. */
export function backfillDeliveryKey(locationId: string, messageId: string): string {
  return `backfill:${locationId}:${messageId}`;
}

/**
 * Locks these messages of a sub-account for the rest of the transaction, in hash order (the order every writer uses,
 * so neither side can wait on the other in a cycle). Taken before looking for a message, it makes a webhook and a
 * backfill page carrying the same message see each other's commit: the second waits for the first.
 * @param identifiers every id AND message key of the messages (a webhook without a messageId locks its key only).
 * @throws the database error.
 */
export async function lockMessages(tx: Executor, locationId: string, identifiers: string[]): Promise<void> {
  await lockMessagesOf(tx, identifiers.map((id) => ({ locationId, id })));
}

/** `lockMessages` for messages of several sub-accounts at once (one statement, global hash order). */
async function lockMessagesOf(tx: Executor, messages: Array<{ locationId: string; id: string }>): Promise<void> {
  if (messages.length === 0) return;
  const keys = [...new Set(messages.map((m) => `${m.locationId}:${m.id}`))];
  await tx.execute(sql`
    select pg_advisory_xact_lock(${MESSAGE_LOCK}, m.h)
    from (select distinct hashtext(k) as h from jsonb_array_elements_text(${JSON.stringify(keys)}::jsonb) as k order by 1) as m`);
}

/**
 * Leaves out the drafts whose message a backfill already imported for their sub-account, by message id (its backfill
 * delivery key is stored) or by message key (a backfilled usage record carries it). Takes the message locks first.
 * @returns the drafts to keep, in input order.
 * @throws the database error.
 */
export async function withoutBackfilled<T extends { draft: UsageDraft }>(tx: Executor, entries: T[]): Promise<T[]> {
  const identities = entries.flatMap(({ draft }) => [
    ...(draft.sourceId ? [{ locationId: draft.locationId, id: draft.sourceId, kind: 'id' }] : []),
    ...(draft.messageKey ? [{ locationId: draft.locationId, id: draft.messageKey, kind: 'key' }] : []),
  ]);
  if (identities.length === 0) return entries;
  await lockMessagesOf(tx, identities);
  const found = await selectRows<{ k: string }>(
    tx,
    sql`select x.location_id || ':' || x.id as k
        from jsonb_to_recordset(${JSON.stringify(identities.map((i) => ({ location_id: i.locationId, id: i.id, kind: i.kind })))}::jsonb)
             as x(location_id text, id text, kind text)
        where (x.kind = 'id' and exists (select 1 from activity_events b where b.webhook_id = 'backfill:' || x.location_id || ':' || x.id))
           or (x.kind = 'key' and exists (select 1 from usage_records u join activity_events e on e.id = u.activity_event_id
                                          where u.location_id = x.location_id and u.message_key = x.id and e.source = 'backfill'))`,
  );
  if (found.length === 0) return entries;
  const imported = new Set(found.map((r) => r.k));
  return entries.filter(({ draft }) => {
    const byId = draft.sourceId !== null && imported.has(`${draft.locationId}:${draft.sourceId}`);
    const byKey = !!draft.messageKey && imported.has(`${draft.locationId}:${draft.messageKey}`);
    return !byId && !byKey;
  });
}
