/**
 * Which outbound messages were written by an AI, and what they cost in tokens (`ai_messages`, `ai_tokens`).
 *
 * What HighLevel tells us (its webhook docs and API reference, 2026): nothing in an OutboundMessage marks it as
 * AI-written. The fields that say who sent a message are `userId` (the user who sent it from the app; absent when
 * no person did), `source` (workflow, bulk_actions, campaign, api, app) and `conversationProviderId` (the channel
 * provider it went through) — https://marketplace.gohighlevel.com/docs/webhook/OutboundMessage. Developers have
 * asked HighLevel for a "sent by Conversation AI" field (GoHighLevel/highlevel-api-docs issues #8, #55, #253); it
 * does not exist. The only authoritative per-message answer is an API call, GET /conversation-ai/generations
 * ?messageId=…&source=conversation|workflow (scope conversation-ai.readonly), which Meterbridge does not make (see
 * the README, "AI usage").
 *
 * So the agency names its AI senders (settings API, server/ai/; the operator may add some for every agency in
 * `AI_MESSAGE_SENDERS`), as markers:
 * - `user:<userId>` — messages whose `userId` is this HighLevel user (an AI integration posting as its own user);
 * - `provider:<conversationProviderId>` — messages sent through this conversation provider (an AI app's channel);
 * - `source:<source>` — every message with this `source`, e.g. `source:api` when the only API sender is an AI bot;
 * - `unattended` — messages with no `userId` whose `source` is `app` or absent: sent by HighLevel itself on
 *   nobody's behalf, where Conversation AI's auto-pilot replies are expected to fall. A heuristic, not verified
 *   against live traffic; it also catches any other message HighLevel sends in that shape.
 * Unset, no message is AI-written. HighLevel ids are unique across agencies, so one list serves every agency.
 */
import type { MessageEvent } from '../highlevel/webhook-events';
import { countAiTokens } from './token-count';

/** The parsed `AI_MESSAGE_SENDERS`. */
export interface AiSenders {
  userIds: ReadonlySet<string>;
  conversationProviderIds: ReadonlySet<string>;
  sources: ReadonlySet<string>;
  unattended: boolean;
}

/** Which marker matched a message. */
export type AiMarker = 'user' | 'provider' | 'source' | 'unattended';

/** No AI senders: nothing is counted as AI-written. */
export const NO_AI_SENDERS: AiSenders = { userIds: new Set(), conversationProviderIds: new Set(), sources: new Set(), unattended: false };

const ID = /^[A-Za-z0-9_-]{1,200}$/;

/**
 * Parses `AI_MESSAGE_SENDERS` (see the module comment); empty or undefined → `NO_AI_SENDERS`.
 * @throws Error naming the first entry that is not `user:<id>`, `provider:<id>`, `source:<source>` or `unattended`.
 */
export function parseAiSenders(text: string | undefined): AiSenders {
  const userIds = new Set<string>();
  const conversationProviderIds = new Set<string>();
  const sources = new Set<string>();
  let unattended = false;
  for (const entry of (text ?? '').split(',').map((e) => e.trim()).filter(Boolean)) {
    const [kind, value = ''] = entry.split(/:(.*)/s, 2) as [string, string?];
    if (entry === 'unattended') unattended = true;
    else if (kind === 'user' && ID.test(value)) userIds.add(value);
    else if (kind === 'provider' && ID.test(value)) conversationProviderIds.add(value);
    else if (kind === 'source' && ID.test(value)) sources.add(value.toLowerCase());
    else throw new Error(`"${entry}" is not user:<id>, provider:<id>, source:<source> or unattended`);
  }
  return { userIds, conversationProviderIds, sources, unattended };
}

/** What one AI-written message amounts to. `tokens` is an o200k_base estimate of `text` (token-count.ts). */
export interface AiMessage {
  marker: AiMarker;
  tokens: number;
}

/**
 * The AI usage of a message: null unless it is an outbound message with text, not a call or an activity/internal
 * note, whose sender matches one of `senders` (first match in the order user, provider, source, unattended).
 * The text is `plainText` when HighLevel sends one (emails), else `body`.
 */
export function aiMessage(event: MessageEvent, senders: AiSenders, isCall: boolean): AiMessage | null {
  if (event.type !== 'OutboundMessage' || event.direction === 'inbound' || isCall) return null;
  if (/ACTIVITY|INTERNAL_COMMENT/i.test(event.messageTypeString ?? '')) return null;
  const text = textOf(event);
  if (text.trim().length === 0) return null;
  const marker = matchSender(event, senders);
  return marker ? { marker, tokens: countAiTokens(text) } : null;
}

function matchSender(event: MessageEvent, senders: AiSenders): AiMarker | null {
  const userId = stringField(event, 'userId');
  const source = stringField(event, 'source')?.toLowerCase();
  const provider = stringField(event, 'conversationProviderId');
  if (userId && senders.userIds.has(userId)) return 'user';
  if (provider && senders.conversationProviderIds.has(provider)) return 'provider';
  if (source && senders.sources.has(source)) return 'source';
  if (senders.unattended && !userId && (source === undefined || source === 'app')) return 'unattended';
  return null;
}

function textOf(event: MessageEvent): string {
  const plain = stringField(event, 'plainText');
  return plain && plain.trim() ? plain : (event.body ?? '');
}

/** A field HighLevel may send that the schema does not require (the schema is loose): a non-empty string or undefined. */
function stringField(event: MessageEvent, name: string): string | undefined {
  const value = (event as Record<string, unknown>)[name];
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}
