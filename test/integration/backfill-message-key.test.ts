/**
 * A webhook message and the same message from HighLevel's export are ONE message even when the webhook carries no
 * `messageId` (HighLevel's documented SMS and Email webhook examples have none): both are recognised by
 * `<conversationId>@<dateAdded>` (server/metering/message-key.ts). Export faked with nock, Stripe by the double.
 */
import nock from 'nock';
import { drainReporter, setUpBilling, TEST_STRIPE_KEY } from '../support/billing';
import { exportedSms, giveLocationToken, serveExport } from '../support/highlevel-export';
import { officialExample } from '../support/highlevel-fixtures';
import { startStripeStub, type StripeStub } from '../support/stripe-stub';
import { startTestService, type TestService } from '../support/test-service';

let t: TestService;
let stripe: StripeStub;
let agencyToken: string;
const COMPANY = 'coMessageKey000001';
const LOCATION = 'locMessageKey00001';
const CUSTOMER = 'cus_MessageKey01';
const TOKEN = 'at-location-message-key';
const CONVERSATION = 'convMessageKey0001';

const day = 86_400_000;
const START = new Date(Math.floor(Date.now() / day) * day - 10 * day).toISOString();
const END = new Date(Math.floor(Date.now() / day) * day - 1 * day).toISOString();
const dateAdded = (i: number) => new Date(Date.parse(START) + (i + 1) * 3_600_000 + 123).toISOString();
const MESSAGES = [1, 2, 3].map((i) =>
  exportedSms(`mkMsg00${i}`, { locationId: LOCATION, dateAdded: dateAdded(i) }, `Reminder ${i}`),
).map((m) => ({ ...m, conversationId: CONVERSATION }));

/** HighLevel's own OutboundMessage SMS example (no messageId) for the i-th message, dateAdded written as given. */
const webhookWithoutId = (i: number, webhookId: string, date = dateAdded(i)) => {
  const body = { ...officialExample('outbound-sms'), locationId: LOCATION, conversationId: CONVERSATION, dateAdded: date, body: `Reminder ${i}`, webhookId };
  expect(body).not.toHaveProperty('messageId');
  return body;
};
const smsUnits = () => stripe.events.filter((e) => e.eventName === 'meterbridge_sms').reduce((sum, e) => sum + Number(e.value), 0);

beforeAll(async () => {
  stripe = await startStripeStub();
  stripe.apiKeys.add(TEST_STRIPE_KEY);
  stripe.customers.add(CUSTOMER);
  t = await startTestService({ STRIPE_API_URL: stripe.url, REPORTER_RETRY_BASE_SECONDS: '0' });
  await setUpBilling(t.service, { companyId: COMPANY, locationId: LOCATION, customer: CUSTOMER, rules: [{ metric: 'sms', threshold: 1, direction: 'both' }] });
  await giveLocationToken(t.service, COMPANY, LOCATION, TOKEN);
  agencyToken = (await t.service.sessionTokens.issue({ userId: 'u-agency', companyId: COMPANY, type: 'agency', role: 'admin', activeLocation: null })).token;
}, 120_000);
afterAll(async () => {
  await t.close();
  await stripe.close();
});
afterEach(() => {
  const pending = nock.pendingMocks();
  nock.cleanAll();
  expect(pending).toEqual([]);
});

describe('webhook without messageId and export: one message', () => {
  it('when a message arrived by webhook without messageId, then a backfill of its range skips it and imports the others', async () => {
    // dateAdded with an offset: the same instant as the export's UTC form.
    const local = new Date(Date.parse(dateAdded(1)) + 2 * 3_600_000).toISOString().replace('Z', '+02:00');
    await t.postSigned(webhookWithoutId(1, 'mk-webhook-1', local)).expect(200);
    await drainReporter(t.service);
    expect(smsUnits()).toBe(1);

    const created = await t.http
      .post(`/api/sub-accounts/${LOCATION}/backfills`)
      .set('authorization', `Bearer ${agencyToken}`)
      .send({ startAt: START, endAt: END, channels: ['SMS'], bill: true })
      .expect(201);
    serveExport({ locationId: LOCATION, channel: 'SMS', startAt: START, endAt: END, token: TOKEN, pages: [MESSAGES] });
    expect(await t.service.scheduler.runNow('backfill')).toBe(true);
    const job = (await t.http.get(`/api/sub-accounts/${LOCATION}/backfills/${created.body.id}`).set('authorization', `Bearer ${agencyToken}`).expect(200)).body;
    expect(job).toMatchObject({ status: 'completed', messagesSeen: 3, messagesImported: 2, messagesDuplicate: 1 });
    await drainReporter(t.service);
    expect(smsUnits()).toBe(3);
  });

  it('when HighLevel later delivers without messageId a message the backfill imported, then it is stored but not counted again', async () => {
    const res = await t.postSigned(webhookWithoutId(2, 'mk-webhook-2')).expect(200);
    expect(res.body).toMatchObject({ status: 'accepted', usageRecords: 0 });
    await drainReporter(t.service);
    expect(smsUnits()).toBe(3);
  });

  it('when a message of another conversation or another millisecond arrives, then it is a new message', async () => {
    await t.postSigned({ ...webhookWithoutId(3, 'mk-webhook-3'), conversationId: 'convOther000001' }).expect(200);
    const later = new Date(Date.parse(dateAdded(3)) + 1).toISOString();
    const res = await t.postSigned(webhookWithoutId(3, 'mk-webhook-4', later)).expect(200);
    expect(res.body.usageRecords).toBe(2);
    await drainReporter(t.service);
    expect(smsUnits()).toBe(5);
  });
});
