import { SegmentedMessage } from 'sms-segments-calculator';
import { eventSchemas, isHandledEventType, type ActivityEvent } from '../../server/highlevel/webhook-events';
import { METRIC_UNITS } from '../../server/metering/metrics';
import { normaliseActivity } from '../../server/metering/normalise';
import { fixture } from '../support/highlevel-fixtures';

/** The fallback time: no fixture carries it, so seeing it proves the event had no time of its own. */
const RECEIVED_AT = new Date('2030-01-02T03:04:05.678Z');

type Direction = 'inbound' | 'outbound' | null;
/** [metric, quantity, direction] */
type Usage = [string, string, Direction];
type Row = [name: string, event: Record<string, unknown>, usage: Usage[]];

/** A fixture with fields overridden; `omit` removes fields (HighLevel leaves absent fields out). */
function from(name: string, overrides: Record<string, unknown> = {}, omit: string[] = []): Record<string, unknown> {
  const event: Record<string, unknown> = { ...fixture(name), ...overrides };
  for (const key of omit) delete event[key];
  return event;
}

/** Parses like production: through the zod schema for the event's `type`. */
function parse(event: Record<string, unknown>): ActivityEvent {
  const type = event.type;
  if (!isHandledEventType(type)) throw new Error(`test bug: ${String(type)} has no schema`);
  return eventSchemas[type].parse(event) as ActivityEvent;
}

const smsOut = (body: string, overrides: Record<string, unknown> = {}) => from('sms-outbound', { body, ...overrides });
const sms = (segments: number, direction: Direction = 'outbound'): Usage[] => [
  ['sms', '1', direction],
  ['sms_segments', String(segments), direction],
];
const call = (seconds: number | undefined, status: string, name = 'call-outbound-completed') =>
  from(name, { callDuration: seconds, callStatus: status, status }, seconds === undefined ? ['callDuration'] : []);
const voiceAi = (duration: number) => from('voice-ai-call-end', { duration });

const CYRILLIC = 'Ж'; // not in the GSM-7 alphabet: forces UCS-2
const EMOJI = '😊'; // outside the BMP: two UTF-16 code units in UCS-2

/**
 * Segment counts follow the carrier rules, not string length:
 * GSM-7 is 160 septets in one segment, 153 per part once split (the 7 others carry the concatenation header);
 * `{ } [ ] ~ \ | ^ €` are escape sequences worth 2 septets and are never split across parts.
 * UCS-2 is 70 UTF-16 code units in one segment, 67 per part; a surrogate pair (emoji) is 2 units, never split.
 */
const TABLE: Row[] = [
  // SMS, GSM-7
  ['a GSM-7 SMS of 1 character', from('sms-inbound'), sms(1, 'inbound')],
  ['the outbound SMS fixture (87 GSM-7 characters)', from('sms-outbound'), sms(1)],
  ['a GSM-7 SMS of 160 characters', smsOut('a'.repeat(160)), sms(1)],
  ['a GSM-7 SMS of 161 characters', smsOut('a'.repeat(161)), sms(2)],
  ['a GSM-7 SMS of 306 characters', smsOut('a'.repeat(306)), sms(2)],
  ['a GSM-7 SMS of 307 characters', smsOut('a'.repeat(307)), sms(3)],
  ['a GSM-7 SMS of 459 characters', smsOut('b'.repeat(459)), sms(3)],
  ['a GSM-7 SMS of 460 characters', smsOut('b'.repeat(460)), sms(4)],
  ['an SMS of 80 "€" (160 septets)', smsOut('€'.repeat(80)), sms(1)],
  ['an SMS of 81 "€" (162 septets)', smsOut('€'.repeat(81)), sms(2)],
  ['an SMS of 80 "{" (160 septets)', smsOut('{'.repeat(80)), sms(1)],
  ['an SMS of 81 "{" (162 septets)', smsOut('{'.repeat(81)), sms(2)],
  ['an SMS of 158 letters and a "€" (160 septets)', smsOut('a'.repeat(158) + '€'), sms(1)],
  ['an SMS of 159 letters and a "€" (161 septets)', smsOut('a'.repeat(159) + '€'), sms(2)],
  ['an SMS of "[]~\\|^}" escapes mixed in 150 letters (164 septets)', smsOut('a'.repeat(150) + '[]~\\|^}'), sms(2)],
  // 152 + (2, moved whole to part 2) + 152 = 306 septets, yet 3 parts because the escape is not split.
  ['an SMS whose "€" straddles the first part boundary', smsOut('a'.repeat(152) + '€' + 'a'.repeat(152)), sms(3)],
  ['an SMS with GSM-7 accented letters "éèùìò" (160 characters)', smsOut('éèùìò'.repeat(32)), sms(1)],
  ['an SMS with an empty body', smsOut(''), sms(1)],
  ['an SMS without a body', from('sms-outbound', {}, ['body']), sms(1)],
  // SMS, UCS-2
  ['a UCS-2 SMS of 70 characters', smsOut(CYRILLIC.repeat(70)), sms(1)],
  ['a UCS-2 SMS of 71 characters', smsOut(CYRILLIC.repeat(71)), sms(2)],
  ['a UCS-2 SMS of 134 characters', smsOut(CYRILLIC.repeat(134)), sms(2)],
  ['a UCS-2 SMS of 135 characters', smsOut(CYRILLIC.repeat(135)), sms(3)],
  ['a GSM-7 SMS of 159 letters made UCS-2 by one "Ж" (160 code units)', smsOut('a'.repeat(159) + CYRILLIC), sms(3)],
  ['a short SMS with an emoji', smsOut(`See you soon ${EMOJI}`), sms(1)],
  ['an SMS of 35 emoji (70 code units)', smsOut(EMOJI.repeat(35)), sms(1)],
  ['an SMS of 36 emoji (72 code units)', smsOut(EMOJI.repeat(36)), sms(2)],
  // 66 + (2, moved whole to part 2) + 66 = 134 code units, yet 3 parts because the surrogate pair is not split.
  ['an SMS whose emoji straddles the first UCS-2 part boundary', smsOut(CYRILLIC.repeat(66) + EMOJI + CYRILLIC.repeat(66)), sms(3)],
  ['the Spanish reminder fixture with an emoji (199 characters, UCS-2)', from('sms-outbound-unicode-long'), sms(3)],
  // MMS: LC Phone charges an SMS with attachments as one MMS, whatever its text
  ['an MMS (SMS with one attachment)', from('mms-outbound'), [['mms', '1', 'outbound']]],
  [
    'an MMS with three attachments and a 161-character body',
    from('mms-outbound', { body: 'a'.repeat(161), attachments: ['https://a.example/1.jpg', 'https://a.example/2.jpg', 'https://a.example/3.jpg'] }),
    [['mms', '1', 'outbound']],
  ],
  ['an inbound MMS with an image and no text', from('sms-inbound', { attachments: ['https://a.example/1.jpg'] }, ['body']), [['mms', '1', 'inbound']]],
  ['an SMS with an empty attachments list', smsOut('hi', { attachments: [] }), sms(1)],
  // Custom conversation providers
  ['a custom-provider SMS (Custom, TYPE_CUSTOM_PROVIDER_SMS)', from('sms-custom-provider'), sms(1)],
  ['a long custom-provider SMS', from('sms-custom-provider', { body: 'a'.repeat(307) }), sms(3)],
  ['a custom-provider message without messageTypeString', from('sms-custom-provider', {}, ['messageTypeString']), sms(1)],
  [
    'a custom-provider email (Custom, TYPE_CUSTOM_PROVIDER_EMAIL)',
    from('sms-custom-provider', { messageTypeString: 'TYPE_CUSTOM_PROVIDER_EMAIL', body: 'a'.repeat(500) }),
    [['email', '1', 'outbound']],
  ],
  ['a custom email (Custom, TYPE_CUSTOM_EMAIL)', from('sms-custom-provider', { messageTypeString: 'TYPE_CUSTOM_EMAIL' }), [['email', '1', 'outbound']]],
  ['a campaign email (Custom, TYPE_CAMPAIGN_EMAIL)', from('sms-custom-provider', { messageTypeString: 'TYPE_CAMPAIGN_EMAIL' }), [['email', '1', 'outbound']]],
  // Email and WhatsApp
  ['an outbound email', from('email-outbound'), [['email', '1', 'outbound']]],
  ['an inbound email', from('email-inbound'), [['email', '1', 'inbound']]],
  ['an email with a 2000-character body', from('email-outbound', { body: 'x'.repeat(2000) }), [['email', '1', 'outbound']]],
  ['an outbound WhatsApp message', from('whatsapp-outbound'), [['whatsapp', '1', 'outbound']]],
  ['an inbound WhatsApp message', from('whatsapp-outbound', { type: 'InboundMessage', direction: 'inbound' }), [['whatsapp', '1', 'inbound']]],
  // Calls: ceil(seconds / 60)
  ['a completed call of 0 s', call(0, 'completed'), [['call_minutes', '0', 'outbound']]],
  ['a completed call of 1 s', call(1, 'completed'), [['call_minutes', '1', 'outbound']]],
  ['a completed call of 59 s', call(59, 'completed'), [['call_minutes', '1', 'outbound']]],
  ['a completed call of 60 s', call(60, 'completed'), [['call_minutes', '1', 'outbound']]],
  ['a completed call of 61 s', call(61, 'completed'), [['call_minutes', '2', 'outbound']]],
  ['the completed call fixture (125 s)', from('call-outbound-completed'), [['call_minutes', '3', 'outbound']]],
  ['a custom-provider call (Custom, TYPE_CUSTOM_CALL, 61 s)', from('call-outbound-completed', { messageType: 'Custom', messageTypeString: 'TYPE_CUSTOM_CALL', callDuration: 61 }), [['call_minutes', '2', 'outbound']]],
  ['an IVR call (TYPE_IVR_CALL, 30 s)', from('call-outbound-completed', { messageTypeString: 'TYPE_IVR_CALL', callDuration: 30 }), [['call_minutes', '1', 'outbound']]],
  ['a completed call of 3600 s', call(3600, 'completed'), [['call_minutes', '60', 'outbound']]],
  ['an answered call of 61 s', call(61, 'answered'), [['call_minutes', '2', 'outbound']]],
  ['a call whose callDuration arrives as the string "61"', from('call-outbound-completed', { callDuration: '61' }), [['call_minutes', '2', 'outbound']]],
  ['a busy call of 45 s', call(45, 'busy'), [['call_minutes', '0', 'outbound']]],
  ['a no-answer call of 45 s', call(45, 'no-answer'), [['call_minutes', '0', 'outbound']]],
  ['a failed call of 45 s', call(45, 'failed'), [['call_minutes', '0', 'outbound']]],
  ['a canceled call of 45 s', call(45, 'canceled'), [['call_minutes', '0', 'outbound']]],
  ['a cancelled (British spelling) call of 45 s', call(45, 'cancelled'), [['call_minutes', '0', 'outbound']]],
  ['a BUSY (upper case) call of 45 s', call(45, 'BUSY'), [['call_minutes', '0', 'outbound']]],
  [
    'a busy call of 45 s that says so only in status',
    from('call-outbound-completed', { callDuration: 45, status: 'busy' }, ['callStatus']),
    [['call_minutes', '0', 'outbound']],
  ],
  ['the no-answer call fixture', from('call-outbound-no-answer'), [['call_minutes', '0', 'outbound']]],
  ['the inbound voicemail fixture (31 s)', from('call-inbound-voicemail'), [['call_minutes', '1', 'inbound']]],
  ['an inbound voicemail of 61 s', call(61, 'voicemail', 'call-inbound-voicemail'), [['call_minutes', '2', 'inbound']]],
  ['a call with no callDuration', call(undefined, 'completed'), [['call_minutes', '0', 'outbound']]],
  // Voicemail drops (OutboundMessage.md "Voicemail send through workflow"; TYPE_CAMPAIGN_VOICEMAIL in the export)
  ['a workflow voicemail drop (messageType VoiceMail)', from('call-outbound-completed', { messageType: 'VoiceMail', status: 'completed' }, ['callDuration', 'callStatus']), [['voicemail_drops', '1', 'outbound']]],
  ['a voicemail drop typed TYPE_CAMPAIGN_VOICEMAIL', from('call-outbound-completed', { messageTypeString: 'TYPE_CAMPAIGN_VOICEMAIL' }), [['voicemail_drops', '1', 'outbound']]],
  ['a call that reached voicemail typed TYPE_VOICEMAIL (still a call)', from('call-inbound-voicemail', { messageTypeString: 'TYPE_VOICEMAIL' }), [['call_minutes', '1', 'inbound']]],
  // Voice AI: ceil(duration / 60), no direction
  ['a Voice AI call of 0 s', voiceAi(0), [['ai_call_minutes', '0', null]]],
  ['a Voice AI call of 1 s', voiceAi(1), [['ai_call_minutes', '1', null]]],
  ['a Voice AI call of 60 s', voiceAi(60), [['ai_call_minutes', '1', null]]],
  ['a Voice AI call of 61 s', voiceAi(61), [['ai_call_minutes', '2', null]]],
  ['a Voice AI call of 187 s (the fixture)', from('voice-ai-call-end'), [['ai_call_minutes', '4', null]]],
  ['a Voice AI call of 90.5 s', voiceAi(90.5), [['ai_call_minutes', '2', null]]],
  ['a Voice AI test call (trialCall true) of 187 s', from('voice-ai-call-end', { trialCall: true }), [['ai_call_minutes', '0', null]]],
  // Email: only LC Email bills (provider absent or mailgun), with the default source (conversation emails)
  ['an outbound email sent through LC Email (provider mailgun)', from('email-outbound', { provider: 'mailgun' }), [['email', '1', 'outbound']]],
  ['an outbound email sent through Gmail (provider Leadconnector Gmail)', from('email-outbound', { provider: 'Leadconnector Gmail' }), [['email', '0', 'outbound']]],
  ['an outbound email sent through SMTP (provider smtp)', from('email-outbound', { provider: 'smtp' }), [['email', '0', 'outbound']]],
  ['an inbound email received through Outlook', from('email-inbound', { provider: 'outlook' }), [['email', '0', 'inbound']]],
  // Channels that are not metered
  ['a Facebook message (FB)', smsOut('hi', { messageType: 'FB', messageTypeString: 'TYPE_FACEBOOK' }), []],
  ['an Instagram message (IG)', smsOut('hi', { messageType: 'IG', messageTypeString: 'TYPE_INSTAGRAM' }), []],
  ['a live chat message (Live_Chat)', smsOut('hi', { messageType: 'Live_Chat', messageTypeString: 'TYPE_LIVE_CHAT' }), []],
  ['a Google Business message (GMB)', smsOut('hi', { messageType: 'GMB', messageTypeString: 'TYPE_GMB' }), []],
  ['a Facebook message without messageTypeString', from('sms-outbound', { body: 'hi', messageType: 'FB' }, ['messageTypeString']), []],
  // Lifecycle events
  ['an agency-wide INSTALL', from('install-agency-bulk'), []],
  ['a sub-account INSTALL', from('install-location'), []],
  ['an UNINSTALL', from('uninstall-location'), []],
  ['a LocationCreate', from('location-create'), []],
  ['a LocationUpdate', from('location-create', { type: 'LocationUpdate', name: 'Harbor Dental & Ortho' }), []],
  // Direction
  ['an InboundMessage SMS without direction', from('sms-inbound', {}, ['direction']), sms(1, 'inbound')],
  ['an OutboundMessage SMS without direction', from('sms-outbound', {}, ['direction']), sms(1, 'outbound')],
  ['an OutboundMessage SMS whose direction field says inbound', from('sms-outbound', { direction: 'inbound' }), sms(1, 'outbound')],
  ['an InboundMessage call whose direction field says outbound', from('call-inbound-voicemail', { direction: 'outbound' }), [['call_minutes', '1', 'inbound']]],
  ['an InboundMessage call without direction', from('call-inbound-voicemail', {}, ['direction']), [['call_minutes', '1', 'inbound']]],
];

describe('normaliseActivity', () => {
  it.each(TABLE)('when %s is normalised, then it yields exactly the tabled usage', (_name, raw, expected) => {
    const event = parse(raw);
    const drafts = normaliseActivity(event, RECEIVED_AT);

    expect(drafts.map((d) => [d.metric, d.quantity, d.direction])).toEqual(expected);
    for (const draft of drafts) {
      expect(draft.unit).toBe(METRIC_UNITS[draft.metric]);
      expect(draft.locationId).toBe(raw.locationId);
      expect(draft.sourceType).toBe(raw.type);
      expect(draft.quantity).toMatch(/^\d+$/);
    }
  });

  it("when the table's SMS segment counts are checked against Twilio's calculator, then they agree", () => {
    const smsRows = TABLE.filter(([, , usage]) => usage.some(([metric]) => metric === 'sms_segments'));
    expect(smsRows.length).toBeGreaterThan(20);
    for (const [name, raw, usage] of smsRows) {
      const tabled = Number(usage.find(([metric]) => metric === 'sms_segments')![1]);
      const twilio = Math.max(1, new SegmentedMessage(String(raw.body ?? '')).segmentsCount);
      expect({ name, segments: tabled }).toEqual({ name, segments: twilio });
    }
  });

  it('when an SMS is segmented, then the encoding used is kept on the segments record', () => {
    const encodingOf = (body: string) =>
      normaliseActivity(parse(smsOut(body)), RECEIVED_AT).find((d) => d.metric === 'sms_segments')!.attributes;
    expect(encodingOf('a'.repeat(161))).toEqual({ encoding: 'GSM-7' });
    expect(encodingOf('€{}')).toEqual({ encoding: 'GSM-7' });
    expect(encodingOf(CYRILLIC)).toEqual({ encoding: 'UCS-2' });
    expect(encodingOf(`ok ${EMOJI}`)).toEqual({ encoding: 'UCS-2' });
  });

  it('when an MMS is normalised, then its attachment count is kept on the mms record', () => {
    const mms = normaliseActivity(parse(from('mms-outbound', { attachments: ['u1', 'u2'] })), RECEIVED_AT).find((d) => d.metric === 'mms');
    expect(mms?.attributes).toEqual({ attachments: 2 });
  });

  it('when a call is normalised, then its seconds and lower-cased status are kept', () => {
    const [busy] = normaliseActivity(parse(call(45, 'BUSY')), RECEIVED_AT);
    expect(busy?.attributes).toEqual({ durationSeconds: 45, callStatus: 'busy' });
    const [silent] = normaliseActivity(parse(from('call-outbound-completed', {}, ['callDuration', 'callStatus', 'status'])), RECEIVED_AT);
    expect(silent?.attributes).toEqual({ durationSeconds: 0, callStatus: null });
    const [ai] = normaliseActivity(parse(voiceAi(61)), RECEIVED_AT);
    expect(ai?.attributes).toEqual({ durationSeconds: 61 });
  });

  it('when a message has dateAdded, then every record occurred at dateAdded', () => {
    const drafts = normaliseActivity(parse(from('sms-outbound-unicode-long')), RECEIVED_AT);
    expect(drafts).toHaveLength(2);
    expect(drafts.map((d) => d.occurredAt.toISOString())).toEqual(Array(2).fill(fixture('sms-outbound-unicode-long').dateAdded));
  });

  it('when a message has no dateAdded, then it occurred at its timestamp', () => {
    const [draft] = normaliseActivity(parse(from('email-outbound', {}, ['dateAdded'])), RECEIVED_AT);
    expect(draft?.occurredAt.toISOString()).toBe('2026-11-04T09:00:00.600Z');
  });

  it('when a message has neither dateAdded nor timestamp, then it occurred when it was received', () => {
    const [draft] = normaliseActivity(parse(from('email-outbound', {}, ['dateAdded', 'timestamp'])), RECEIVED_AT);
    expect(draft?.occurredAt.toISOString()).toBe(RECEIVED_AT.toISOString());
  });

  it('when a message carries a time with an offset, then occurredAt is that instant', () => {
    const [draft] = normaliseActivity(parse(from('email-outbound', { dateAdded: '2026-11-04T10:00:00+02:00' })), RECEIVED_AT);
    expect(draft?.occurredAt.toISOString()).toBe('2026-11-04T08:00:00.000Z');
  });

  it('when a Voice AI call has createdAt, then it occurred at createdAt; else at timestamp; else when received', () => {
    const occurred = (raw: Record<string, unknown>) => normaliseActivity(parse(raw), RECEIVED_AT)[0]?.occurredAt.toISOString();
    expect(occurred(from('voice-ai-call-end'))).toBe('2026-11-06T12:00:00.000Z');
    expect(occurred(from('voice-ai-call-end', {}, ['createdAt']))).toBe('2026-11-06T12:03:10.000Z');
    expect(occurred(from('voice-ai-call-end', {}, ['createdAt', 'timestamp']))).toBe(RECEIVED_AT.toISOString());
  });

  it('when a message is normalised, then every record points back to its messageId', () => {
    const drafts = normaliseActivity(parse(from('mms-outbound', { attachments: [] })), RECEIVED_AT);
    expect(drafts.map((d) => d.sourceId)).toEqual(['m1sms000000000000004', 'm1sms000000000000004']);
    const [call] = normaliseActivity(parse(from('call-outbound-completed')), RECEIVED_AT);
    expect(call?.sourceId).toBe('m1cal000000000000001');
  });

  it('when a message has no messageId, then its sourceId is null', () => {
    const [draft] = normaliseActivity(parse(from('whatsapp-outbound', {}, ['messageId'])), RECEIVED_AT);
    expect(draft?.sourceId).toBeNull();
  });

  it('when a Voice AI call is normalised, then sourceId is its messageId, else its id', () => {
    const sourceId = (raw: Record<string, unknown>) => normaliseActivity(parse(raw), RECEIVED_AT)[0]?.sourceId;
    expect(sourceId(from('voice-ai-call-end'))).toBe('m1vai000000000000001');
    expect(sourceId(from('voice-ai-call-end', {}, ['messageId']))).toBe('vac_0000000000000001');
    expect(sourceId(from('voice-ai-call-end', {}, ['messageId', 'id']))).toBeNull();
  });

  it('when the same event is normalised twice, then the results are equal and the event is not mutated', () => {
    const event = parse(from('sms-outbound-unicode-long'));
    const before = structuredClone(event);
    expect(normaliseActivity(event, RECEIVED_AT)).toEqual(normaliseActivity(event, RECEIVED_AT));
    expect(event).toEqual(before);
  });
});
