/**
 * Turns a parsed HighLevel activity event into usage records. Pure: no I/O, no clock.
 *
 * Rules (HighLevel facts from its webhook docs; see test/unit/normalise.test.ts for the table and README "What is
 * billed" for each rule's source):
 * - Direction is the event type's (InboundMessage → inbound, OutboundMessage → outbound): HighLevel's own
 *   OutboundMessage SMS example says `"direction": "inbound"`. A contradicting `direction` is kept as
 *   `attributes.directionField`.
 * - SMS, and custom-provider SMS (`messageType` Custom, `TYPE_CUSTOM_PROVIDER_SMS`): `sms` = 1 and
 *   `sms_segments` = carrier segments of the body (GSM-7 / UCS-2). With attachments it is an MMS, which LC Phone
 *   charges as one MMS whatever its text: `mms` = 1 and no `sms` / `sms_segments`.
 * - Email (and custom-provider email): `email` = 1 when the agency bills conversation emails and it went through
 *   LC Email, else `email` = 0 with the reason (email-billing.ts). `LCEmailStats` `delivered`: `email` = 1 when the
 *   agency bills LCEmailStats, else 0. WhatsApp: `whatsapp` = 1.
 * - Voicemail drops (`messageType` VoiceMail, sent by a workflow; `TYPE_CAMPAIGN_VOICEMAIL` in the export):
 *   `voicemail_drops` = 1.
 * - Calls (`CALL`, `callDuration` in seconds): `call_minutes` = ceil(seconds / 60) per call; busy, no-answer,
 *   failed, canceled or 0 s → 0 minutes, still recorded; voicemail counts its duration.
 * - `VoiceAiCallEnd` (`duration` in seconds): `ai_call_minutes` = ceil(duration / 60); a test call from the agent
 *   builder (`trialCall: true`) is recorded as 0. Its transcript is not tokenised:
 *   Voice AI is priced by the minute, and the transcript mixes caller and agent in an undocumented layout.
 * - An outbound message written by an AI (one of the agency's `AI_MESSAGE_SENDERS`, see ai-messages.ts) also yields
 *   `ai_messages` = 1 and `ai_tokens` = the o200k_base token count of its text (an estimate, token-count.ts), on
 *   top of its channel's usage (an AI-written SMS still costs an SMS).
 * - Other message types (Facebook, Instagram, live chat, ...) and lifecycle events yield no usage.
 */
import type { ActivityEvent, LcEmailStatsEvent, MessageEvent, VoiceAiCallEndEvent } from '../highlevel/webhook-events';
import { aiMessage, NO_AI_SENDERS, type AiSenders } from './ai-messages';
import { conversationEmailNotBilled, DEFAULT_EMAIL_BILLING_SOURCE, lcEmailStatsNotBilled, type EmailBillingSource } from './email-billing';
import { messageKey } from './message-key';
import { METRIC_UNITS, type BuiltInMetric, type Metric, type UsageUnit } from './metrics';
import { AI_TOKEN_ENCODING } from './token-count';
import { countSmsSegments } from './sms-segments';

/**
 * One usage record before it is stored. `quantity` is a non-negative decimal string. Built-in metrics come from
 * HighLevel activity; the usage API also records agency-defined metrics, counted in their own unit.
 */
export interface UsageDraft {
  locationId: string;
  metric: Metric;
  quantity: string;
  unit: UsageUnit | (string & {});
  /** null when the event has no direction (Voice AI calls). */
  direction: 'inbound' | 'outbound' | null;
  occurredAt: Date;
  /** The HighLevel event type it came from. */
  sourceType: string;
  /** HighLevel's id of the message or call, used to match backfilled history. */
  sourceId: string | null;
  /** `<conversationId>@<dateAdded>` of a HighLevel message, which matches it when there is no id (message-key.ts). */
  messageKey?: string | null;
  attributes: Record<string, unknown>;
}

/** A usage record derived from HighLevel activity: always a built-in metric in its own unit. */
export type BuiltInUsageDraft = UsageDraft & { metric: BuiltInMetric; unit: UsageUnit };

/** Call outcomes HighLevel reports in which nobody talked: billed as 0 minutes. */
const UNCONNECTED_CALL_STATUSES = new Set(['busy', 'no-answer', 'failed', 'canceled', 'cancelled']);

/** How to read events: which senders write AI messages (none by default), which email source bills (email-billing.ts). */
export interface NormaliseOptions {
  aiSenders?: AiSenders;
  emailBillingSource?: EmailBillingSource;
}

/**
 * @param event a parsed event; `receivedAt` is the fallback time when the event carries none.
 * @returns the usage records, possibly none.
 */
export function normaliseActivity(event: ActivityEvent, receivedAt: Date, options: NormaliseOptions = {}): BuiltInUsageDraft[] {
  switch (event.type) {
    case 'InboundMessage':
    case 'OutboundMessage':
      return [
        ...normaliseMessage(event, receivedAt, options.emailBillingSource ?? DEFAULT_EMAIL_BILLING_SOURCE),
        ...normaliseAiMessage(event, receivedAt, options.aiSenders ?? NO_AI_SENDERS),
      ];
    case 'VoiceAiCallEnd':
      return normaliseVoiceAi(event, receivedAt);
    case 'LCEmailStats':
      return normaliseLcEmailStats(event, receivedAt, options.emailBillingSource ?? DEFAULT_EMAIL_BILLING_SOURCE);
    default:
      return [];
  }
}

type Channel = 'sms' | 'email' | 'call' | 'voicemail_drop' | 'whatsapp' | 'other';

/**
 * Classifies a message. `messageType` VoiceMail is a voicemail drop (OutboundMessage.md, "Voicemail send through
 * workflow"); otherwise by `messageTypeString` when it names a channel (custom providers, campaigns and IVR say
 * what they carry there: TYPE_CUSTOM_EMAIL, TYPE_CAMPAIGN_CALL, TYPE_IVR_CALL, and TYPE_CAMPAIGN_VOICEMAIL, the
 * export's voicemail drop), else by `messageType`. TYPE_VOICEMAIL is a call that reached voicemail.
 * A `Custom` message whose type string names no channel is SMS, the common custom provider.
 */
export function messageChannel(event: Pick<MessageEvent, 'messageType' | 'messageTypeString'>): Channel {
  if (event.messageType.toUpperCase() === 'VOICEMAIL') return 'voicemail_drop';
  const typeString = (event.messageTypeString ?? '').toUpperCase();
  const words = new Set(typeString.split('_'));
  if (words.has('TYPE')) {
    if (words.has('CAMPAIGN') && words.has('VOICEMAIL')) return 'voicemail_drop';
    if (words.has('EMAIL')) return 'email';
    if (words.has('CALL') || words.has('VOICEMAIL')) return 'call';
    if (words.has('WHATSAPP')) return 'whatsapp';
    if (words.has('SMS') || words.has('MMS')) return 'sms';
  }
  switch (event.messageType.toUpperCase()) {
    case 'SMS':
    case 'CUSTOM':
      return 'sms';
    case 'EMAIL':
      return 'email';
    case 'CALL':
      return 'call';
    case 'WHATSAPP':
      return 'whatsapp';
    default:
      return 'other';
  }
}

/** The direction of a message: its event type's. */
function messageDirection(event: Pick<MessageEvent, 'type'>): 'inbound' | 'outbound' {
  return event.type === 'InboundMessage' ? 'inbound' : 'outbound';
}

function messageBase(event: MessageEvent, receivedAt: Date) {
  return {
    locationId: event.locationId,
    direction: messageDirection(event),
    occurredAt: firstDate(event.dateAdded, event.timestamp) ?? receivedAt,
    sourceType: event.type,
    sourceId: event.messageId ?? null,
    messageKey: messageKey(event.conversationId, event.dateAdded),
  } as const;
}

function normaliseMessage(event: MessageEvent, receivedAt: Date, emailSource: EmailBillingSource): BuiltInUsageDraft[] {
  const base = messageBase(event, receivedAt);
  // Kept so the record shows what HighLevel said, though the event type decided.
  const contradiction = event.direction && event.direction !== base.direction ? { directionField: event.direction } : {};
  const record = (metric: BuiltInMetric, quantity: number, attributes: Record<string, unknown> = {}): BuiltInUsageDraft => ({
    ...base,
    metric,
    quantity: String(quantity),
    unit: METRIC_UNITS[metric],
    attributes: { ...attributes, ...contradiction },
  });

  switch (messageChannel(event)) {
    case 'sms': {
      const attachments = event.attachments?.length ?? 0;
      if (attachments > 0) return [record('mms', 1, { attachments })];
      const { segments, encoding } = countSmsSegments(event.body ?? '');
      return [record('sms', 1), record('sms_segments', segments, { encoding })];
    }
    case 'email': {
      const notBilled = conversationEmailNotBilled(event.provider, emailSource);
      const provider = event.provider === undefined ? {} : { provider: event.provider };
      return [record('email', notBilled ? 0 : 1, notBilled ? { ...provider, notBilled } : provider)];
    }
    case 'voicemail_drop':
      return [record('voicemail_drops', 1)];
    case 'whatsapp':
      return [record('whatsapp', 1)];
    case 'call': {
      const seconds = event.callDuration ?? 0;
      const status = (event.callStatus ?? event.status ?? '').toLowerCase();
      const minutes = UNCONNECTED_CALL_STATUSES.has(status) ? 0 : Math.ceil(seconds / 60);
      return [record('call_minutes', minutes, { durationSeconds: seconds, callStatus: status || null })];
    }
    default:
      return [];
  }
}

function normaliseAiMessage(event: MessageEvent, receivedAt: Date, senders: AiSenders): BuiltInUsageDraft[] {
  const ai = aiMessage(event, senders, messageChannel(event) === 'call');
  if (!ai) return [];
  const base = messageBase(event, receivedAt);
  const attributes = { marker: ai.marker, encoding: AI_TOKEN_ENCODING, estimate: true };
  return [
    { ...base, metric: 'ai_messages', quantity: '1', unit: METRIC_UNITS.ai_messages, attributes: { marker: ai.marker } },
    { ...base, metric: 'ai_tokens', quantity: String(ai.tokens), unit: METRIC_UNITS.ai_tokens, attributes },
  ];
}

function normaliseVoiceAi(event: VoiceAiCallEndEvent, receivedAt: Date): BuiltInUsageDraft[] {
  const seconds = event.duration;
  const trial = event.trialCall === true;
  return [
    {
      locationId: event.locationId,
      metric: 'ai_call_minutes',
      quantity: String(trial ? 0 : Math.ceil(seconds / 60)),
      unit: 'minute',
      direction: null,
      occurredAt: firstDate(event.createdAt, event.timestamp) ?? receivedAt,
      sourceType: event.type,
      sourceId: event.messageId ?? event.id ?? null,
      attributes: trial ? { durationSeconds: seconds, trialCall: true } : { durationSeconds: seconds },
    },
  ];
}

function normaliseLcEmailStats(event: LcEmailStatsEvent, receivedAt: Date, emailSource: EmailBillingSource): BuiltInUsageDraft[] {
  const payload = event.webhookPayload;
  const notBilled = lcEmailStatsNotBilled(payload.event, payload.flags, emailSource);
  if (notBilled === 'none') return [];
  const seconds = payload.timestamp;
  const attributes = { emailEvent: payload.event, ...(payload.id ? { emailEventId: payload.id } : {}) };
  return [
    {
      locationId: event.locationId,
      metric: 'email',
      quantity: notBilled ? '0' : '1',
      unit: METRIC_UNITS.email,
      direction: 'outbound',
      occurredAt: seconds !== undefined ? new Date(seconds * 1000) : (firstDate(event.timestamp) ?? receivedAt),
      sourceType: event.type,
      sourceId: null,
      attributes: notBilled ? { ...attributes, notBilled } : attributes,
    },
  ];
}

function firstDate(...values: Array<string | undefined>): Date | null {
  for (const value of values) if (value) return new Date(value);
  return null;
}
