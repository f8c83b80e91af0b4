import { sql } from 'drizzle-orm';
import Stripe from 'stripe';
import { startStripeStub, type StripeJson, type StripeStub } from '../support/stripe-stub';
import { TEST_STRIPE_KEY } from '../support/billing';
import { startTestService, type TestService } from '../support/test-service';

/**
 * A subscription that starts later, through the settings API against the Stripe double: it is a Stripe subscription
 * schedule (customer, start_date, end_behavior release, one phase with the items), never a `billing_cycle_anchor`;
 * the sub-account is "scheduled" until Stripe starts it; then Meterbridge adopts the subscription and releases the
 * schedule. Price changes before the start go to the schedule's phase.
 */
const COMPANY = 'companySched0000001';
const L1 = 'locSchedLater000001';
const L2 = 'locSchedNow00000002';
const DAY = 86_400_000;

let t: TestService;
let stripe: StripeStub;
let token = '';

const api = (method: 'get' | 'put' | 'post', path: string, body?: object) => {
  let req = t.http[method](path).set('authorization', `Bearer ${token}`);
  if (body) req = req.send(body);
  return req;
};
const detail = async (locationId: string) => (await api('get', `/api/sub-accounts/${locationId}`).expect(200)).body;
const priceIdOf = (amount: string) => [...stripe.state.prices.values()].find((p) => p.unit_amount_decimal === amount && p.active)!.id;

beforeAll(async () => {
  stripe = await startStripeStub();
  stripe.apiKeys.add(TEST_STRIPE_KEY);
  t = await startTestService({ STRIPE_API_URL: stripe.url, REPORTER_ENABLED: 'false' });
  await t.service.accounts.registerAgency(COMPANY, 'Schedule Agency');
  await t.service.accounts.registerSubAccount(L1, COMPANY, 'Later Clinic');
  await t.service.accounts.registerSubAccount(L2, COMPANY, 'Now Clinic');
  await t.service.accounts.storeStripeKey(COMPANY, TEST_STRIPE_KEY);
  token = (await t.service.sessionTokens.issue({ userId: 'u-sched', companyId: COMPANY, type: 'agency', role: 'admin', activeLocation: null })).token;
  await api('put', '/api/pricing/sms', { threshold: 1, price: { currency: 'usd', unitAmountDecimal: '2' } }).expect(200);
  for (const locationId of [L1, L2]) await api('put', `/api/sub-accounts/${locationId}/customer`, { create: true }).expect(200);
  // Set-up only (a database, migrations, a few Stripe calls): allowed more than a test's 30 s on a loaded machine.
}, 90_000);
afterAll(async () => {
  await t.close();
  await stripe.close();
});

describe('a subscription that starts later', () => {
  const startAt = new Date(Date.now() + 45 * DAY); // past the next natural monthly billing date: no anchor could do it
  let scheduleId = '';

  it('when the start is in the future, then a subscription schedule is created and no subscription, no anchor', async () => {
    stripe.seedCoupon({ id: 'LATER10', percent_off: 10 });
    const res = await api('put', `/api/sub-accounts/${L1}/billing`, { subscription: { startAt: startAt.toISOString(), coupon: 'LATER10' } }).expect(200);
    expect(res.body).toMatchObject({ scheduled: true, stripeSubscriptionId: null, subscriptionStartsAt: new Date(Math.floor(startAt.getTime() / 1000) * 1000).toISOString() });
    scheduleId = res.body.stripeSubscriptionScheduleId;
    expect(scheduleId).toMatch(/^sub_sched_/);
    const create = stripe.requestLog.find((r) => r.method === 'POST' && r.path === '/v1/subscription_schedules')!;
    expect(create.params).toMatchObject({
      customer: res.body.stripeCustomerId,
      start_date: String(Math.floor(startAt.getTime() / 1000)),
      end_behavior: 'release',
      phases: [{ items: [{ price: priceIdOf('2') }], discounts: [{ coupon: 'LATER10' }], automatic_tax: { enabled: 'false' }, metadata: { meterbridge_location_id: L1 } }],
    });
    expect(stripe.state.subscriptionSchedules.get(scheduleId)).toMatchObject({ status: 'not_started', subscription: null });
    expect(stripe.state.subscriptions.size).toBe(0);
    expect(stripe.requestLog.some((r) => r.params.billing_cycle_anchor !== undefined)).toBe(false);
  });

  it('when the agency lists its sub-accounts before the start, then this one is scheduled with its start date', async () => {
    const items = (await api('get', '/api/sub-accounts').expect(200)).body.items;
    expect(items.find((r: { locationId: string }) => r.locationId === L1)).toMatchObject({ scheduled: true, stripeSubscriptionScheduleId: scheduleId });
    expect(items.find((r: { locationId: string }) => r.locationId === L2)).toMatchObject({ scheduled: false, subscriptionStartsAt: null });
    // Reading before the start date asks Stripe nothing about the schedule.
    const from = stripe.requestLog.length;
    await detail(L1);
    expect(stripe.requestLog.slice(from).filter((r) => r.path.startsWith('/v1/subscription_schedules'))).toEqual([]);
  });

  it('when a price changes before the start, then the schedule phase carries the new price', async () => {
    await api('put', '/api/pricing/sms', { threshold: 1, price: { currency: 'usd', unitAmountDecimal: '3' } }).expect(200);
    const schedule = stripe.state.subscriptionSchedules.get(scheduleId)!;
    expect(schedule.status).toBe('not_started');
    expect(schedule.phases[0].items.map((i: StripeJson) => i.price)).toEqual([priceIdOf('3')]);
    expect(schedule.phases[0].start_date).toBe(Math.floor(startAt.getTime() / 1000));
  });

  it('when the start is moved to a past time while scheduled, then 400 invalid_start_date and nothing changes', async () => {
    const res = await api('put', `/api/sub-accounts/${L1}/billing`, { rebillingEnabled: false, subscription: { startAt: new Date(Date.now() - DAY).toISOString() } }).expect(400);
    expect(res.body.error.code).toBe('invalid_start_date');
    expect(stripe.state.subscriptionSchedules.get(scheduleId)!.phases[0].start_date).toBe(Math.floor(startAt.getTime() / 1000));
    expect((await detail(L1)).rebillingEnabled).toBe(true);
  });

  it('when Stripe starts it, then the next read adopts its subscription and releases the schedule', async () => {
    stripe.startSubscriptionSchedule(scheduleId);
    const subscriptionId = stripe.state.subscriptionSchedules.get(scheduleId)!.subscription as string;
    expect(stripe.state.subscriptions.get(subscriptionId)).toMatchObject({ status: 'active', schedule: scheduleId });
    // The start date is still ahead on our clock: a read does not ask Stripe; the next sync does.
    expect((await detail(L1)).scheduled).toBe(true);
    const synced = (await api('put', `/api/sub-accounts/${L1}/billing`, { rebillingEnabled: true }).expect(200)).body;
    expect(synced).toMatchObject({ scheduled: false, stripeSubscriptionId: subscriptionId, stripeSubscriptionScheduleId: null, subscriptionStartsAt: null });
    expect(stripe.state.subscriptionSchedules.get(scheduleId)).toMatchObject({ status: 'released', released_subscription: subscriptionId, subscription: null });
    const sub = stripe.state.subscriptions.get(subscriptionId)!;
    expect(sub.items.data.map((i: StripeJson) => i.price.id)).toEqual([priceIdOf('3')]);
    expect(sub.metadata).toMatchObject({ meterbridge_location_id: L1, meterbridge_company_id: COMPANY });
    expect(sub.discounts.length).toBe(1);
  });

  it('when a price changes after the adoption, then the subscription itself is updated', async () => {
    await api('put', '/api/pricing/sms', { threshold: 1, price: { currency: 'usd', unitAmountDecimal: '4' } }).expect(200);
    const sub = stripe.state.subscriptions.get((await detail(L1)).stripeSubscriptionId)!;
    expect(sub.items.data.map((i: StripeJson) => i.price.id)).toEqual([priceIdOf('4')]);
  });

  it('when the start date has passed by the time it is read, then the read itself adopts the subscription', async () => {
    const later = new Date(Date.now() + 3 * DAY);
    const scheduled = (await api('put', `/api/sub-accounts/${L2}/billing`, { subscription: { startAt: later.toISOString() } }).expect(200)).body;
    stripe.startSubscriptionSchedule(scheduled.stripeSubscriptionScheduleId);
    // Stripe's clock reached the start: on ours, the stored start date is now in the past.
    await t.database.db.execute(sql`update sub_accounts set subscription_starts_at = now() - interval '1 minute' where location_id = ${L2}`);
    const read = await detail(L2);
    expect(read).toMatchObject({ scheduled: false, stripeSubscriptionScheduleId: null, stripeSubscriptionId: expect.stringMatching(/^sub_/) });
  });
});

describe('a schedule canceled in Stripe before it starts', () => {
  const L4 = 'locSchedCancel00005';
  it('when a price change resyncs it, then it is forgotten with the reason, and no subscription is made behind the agency', async () => {
    await t.service.accounts.registerSubAccount(L4, COMPANY, 'Cancel Clinic');
    await api('put', `/api/sub-accounts/${L4}/customer`, { create: true }).expect(200);
    const scheduled = (await api('put', `/api/sub-accounts/${L4}/billing`, { subscription: { startAt: new Date(Date.now() + 20 * DAY).toISOString() } }).expect(200)).body;
    const client = new Stripe(TEST_STRIPE_KEY, { host: '127.0.0.1', port: Number(new URL(stripe.url).port), protocol: 'http' });
    await client.subscriptionSchedules.cancel(scheduled.stripeSubscriptionScheduleId);
    const subscriptions = stripe.state.subscriptions.size;
    await api('put', '/api/pricing/sms', { threshold: 1, price: { currency: 'usd', unitAmountDecimal: '5' } }).expect(200);
    const after = await detail(L4);
    expect(after).toMatchObject({ scheduled: false, stripeSubscriptionScheduleId: null, stripeSubscriptionId: null });
    expect(after.billingStatusReason).toContain('canceled in Stripe before it started');
    expect(stripe.state.subscriptions.size).toBe(subscriptions);
    expect(stripe.state.subscriptionSchedules.get(scheduled.stripeSubscriptionScheduleId)!.status).toBe('canceled');
  });
});

describe('a scheduled start with Stripe Tax', () => {
  const L3 = 'locSchedTax00000004';
  beforeAll(async () => {
    await t.service.accounts.registerSubAccount(L3, COMPANY, 'Tax Later Clinic');
    await api('put', `/api/sub-accounts/${L3}/customer`, { create: true }).expect(200);
  });
  const startAt = () => new Date(Date.now() + 10 * DAY).toISOString();

  it('when Stripe Tax is not active, then 409 and no schedule is made', async () => {
    const count = stripe.state.subscriptionSchedules.size;
    const res = await api('put', `/api/sub-accounts/${L3}/billing`, { subscription: { startAt: startAt(), automaticTax: true, billingAddress: { country: 'US', postalCode: '97712' } } }).expect(409);
    expect(res.body.error.code).toBe('stripe_tax_inactive');
    expect(stripe.state.subscriptionSchedules.size).toBe(count);
  });

  it('when it is active and the address given, then the phase has automatic tax and so has the subscription Stripe starts', async () => {
    stripe.taxSettings = { ...stripe.taxSettings, head_office: { address: { country: 'US', postal_code: '94107' } }, status: 'active', status_details: { active: {} } };
    const res = await api('put', `/api/sub-accounts/${L3}/billing`, { subscription: { startAt: startAt(), automaticTax: true, billingAddress: { country: 'US', postalCode: '97712' } } }).expect(200);
    expect(res.body).toMatchObject({ scheduled: true, automaticTax: true });
    const schedule = stripe.state.subscriptionSchedules.get(res.body.stripeSubscriptionScheduleId)!;
    expect(schedule.phases[0].automatic_tax.enabled).toBe(true);
    stripe.startSubscriptionSchedule(schedule.id);
    const adopted = (await api('put', `/api/sub-accounts/${L3}/billing`, {}).expect(200)).body;
    expect(adopted).toMatchObject({ scheduled: false, automaticTax: true });
    expect(stripe.state.subscriptions.get(adopted.stripeSubscriptionId)!.automatic_tax.enabled).toBe(true);
  });
});

describe('a start date that is not in the future', () => {
  it('when the start is now or past and there is no subscription, then a subscription starts now', async () => {
    await t.service.accounts.registerSubAccount('locSchedPast0000003', COMPANY, 'Past Clinic');
    await api('put', '/api/sub-accounts/locSchedPast0000003/customer', { create: true }).expect(200);
    const res = await api('put', '/api/sub-accounts/locSchedPast0000003/billing', { subscription: { startAt: new Date(Date.now() - DAY).toISOString() } }).expect(200);
    expect(res.body).toMatchObject({ scheduled: false, stripeSubscriptionId: expect.stringMatching(/^sub_/) });
  });

  it('when the start is not a date with a zone, then 400 and nothing is created', async () => {
    const count = stripe.state.subscriptionSchedules.size;
    await api('put', `/api/sub-accounts/${L1}/billing`, { subscription: { startAt: 'next monday' } }).expect(400);
    expect(stripe.state.subscriptionSchedules.size).toBe(count);
  });
});
