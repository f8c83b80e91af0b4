/**
 * One message of HighLevel's export → the usage the webhook path would have produced for it. Pure: no I/O.
 *
 * An exported message is HighLevel's `GetMessageResponseDto` (HighLevel API docs, "Get message by message id" and
 * "Export messages by location ID"; GoHighLevel/highlevel-api-docs apps/conversations.json):
 * `{ id, type (number), messageType ('TYPE_SMS', 'TYPE_CALL', 'TYPE_EMAIL', 'TYPE_WHATSAPP', 'TYPE_CUSTOM_PROVIDER_SMS',
 * …), locationId, contactId, conversationId, dateAdded (ISO 8601), body?, direction ('inbound' | 'outbound'),
 * status?, contentType, attachments? (URLs; empty for calls and voicemails), meta?, source?, userId? }`.
 * Call facts are in `meta`: the OpenAPI documents `meta.callDuration` (seconds, a string) and `meta.callStatus`,
 * while the live API nests them as `meta.call.duration` and `meta.call.status`; both are read.
 *
 * The message is rebuilt as the InboundMessage / OutboundMessage webhook HighLevel would have sent
 * (`messageId` = its `id`, `messageTypeString` = its `messageType`, `callDuration`, `callStatus`), validated with the
 * webhook's own schema and turned into usage by `normaliseActivity`, so SMS segments, MMS, call minutes and
 * channel rules are exactly the webhook path's.
 */
import { z } from 'zod';
import { eventSchemas, type MessageEvent } from '../highlevel/webhook-events';
import type { EmailBillingSource } from '../metering/email-billing';
import { normaliseActivity, type UsageDraft } from '../metering/normalise';
import type { MessageChannel } from './export-position';

const seconds = z.union([z.number(), z.string().trim().regex(/^\d+(\.\d+)?$/)]).transform(Number);

/** The fields of an exported message Meterbridge reads; the rest passes through untouched. */
const exportedMessageSchema = z.looseObject({
  id: z.string().trim().min(1).max(200),
  messageType: z.string().trim().min(1).max(100).optional(),
  locationId: z.string().optional(),
  conversationId: z.string().max(200).nullish(),
  direction: z.enum(['inbound', 'outbound']),
  dateAdded: z.string().max(100),
  body: z.string().max(1_000_000).nullish(),
  attachments: z.array(z.string().max(10_000)).max(1_000).nullish(),
  status: z.string().max(100).nullish(),
  /** Email only: the service that sent it, as in the webhook (apps/conversations.json). */
  provider: z.string().max(200).nullish(),
  meta: z
    .looseObject({
      callDuration: seconds.nullish(),
      callStatus: z.string().max(100).nullish(),
      call: z.looseObject({ duration: seconds.nullish(), status: z.string().max(100).nullish() }).nullish(),
    })
    .nullish(),
});

/** A message that yields usage. */
export interface ImportableMessage {
  messageId: string;
  /** `<conversationId>@<dateAdded>` (server/metering/message-key.ts): how a webhook without `messageId` names it; null for a Voice AI call. */
  messageKey: string | null;
  /** InboundMessage or OutboundMessage (VoiceAiCallEnd for a Voice AI call), as the webhook would have been typed. */
  eventType: MessageEvent['type'] | 'VoiceAiCallEnd';
  occurredAt: Date;
  /** The usage records (all for the backfill's sub-account, `sourceId` = `messageId`); never empty. */
  usage: UsageDraft[];
  /** The message as HighLevel exported it, kept as the activity event's payload. */
  raw: Record<string, unknown>;
}

/** Why a message yields nothing (it still counts as seen); `trial`: a Voice AI test call. */
export type SkipReason = 'malformed' | 'other_location' | 'out_of_range' | 'activity' | 'no_usage' | 'trial';

/** What a message maps to. */
export type MappedMessage = { kind: 'usage'; message: ImportableMessage } | { kind: 'skipped'; reason: SkipReason; messageId: string | null };

/** Channel words in the webhook's `messageType`, for a message whose export entry names no type. */
const WEBHOOK_TYPE: Record<MessageChannel, string> = { SMS: 'SMS', Call: 'CALL', Email: 'Email', WhatsApp: 'WhatsApp' };

/**
 * Maps one exported message.
 * @param value one element of the page's `messages`, as received.
 * @param context the backfill's sub-account, the channel that was asked for and its range (`startAt` inclusive,
 *   `endAt` exclusive: HighLevel's own date filter is not documented precisely, so the range is applied here too).
 * @returns the usage, or why there is none: unparseable, another sub-account's, outside the range, an activity
 *   entry (`TYPE_ACTIVITY_*` are timeline notes, not messages) or a type that carries no usage (Instagram, RCS, …).
 *   `emailBillingSource` is the agency's (default when omitted), so a backfilled email bills as a live one would.
 */
export function mapExportedMessage(
  value: unknown,
  context: { locationId: string; channel: MessageChannel; startAt: Date; endAt: Date; emailBillingSource?: EmailBillingSource },
): MappedMessage {
  const parsed = exportedMessageSchema.safeParse(value);
  if (!parsed.success) return { kind: 'skipped', reason: 'malformed', messageId: idOf(value) };
  const m = parsed.data;
  if (m.locationId !== undefined && m.locationId !== context.locationId) return { kind: 'skipped', reason: 'other_location', messageId: m.id };
  const typeString = m.messageType?.toUpperCase();
  if (typeString?.startsWith('TYPE_ACTIVITY')) return { kind: 'skipped', reason: 'activity', messageId: m.id };

  const eventType = m.direction === 'inbound' ? 'InboundMessage' : 'OutboundMessage';
  const duration = m.meta?.call?.duration ?? m.meta?.callDuration;
  const callStatus = m.meta?.call?.status ?? m.meta?.callStatus;
  const asWebhook = {
    type: eventType,
    locationId: context.locationId,
    messageId: m.id,
    conversationId: m.conversationId ?? undefined,
    messageType: m.messageType ?? WEBHOOK_TYPE[context.channel],
    messageTypeString: m.messageType,
    direction: m.direction,
    body: m.body ?? undefined,
    attachments: m.attachments ?? undefined,
    // Seconds; a fraction is a started second, as a started minute is a minute.
    callDuration: duration === null || duration === undefined ? undefined : Math.ceil(duration),
    callStatus: callStatus ?? undefined,
    status: m.status ?? undefined,
    provider: m.provider ?? undefined,
    dateAdded: m.dateAdded,
  };
  const event = eventSchemas[eventType].safeParse(asWebhook);
  if (!event.success) return { kind: 'skipped', reason: 'malformed', messageId: m.id };
  const occurredAt = new Date(m.dateAdded);
  if (occurredAt < context.startAt || occurredAt >= context.endAt) return { kind: 'skipped', reason: 'out_of_range', messageId: m.id };

  const usage = normaliseActivity(event.data as MessageEvent, occurredAt, { emailBillingSource: context.emailBillingSource });
  if (usage.length === 0) return { kind: 'skipped', reason: 'no_usage', messageId: m.id };
  const messageKey = usage[0]!.messageKey ?? null;
  return { kind: 'usage', message: { messageId: m.id, messageKey, eventType, occurredAt, usage, raw: value as Record<string, unknown> } };
}

/** The delivery key of an imported message (`activity_events.webhook_id`), unique across every source. */
export { backfillDeliveryKey } from '../metering/backfilled-usage';

function idOf(value: unknown): string | null {
  const id = (value as { id?: unknown } | null)?.id;
  return typeof id === 'string' && id.length > 0 && id.length <= 200 ? id : null;
}
