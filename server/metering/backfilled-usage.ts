/**
 * Usage already imported by a backfill (server/backfill/). A backfill skips messages a webhook delivered; this is
 * the other direction: a webhook arriving after a backfill imported the same message (HighLevel retries a delivery
 * for hours) must not count it a second time: the intake's SQL function `meterbridge_record_deliveries`
 * (models/migrations/0011_hl_email_source_message_key.sql) leaves such usage out, matching the message by its id or by
 * its `<conversationId>@<dateAdded>` key (message-key.ts).
 */
import { sql } from 'drizzle-orm';
import type { Executor } from '../../models/database';

/** The delivery key (`activity_events.webhook_id`) of a message imported by a backfill. */
export function backfillDeliveryKey(locationId: string, messageId: string): string {
  return `backfill:${locationId}:${messageId}`;
}

/** Advisory-lock namespace of "one HighLevel message of one sub-account" (also in migration 0011's intake function). */
const MESSAGE_LOCK = 7_310_002;

/**
 * Locks these messages of a sub-account for the rest of the transaction, in hash order (the order the intake's SQL
 * function uses, so neither side can wait on the other in a cycle). Taken before looking for a message, it makes a
 * webhook and a backfill page carrying the same message see each other's commit: the second waits for the first.
 * @param identifiers every id AND message key of the messages (a webhook without a messageId locks its key only).
 * @throws the database error.
 */
export async function lockMessages(tx: Executor, locationId: string, identifiers: string[]): Promise<void> {
  const messageIds = [...new Set(identifiers)];
  if (messageIds.length === 0) return;
  await tx.execute(sql`
    select pg_advisory_xact_lock(${MESSAGE_LOCK}, m.h)
    from (select distinct hashtext(${locationId} || ':' || id) as h
          from jsonb_array_elements_text(${JSON.stringify(messageIds)}::jsonb) as id
          order by 1) as m`);
}
