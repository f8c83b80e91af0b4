import { describeFailure } from '../../server/backfill/backfill-runner';
import { backfillDeliveryKey, mapExportedMessage } from '../../server/backfill/export-message';
import { decodePosition, encodePosition, nextPosition } from '../../server/backfill/export-position';
import { HighLevelApiError } from '../../server/highlevel/api-client';
import { ReinstallRequiredError } from '../../server/highlevel/installation-tokens';
import { HighLevelOAuthError } from '../../server/highlevel/oauth-token-endpoint';
import { eventSchemas, type MessageEvent } from '../../server/highlevel/webhook-events';
import { normaliseActivity } from '../../server/metering/normalise';
import { fixture } from '../support/highlevel-fixtures';

const LOCATION = 've9EPM428h8vShlRW1KT';
const RANGE = { locationId: LOCATION, channel: 'SMS' as const, startAt: new Date('2026-11-01T00:00:00Z'), endAt: new Date('2026-11-10T00:00:00Z') };

/** The export's form of a webhook fixture (GetMessageResponseDto field names; call facts nested as the live API does). */
function exported(name: string): Record<string, unknown> {
  const w = fixture(name);
  return {
    id: w.messageId,
    type: 2,
    messageType: w.messageTypeString,
    locationId: w.locationId,
    contactId: w.contactId,
    conversationId: w.conversationId,
    dateAdded: w.dateAdded,
    direction: w.direction,
    contentType: 'text/plain',
    ...(w.body !== undefined ? { body: w.body } : {}),
    attachments: w.attachments,
    status: w.status,
    ...(w.callDuration !== undefined ? { meta: { call: { duration: w.callDuration, status: w.callStatus } } } : {}),
  };
}

describe('an exported message becomes the usage its webhook would have produced', () => {
  it.each([
    ['sms-outbound', 'SMS'],
    ['sms-inbound', 'SMS'],
    ['sms-outbound-unicode-long', 'SMS'],
    ['mms-outbound', 'SMS'],
    ['sms-custom-provider', 'SMS'],
    ['email-outbound', 'Email'],
    ['email-inbound', 'Email'],
    ['whatsapp-outbound', 'WhatsApp'],
    ['call-outbound-completed', 'Call'],
    ['call-outbound-no-answer', 'Call'],
    ['call-inbound-voicemail', 'Call'],
  ] as const)('when the %s message is exported, then its usage equals the webhook path’s, record for record', (name, channel) => {
    const webhook = fixture(name);
    const expected = normaliseActivity(eventSchemas[webhook.type as MessageEvent['type']].parse(webhook) as MessageEvent, new Date(0));
    const mapped = mapExportedMessage(exported(name), { ...RANGE, channel });
    expect(mapped).toEqual({ kind: 'usage', message: expect.objectContaining({ messageId: webhook.messageId, eventType: webhook.type, usage: expected }) });
    expect(expected.length).toBeGreaterThan(0);
  });

  it('when a call carries its facts as documented (meta.callDuration as text, meta.callStatus), then it counts like the nested form', () => {
    const nested = mapExportedMessage(exported('call-outbound-completed'), { ...RANGE, channel: 'Call' });
    const documented = mapExportedMessage({ ...exported('call-outbound-completed'), meta: { callDuration: '125', callStatus: 'completed' } }, { ...RANGE, channel: 'Call' });
    expect(documented.kind === 'usage' && documented.message.usage).toEqual(nested.kind === 'usage' && nested.message.usage);
    expect(nested.kind === 'usage' && nested.message.usage.map((u) => [u.metric, u.quantity])).toEqual([['call_minutes', '3']]);
  });

  it('when a call lasted a fraction of a second past a minute, then the started second makes a started minute', () => {
    const mapped = mapExportedMessage({ ...exported('call-outbound-completed'), meta: { call: { duration: 60.2, status: 'completed' } } }, { ...RANGE, channel: 'Call' });
    expect(mapped.kind === 'usage' && mapped.message.usage[0]!.quantity).toBe('2');
  });

  it('when the export entry names no type, then the channel asked for decides', () => {
    const { messageType: _omitted, ...untyped } = exported('sms-outbound');
    const mapped = mapExportedMessage(untyped, RANGE);
    expect(mapped.kind === 'usage' && mapped.message.usage.map((u) => u.metric)).toEqual(['sms', 'sms_segments']);
  });

  it('when an exported message is mapped, then it carries the key that matches its webhook without messageId', () => {
    const mapped = mapExportedMessage(exported('sms-outbound'), RANGE);
    const w = fixture('sms-outbound');
    expect(mapped.kind === 'usage' && mapped.message.messageKey).toBe(`${w.conversationId}@${new Date(String(w.dateAdded)).toISOString()}`);
  });

  it('when the export holds a campaign voicemail drop (TYPE_CAMPAIGN_VOICEMAIL), then it is one voicemail drop', () => {
    const mapped = mapExportedMessage({ ...exported('call-outbound-completed'), messageType: 'TYPE_CAMPAIGN_VOICEMAIL', meta: {} }, { ...RANGE, channel: 'Call' });
    expect(mapped.kind === 'usage' && mapped.message.usage.map((u) => [u.metric, u.quantity])).toEqual([['voicemail_drops', '1']]);
  });

  it('when an exported email went through SMTP or the agency bills LCEmailStats, then it is recorded with 0, as its webhook', () => {
    const email = (extra: Record<string, unknown>, emailBillingSource?: 'conversations' | 'lc_email_stats') => {
      const mapped = mapExportedMessage({ ...exported('email-outbound'), ...extra }, { ...RANGE, channel: 'Email', emailBillingSource });
      return mapped.kind === 'usage' && mapped.message.usage.map((u) => u.quantity);
    };
    expect(email({})).toEqual(['1']);
    expect(email({ provider: 'smtp' })).toEqual(['0']);
    expect(email({}, 'lc_email_stats')).toEqual(['0']);
  });

  it('when the delivery key is formed, then it names the source, the sub-account and the message', () => {
    expect(backfillDeliveryKey(LOCATION, 'm1')).toBe(`backfill:${LOCATION}:m1`);
  });
});

describe('exported entries that carry no usage', () => {
  const base = exported('sms-outbound');
  it.each([
    ['an activity entry', 'activity', { messageType: 'TYPE_ACTIVITY_WHATSAPP' }],
    ['an Instagram message', 'no_usage', { messageType: 'TYPE_INSTAGRAM' }],
    ['an RCS message (no webhook channel bills it)', 'no_usage', { messageType: 'TYPE_RCS' }],
    ['another sub-account’s message', 'other_location', { locationId: 'someOtherLocation' }],
    ['a message at the end of the range (exclusive)', 'out_of_range', { dateAdded: '2026-11-10T00:00:00.000Z' }],
    ['a message before the range', 'out_of_range', { dateAdded: '2026-10-31T23:59:59.999Z' }],
    ['a message without an id', 'malformed', { id: '' }],
    ['a message without a direction', 'malformed', { direction: undefined }],
    ['a message whose date is not ISO 8601', 'malformed', { dateAdded: 'Tue, 03 Nov 2026 15:01:12 GMT' }],
    ['a call with a negative duration', 'malformed', { messageType: 'TYPE_CALL', meta: { call: { duration: -5, status: 'completed' } } }],
  ])('when the page holds %s, then it is skipped as %s', (_name, reason, change) => {
    expect(mapExportedMessage({ ...base, ...change }, RANGE)).toMatchObject({ kind: 'skipped', reason });
  });

  it('when a message was sent at the first instant of the range, then it is imported', () => {
    expect(mapExportedMessage({ ...base, dateAdded: '2026-11-01T00:00:00.000Z' }, RANGE).kind).toBe('usage');
  });

  it.each([[null], ['text'], [[1, 2]]])('when the entry is %p, then it is skipped as malformed', (value) => {
    expect(mapExportedMessage(value, RANGE)).toEqual({ kind: 'skipped', reason: 'malformed', messageId: null });
  });
});

describe('the export position', () => {
  const channels = ['SMS', 'Call', 'WhatsApp'] as const;
  it('when a job has not started, then it reads the first page of its first channel', () => {
    expect(decodePosition(null, [...channels])).toEqual({ channel: 'SMS', cursor: null });
  });
  it('when a position is stored and read back, then it is the same', () => {
    const position = { channel: 'Call' as const, cursor: 'eyJwaXRJZCI6ImFiYyJ9' };
    expect(decodePosition(encodePosition(position), [...channels])).toEqual(position);
  });
  it('when a page has a next cursor, then the channel continues; without one, the next channel starts; after the last, the job is done', () => {
    expect(nextPosition({ channel: 'SMS', cursor: null }, [...channels], 'c2')).toEqual({ channel: 'SMS', cursor: 'c2' });
    expect(nextPosition({ channel: 'SMS', cursor: 'c2' }, [...channels], null)).toEqual({ channel: 'Call', cursor: null });
    expect(nextPosition({ channel: 'WhatsApp', cursor: 'c9' }, [...channels], null)).toBeNull();
  });
  it('when a stored position names a channel the job does not read, then reading it fails', () => {
    expect(() => decodePosition(encodePosition({ channel: 'Email', cursor: null }), [...channels])).toThrow(/Not an export position/);
  });
});

describe('what a failure means for the job', () => {
  it.each([
    [new HighLevelApiError(429, 'rate_limited', 'GET', '/conversations/messages/export', 'Too many requests'), false],
    [new HighLevelApiError(503, 'server_error', 'GET', '/conversations/messages/export', 'HTTP 503'), false],
    [new HighLevelApiError(0, 'network', 'GET', '/conversations/messages/export', 'network error (ECONNRESET)'), false],
    [new HighLevelApiError(400, 'bad_request', 'GET', '/conversations/messages/export', 'Cursor expired'), true],
    [new HighLevelApiError(403, 'unauthorized', 'GET', '/conversations/messages/export', 'The token is not authorized for this scope.'), true],
    [new ReinstallRequiredError('Sub-account x is not installed.'), true],
    [new HighLevelOAuthError(400, 'invalid_grant', 'POST /oauth/token: Invalid grant', true), true],
    [new HighLevelOAuthError(0, 'network', 'POST /oauth/token: ETIMEDOUT', false), false],
    [new Error('duplicate key value violates unique constraint "x"'), false],
  ])('when a page fails with %s, then fatal is %s and the message is safe to show', (err, fatal) => {
    const described = describeFailure(err);
    expect(described.fatal).toBe(fatal);
    expect(described.message).not.toContain('unique constraint');
    if (err instanceof HighLevelApiError) expect(described.message).toContain(err.message);
  });
});
