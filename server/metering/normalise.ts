/**
 * Turns a parsed HighLevel activity event into usage records. Pure: no I/O, no clock.
 *
 * Rules (HighLevel facts from its webhook docs; see test/unit/normalise.test.ts for the table):
 * - SMS, and custom-provider SMS (`messageType` Custom, `TYPE_CUSTOM_PROVIDER_SMS`): `sms` = 1 and
 *   `sms_segments` = carrier segments of the body (GSM-7 / UCS-2); with attachments it is an MMS: also `mms` = 1.
 * - Email (and custom-provider email): `email` = 1. WhatsApp: `whatsapp` = 1.
 * - Calls (`CALL`, `callDuration` in seconds): `call_minutes` = ceil(seconds / 60) per call; busy, no-answer,
 *   failed, canceled or 0 s → 0 minutes, still recorded; voicemail counts its duration.
 * - `VoiceAiCallEnd` (`duration` in seconds): `ai_call_minutes` = ceil(duration / 60). Its transcript is not tokenised:
 *   Voice AI is priced by the minute, and the transcript mixes caller and agent in an undocumented layout.
 * - An outbound message written by an AI (one of the agency's `AI_MESSAGE_SENDERS`, see ai-messages.ts) also yields
 *   `ai_messages` = 1 and `ai_tokens` = the o200k_base token count of its text (an estimate, token-count.ts), on
 *   top of its channel's usage (an AI-written SMS still costs an SMS).
 * - Other message types (Facebook, Instagram, live chat, ...) and lifecycle events yield no usage.
 */
import type { ActivityEvent, MessageEvent, VoiceAiCallEndEvent } from '../highlevel/webhook-events';
import { aiMessage, NO_AI_SENDERS, type AiSenders } from './ai-messages';
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
  attributes: Record<string, unknown>;
}

/** A usage record derived from HighLevel activity: always a built-in metric in its own unit. */
export type BuiltInUsageDraft = UsageDraft & { metric: BuiltInMetric; unit: UsageUnit };

/** Call outcomes HighLevel reports in which nobody talked: billed as 0 minutes. */
const UNCONNECTED_CALL_STATUSES = new Set(['busy', 'no-answer', 'failed', 'canceled', 'cancelled']);

/** How to read events: which senders write AI messages (none by default). */
export interface NormaliseOptions {
  aiSenders?: AiSenders;
}

/**
 * @param event a parsed event; `receivedAt` is the fallback time when the event carries none.
 * @returns the usage records, possibly none.
 */
export function normaliseActivity(event: ActivityEvent, receivedAt: Date, options: NormaliseOptions = {}): BuiltInUsageDraft[] {
  switch (event.type) {
    case 'InboundMessage':
    case 'OutboundMessage':
      return [...normaliseMessage(event, receivedAt), ...normaliseAiMessage(event, receivedAt, options.aiSenders ?? NO_AI_SENDERS)];
    case 'VoiceAiCallEnd':
      return normaliseVoiceAi(event, receivedAt);
    default:
      return [];
  }
}

type Channel = 'sms' | 'email' | 'call' | 'whatsapp' | 'other';

/**
 * Classifies a message by `messageTypeString` when it names a channel (custom providers, campaigns and IVR say
 * what they carry there: TYPE_CUSTOM_EMAIL, TYPE_CAMPAIGN_CALL, TYPE_IVR_CALL, ...), else by `messageType`.
 * A `Custom` message whose type string names no channel is SMS, the common custom provider.
 */
export function messageChannel(event: Pick<MessageEvent, 'messageType' | 'messageTypeString'>): Channel {
  const typeString = (event.messageTypeString ?? '').toUpperCase();
  const words = new Set(typeString.split('_'));
  if (words.has('TYPE')) {
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

function messageBase(event: MessageEvent, receivedAt: Date) {
  return {
    locationId: event.locationId,
    direction: event.direction ?? (event.type === 'InboundMessage' ? 'inbound' : 'outbound'),
    occurredAt: firstDate(event.dateAdded, event.timestamp) ?? receivedAt,
    sourceType: event.type,
    sourceId: event.messageId ?? null,
  } as const;
}

function normaliseMessage(event: MessageEvent, receivedAt: Date): BuiltInUsageDraft[] {
  const base = messageBase(event, receivedAt);
  const record = (metric: BuiltInMetric, quantity: number, attributes: Record<string, unknown> = {}): BuiltInUsageDraft => ({
    ...base,
    metric,
    quantity: String(quantity),
    unit: METRIC_UNITS[metric],
    attributes,
  });

  switch (messageChannel(event)) {
    case 'sms': {
      const { segments, encoding } = countSmsSegments(event.body ?? '');
      const records = [record('sms', 1), record('sms_segments', segments, { encoding })];
      if ((event.attachments?.length ?? 0) > 0) records.push(record('mms', 1, { attachments: event.attachments!.length }));
      return records;
    }
    case 'email':
      return [record('email', 1)];
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
  return [
    {
      locationId: event.locationId,
      metric: 'ai_call_minutes',
      quantity: String(Math.ceil(seconds / 60)),
      unit: 'minute',
      direction: null,
      occurredAt: firstDate(event.createdAt, event.timestamp) ?? receivedAt,
      sourceType: event.type,
      sourceId: event.messageId ?? event.id ?? null,
      attributes: { durationSeconds: seconds },
    },
  ];
}

function firstDate(...values: Array<string | undefined>): Date | null {
  for (const value of values) if (value) return new Date(value);
  return null;
}
