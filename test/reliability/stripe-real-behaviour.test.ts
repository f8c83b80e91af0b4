import { sql } from 'drizzle-orm';
import { selectRows } from '../../models/database';
import { drainReporter, setUpBilling } from '../support/billing';
import { fixture } from '../support/highlevel-fixtures';
import { deliverStripeEventsTo } from '../support/stripe-deliveries';
import { startStripeStub, type StripeStub } from '../support/stripe-stub';
import { startTestService, type TestService } from '../support/test-service';
import { recordFigures } from './support/figures';
import { byScale, prng, reliabilitySeed } from './support/scale';

/**
 * Exactly once against Stripe as it really behaves (issue 15): meter events validated after the 200, identifiers
 * deduplicated for 24 hours only, timestamps checked at each send. Three runs, each printing its figures:
 * a customer deleted in Stripe (error reports → rejected → re-map → resend → billed once), backfill batches retried
 * two hours later (accepted with a valid timestamp), and batches whose answer was lost and that are still unsettled
 * past the identifier window (unconfirmed, never resent).
 */
const SEED = reliabilitySeed(15);
const SUB_ACCOUNTS = byScale(6, 30);
const SMS_PER_SUB_ACCOUNT = byScale(5, 40);
const COMPANY = 'coStripeReal';
jest.setTimeout(byScale(120_000, 900_000));

let t: TestService;
let stripe: StripeStub;
const random = prng(SEED);

beforeAll(async () => {
  stripe = await startStripeStub();
  // Live mode's 1,000/s: these runs are about validation and windows, not test mode's 25/s.
  stripe.meterEventsPerSecond = 1000;
  t = await startTestService({ STRIPE_API_URL: stripe.url, REPORTER_RETRY_BASE_SECONDS: '0', STRIPE_TIMEOUT_SECONDS: '0.3', APP_URL: 'https://meterbridge.example' });
  deliverStripeEventsTo(stripe, t);
  await t.service.accounts.registerAgency(COMPANY, 'Stripe Real Agency');
  await t.service.stripeConnection.connect(COMPANY, 'sk_test_stripeRealKey000001');
}, 120_000);
afterAll(async () => {
  await t.close();
  await stripe.close();
});

let sequence = 0;
function customer(name: string): string {
  const id = `cus_${name}`;
  stripe.state.customers.set(id, { id, object: 'customer', deleted: false, metadata: {} });
  stripe.customers.add(id);
  return id;
}
async function sms(locationId: string, at?: Date) {
  sequence += 1;
  const time = at ? { dateAdded: at.toISOString(), timestamp: at.toISOString() } : {};
  await t.postSigned({ ...fixture('sms-outbound'), locationId, webhookId: `stripe-real-${sequence}`, ...time }).expect(200);
}
const unitsIn = (customerId: string) => stripe.events.filter((e) => e.customer === customerId).reduce((sum, e) => sum + Number(e.value), 0);
async function statuses(prefix: string) {
  return selectRows<{ status: string; n: number }>(
    t.database.db,
    sql`select status, count(*)::int as n from meter_batches where stripe_customer_id like ${`${prefix}%`} group by 1 order by 1`,
  );
}

it('when customers are deleted in Stripe, then error reports mark their batches rejected, and re-mapping and resending bills every unit once', async () => {
  const locations = Array.from({ length: SUB_ACCOUNTS }, (_, i) => `locStripeReal${i}`);
  const deleted = new Set<number>();
  for (const [i, locationId] of locations.entries()) {
    const cus = customer(`realDeleted${i}`);
    await setUpBilling(t.service, { companyId: COMPANY, locationId, customer: cus, stripeKey: 'sk_test_stripeRealKey000001', rules: [{ metric: 'sms', threshold: 1 }], as: 'override' });
    // Every other sub-account's customer is deleted, the others billed as usual.
    if (i % 2 === 0) deleted.add(i);
  }
  for (const i of deleted) stripe.state.customers.get(`cus_realDeleted${i}`)!.deleted = true;
  // The SMS arrive in a seeded random order while the reporter ticks now and then.
  const order = locations.flatMap((l) => Array.from({ length: SMS_PER_SUB_ACCOUNT }, () => l)).sort(() => random() - 0.5);
  for (const [n, locationId] of order.entries()) {
    await sms(locationId);
    if (n % 7 === 6) await t.service.reporter.tick();
  }
  await drainReporter(t.service);
  await stripe.flushErrorReports();
  const rejectedAfterReports = await until(async () => {
    const [row] = await selectRows<{ n: number }>(t.database.db, sql`select count(*)::int as n from meter_batches where status = 'rejected'`);
    return row!.n > 0 && stripe.deliveries.every((d) => d.status !== 0) ? row!.n : null;
  });
  const rejectedReports = await selectRows<{ locationId: string; units: number }>(
    t.database.db,
    sql`select location_id as "locationId", sum(units)::int as units from meter_reports where status = 'rejected' group by 1 order by 1`,
  );
  expect(rejectedReports.map((r) => r.locationId).sort()).toEqual([...deleted].map((i) => locations[i]!).sort());

  // The agency maps each affected sub-account to a new customer and resends each rejected batch.
  const remapped = new Map<number, string>();
  for (const i of deleted) {
    remapped.set(i, customer(`realRemapped${i}`));
    await t.service.accounts.mapCustomer(locations[i]!, remapped.get(i)!);
  }
  const token = (await t.service.sessionTokens.issue({ userId: 'u-real', companyId: COMPANY, type: 'agency', role: 'admin', activeLocation: null })).token;
  const rejected = await selectRows<{ id: number; locationId: string }>(
    t.database.db,
    sql`select distinct b.id::int as id, r.location_id as "locationId" from meter_batches b join meter_reports r on r.batch_id = b.id where b.status = 'rejected'`,
  );
  for (const b of rejected) {
    await t.http.post(`/api/sub-accounts/${b.locationId}/meter-batches/${b.id}/retry`).set('authorization', `Bearer ${token}`).expect(200);
  }
  await drainReporter(t.service);
  await stripe.flushErrorReports();

  const lost: string[] = [];
  const doubled: string[] = [];
  for (const [i] of locations.entries()) {
    const billedTo = deleted.has(i) ? remapped.get(i)! : `cus_realDeleted${i}`;
    const units = unitsIn(billedTo);
    if (units < SMS_PER_SUB_ACCOUNT) lost.push(billedTo);
    if (units > SMS_PER_SUB_ACCOUNT) doubled.push(billedTo);
    if (deleted.has(i)) expect(unitsIn(`cus_realDeleted${i}`)).toBe(0);
  }
  expect({ lost, doubled }).toEqual({ lost: [], doubled: [] });
  expect(await statuses('cus_realRemapped')).toEqual([{ status: 'sent', n: expect.any(Number) }]);
  recordFigures('stripe-real: customer deleted', {
    seed: SEED,
    subAccounts: SUB_ACCOUNTS,
    customersDeleted: deleted.size,
    errorReportsDelivered: stripe.deliveries.length,
    batchesRejected: rejectedAfterReports,
    batchesResent: rejected.length,
    lost: lost.length,
    doubled: doubled.length,
  });
});

it('when backfill batches near the 35-day limit are retried two hours later, then each is accepted with a timestamp inside the window', async () => {
  const count = byScale(5, 40);
  const prefix = 'cus_realBackfill';
  for (let i = 0; i < count; i++) {
    await setUpBilling(t.service, { companyId: COMPANY, locationId: `locRealBackfill${i}`, customer: customer(`realBackfill${i}`), stripeKey: 'sk_test_stripeRealKey000001', rules: [{ metric: 'sms', threshold: 1 }], as: 'override' });
    // Crossed 35 days less 30 minutes before the first send, which was two hours ago.
    await sms(`locRealBackfill${i}`, new Date(Date.now() - 2 * 3600_000 - 35 * 86_400_000 + 30 * 60_000));
  }
  // The first send, two hours ago, failed; the data is shifted back two hours as time would have moved on.
  stripe.script = Array.from({ length: count }, () => 500 as const);
  await t.service.reporter.tick();
  await t.database.db.execute(sql`
    update meter_batches set first_sent_at = first_sent_at - interval '2 hours', created_at = created_at - interval '2 hours', next_attempt_at = now()
    where stripe_customer_id like ${`${prefix}%`}`);
  await drainReporter(t.service);
  await stripe.flushErrorReports();

  const rows = await selectRows<{ timestamp: number; sentTimestamp: number; status: string }>(
    t.database.db,
    sql`select timestamp::float8 as timestamp, sent_timestamp::float8 as "sentTimestamp", status from meter_batches where stripe_customer_id like ${`${prefix}%`}`,
  );
  const nowSeconds = Date.now() / 1000;
  // The crossing itself is now outside Stripe's window; what was sent is inside it.
  expect(rows.every((r) => r.timestamp < nowSeconds - 35 * 86_400)).toBe(true);
  expect(rows.filter((r) => r.sentTimestamp < nowSeconds - 35 * 86_400 || r.sentTimestamp > nowSeconds + 300)).toEqual([]);
  expect(rows.map((r) => r.status)).toEqual(Array.from({ length: count }, () => 'sent'));
  const refused = stripe.rejectedEvents.filter((r) => r.customer.startsWith(prefix));
  expect(refused).toEqual([]);
  expect(Array.from({ length: count }, (_, i) => unitsIn(`${prefix}${i}`))).toEqual(Array.from({ length: count }, () => 1));
  recordFigures('stripe-real: backfill retried two hours later', { batches: count, accepted: rows.filter((r) => r.status === 'sent').length, refusedForTimestamp: refused.length });
});

it('when a batch\'s answer was lost and it is still unsettled past the identifier window, then it becomes unconfirmed and is not resent', async () => {
  const count = byScale(4, 30);
  const prefix = 'cus_realLostAnswer';
  for (let i = 0; i < count; i++) {
    await setUpBilling(t.service, { companyId: COMPANY, locationId: `locRealLost${i}`, customer: customer(`realLostAnswer${i}`), stripeKey: 'sk_test_stripeRealKey000001', rules: [{ metric: 'sms', threshold: 1 }], as: 'override' });
    await sms(`locRealLost${i}`);
  }
  // Stripe takes each event, the answers are lost, then a long outage: every resend fails until the window closes.
  stripe.script = [...Array.from({ length: count }, () => 'accept-then-hang' as const)];
  await t.service.reporter.tick();
  const before = stripe.requests.length;
  await t.database.db.execute(sql`
    update meter_batches set first_sent_at = now() - interval '21 hours', next_attempt_at = now(), locked_until = null
    where stripe_customer_id like ${`${prefix}%`}`);
  stripe.clock.advance(21 * 3600);
  await drainReporter(t.service);
  // Stripe would have counted a resend again after its 24 h: one more day, and nothing was sent.
  stripe.clock.advance(4 * 3600);
  await t.service.reporter.tick();

  expect(stripe.requests.length).toBe(before);
  expect(await statuses(prefix)).toEqual([{ status: 'unconfirmed', n: count }]);
  const doubled = Array.from({ length: count }, (_, i) => unitsIn(`${prefix}${i}`)).filter((u) => u > 1).length;
  expect(doubled).toBe(0);
  recordFigures('stripe-real: lost answer past the identifier window', { batches: count, resent: stripe.requests.length - before, unconfirmed: count, doubled });
});

/** Polls `check` every 20 ms until it returns non-null (10 s at most). */
async function until<T>(check: () => Promise<T | null>): Promise<T> {
  for (const started = Date.now(); ; await new Promise((resolve) => setTimeout(resolve, 20))) {
    const value = await check();
    if (value !== null) return value;
    if (Date.now() - started > 10_000) throw new Error('condition not reached in 10 s');
  }
}
