import { sql } from 'drizzle-orm';
import { selectRows } from '../../models/database';
import { drainReporter, setUpBilling } from '../support/billing';
import { fixture } from '../support/highlevel-fixtures';
import { startStripeStub, type Fault, type StripeStub } from '../support/stripe-stub';
import { startTestService, type TestService } from '../support/test-service';
import { recordFigures } from './support/figures';
import { byScale, prng } from './support/scale';

/**
 * A Stripe that fails 30% of meter-event calls (500, 429, or a hang past the client timeout), over thousands of
 * crossings arriving while the reporter runs: after draining, the units Stripe holds equal the reference exactly.
 */
const SEED = Number(process.env.RELIABILITY_SEED ?? 7);
const CROSSINGS = byScale(400, 5_000);
jest.setTimeout(byScale(180_000, 1_200_000));
const SUB_ACCOUNTS = 20;
let t: TestService;
let stripe: StripeStub;

beforeAll(async () => {
  stripe = await startStripeStub();
  t = await startTestService({ STRIPE_API_URL: stripe.url, REPORTER_RETRY_BASE_SECONDS: '0', STRIPE_TIMEOUT_SECONDS: '0.3' });
  for (let i = 0; i < SUB_ACCOUNTS; i++) {
    await setUpBilling(t.service, { companyId: 'coFaults', locationId: `locFaults${i}`, customer: `cus_faults${i}`, rules: [{ metric: 'sms', threshold: 1 }], as: i === 0 ? 'default' : 'override' });
  }
}, 120_000);
afterAll(async () => {
  await t.close();
  await stripe.close();
});

it('when 30% of meter-event calls fail or hang, then after draining every unit is in Stripe exactly once', async () => {
  const next = prng(SEED);
  const faults: Record<string, number> = { 500: 0, 429: 0, hang: 0 };
  stripe.faultFor = (): Fault => {
    const x = next();
    const fault: Fault = x < 0.1 ? 500 : x < 0.2 ? 429 : x < 0.3 ? 'hang' : 'ok';
    if (fault !== 'ok') faults[String(fault)]! += 1;
    return fault;
  };
  const expected = new Map<string, number>();
  for (let i = 0; i < CROSSINGS; i++) {
    const sub = Math.floor(next() * SUB_ACCOUNTS);
    await t.postSigned({ ...fixture('sms-outbound'), locationId: `locFaults${sub}`, webhookId: `faults-${i}` }).expect(200);
    expected.set(`cus_faults${sub}`, (expected.get(`cus_faults${sub}`) ?? 0) + 1);
    if (i % 50 === 49) await t.service.reporter.tick();
  }
  await drainReporter(t.service, 2_000);

  const failedBatches = await selectRows<{ customer: string; lastError: string }>(
    t.database.db,
    sql`select stripe_customer_id as customer, last_error as "lastError" from meter_batches where status = 'failed'`,
  );
  expect(failedBatches).toEqual([]);
  const received = stripe.totals();
  expect(Object.fromEntries([...received].map(([k, v]) => [k.split('|')[0], v]))).toEqual(Object.fromEntries(expected));
  const identifiers = stripe.events.map((e) => e.identifier);
  expect(new Set(identifiers).size).toBe(identifiers.length);
  // Every batch is one event in Stripe: 'sent', or 'unconfirmed' when a call Stripe processed was answered after the
  // client's timeout and the resend was refused as a repeat (an answer Stripe does not document, so not read as
  // delivery; reconciliation settles those).
  const [batches] = await selectRows<{ sent: number; unconfirmed: number; other: number }>(
    t.database.db,
    sql`select count(*) filter (where status = 'sent')::int as sent, count(*) filter (where status = 'unconfirmed')::int as unconfirmed,
               count(*) filter (where status not in ('sent', 'unconfirmed'))::int as other from meter_batches`,
  );
  expect({ inStripe: batches!.sent + batches!.unconfirmed, other: batches!.other }).toEqual({ inStripe: stripe.events.length, other: 0 });
  const unconfirmedIdentifiers = await selectRows<{ identifier: string }>(t.database.db, sql`select identifier from meter_batches where status = 'unconfirmed'`);
  expect(unconfirmedIdentifiers.filter((b) => !identifiers.includes(b.identifier))).toEqual([]);
  const units = [...received.values()].reduce((a, b) => a + b, 0);
  recordFigures('stripe faults', {
    crossings: CROSSINGS,
    meterEventCalls: stripe.requests.length,
    answered500: faults['500']!,
    answered429: faults['429']!,
    hung: faults.hang!,
    batchesSent: batches!.sent,
    batchesUnconfirmed: batches!.unconfirmed,
    unitsInStripe: units,
    lost: CROSSINGS - units,
    duplicated: identifiers.length - new Set(identifiers).size,
  });
});
