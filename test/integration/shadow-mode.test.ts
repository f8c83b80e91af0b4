import { sql } from 'drizzle-orm';
import { selectRows } from '../../models/database';
import { findCounter } from '../../server/metering/rules-repository';
import { drainReporter, markSubscribed, TEST_STRIPE_KEY } from '../support/billing';
import { fixture } from '../support/highlevel-fixtures';
import { startStripeStub, type StripeStub } from '../support/stripe-stub';
import { startTestService, type TestService } from '../support/test-service';

/**
 * Shadow mode through the settings API and the webhook intake, Stripe faked by the stub: crossings are computed
 * and priced as "would bill", nothing reaches Stripe; switching to live bills only what crosses afterwards; the
 * backlog is billed once, on request.
 */
const COMPANY = 'companyShadow000001';
const LOCATION = 'locShadow0000000001';
const CUSTOMER = 'cus_ShadowClinic01';

let t: TestService;
let stripe: StripeStub;
let token = '';
let delivery = 0;

const api = (method: 'get' | 'put' | 'post', path: string, body?: object) => {
  let req = t.http[method](path).set('authorization', `Bearer ${token}`);
  if (body) req = req.send(body);
  return req;
};

/** Posts a signed HighLevel delivery of `name` for the sub-account at `at`, with a fresh webhookId. */
async function deliver(name: string, at: string, overrides: Record<string, unknown> = {}): Promise<void> {
  delivery += 1;
  const id = `shadow-${String(delivery).padStart(4, '0')}`;
  const body = { ...fixture(name), locationId: LOCATION, webhookId: id, messageId: `m-${id}`, dateAdded: at, timestamp: at, ...overrides };
  const res = await t.postSigned(body).expect(200);
  expect(res.body.status).toBe('accepted');
}
const sms = (at: string) => deliver('sms-outbound', at);
const call = (at: string, seconds: number) => deliver('call-outbound-completed', at, { callDuration: seconds });

/** The prices, as the agency sets them: SMS 2.5 cents each; call minutes graduated (first 5 at 10, then 4 + 50 once). */
const SMS_PRICE = { threshold: 1, price: { currency: 'usd', interval: 'month', unitAmountDecimal: '2.5' } };
const CALL_PRICE = {
  threshold: 1,
  direction: 'both',
  price: { currency: 'usd', interval: 'month', tiers: [{ upTo: 5, unitAmountDecimal: '10' }, { upTo: 'inf', unitAmountDecimal: '4', flatAmount: 50 }] },
};

/** An independent reference: Stripe's graduated pricing over one period, then rounded half up to whole cents. */
function graduatedCents(units: number): number {
  const first = Math.min(units, 5) * 10;
  const rest = units > 5 ? (units - 5) * 4 + 50 : 0;
  return first + rest;
}
const perUnitCents = (units: number) => Math.round(units * 2.5);

/** What shadow mode saw, per UTC month: SMS count and started call minutes. */
const BACKLOG = {
  '2026-10': { sms: 3, callSeconds: [125, 61] }, // 3 SMS; calls 3 + 2 = 5 minutes
  '2026-11': { sms: 3, callSeconds: [125, 200] }, // 3 SMS; calls 3 + 4 = 7 minutes
};
const minutes = (seconds: number[]) => seconds.reduce((sum, s) => sum + Math.ceil(s / 60), 0);

beforeAll(async () => {
  stripe = await startStripeStub();
  stripe.apiKeys.add(TEST_STRIPE_KEY);
  stripe.customers.add(CUSTOMER);
  t = await startTestService({ STRIPE_API_URL: stripe.url, REPORTER_RETRY_BASE_SECONDS: '0' });
  await t.service.accounts.registerAgency(COMPANY, 'Shadow Agency');
  await t.service.accounts.registerSubAccount(LOCATION, COMPANY, 'Shadow Clinic');
  await t.service.accounts.storeStripeKey(COMPANY, TEST_STRIPE_KEY);
  token = (await t.service.sessionTokens.issue({ userId: 'u-shadow', companyId: COMPANY, type: 'agency', role: 'admin', activeLocation: null })).token;
  expect((await api('put', '/api/pricing/sms', SMS_PRICE)).status).toBe(200);
  expect((await api('put', '/api/pricing/call_minutes', CALL_PRICE)).status).toBe(200);
});
afterAll(async () => {
  await t.close();
  await stripe.close();
});

describe('shadow mode', () => {
  it('when the agency switches a sub-account to shadow, then its detail says so and when', async () => {
    const before = (await api('get', `/api/sub-accounts/${LOCATION}`).expect(200)).body;
    expect(before).toMatchObject({ billingMode: 'live', billingModeChangedAt: null });
    const res = await api('put', `/api/sub-accounts/${LOCATION}/billing-mode`, { mode: 'shadow' }).expect(200);
    expect(res.body.billingMode).toBe('shadow');
    expect(Date.now() - Date.parse(res.body.billingModeChangedAt)).toBeLessThan(60_000);
    const again = await api('put', `/api/sub-accounts/${LOCATION}/billing-mode`, { mode: 'shadow' }).expect(200);
    expect(again.body.billingModeChangedAt).toBe(res.body.billingModeChangedAt);
    const list = (await api('get', '/api/sub-accounts').expect(200)).body;
    expect(list.items).toEqual([expect.objectContaining({ locationId: LOCATION, billingMode: 'shadow', billingModeChangedAt: res.body.billingModeChangedAt })]);
  });

  it('when a shadow sub-account without a Stripe customer crosses thresholds, then nothing reaches Stripe and would-bill equals the reference', async () => {
    for (const [month, { sms: count, callSeconds }] of Object.entries(BACKLOG)) {
      for (let i = 0; i < count; i++) await sms(`${month}-1${i}T09:00:00.000Z`);
      for (const [i, seconds] of callSeconds.entries()) await call(`${month}-2${i}T15:00:00.000Z`, seconds);
    }
    await drainReporter(t.service);
    expect(stripe.requests).toEqual([]);
    expect(stripe.events).toEqual([]);
    const statuses = await selectRows<{ status: string; n: number }>(t.database.db, sql`select status, count(*)::int as n from meter_reports group by 1`);
    expect(statuses).toEqual([{ status: 'shadow', n: 10 }]); // 6 SMS, 4 calls

    const smsUnits = Object.values(BACKLOG).map((m) => m.sms);
    const callUnits = Object.values(BACKLOG).map((m) => minutes(m.callSeconds));
    const smsCents = smsUnits.reduce((sum, u) => sum + perUnitCents(u), 0); // 8 + 8: each month rounded on its own
    const callCents = callUnits.reduce((sum, u) => sum + graduatedCents(u), 0); // 50 + 108: tiers restart each month
    expect([smsCents, callCents]).toEqual([16, 158]);

    const res = await api('get', `/api/sub-accounts/${LOCATION}/would-bill`).expect(200);
    expect(res.body).toMatchObject({
      locationId: LOCATION,
      billingMode: 'shadow',
      currency: 'usd',
      totalCents: String(smsCents + callCents),
      firstCrossedAt: '2026-10-10T09:00:00.000Z',
      lastCrossedAt: '2026-11-21T15:00:00.000Z',
    });
    expect(res.body.metrics).toEqual([
      expect.objectContaining({
        metric: 'call_minutes',
        units: 12,
        priced: true,
        currency: 'usd',
        amountCents: String(callCents),
        threshold: '1',
        months: [
          { month: '2026-10', units: 5, amountCents: '50' },
          { month: '2026-11', units: 7, amountCents: '108' },
        ],
      }),
      expect.objectContaining({
        metric: 'sms',
        units: 6,
        amountCents: String(smsCents),
        firstCrossedAt: '2026-10-10T09:00:00.000Z',
        lastCrossedAt: '2026-11-12T09:00:00.000Z',
        months: [
          { month: '2026-10', units: 3, amountCents: '8' },
          { month: '2026-11', units: 3, amountCents: '8' },
        ],
      }),
    ]);
    expect(res.body.wallet).toBeNull(); // billed postpaid

    // Prepaid: a wallet that started empty would have drawn 0.58 in October and 1.16 in November, topped up each time it
    // fell below 0.50 (1.00 first, then 0.40, never above 1.20): Oct 0→1.00, −0.51→0.49, +0.40, −0.07 = 0.82;
    // Nov −0.33→0.49, +0.40, −0.40→0.49, +0.40, −0.40→0.49, +0.40, −0.03 = 0.86.
    const wallet = { billingMode: 'prepaid', currency: 'usd', initialTopUpCents: 100, thresholdCents: 50, topUpCents: 40, maxBalanceCents: 120, monthlyCapCents: null };
    await api('put', `/api/sub-accounts/${LOCATION}/wallet/settings`, wallet).expect(200);
    expect((await api('get', `/api/sub-accounts/${LOCATION}/would-bill`).expect(200)).body.wallet).toEqual({
      drawnCents: 174, topUps: 5, topUpCents: 260, endBalanceCents: 86,
      months: [
        { month: '2026-10', drawnCents: 58, topUps: 2, topUpCents: 140, endBalanceCents: 82 },
        { month: '2026-11', drawnCents: 116, topUps: 3, topUpCents: 120, endBalanceCents: 86 },
      ],
    });
    await api('put', `/api/sub-accounts/${LOCATION}/wallet/settings`, { ...wallet, billingMode: 'postpaid' }).expect(200);

    // Shadow units are not billed units: the usage screens and the meter-report log leave them out.
    const usage = (await api('get', `/api/sub-accounts/${LOCATION}/usage?from=2026-10-01&to=2026-11-30`).expect(200)).body;
    expect(usage.totals.find((m: { metric: string }) => m.metric === 'sms')).toMatchObject({ records: 6, unitsBilled: 0, unitsSent: 0 });
    expect((await api('get', `/api/sub-accounts/${LOCATION}/meter-reports`).expect(200)).body.total).toBe(0);
  });

  it('when the backlog is billed while the sub-account has no Stripe customer, then 409 no_customer and nothing changes', async () => {
    const res = await api('post', `/api/sub-accounts/${LOCATION}/would-bill/bill`).expect(409);
    expect(res.body.error).toEqual({ code: 'no_customer', message: expect.stringContaining('no Stripe customer') });
    expect((await api('get', `/api/sub-accounts/${LOCATION}/would-bill`).expect(200)).body.totalCents).toBe('174');
  });

  it('when the agency maps a customer and switches to live, then only crossings from that moment on reach Stripe', async () => {
    await t.service.accounts.mapCustomer(LOCATION, CUSTOMER);
    await markSubscribed(t.database.db, LOCATION); // else its priced usage is held, not sent
    expect((await api('put', `/api/sub-accounts/${LOCATION}/billing-mode`, { mode: 'live' }).expect(200)).body.billingMode).toBe('live');
    await drainReporter(t.service);
    expect(stripe.events).toEqual([]);

    await sms('2026-11-25T09:00:00.000Z');
    await sms('2026-11-25T09:05:00.000Z');
    await call('2026-11-25T10:00:00.000Z', 90);
    await drainReporter(t.service);
    expect(stripe.events.map((e) => [e.eventName, e.customer, e.value]).sort()).toEqual([
      ['meterbridge_call_minutes', CUSTOMER, '2'],
      ['meterbridge_sms', CUSTOMER, '2'],
    ]);
    expect(await findCounter(t.database.db, LOCATION, 'sms')).toEqual({ total: '8.000000', billedUnits: 8 });
    expect((await api('get', `/api/sub-accounts/${LOCATION}/would-bill`).expect(200)).body).toMatchObject({ billingMode: 'live', totalCents: '174' });
  });

  it('when the agency bills the backlog, twice, then exactly the backlog units reach Stripe once', async () => {
    const sentBefore = stripe.totals();
    const first = await api('post', `/api/sub-accounts/${LOCATION}/would-bill/bill`).expect(200);
    expect(first.body).toEqual({
      locationId: LOCATION,
      stripeCustomerId: CUSTOMER,
      reports: 10,
      metrics: [
        { metric: 'call_minutes', units: 12, reports: 4 },
        { metric: 'sms', units: 6, reports: 6 },
      ],
    });
    const second = await api('post', `/api/sub-accounts/${LOCATION}/would-bill/bill`).expect(200);
    expect(second.body).toEqual({ locationId: LOCATION, stripeCustomerId: CUSTOMER, reports: 0, metrics: [] });
    await drainReporter(t.service);
    await api('post', `/api/sub-accounts/${LOCATION}/would-bill/bill`).expect(200);
    await drainReporter(t.service);

    const added = (key: string) => (stripe.totals().get(key) ?? 0) - (sentBefore.get(key) ?? 0);
    expect(added(`${CUSTOMER}|meterbridge_sms`)).toBe(6);
    expect(added(`${CUSTOMER}|meterbridge_call_minutes`)).toBe(12);
    expect(new Set(stripe.events.map((e) => e.identifier)).size).toBe(stripe.events.length);
    expect((await api('get', `/api/sub-accounts/${LOCATION}/would-bill`).expect(200)).body).toMatchObject({ totalCents: '0', metrics: [], firstCrossedAt: null });
    const statuses = await selectRows<{ status: string; n: number }>(t.database.db, sql`select status, count(*)::int as n from meter_reports group by 1`);
    expect(statuses).toEqual([{ status: 'sent', n: 13 }]); // the backlog's 10 and the 3 live crossings
  });

  it('when a threshold is lowered for a shadow sub-account, then the units it makes due are shadow too', async () => {
    const other = 'locShadow0000000002';
    await t.service.accounts.registerSubAccount(other, COMPANY, 'Shadow Physio');
    await api('put', `/api/sub-accounts/${other}/billing-mode`, { mode: 'shadow' }).expect(200);
    await t.service.rules.setRule({ locationId: other }, { metric: 'sms_segments', threshold: 10 });
    await deliver('sms-outbound-unicode-long', '2026-11-26T09:00:00.000Z', { locationId: other }); // 3 segments, no crossing yet
    await t.service.rules.setRule({ locationId: other }, { metric: 'sms_segments', threshold: 1 }); // 3 due at once
    const sentBefore = stripe.events.length;
    await drainReporter(t.service);
    expect(stripe.events.length).toBe(sentBefore);
    const res = await api('get', `/api/sub-accounts/${other}/would-bill`).expect(200);
    expect(res.body.metrics.map((m: { metric: string; units: number; priced: boolean }) => [m.metric, m.units, m.priced])).toEqual([
      ['sms', 1, true],
      ['sms_segments', 3, false],
    ]);
  });
});
