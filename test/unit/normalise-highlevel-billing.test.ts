/**
 * The billing rules of issue 14 on HighLevel's own examples (test/fixtures/highlevel/official, verbatim from
 * GoHighLevel/highlevel-api-docs): email source per agency, LCEmailStats, direction from the event type, Voice AI
 * test calls, the key that matches a message without a messageId, and the kind of an INSTALL.
 */
import { eventSchemas, installKind, installSchema, isHandledEventType, type ActivityEvent } from '../../server/highlevel/webhook-events';
import type { EmailBillingSource } from '../../server/metering/email-billing';
import { messageKey } from '../../server/metering/message-key';
import { normaliseActivity } from '../../server/metering/normalise';
import { fixture, officialExample } from '../support/highlevel-fixtures';

const RECEIVED_AT = new Date('2030-01-02T03:04:05.678Z');

function parse(event: Record<string, unknown>): ActivityEvent {
  if (!isHandledEventType(event.type)) throw new Error(`test bug: ${String(event.type)} has no schema`);
  return eventSchemas[event.type].parse(event) as ActivityEvent;
}
const usage = (event: Record<string, unknown>, emailBillingSource?: EmailBillingSource) =>
  normaliseActivity(parse(event), RECEIVED_AT, { emailBillingSource }).map((d) => ({ metric: d.metric, quantity: d.quantity, attributes: d.attributes }));
const stats = (event: string, flags: Record<string, boolean> = {}) => {
  const example = officialExample('lc-email-stats');
  const payload = example.webhookPayload as Record<string, unknown>;
  return { ...example, webhookPayload: { ...payload, event, flags: { ...(payload.flags as object), ...flags } } };
};

describe('email: one billable source per agency', () => {
  it('when the agency bills conversation emails (the default), then an LC Email conversation email is 1 and LCEmailStats delivered is 0', () => {
    expect(usage(officialExample('outbound-email'))).toEqual([{ metric: 'email', quantity: '1', attributes: {} }]);
    expect(usage(officialExample('lc-email-stats'))).toEqual([
      { metric: 'email', quantity: '0', attributes: { emailEvent: 'delivered', emailEventId: 've9EPM428h8vShlRW1KT', notBilled: 'billed_from_conversations' } },
    ]);
  });

  it('when the agency bills LCEmailStats, then LCEmailStats delivered is 1 and every conversation email is 0', () => {
    expect(usage(officialExample('lc-email-stats'), 'lc_email_stats')).toEqual([
      { metric: 'email', quantity: '1', attributes: { emailEvent: 'delivered', emailEventId: 've9EPM428h8vShlRW1KT' } },
    ]);
    expect(usage(officialExample('outbound-email'), 'lc_email_stats')).toEqual([
      { metric: 'email', quantity: '0', attributes: { notBilled: 'billed_from_lc_email_stats' } },
    ]);
    expect(usage({ ...officialExample('outbound-email'), provider: 'mailgun' }, 'lc_email_stats')[0]!.quantity).toBe('0');
  });

  it('when an email went through the user’s own mailbox (Gmail, SMTP), then it is recorded with 0 and the provider kept', () => {
    expect(usage({ ...officialExample('outbound-email'), provider: 'Leadconnector Gmail' })).toEqual([
      { metric: 'email', quantity: '0', attributes: { provider: 'Leadconnector Gmail', notBilled: 'own_mailbox' } },
    ]);
    expect(usage({ ...officialExample('outbound-email'), provider: 'MailGun' })).toEqual([{ metric: 'email', quantity: '1', attributes: { provider: 'MailGun' } }]);
  });

  it('when LCEmailStats reports an open, a click or a failure, then it yields no usage', () => {
    for (const event of ['opened', 'clicked', 'failed', 'complained']) expect(usage(stats(event), 'lc_email_stats')).toEqual([]);
  });

  it('when LCEmailStats delivered is a test-mode send, then it is recorded with 0', () => {
    expect(usage(stats('delivered', { 'is-test-mode': true }), 'lc_email_stats')[0]).toMatchObject({ quantity: '0', attributes: { notBilled: 'test_mode' } });
  });

  it('when LCEmailStats carries its Unix timestamp, then the record occurred at that second', () => {
    const [draft] = normaliseActivity(parse(officialExample('lc-email-stats')), RECEIVED_AT, { emailBillingSource: 'lc_email_stats' });
    expect(draft!.occurredAt.toISOString()).toBe(new Date(1714032441 * 1000).toISOString());
    expect(draft!.direction).toBe('outbound');
  });
});

describe('direction comes from the event type', () => {
  it('when HighLevel’s OutboundMessage SMS example says "inbound", then it is billed outbound and the field is kept', () => {
    const drafts = normaliseActivity(parse(officialExample('outbound-sms')), RECEIVED_AT);
    expect(drafts.map((d) => [d.metric, d.direction, d.attributes.directionField])).toEqual([
      ['sms', 'outbound', 'inbound'],
      ['sms_segments', 'outbound', 'inbound'],
    ]);
  });

  it('when the direction field agrees, then nothing extra is kept', () => {
    const [draft] = normaliseActivity(parse(officialExample('inbound-sms')), RECEIVED_AT);
    expect(draft!.attributes).not.toHaveProperty('directionField');
  });
});

describe('Voice AI test calls', () => {
  it('when trialCall is true, then the call is recorded with 0 minutes and marked', () => {
    expect(usage({ ...fixture('voice-ai-call-end'), trialCall: true })).toEqual([
      { metric: 'ai_call_minutes', quantity: '0', attributes: { durationSeconds: 187, trialCall: true } },
    ]);
  });
});

describe('message key', () => {
  it('when a message has conversationId and dateAdded, then its key is conversationId@UTC ISO with milliseconds', () => {
    const [draft] = normaliseActivity(parse(officialExample('outbound-sms')), RECEIVED_AT);
    expect(draft!.messageKey).toBe('fcanlLgpbQgQhderivVs@2021-04-21T11:31:45.750Z');
    expect(messageKey('c1', '2024-03-27T20:13:49+02:00')).toBe('c1@2024-03-27T18:13:49.000Z');
  });

  it('when conversationId or dateAdded is missing or the date is not one, then there is no key', () => {
    expect(messageKey(undefined, '2024-03-27T18:13:49.000Z')).toBeNull();
    expect(messageKey('c1', undefined)).toBeNull();
    expect(messageKey('c1', 'yesterday')).toBeNull();
  });
});

describe('INSTALL kind', () => {
  const kindOf = (name: string, extra: Record<string, unknown> = {}) => installKind(installSchema.parse({ ...officialExample(name), ...extra }));

  it('when HighLevel’s documented INSTALL examples (no installType) are read, then locationId decides: location installs have one, the agency install has none', () => {
    expect(kindOf('install-agency')).toBe('Company');
    expect(kindOf('install-location-non-whitelabel')).toBe('Location');
    expect(kindOf('install-location-whitelabel')).toBe('Location');
  });

  it('when HighLevel sends installType, then it is honoured', () => {
    expect(kindOf('install-location-whitelabel', { installType: 'Company' })).toBe('Company');
    expect(kindOf('install-agency', { installType: 'Location', locationId: 'loc1' })).toBe('Location');
    expect(() => kindOf('install-agency', { installType: 'Agency' })).toThrow();
  });
});
