/**
 * How one HighLevel message is recognised across sources when it has no `messageId`.
 *
 * A backfill (server/backfill/) must not import again a message a webhook already delivered, and a webhook must not
 * count a message a backfill already imported. HighLevel's `messageId` would do, but its own SMS and Email webhook
 * examples carry none (GoHighLevel/highlevel-api-docs `docs/webhook events/InboundMessage.md` and
 * `OutboundMessage.md`: only the call, voicemail and workflow-voicemail examples have one), while the export
 * (`GET /conversations/messages/export`, apps/conversations.json `GetMessageResponseDto`) always returns `id`.
 *
 * The fields BOTH sides document for every message are `conversationId` and `dateAdded` (an ISO 8601 instant with
 * milliseconds, e.g. "2021-04-21T11:31:45.750Z" in the webhook examples and "2024-03-27T18:13:49.000Z" in the
 * export's schema). `dateAdded` is set once, when HighLevel stores the message, and one conversation does not hold
 * two messages added in the same millisecond, so `<conversationId>@<dateAdded as UTC ISO with ms>` names one
 * message. Not used: `body` (an email's differs between the two, and it may be edited), `contactId` (one contact,
 * many messages), `direction` (HighLevel's own OutboundMessage example says "inbound"), `emailMessageId` (emails only).
 * Migration 0011 derives the same key in SQL for rows stored before it.
 */

/**
 * @param conversationId HighLevel's conversation id.
 * @param dateAdded the message's `dateAdded`, any ISO 8601 form.
 * @returns `<conversationId>@<YYYY-MM-DDTHH:mm:ss.sssZ>`, or null when either is missing or the date is not a date.
 */
export function messageKey(conversationId: string | null | undefined, dateAdded: string | null | undefined): string | null {
  if (!conversationId || !dateAdded) return null;
  const at = new Date(dateAdded);
  if (Number.isNaN(at.getTime())) return null;
  return `${conversationId}@${at.toISOString()}`;
}
