import { readFileSync } from 'node:fs';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import nock from 'nock';
import { selectRows } from '../../models/database';
import { createHighLevelApiClient } from '../../server/highlevel/api-client';
import { createPhoneNumberMonths, billingMonth, type PhoneNumberMonths } from '../../server/phone-numbers/phone-number-months';
import { drainReporter, setUpBilling, TEST_STRIPE_KEY } from '../support/billing';
import { giveLocationToken } from '../support/highlevel-export';
import { HIGHLEVEL_API } from '../support/highlevel-oauth';
import { startStripeStub, type StripeStub } from '../support/stripe-stub';
import { startTestService, type TestService } from '../support/test-service';

/**
 * Issue #14 part 4a: a sub-account's active phone numbers, read from HighLevel's `GET
 * /phone-system/numbers/location/{locationId}` (faked with nock, answering HighLevel's own documented example,
 * test/fixtures/highlevel/api/), are billed once per number per UTC calendar month, and end at the Stripe double
 * as exactly that many units.
 */
const api = (name: string) => JSON.parse(readFileSync(path.join(__dirname, '../fixtures/highlevel/api', name), 'utf8'));
/** HighLevel's documented answer: two numbers, sids PN1234… and PN9876…. */
const DOCUMENTED = api('phone-numbers-active.json');
const [NUMBER_A, NUMBER_B] = DOCUMENTED.numbers;
/** A third number, same fields as HighLevel's example, another sid. */
const NUMBER_C = { ...NUMBER_A, phoneNumber: '+14155550199', sid: 'PNcccccccccccccccccccccccccccccccc', isDefaultNumber: false };

const COMPANY = 'coPhoneNumbers01';
const LOCATION = 'locPhoneNumbers01';
const CUSTOMER = 'cus_PhoneNumbers01';
const TOKEN = 'at-location-phone-numbers';
const LOCATION_NO_SCOPE = 'locPhoneNumbers02';
const LOCATION_EMPTY = 'locPhoneNumbers03';
const LOCATION_MANY = 'locPhoneNumbers04';
const CUSTOMER_MANY = 'cus_PhoneNumbers04';
const SCOPES = 'conversations/message.readonly phonenumbers.read workflows.readonly';

let t: TestService;
let stripe: StripeStub;

/** Answers one call for the sub-account's numbers, requiring the documented path, Version header, token and query. */
function serveNumbers(locationId: string, token: string, body: nock.Body, page = 0) {
  return nock(HIGHLEVEL_API, { reqheaders: { version: '2021-07-28', authorization: `Bearer ${token}` } })
    .get(`/phone-system/numbers/location/${locationId}`)
    .query({ page: String(page), pageSize: '1000', skipNumberPool: 'false' })
    .reply(200, body);
}
const answer = (numbers: unknown[]) => ({ ...DOCUMENTED, numbers });

function unitsAtStripe(customer: string): number {
  return stripe.events.filter((e) => e.customer === customer && e.eventName === 'meterbridge_phone_numbers').reduce((sum, e) => sum + Number(e.value), 0);
}

async function recordedMonths(locationId: string) {
  return selectRows<{ webhookId: string; quantity: string; metric: string }>(
    t.database.db,
    sql`select e.webhook_id as "webhookId", u.quantity::int::text as quantity, u.metric
        from activity_events e join usage_records u on u.activity_event_id = e.id
        where e.location_id = ${locationId} and e.source = 'phone_numbers' order by e.webhook_id`,
  );
}

/** The use case as the composition root builds it, but with its clock set to `at` (to play an earlier month). */
function atTime(at: Date): PhoneNumberMonths {
  const client = createHighLevelApiClient({ baseUrl: HIGHLEVEL_API, tokens: t.service.highLevelTokens });
  return createPhoneNumberMonths({ db: t.database.db, api: client, logger: t.service.logger, now: () => at });
}

const now = new Date();
/** Noon UTC on the last day of the previous month: another month, and within Stripe's 35 days. */
const LAST_MONTH = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 0, 12));

beforeAll(async () => {
  stripe = await startStripeStub();
  stripe.apiKeys.add(TEST_STRIPE_KEY);
  t = await startTestService({ STRIPE_API_URL: stripe.url, REPORTER_RETRY_BASE_SECONDS: '0' });
  const rules = [{ metric: 'phone_numbers', threshold: 1, direction: 'both' as const }];
  await setUpBilling(t.service, { companyId: COMPANY, locationId: LOCATION, customer: CUSTOMER, rules });
  await giveLocationToken(t.service, COMPANY, LOCATION, TOKEN, SCOPES);
  await t.service.accounts.registerSubAccount(LOCATION_NO_SCOPE, COMPANY, 'Installed before the scope existed');
  await giveLocationToken(t.service, COMPANY, LOCATION_NO_SCOPE, 'at-no-scope');
  await t.service.accounts.registerSubAccount(LOCATION_EMPTY, COMPANY, 'No numbers');
  await giveLocationToken(t.service, COMPANY, LOCATION_EMPTY, 'at-empty', SCOPES);
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

describe('phone numbers billed once per number per month', () => {
  it('when the job first runs in a month, then each documented number is recorded once and billed as one unit', async () => {
    serveNumbers(LOCATION, TOKEN, DOCUMENTED);
    serveNumbers(LOCATION_EMPTY, 'at-empty', api('phone-numbers-empty.json'));
    const summary = await atTime(LAST_MONTH).runOnce();
    // The grant without phonenumbers.read is not asked (nock would refuse the call and count it as failed).
    expect(summary).toEqual({ month: billingMonth(LAST_MONTH), subAccounts: 2, numbers: 2, recorded: 2, known: 0, failed: 0 });
    await drainReporter(t.service);
    expect(unitsAtStripe(CUSTOMER)).toBe(2);
    expect((await recordedMonths(LOCATION)).map((r) => r.webhookId)).toEqual([
      `phone-number:${LOCATION}:${NUMBER_A.sid}:${billingMonth(LAST_MONTH)}`,
      `phone-number:${LOCATION}:${NUMBER_B.sid}:${billingMonth(LAST_MONTH)}`,
    ]);
  });

  it('when the job runs again in the same month and a number was added, then only the new number is billed', async () => {
    serveNumbers(LOCATION, TOKEN, answer([NUMBER_A, NUMBER_B, NUMBER_C]));
    serveNumbers(LOCATION_EMPTY, 'at-empty', api('phone-numbers-empty.json'));
    const summary = await atTime(LAST_MONTH).runOnce();
    expect(summary).toMatchObject({ numbers: 3, recorded: 1, known: 2, failed: 0 });
    await drainReporter(t.service);
    expect(unitsAtStripe(CUSTOMER)).toBe(3);
  });

  it('when the month turns and a number was released, then each number still active is billed for the new month', async () => {
    for (let run = 0; run < 2; run++) {
      serveNumbers(LOCATION, TOKEN, answer([NUMBER_B, NUMBER_C]));
      serveNumbers(LOCATION_EMPTY, 'at-empty', api('phone-numbers-empty.json'));
      await t.service.scheduler.runNow('phone-numbers'); // the job as scheduled, on the real clock
    }
    await drainReporter(t.service);
    // Last month: A, B, C (A's release does not refund it); this month: B and C, once each despite two runs.
    expect(unitsAtStripe(CUSTOMER)).toBe(5);
    const rows = await recordedMonths(LOCATION);
    expect(rows.filter((r) => r.webhookId.endsWith(billingMonth(now))).map((r) => r.webhookId)).toEqual([
      `phone-number:${LOCATION}:${NUMBER_B.sid}:${billingMonth(now)}`,
      `phone-number:${LOCATION}:${NUMBER_C.sid}:${billingMonth(now)}`,
    ]);
    expect(rows.every((r) => r.metric === 'phone_numbers' && r.quantity === '1')).toBe(true);
    const identifiers = stripe.events.map((e) => e.identifier);
    expect(new Set(identifiers).size).toBe(identifiers.length);
  });

  it('when a sub-account has more than one page of numbers, then every page is read and each number billed once', async () => {
    await setUpBilling(t.service, { companyId: COMPANY, locationId: LOCATION_MANY, customer: CUSTOMER_MANY, rules: [] });
    await giveLocationToken(t.service, COMPANY, LOCATION_MANY, 'at-many', SCOPES);
    const many = Array.from({ length: 1_001 }, (_, i) => ({ ...NUMBER_A, phoneNumber: `+1415600${String(i).padStart(4, '0')}`, sid: `PNmany${String(i).padStart(5, '0')}` }));
    serveNumbers(LOCATION, TOKEN, answer([NUMBER_B, NUMBER_C]));
    serveNumbers(LOCATION_EMPTY, 'at-empty', api('phone-numbers-empty.json'));
    serveNumbers(LOCATION_MANY, 'at-many', answer(many.slice(0, 1_000)), 0);
    serveNumbers(LOCATION_MANY, 'at-many', answer(many.slice(1_000)), 1);
    const summary = await t.service.phoneNumbers.runOnce();
    expect(summary).toMatchObject({ subAccounts: 3, numbers: 1_003, recorded: 1_001, known: 2, failed: 0 });
    await drainReporter(t.service);
    expect(unitsAtStripe(CUSTOMER_MANY)).toBe(1_001);
  });

  it('when HighLevel refuses one sub-account, then the others are still counted and that one is reported as failed', async () => {
    nock(HIGHLEVEL_API).get(`/phone-system/numbers/location/${LOCATION}`).query(true).reply(400, { statusCode: 400, message: 'Bad request' });
    serveNumbers(LOCATION_EMPTY, 'at-empty', answer([NUMBER_A]));
    serveNumbers(LOCATION_MANY, 'at-many', answer([]));
    const summary = await t.service.phoneNumbers.runOnce();
    expect(summary).toMatchObject({ subAccounts: 3, recorded: 1, failed: 1 });
  });
});
