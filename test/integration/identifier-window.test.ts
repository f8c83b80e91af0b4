import { sql } from 'drizzle-orm';
import { selectRows } from '../../models/database';
import { drainReporter, setUpBilling } from '../support/billing';
import { fixture } from '../support/highlevel-fixtures';
import { startStripeStub, type StripeStub } from '../support/stripe-stub';
import { startTestService, type TestService } from '../support/test-service';

/**
 * The identifier window and the timestamp of each send (issue 15, parts 2 and 3): Stripe deduplicates a meter
 * event identifier only within "a rolling period of at least 24 hours" and takes timestamps at most 35 days old and
 * 5 minutes ahead (docs.stripe.com/api/billing/meter-event/create).
 */
const COMPANY = 'companyIdentifierWin1';
let t: TestService;
let stripe: StripeStub;
let sequence = 0;

beforeAll(async () => {
  stripe = await startStripeStub();
  t = await startTestService({ STRIPE_API_URL: stripe.url, REPORTER_RETRY_BASE_SECONDS: '0', REPORTER_IDENTIFIER_WINDOW_HOURS: '20' });
});
// Each test starts with nothing in flight, so its scripted 500 hits its own batch.
afterEach(() => drainReporter(t.service));
afterAll(async () => {
  await t.close();
  await stripe.close();
});

async function batchAfterAFailedSend(at?: Date) {
  sequence += 1;
  const locationId = `locIdWindow${String(sequence).padStart(8, '0')}`;
  const customer = `cus_idWindow${sequence}`;
  await setUpBilling(t.service, { companyId: COMPANY, locationId, customer, rules: [{ metric: 'sms', threshold: 1 }], as: 'override' });
  const time = at ? { dateAdded: at.toISOString(), timestamp: at.toISOString() } : {};
  await t.postSigned({ ...fixture('sms-outbound'), locationId, webhookId: `wh-idwindow-${sequence}`, ...time }).expect(200);
  stripe.script = [500];
  expect(await t.service.reporter.tick()).toMatchObject({ retried: 1 });
  return customer;
}
const batchOf = async (customer: string) =>
  (
    await selectRows<{ identifier: string; status: string; attempts: number; firstSentAt: string | null; timestamp: number; sentTimestamp: number | null; lastError: string | null }>(
      t.database.db,
      sql`select identifier, status, attempts, first_sent_at::text as "firstSentAt", timestamp::float8 as timestamp,
                 sent_timestamp::float8 as "sentTimestamp", last_error as "lastError"
          from meter_batches where stripe_customer_id = ${customer}`,
    )
  )[0]!;
const age = (customer: string, hours: number) =>
  t.database.db.execute(sql`update meter_batches set first_sent_at = now() - make_interval(hours => ${hours}), next_attempt_at = now()
                            where stripe_customer_id = ${customer}`);

describe('the identifier window', () => {
  it('when a send fails, then the first send time is recorded as the call begins', async () => {
    const customer = await batchAfterAFailedSend();
    const batch = await batchOf(customer);
    expect(batch).toMatchObject({ status: 'sending', attempts: 1 });
    expect(batch.firstSentAt).not.toBeNull();
  });

  it('when an attempt after an indeterminate one (500) is refused (401), then the batch fails but its window keeps running from the first send', async () => {
    const customer = await batchAfterAFailedSend();
    const { firstSentAt } = await batchOf(customer);
    stripe.apiKeys.add('sk_test_notTheAgencyKey001');
    try {
      expect(await t.service.reporter.tick()).toMatchObject({ failed: 1 });
    } finally {
      stripe.apiKeys.clear();
    }
    expect(await batchOf(customer)).toMatchObject({ status: 'failed', firstSentAt });
  });

  it('when the first send is 19 hours old, then the batch is resent with the same identifier and counted once', async () => {
    const customer = await batchAfterAFailedSend();
    const { identifier } = await batchOf(customer);
    await age(customer, 19);
    expect(await t.service.reporter.tick()).toMatchObject({ sent: 1 });
    expect(stripe.events.filter((e) => e.customer === customer).map((e) => e.identifier)).toEqual([identifier]);
    expect(await batchOf(customer)).toMatchObject({ status: 'sent', attempts: 2 });
  });

  it('when the first send is 20 hours old and the batch is still unsettled, then it becomes unconfirmed and is never resent', async () => {
    const customer = await batchAfterAFailedSend();
    await age(customer, 20);
    const before = stripe.requests.length;
    expect(await t.service.reporter.tick()).toMatchObject({ unconfirmed: 1, claimed: 0 });
    await t.service.reporter.tick();
    expect(stripe.requests.length).toBe(before);
    const batch = await batchOf(customer);
    expect(batch).toMatchObject({ status: 'unconfirmed', lastError: expect.stringContaining('Not confirmed by Stripe within 20 h') });
    expect(batch.lastError).toContain('Simulated 500');
    const reports = await selectRows<{ status: string }>(t.database.db, sql`select status from meter_reports where stripe_customer_id = ${customer}`);
    expect(reports).toEqual([{ status: 'unconfirmed' }]);
  });
});

describe('the timestamp of each send', () => {
  it('when a crossing is 36 days old, then the stored timestamp keeps it and each send clamps it to 35 days less an hour, recomputed at the resend', async () => {
    const crossed = new Date(Date.now() - 36 * 86_400_000);
    const customer = await batchAfterAFailedSend(crossed);
    const first = await batchOf(customer);
    expect(first.timestamp).toBe(Math.floor(crossed.getTime() / 1000));
    const oldest = Date.now() / 1000 - (35 * 86_400 - 3600);
    expect(first.sentTimestamp).toBeGreaterThanOrEqual(Math.floor(oldest) - 5);
    expect(first.sentTimestamp).toBeLessThanOrEqual(Math.ceil(oldest) + 5);

    await new Promise((resolve) => setTimeout(resolve, 1100));
    await t.service.reporter.tick();
    const second = await batchOf(customer);
    expect(second.status).toBe('sent');
    expect(second.sentTimestamp!).toBeGreaterThan(first.sentTimestamp!);
    const event = stripe.events.find((e) => e.customer === customer)!;
    expect(event.timestamp).toBe(second.sentTimestamp);
    expect(stripe.rejectedEvents.filter((e) => e.customer === customer)).toEqual([]);
  });

  it('when a crossing is in the future (a client clock ahead), then it is sent as now', async () => {
    const customer = await batchAfterAFailedSend(new Date(Date.now() + 3600_000));
    const batch = await batchOf(customer);
    expect(batch.sentTimestamp).toBeLessThanOrEqual(Math.ceil(Date.now() / 1000));
    expect(batch.timestamp).toBeGreaterThan(batch.sentTimestamp!);
  });
});
