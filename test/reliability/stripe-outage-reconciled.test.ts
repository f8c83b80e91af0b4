import { sql } from 'drizzle-orm';
import { selectRows } from '../../models/database';
import { ensureMeter } from '../../server/stripe/catalog';
import { createStripeClientFactory } from '../../server/stripe/stripe-client';
import { drainReporter, setUpBilling, TEST_STRIPE_KEY } from '../support/billing';
import { fixture } from '../support/highlevel-fixtures';
import { withMeterSummaries, type MeterSummaries } from '../support/stripe/meter-summaries';
import { startStripeStub, type StripeStub } from '../support/stripe-stub';
import { startTestService, type TestService } from '../support/test-service';
import { recordFigures } from './support/figures';
import { byScale, prng, reliabilitySeed } from './support/scale';

/**
 * A 30-hour Stripe outage (issue 15): the first send of every batch either reached Stripe and lost its answer
 * (`accept-then-hang`: Stripe counted it) or never got through (`hang`). Then nothing answers for 30 hours — longer
 * than Stripe's 24-hour identifier window, so a blind resend could be counted twice — and usage keeps arriving.
 * After recovery: the batches past the identifier window are `unconfirmed` and are never resent with their old
 * identifier; reconciliation compares with Stripe's totals, confirms those Stripe counted and resends the others
 * with new identifiers; the usage that arrived during the outage is sent normally. Every unit is in Stripe once.
 */
const SEED = reliabilitySeed(30);
const CUSTOMERS = byScale(8, 40);
const SMS_BEFORE = byScale(3, 12);
const SMS_DURING = byScale(2, 8);
const COMPANY = 'coOutage30h';
const EVENT_NAME = 'meterbridge_sms';
const DELAY_SECONDS = 0.2;
const OUTAGE_HOURS = 30;
jest.setTimeout(byScale(180_000, 900_000));

let t: TestService;
let stripe: StripeStub;
let summaries: MeterSummaries;

beforeAll(async () => {
  stripe = await startStripeStub();
  stripe.meterEventsPerSecond = 1000; // live mode: this run is about the window, not test mode's 25/s
  summaries = withMeterSummaries(stripe, { processingDelaySeconds: DELAY_SECONDS });
  t = await startTestService({ STRIPE_API_URL: stripe.url, REPORTER_RETRY_BASE_SECONDS: '0', STRIPE_TIMEOUT_SECONDS: '0.3', RECONCILE_SETTLE_SECONDS: '3600' });
  await ensureMeter(createStripeClientFactory({ apiUrl: stripe.url, timeoutMs: 5000 })(TEST_STRIPE_KEY), { metric: 'sms', eventName: EVENT_NAME, displayName: 'SMS' });
  for (let i = 0; i < CUSTOMERS; i++) {
    await setUpBilling(t.service, { companyId: COMPANY, locationId: `locOutage${i}`, customer: `cus_outage${i}`, rules: [{ metric: 'sms', threshold: 1 }], as: i === 0 ? 'default' : 'override' });
  }
}, 120_000);
afterAll(async () => {
  await t.close();
  await stripe.close();
});

let sequence = 0;
async function sms(customerIndex: number): Promise<void> {
  sequence += 1;
  const now = new Date().toISOString();
  await t.postSigned({ ...fixture('sms-outbound'), locationId: `locOutage${customerIndex}`, webhookId: `outage-${sequence}`, messageId: `mOutage${sequence}`, dateAdded: now, timestamp: now }).expect(200);
}
const settle = () => new Promise((resolve) => setTimeout(resolve, DELAY_SECONDS * 1000 + 100));
async function statusCounts(): Promise<Record<string, number>> {
  const rows = await selectRows<{ status: string; n: number }>(t.database.db, sql`select status, count(*)::int as n from meter_batches group by 1`);
  return Object.fromEntries(rows.map((r) => [r.status, r.n]));
}

it(`when Stripe is out for ${OUTAGE_HOURS} hours after taking some events whose answers were lost, then after recovery and reconciliation every unit is in Stripe once`, async () => {
  const next = prng(SEED);
  const reference = new Map<string, number>();
  const owe = (i: number, units: number) => reference.set(`cus_outage${i}`, (reference.get(`cus_outage${i}`) ?? 0) + units);

  // Usage before the outage; each customer's batch goes out once: Stripe takes it and the answer is lost, or not.
  for (let i = 0; i < CUSTOMERS; i++) for (let k = 0; k < SMS_BEFORE; k++) (await sms(i), owe(i, 1));
  const accepted = Array.from({ length: CUSTOMERS }, () => next() < 0.5);
  stripe.script = accepted.map((a) => (a ? 'accept-then-hang' : 'hang'));
  await t.service.reporter.tick();
  const firstSends = stripe.requests.length;
  expect(firstSends).toBe(CUSTOMERS);

  // The outage: every call hangs, usage keeps arriving, and 30 hours pass (the first sends are that old now).
  stripe.faultFor = () => 'hang';
  for (let i = 0; i < CUSTOMERS; i++) for (let k = 0; k < SMS_DURING; k++) (await sms(i), owe(i, 1));
  await t.database.db.execute(sql`
    update meter_batches set first_sent_at = first_sent_at - interval '${sql.raw(String(OUTAGE_HOURS))} hours', next_attempt_at = now(), locked_until = null
    where first_sent_at is not null`);
  stripe.clock.advance(OUTAGE_HOURS * 3600);

  // Recovery. The reporter never resends a batch past the identifier window: each is unconfirmed.
  stripe.faultFor = () => 'ok';
  const beforeRecovery = stripe.requests.length;
  await drainReporter(t.service);
  const unconfirmed = (await statusCounts()).unconfirmed ?? 0;
  expect(unconfirmed).toBe(CUSTOMERS);
  const resentBlindly = stripe.requests.filter((r, index) => index >= beforeRecovery && r.status === 200).length - CUSTOMERS; // the outage's usage: one batch each
  expect(resentBlindly).toBe(0);

  // Reconciliation settles them against Stripe's own totals; then the repairs drain and a second run finds nothing.
  await settle();
  const later = () => t.service.reconciliation.run({ companyId: COMPANY, trigger: 'scheduled', now: new Date(Date.now() + 2 * 3600_000) });
  const first = await later();
  expect(first).toMatchObject({ status: 'completed', pairsFailed: 0 });
  await drainReporter(t.service);
  await settle();
  const second = await later();
  expect(second).toMatchObject({ missingUnits: 0, excessUnits: 0, correctedUnits: 0, leftForPersonUnits: 0 });

  let lost = 0;
  let doubled = 0;
  for (const [customer, units] of reference) {
    const diff = summaries.settledTotal(customer, EVENT_NAME) - units;
    if (diff < 0) lost -= diff;
    else doubled += diff;
  }
  expect({ lost, doubled }).toEqual({ lost: 0, doubled: 0 });
  const statuses = await statusCounts();
  expect(statuses.unconfirmed ?? 0).toBe(0);
  recordFigures(`stripe outage of ${OUTAGE_HOURS} h, reconciled`, {
    seed: SEED,
    customers: CUSTOMERS,
    unitsOwed: [...reference.values()].reduce((a, b) => a + b, 0),
    firstSendsAcceptedAnswerLost: accepted.filter(Boolean).length,
    firstSendsNeverArrived: accepted.filter((a) => !a).length,
    unconfirmedAfterOutage: unconfirmed,
    resentWithOldIdentifier: resentBlindly,
    run1Missing: first.missingUnits,
    run1Corrected: first.correctedUnits,
    run1UnconfirmedConfirmed: first.unconfirmedSettled,
    run2Missing: second.missingUnits,
    run2Excess: second.excessUnits,
    lost,
    doubled,
  });
});
