import { sql } from 'drizzle-orm';
import nock from 'nock';
import { selectRows } from '../../models/database';
import { drainReporter } from '../support/billing';
import { setUpPaymentsAgency, type PaymentsAgency } from '../support/payments';
import { startStripeStub, type StripeStub } from '../support/stripe-stub';
import { startTestService, type TestService } from '../support/test-service';

/**
 * Regressions of issue 16's defects 2 and 3:
 * - switching rebilling off ended nothing in Stripe (the subscription and its flat fee ran on) while the client's
 *   estimate dropped the fee; now the subscription ends at the end of its period, the estimate keeps the fee that
 *   period already carries, and the next invoice (Stripe's preview) has none;
 * - units were sent for a customer no subscription item covered, shown "OK" and invoiced nowhere; now they are held
 *   (`no_subscription`), shown with the reason, and sent once a subscription covers them.
 */
const COMPANY = 'companyPayDefects001';
const HARBOR = 'locPayDefHarbor00001';
const CEDAR = 'locPayDefCedar000001';
const FIR = 'locPayDefFir00000001';

let t: TestService;
let stripe: StripeStub;
let agency: PaymentsAgency;
const customers: Record<string, string> = {};

const as = (method: 'get' | 'put' | 'post', path: string) => t.http[method](path).set('authorization', `Bearer ${agency.agencyToken}`);
const sentTo = (customer: string) => stripe.events.filter((e) => e.customer === customer).reduce((sum, e) => sum + Number(e.value), 0);
const statuses = async (locationId: string) =>
  Object.fromEntries(
    (await selectRows<{ status: string; units: number }>(t.database.db, sql`select status, sum(units)::int as units from meter_reports where location_id = ${locationId} group by status`)).map((r) => [r.status, r.units]),
  );

beforeAll(async () => {
  stripe = await startStripeStub();
  t = await startTestService({ STRIPE_API_URL: stripe.url, REPORTER_RETRY_BASE_SECONDS: '0' });
  agency = await setUpPaymentsAgency(t, stripe, COMPANY, { flatFeeCents: 4900 });
  customers[HARBOR] = await agency.addSubAccount(HARBOR, 'Harbor Dental');
  customers[CEDAR] = await agency.addSubAccount(CEDAR, 'Cedar Spa');
  await as('put', `/api/sub-accounts/${HARBOR}/billing`).send({ rebillingEnabled: true }).expect(200);
});
afterAll(async () => {
  nock.cleanAll();
  await t.close();
  await stripe.close();
});

describe('defect 2: rebilling switched off', () => {
  const subscription = () => [...stripe.state.subscriptions.values()].find((s) => s.customer === customers[HARBOR])!;

  it('when the agency switches rebilling off, then Stripe ends the subscription at the period’s end, the estimate keeps this period’s fee and the next invoice has none', async () => {
    await agency.recordSms(HARBOR, 10);
    await drainReporter(t.service);
    await as('put', `/api/sub-accounts/${HARBOR}/billing`).send({ rebillingEnabled: false }).expect(200);
    expect(subscription()).toMatchObject({ cancel_at_period_end: true, cancel_at: expect.any(Number) });

    const estimate = (await as('get', `/api/sub-accounts/${HARBOR}/current-period`).expect(200)).body;
    expect(estimate.flatFeeCents).toBe(4900);
    const payments = (await as('get', `/api/sub-accounts/${HARBOR}/payments`).expect(200)).body;
    expect(payments.subscription).toMatchObject({ cancelAtPeriodEnd: true, endsAt: expect.any(String) });
    const next = (await as('get', `/api/sub-accounts/${HARBOR}/next-invoice`).expect(200)).body.invoice;
    expect(next.lines.filter((l: { metered: boolean }) => !l.metered)).toEqual([]);
    expect(next.totalCents).toBe(20); // the usage already sent, 10 units at 2¢: the last invoice
  });

  it('when it is switched on again before the period ends, then the subscription goes on with its fee', async () => {
    await as('put', `/api/sub-accounts/${HARBOR}/billing`).send({ rebillingEnabled: true }).expect(200);
    expect(subscription()).toMatchObject({ cancel_at_period_end: false, cancel_at: null });
    const next = (await as('get', `/api/sub-accounts/${HARBOR}/next-invoice`).expect(200)).body.invoice;
    expect(next.lines.find((l: { metered: boolean }) => !l.metered)).toMatchObject({ amountCents: 4900 });
  });
});

describe('defect 3: usage no subscription invoices', () => {
  it('when a customer has no subscription, then its units are held, not sent, and shown with the reason', async () => {
    await agency.recordSms(CEDAR, 5, new Date(Date.now() - 2 * 3600_000)); // two hours before its subscription starts
    await drainReporter(t.service);
    expect(sentTo(customers[CEDAR]!)).toBe(0);
    expect(await statuses(CEDAR)).toEqual({ held: 5 });
    const held = (await as('get', `/api/sub-accounts/${CEDAR}/payments`).expect(200)).body.held;
    expect(held).toEqual({ metrics: [{ metric: 'sms', units: 5, oldestCrossedAt: expect.any(String), reason: expect.stringContaining('No subscription') }] });
    expect((await as('get', `/api/payments/sub-accounts?locationIds=${CEDAR},${HARBOR}`).expect(200)).body.items).toEqual(
      expect.arrayContaining([expect.objectContaining({ locationId: CEDAR, hasHeldUsage: true }), expect.objectContaining({ locationId: HARBOR, hasHeldUsage: false })]),
    );
    const log = (await as('get', `/api/sub-accounts/${CEDAR}/meter-reports`).expect(200)).body;
    expect(log.counts).toMatchObject({ held: 1, sent: 0 }); // one crossing of 5 units
  });

  it('when a subscription starts, then the held units go to Stripe once, dated inside its period, so its next invoice bills them', async () => {
    await as('put', `/api/sub-accounts/${CEDAR}/billing`).send({ rebillingEnabled: true }).expect(200);
    await drainReporter(t.service);
    expect(sentTo(customers[CEDAR]!)).toBe(5);
    expect(await statuses(CEDAR)).toEqual({ sent: 5 });
    await drainReporter(t.service);
    expect(sentTo(customers[CEDAR]!)).toBe(5);
    // Stripe invoices a meter event in the period its timestamp falls in: dated at the crossing, two hours before the
    // subscription began, the 5 SMS would be taken and invoiced nowhere (docs.stripe.com/billing/subscriptions/usage-based/configure-grace-period).
    const periodStart = [...stripe.state.subscriptions.values()].find((s) => s.customer === customers[CEDAR])!.items.data[0].current_period_start;
    expect(stripe.events.filter((e) => e.customer === customers[CEDAR]).every((e) => e.timestamp >= periodStart)).toBe(true);
    const next = (await as('get', `/api/sub-accounts/${CEDAR}/next-invoice`).expect(200)).body.invoice;
    expect(next.lines.find((l: { metered: boolean }) => l.metered)).toMatchObject({ quantity: 5, amountCents: 10 });
  });

  it('when the subscription lacks the metric’s price, then new units are held with that reason until a sync puts the price on it', async () => {
    await t.database.db.execute(sql`update sub_accounts set subscription_price_ids = '["price_somethingElse"]'::jsonb where location_id = ${CEDAR}`);
    await agency.recordSms(CEDAR, 2);
    await drainReporter(t.service);
    expect(sentTo(customers[CEDAR]!)).toBe(5);
    const held = (await as('get', `/api/sub-accounts/${CEDAR}/payments`).expect(200)).body.held;
    expect(held.metrics[0]).toMatchObject({ units: 2, reason: expect.stringContaining("has no item with this metric's price") });
    await as('put', `/api/sub-accounts/${CEDAR}/billing`).send({}).expect(200);
    await drainReporter(t.service);
    expect(sentTo(customers[CEDAR]!)).toBe(7);
  });
});

describe('a shadow backlog billed', () => {
  it('when a backlog from days before the subscription is billed, then its units are dated when billed, so the next invoice has them', async () => {
    customers[FIR] = await agency.addSubAccount(FIR, 'Fir Physio');
    await as('put', `/api/sub-accounts/${FIR}/billing-mode`).send({ mode: 'shadow' }).expect(200);
    await as('put', `/api/sub-accounts/${FIR}/billing`).send({ rebillingEnabled: true }).expect(200); // its subscription starts now
    await agency.recordSms(FIR, 3, new Date(Date.now() - 10 * 86_400_000)); // usage of ten days ago, counted in shadow
    await t.drain();
    expect((await as('post', `/api/sub-accounts/${FIR}/would-bill/bill`).expect(200)).body).toMatchObject({ metrics: [{ metric: 'sms', units: 3, reports: 1 }] });
    await drainReporter(t.service);
    expect(sentTo(customers[FIR]!)).toBe(3);
    const next = (await as('get', `/api/sub-accounts/${FIR}/next-invoice`).expect(200)).body.invoice;
    expect(next.lines.find((l: { metered: boolean }) => l.metered)).toMatchObject({ quantity: 3, amountCents: 6 });
  });
});
