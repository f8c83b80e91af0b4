import { ConfigError, loadConfig } from '../../server/config';
import { eventSchemas, isHandledEventType, type ActivityEvent } from '../../server/highlevel/webhook-events';
import { parseAiSenders } from '../../server/metering/ai-messages';
import { normaliseActivity } from '../../server/metering/normalise';
import { AI_TOKEN_ENCODING, countAiTokens } from '../../server/metering/token-count';
import { fixture } from '../support/highlevel-fixtures';

const RECEIVED_AT = new Date('2030-01-02T03:04:05.678Z');
const AI = (name: string) => `conversation-ai/${name}`;

type Usage = [metric: string, quantity: string, direction: 'inbound' | 'outbound' | null];
type Row = [name: string, event: Record<string, unknown>, senders: string, usage: Usage[]];

function from(name: string, overrides: Record<string, unknown> = {}, omit: string[] = []): Record<string, unknown> {
  const event: Record<string, unknown> = { ...fixture(name), ...overrides };
  for (const key of omit) delete event[key];
  return event;
}

function parse(event: Record<string, unknown>): ActivityEvent {
  if (!isHandledEventType(event.type)) throw new Error(`test bug: ${String(event.type)} has no schema`);
  return eventSchemas[event.type].parse(event) as ActivityEvent;
}

const ai = (tokens: number): Usage[] => [
  ['ai_messages', '1', 'outbound'],
  ['ai_tokens', String(tokens), 'outbound'],
];
const sms = (segments: number): Usage[] => [
  ['sms', '1', 'outbound'],
  ['sms_segments', String(segments), 'outbound'],
];

/**
 * The documented ai_messages / ai_tokens per AI fixture and marker. Token counts are o200k_base counts of the text
 * (the email's plainText, 41 tokens, not its HTML body, 56). An AI-written SMS still yields its SMS usage.
 */
const TABLE: Row[] = [
  ['an auto-pilot-shaped SMS (no userId, no source) with unattended', from(AI('sms-unattended-reply')), 'unattended', [...sms(1), ...ai(24)]],
  ['the same SMS with no AI senders configured', from(AI('sms-unattended-reply')), '', sms(1)],
  ['the same SMS when only a bot user is configured', from(AI('sms-unattended-reply')), 'user:aiBotUser00000000001', sms(1)],
  ['the same SMS with source "app" and unattended', from(AI('sms-unattended-reply'), { source: 'app' }), 'unattended', [...sms(1), ...ai(24)]],
  ['the same SMS sent by a workflow, with unattended', from(AI('sms-unattended-reply'), { source: 'workflow' }), 'unattended', sms(1)],
  ['the same SMS sent through the API, with unattended', from(AI('sms-unattended-reply'), { source: 'api' }), 'unattended', sms(1)],
  ['a live chat reply by the configured bot user', from(AI('live-chat-ai-user')), 'user:aiBotUser00000000001', ai(41)],
  ['the live chat reply with unattended only (it has a userId)', from(AI('live-chat-ai-user')), 'unattended', []],
  ['an SMS through the configured AI conversation provider', from(AI('sms-ai-provider')), 'provider:cpAiReceptionist0001', [...sms(2), ...ai(34)]],
  ['the provider SMS with another provider configured', from(AI('sms-ai-provider')), 'provider:cpSomeoneElse000001', sms(2)],
  ['an email sent through the API with source:api', from(AI('email-ai-source-api')), 'source:api', [['email', '1', 'outbound'], ...ai(41)]],
  ['the email without plainText (its HTML body is counted)', from(AI('email-ai-source-api'), {}, ['plainText']), 'source:api', [['email', '1', 'outbound'], ...ai(56)]],
  ['a front-desk human reply with unattended', from(AI('sms-human-reply')), 'unattended', sms(1)],
  ['a front-desk human reply with source:app (catches people too)', from(AI('sms-human-reply')), 'source:app', [...sms(1), ...ai(18)]],
  ['an inbound SMS with every marker', from('sms-inbound', {}, ['userId']), 'unattended,source:app,source:api', [['sms', '1', 'inbound'], ['sms_segments', '1', 'inbound']]],
  ['an outbound call with no userId, with unattended', from('call-outbound-completed', {}, ['userId']), 'unattended', [['call_minutes', '3', 'outbound']]],
  ['an auto-pilot-shaped SMS with an empty body', from(AI('sms-unattended-reply'), { body: '' }), 'unattended', sms(1)],
  ['an auto-pilot-shaped SMS of "hello world"', from(AI('sms-unattended-reply'), { body: 'hello world' }), 'unattended', [...sms(1), ...ai(2)]],
  ['an activity note with no userId', from(AI('sms-unattended-reply'), { messageType: 'Activity', messageTypeString: 'TYPE_ACTIVITY_CONTACT' }), 'unattended', []],
  ['the Voice AI call fixture with every marker', from('voice-ai-call-end'), 'unattended,source:api', [['ai_call_minutes', '4', null]]],
];

describe('AI-written messages: ai_messages and ai_tokens', () => {
  it.each(TABLE)('when %s is normalised, then it yields exactly the tabled usage', (_name, raw, senders, expected) => {
    const drafts = normaliseActivity(parse(raw), RECEIVED_AT, { aiSenders: parseAiSenders(senders) });
    expect(drafts.map((d) => [d.metric, d.quantity, d.direction])).toEqual(expected);
  });

  it('when an AI message is normalised, then its records say which marker matched and that tokens are an o200k_base estimate', () => {
    const drafts = normaliseActivity(parse(from(AI('sms-ai-provider'))), RECEIVED_AT, { aiSenders: parseAiSenders('provider:cpAiReceptionist0001') });
    expect(drafts.find((d) => d.metric === 'ai_messages')).toMatchObject({ unit: 'message', attributes: { marker: 'provider' }, sourceId: 'm1cai000000000000003' });
    expect(drafts.find((d) => d.metric === 'ai_tokens')).toMatchObject({
      unit: 'token',
      attributes: { marker: 'provider', encoding: 'o200k_base', estimate: true },
      occurredAt: new Date('2026-11-07T11:20:00.000Z'),
    });
    expect(AI_TOKEN_ENCODING).toBe('o200k_base');
  });
});

describe('countAiTokens (o200k_base)', () => {
  it.each([
    ['', 0],
    ['hello world', 2],
    ['Hi Dana! We have openings on Friday at 10am and 2pm. Which works better for your cleaning?', 24],
  ])('when %p is counted, then it is %p tokens', (text, tokens) => {
    expect(countAiTokens(text)).toBe(tokens);
  });

  it('when a message contains a special token such as <|endoftext|>, then it is counted as plain text, not refused', () => {
    expect(countAiTokens('a <|endoftext|> b')).toBe(9);
  });

  it('when a message is one 100,000-letter word, then it is counted in linear time (64-letter slices)', () => {
    const started = Date.now();
    expect(countAiTokens('a'.repeat(100_000))).toBe(12_500);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('when text has no run longer than 64 characters, then the count is the tokenizer\'s own; a longer run is counted in 64-character slices', () => {
    const { countTokens } = require('gpt-tokenizer/encoding/o200k_base');
    const text = 'Book here: https://harbordental.example/book?slot=2026-11-13T10:00 — see you soon!';
    expect(countAiTokens(text)).toBe(countTokens(text));
    const run = 'x'.repeat(65);
    expect(countAiTokens(`${text} ${run}`)).toBe(countTokens(`${text} `) + countTokens(run.slice(0, 64)) + countTokens('x'));
  });
});

describe('AI_MESSAGE_SENDERS', () => {
  it('when every kind of marker is listed, then each is parsed', () => {
    expect(parseAiSenders(' user:u1, provider:p1 ,source:API,unattended,user:u2 ')).toEqual({
      userIds: new Set(['u1', 'u2']),
      conversationProviderIds: new Set(['p1']),
      sources: new Set(['api']),
      unattended: true,
    });
  });

  it.each(['bot', 'user:', 'provider', 'source:', 'user:has space', 'unattended:yes'])('when the entry %p is given, then it is refused by name', (entry) => {
    expect(() => parseAiSenders(entry)).toThrow(`"${entry}"`);
  });

  it('when the variable holds a bad entry, then the configuration error names the variable and the entry', () => {
    const env = { ENCRYPTION_KEY: Buffer.alloc(32, 9).toString('base64'), AI_MESSAGE_SENDERS: 'unattended,robot' };
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(/AI_MESSAGE_SENDERS.*"robot"/);
  });

  it('when the variable is unset, then no sender is an AI', () => {
    const config = loadConfig({ ENCRYPTION_KEY: Buffer.alloc(32, 9).toString('base64') });
    expect(config.aiSenders).toEqual(parseAiSenders(''));
    expect(config.aiSenders.unattended).toBe(false);
  });
});
