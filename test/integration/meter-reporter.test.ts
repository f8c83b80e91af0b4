import { sql } from 'drizzle-orm';
import Stripe from 'stripe';
import { selectRows } from '../../models/database';
import { findCounter } from '../../server/metering/rules-repository';
import { claimDueBatches, formBatches } from '../../server/stripe/meter-batch-repository';
import { requeueFailedBatch } from '../../server/stripe/meter-batch-settlement';
import { drainReporter, outboxState, setUpBilling, TEST_STRIPE_KEY } from '../support/billing';
import { fixture } from '../support/highlevel-fixtures';
import { startStripeStub, type StripeStub } from '../support/stripe-stub';
import { startTestService, type TestService } from '../support/test-service';

let t: TestService;
let stripe: StripeStub;
const COMPANY = 'companyReporter000001';
let sequence = 0;

beforeAll(async () => {
  stripe = await startStripeStub();
  t = await startTestService({ STRIPE_API_URL: stripe.url, REPORTER_RETRY_BASE_SECONDS: '0', STRIPE_TIMEOUT_SECONDS: '0.4' });
});
afterAll(async () => {
  await t.close();
  await stripe.close();
});
beforeEach(() => {
  stripe.script = [];
  stripe.faultFor = undefined;
  stripe.customers.clear();
  stripe.apiKeys.clear();
});

/** A fresh sub-account billed 1 unit per outbound SMS, to its own customer. */
async function freshSubAccount(rules: Array<{ metric: string; threshold: number | string; enabled?: boolean; direction?: 'outbound' | 'inbound' | 'both' }> = [{ metric: 'sms', threshold: 1 }]) {
  sequence += 1;
  const locationId = `locReporter${String(sequence).padStart(9, '0')}`;
  const customer = `cus_reporter${sequence}`;
  await setUpBilling(t.service, { companyId: COMPANY, locationId, customer, rules, as: 'override' });
  return { locationId, customer };
}

/** Posts `count` outbound SMS for the sub-account, each a new delivery. */
async function sendSms(locationId: string, count = 1, overrides: Record<string, unknown> = {}) {
  for (let i = 0; i < count; i++) {
    sequence += 1;
    await t.postSigned({ ...fixture('sms-outbound'), locationId, webhookId: `wh-reporter-${sequence}`, ...overrides }).expect(200);
  }
}

const requestsFor = (customer: string) => {
  const ids = new Set(stripe.events.filter((e) => e.customer === customer).map((e) => e.identifier));
  return stripe.requests.filter((r) => ids.has(r.identifier));
};

describe('reporter outcomes', () => {
  it('when Stripe answers 500 and then 200, then one meter event is delivered, resent with the same identifier', async () => {
    const { locationId, customer } = await freshSubAccount();
    await sendSms(locationId);
    stripe.script = [500];
    const first = await t.service.reporter.tick();
    expect(first).toMatchObject({ claimed: 1, retried: 1, sent: 0 });
    const second = await t.service.reporter.tick();
    expect(second).toMatchObject({ claimed: 1, sent: 1 });

    const accepted = stripe.events.filter((e) => e.customer === customer);
    expect(accepted).toHaveLength(1);
    expect(accepted[0]).toMatchObject({ eventName: 'meterbridge_sms', value: '1' });
    expect(requestsFor(customer).map((r) => [r.identifier, r.status])).toEqual([
      [accepted[0]!.identifier, 500],
      [accepted[0]!.identifier, 200],
    ]);
  });

  it('when Stripe rate-limits and then times out, then the batch is retried until it is delivered once', async () => {
    const { locationId, customer } = await freshSubAccount();
    await sendSms(locationId, 2);
    stripe.script = [429, 'hang', 502];
    await drainReporter(t.service);
    const requests = requestsFor(customer);
    expect(requests.map((r) => r.status)).toEqual([429, 0, 502, 200]);
    expect(new Set(requests.map((r) => r.identifier)).size).toBe(1);
    expect(stripe.events.filter((e) => e.customer === customer).map((e) => e.value)).toEqual(['2']);
  });

  it('when Stripe took the event but the answer was lost, then the resend\'s refusal (undocumented by Stripe) leaves the batch unconfirmed: counted once, never resent', async () => {
    const { locationId, customer } = await freshSubAccount();
    await sendSms(locationId);
    stripe.script = ['accept-then-hang'];
    await drainReporter(t.service);
    expect(stripe.events.filter((e) => e.customer === customer)).toHaveLength(1);
    expect(requestsFor(customer).map((r) => r.status)).toEqual([0, 400]);
    const [batch] = await selectRows<{ status: string; lastError: string | null }>(
      t.database.db,
      sql`select status, last_error as "lastError" from meter_batches where stripe_customer_id = ${customer}`,
    );
    expect(batch).toEqual({ status: 'unconfirmed', lastError: expect.stringContaining('An event already exists with identifier') });
    const reports = await selectRows<{ status: string }>(t.database.db, sql`select status from meter_reports where stripe_customer_id = ${customer}`);
    expect(reports).toEqual([{ status: 'unconfirmed' }]);
    await drainReporter(t.service);
    expect(requestsFor(customer)).toHaveLength(2);
  });

  it("when Stripe refuses the agency's key (401, documented), then the batch fails with Stripe's message, and a retry after the fix sends the same identifier", async () => {
    const { locationId, customer } = await freshSubAccount();
    stripe.apiKeys.add('sk_test_someOtherKey0001');
    await sendSms(locationId, 3);
    const summary = await t.service.reporter.tick();
    expect(summary).toMatchObject({ failed: 1, sent: 0 });

    const [batch] = await selectRows<{ id: number; status: string; lastError: string; value: string; identifier: string; firstSentAt: string | null }>(
      t.database.db,
      sql`select id, status, last_error as "lastError", value::text as value, identifier, first_sent_at::text as "firstSentAt"
          from meter_batches where stripe_customer_id = ${customer}`,
    );
    expect(batch).toMatchObject({ status: 'failed', value: '3', lastError: expect.stringContaining('Invalid API Key provided'), firstSentAt: null });
    const reports = await selectRows<{ status: string; units: string }>(
      t.database.db,
      sql`select status, units::text as units from meter_reports where stripe_customer_id = ${customer}`,
    );
    expect(reports).toEqual([
      { status: 'failed', units: '1' },
      { status: 'failed', units: '1' },
      { status: 'failed', units: '1' },
    ]);

    // The agency fixes the key and retries: the same batch goes, with the same identifier.
    stripe.apiKeys.clear();
    expect(await requeueFailedBatch(t.database.db, batch!.id)).toBe(true);
    await drainReporter(t.service);
    expect(stripe.events.filter((e) => e.customer === customer).map((e) => [e.identifier, e.value])).toEqual([[batch!.identifier, '3']]);
  });

  it('when a reporter crashes after Stripe accepted but before marking sent, then the next one resends the same identifier', async () => {
    const { locationId, customer } = await freshSubAccount();
    await sendSms(locationId, 2);
    // The doomed reporter: forms and leases the batch, sends it, and dies before recording the answer.
    await formBatches(t.database.db);
    const claimed = (await claimDueBatches(t.database.db, 0.2, 20 * 3600)).filter((b) => b.stripeCustomerId === customer);
    expect(claimed).toHaveLength(1);
    const crashed = claimed[0]!;
    const client = new Stripe(TEST_STRIPE_KEY, { host: '127.0.0.1', port: Number(new URL(stripe.url).port), protocol: 'http' });
    await client.billing.meterEvents.create({
      event_name: crashed.meterEventName,
      payload: { stripe_customer_id: crashed.stripeCustomerId, value: crashed.value },
      identifier: crashed.identifier,
      timestamp: crashed.timestamp,
    });
    // Its lease runs out; a live reporter picks the batch up.
    await new Promise((resolve) => setTimeout(resolve, 300));
    await drainReporter(t.service);

    expect(stripe.events.filter((e) => e.customer === customer).map((e) => [e.identifier, e.value])).toEqual([[crashed.identifier, '2']]);
    expect(requestsFor(customer).map((r) => [r.identifier, r.status])).toEqual([
      [crashed.identifier, 200],
      [crashed.identifier, 400],
    ]);
    const [batch] = await selectRows<{ status: string; attempts: number }>(
      t.database.db,
      sql`select status, attempts from meter_batches where identifier = ${crashed.identifier}`,
    );
    // Stripe's answer to the repeated identifier is undocumented: the batch is not counted as delivered on its word.
    expect(batch).toEqual({ status: 'unconfirmed', attempts: 2 });
  });

  it('when a batch is in flight, then new crossings of the same customer and meter wait for the next batch', async () => {
    const { locationId, customer } = await freshSubAccount();
    await sendSms(locationId, 2);
    await formBatches(t.database.db);
    await sendSms(locationId, 3);
    await formBatches(t.database.db);
    const open = await selectRows<{ n: number }>(
      t.database.db,
      sql`select count(*)::int as n from meter_batches where stripe_customer_id = ${customer} and status = 'sending'`,
    );
    expect(open[0]!.n).toBe(1);
    await drainReporter(t.service);
    expect(stripe.events.filter((e) => e.customer === customer).map((e) => e.value)).toEqual(['2', '3']);
  });

  it('when many crossings wait for one customer and meter, then Stripe gets one meter event carrying their sum', async () => {
    const { locationId, customer } = await freshSubAccount();
    await sendSms(locationId, 12);
    const before = stripe.requests.length;
    await drainReporter(t.service);
    expect(stripe.requests.length - before).toBe(1);
    expect(stripe.events.filter((e) => e.customer === customer).map((e) => e.value)).toEqual(['12']);
  });

  it('when the agency has not connected Stripe, then the batch fails with a clear message and nothing is sent', async () => {
    sequence += 1;
    const companyId = `companyNoStripe${sequence}`;
    const locationId = `locNoStripe${sequence}`;
    await t.service.accounts.registerAgency(companyId);
    await t.service.accounts.registerSubAccount(locationId, companyId);
    await t.service.accounts.mapCustomer(locationId, 'cus_noStripe1');
    await t.service.rules.setRule({ companyId, locationId: null }, { metric: 'sms', threshold: 1 });
    await sendSms(locationId);
    const before = stripe.requests.length;
    await t.service.reporter.tick();
    expect(stripe.requests.length).toBe(before);
    const [batch] = await selectRows<{ status: string; lastError: string }>(
      t.database.db,
      sql`select status, last_error as "lastError" from meter_batches where stripe_customer_id = 'cus_noStripe1'`,
    );
    expect(batch).toEqual({ status: 'failed', lastError: 'Stripe is not connected for this agency.' });
  });
});

describe("Stripe's test-mode rate limit", () => {
  it('when a test-mode agency has more batches than Stripe takes per second (25), then the reporter paces them and Stripe answers no 429', async () => {
    const subs = [];
    for (let i = 0; i < 40; i++) subs.push(await freshSubAccount());
    for (const { locationId } of subs) await sendSms(locationId);
    const before = stripe.requests.length;
    const started = Date.now();
    await drainReporter(t.service);
    const requests = stripe.requests.slice(before);
    expect(requests.filter((r) => r.status === 429)).toEqual([]);
    expect(requests.filter((r) => r.status === 200)).toHaveLength(40);
    // 40 calls under 25 per second take more than a second.
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
  });
});

describe('thresholds and rules', () => {
  it('when every 3 SMS make a unit and 7 are sent, then 2 units are billed and 1 SMS carries over', async () => {
    const { locationId, customer } = await freshSubAccount([{ metric: 'sms', threshold: 3 }]);
    await sendSms(locationId, 7);
    await drainReporter(t.service);
    expect(stripe.events.filter((e) => e.customer === customer).map((e) => e.value)).toEqual(['2']);
    expect(await findCounter(t.database.db, locationId, 'sms')).toEqual({ total: '7.000000', billedUnits: 2 });
    await sendSms(locationId, 2);
    await drainReporter(t.service);
    expect(stripe.events.filter((e) => e.customer === customer).map((e) => e.value)).toEqual(['2', '1']);
  });

  it('when a rule counts outbound only, then inbound SMS are not billed', async () => {
    const { locationId, customer } = await freshSubAccount([{ metric: 'sms', threshold: 1 }]);
    await sendSms(locationId, 2, { type: 'InboundMessage', direction: 'inbound' });
    await sendSms(locationId, 1);
    await drainReporter(t.service);
    expect(stripe.events.filter((e) => e.customer === customer).map((e) => e.value)).toEqual(['1']);
  });

  it('when a rule is disabled, then usage is kept in the ledger but not billed', async () => {
    const { locationId, customer } = await freshSubAccount([{ metric: 'sms', threshold: 1, enabled: false }]);
    await sendSms(locationId, 2);
    await drainReporter(t.service);
    expect(stripe.events.filter((e) => e.customer === customer)).toHaveLength(0);
    const [usage] = await selectRows<{ n: number }>(t.database.db, sql`select count(*)::int as n from usage_records where location_id = ${locationId} and metric = 'sms'`);
    expect(usage!.n).toBe(2);
  });

  it('when usage came before the rule existed, then it is not billed retroactively', async () => {
    const { locationId, customer } = await freshSubAccount([]);
    await sendSms(locationId, 3);
    await t.service.rules.setRule({ locationId }, { metric: 'sms', threshold: 1 });
    await sendSms(locationId, 1);
    await drainReporter(t.service);
    expect(stripe.events.filter((e) => e.customer === customer).map((e) => e.value)).toEqual(['1']);
  });

  it('when the threshold changes, then the unbilled remainder carries into the new threshold', async () => {
    const { locationId, customer } = await freshSubAccount([{ metric: 'call_minutes', threshold: 2 }]);
    await t.postSigned({ ...fixture('call-outbound-completed'), locationId, webhookId: `call-a-${locationId}` }).expect(200); // 3 min → 1 unit, 1 left
    await t.service.rules.setRule({ locationId }, { metric: 'call_minutes', threshold: 3 });
    expect(await findCounter(t.database.db, locationId, 'call_minutes')).toEqual({ total: '1.000000', billedUnits: 0 });
    await t.postSigned({ ...fixture('call-outbound-completed'), locationId, webhookId: `call-b-${locationId}`, callDuration: 61 }).expect(200); // 2 min → 3 → 1 unit
    await drainReporter(t.service);
    expect(stripe.events.filter((e) => e.customer === customer).map((e) => e.value)).toEqual(['2']);
    expect(await findCounter(t.database.db, locationId, 'call_minutes')).toEqual({ total: '3.000000', billedUnits: 1 });
  });

  it('when a sub-account has no override, then it inherits the agency default, and its own rule wins once set', async () => {
    sequence += 1;
    const companyId = `companyDefaults${sequence}`;
    const locationId = `locDefaults${sequence}`;
    const customer = `cus_defaults${sequence}`;
    await setUpBilling(t.service, { companyId, locationId, customer, rules: [{ metric: 'sms', threshold: 2 }] });
    expect((await t.service.rules.effectiveRules(locationId)).map((r) => [r.metric, r.threshold, r.inherited])).toEqual([['sms', '2.000000', true]]);
    await sendSms(locationId, 2);
    await t.service.rules.setRule({ locationId }, { metric: 'sms', threshold: 1 });
    expect((await t.service.rules.effectiveRules(locationId)).map((r) => [r.metric, r.threshold, r.inherited])).toEqual([['sms', '1.000000', false]]);
    await sendSms(locationId, 1);
    await drainReporter(t.service);
    expect(stripe.events.filter((e) => e.customer === customer).map((e) => e.value)).toEqual(['2']);
  });

  it('when a rule is invalid, then it is refused with a 400 naming the field', async () => {
    const { locationId } = await freshSubAccount([]);
    await expect(t.service.rules.setRule({ locationId }, { metric: 'sms', threshold: 0 })).rejects.toMatchObject({ status: 400, message: expect.stringContaining('threshold') });
    await expect(t.service.rules.setRule({ locationId }, { metric: 'SMS!', threshold: 1 })).rejects.toMatchObject({ status: 400, message: expect.stringContaining('metric') });
    await expect(t.service.rules.setRule({ locationId: 'nope' }, { metric: 'sms', threshold: 1 })).rejects.toMatchObject({ status: 404 });
  });

  it('when the outbox is drained, then nothing is left pending or in flight', async () => {
    await drainReporter(t.service);
    const state = await outboxState(t.database.db);
    expect(state).toMatchObject({ pending: 0, sending: 0 });
  });
});
