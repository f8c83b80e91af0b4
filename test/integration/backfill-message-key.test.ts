/**
 * A webhook message and the same message from HighLevel's export are ONE message even when the webhook carries no
 * `messageId` (HighLevel's documented SMS and Email webhook examples have none): both are recognised by
 * `<conversationId>@<dateAdded>` (server/metering/message-key.ts). Export faked with nock, Stripe by the double.
 */
import { sql } from 'drizzle-orm';
import nock from 'nock';
import { Client } from 'pg';
import { selectRows } from '../../models/database';
import { backfillDeliveryKey } from '../../server/metering/backfilled-usage';
import { messageKey } from '../../server/metering/message-key';
import { drainReporter, setUpBilling, TEST_STRIPE_KEY } from '../support/billing';
import { exportedSms, giveLocationToken, serveExport } from '../support/highlevel-export';
import { officialExample } from '../support/highlevel-fixtures';
import { startStripeStub, type StripeStub } from '../support/stripe-stub';
import { usingServer } from '../support/test-database';
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
    expect(res.body).toMatchObject({ status: 'accepted' });
    await drainReporter(t.service);
    expect(smsUnits()).toBe(3);
  });

  it('when a message of another conversation or another millisecond arrives, then it is a new message', async () => {
    await t.postSigned({ ...webhookWithoutId(3, 'mk-webhook-3'), conversationId: 'convOther000001' }).expect(200);
    const later = new Date(Date.parse(dateAdded(3)) + 1).toISOString();
    await t.postSigned(webhookWithoutId(3, 'mk-webhook-4', later)).expect(200);
    await drainReporter(t.service);
    expect(smsUnits()).toBe(5);
  });
});

// Only a server runs two transactions at once (PGlite has one connection), so only there can the two sides race.
if (usingServer) describe('a webhook without messageId and a backfill page with the same message, at once', () => {
  it('when a backfill page holds the message’s key while its webhook arrives, then the webhook waits, sees the import, and the message counts once', async () => {
    const date = new Date(Date.parse(START) + 50 * 3_600_000).toISOString();
    const key = messageKey(CONVERSATION, date)!;
    const backfill = new Client({ connectionString: t.database.url });
    await backfill.connect();
    let answer;
    try {
      await backfill.query('begin');
      // What import-page does first: lock the page's messages by id AND key, then look, then store.
      await backfill.query(`select pg_advisory_xact_lock(7310002, hashtext($1 || ':' || $2))`, [LOCATION, key]);
      const delivery = t.postSigned(webhookWithoutId(9, 'mk-race-1', date)).then((r) => r);
      await new Promise((resolve) => setTimeout(resolve, 300)); // the webhook is now waiting on the lock
      const { rows } = await backfill.query(
        `insert into activity_events (webhook_id, event_type, status, source, company_id, location_id, payload)
         values ($1, 'OutboundMessage', 'processed', 'backfill', $2, $3, '{}'::jsonb) returning id`,
        [backfillDeliveryKey(LOCATION, 'mkRace0001'), COMPANY, LOCATION],
      );
      await backfill.query(
        `insert into usage_records (activity_event_id, location_id, metric, quantity, unit, direction, occurred_at, source_type, source_id, message_key, counted)
         values ($1, $2, 'sms', 1, 'message', 'outbound', now(), 'OutboundMessage', 'mkRace0001', $3, false)`,
        [rows[0].id, LOCATION, key],
      );
      await backfill.query('commit');
      answer = await delivery;
    } finally {
      await backfill.end();
    }
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ status: 'accepted' });
    const usage = await selectRows<{ n: number }>(t.database.db, sql`select count(*)::int as n from usage_records where location_id = ${LOCATION} and message_key = ${key}`);
    expect(usage).toEqual([{ n: 1 }]);
  });
});
