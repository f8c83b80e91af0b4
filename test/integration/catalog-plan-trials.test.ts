import { TEST_STRIPE_KEY } from '../support/billing';
import { startStripeStub, type StripeJson, type StripeStub } from '../support/stripe-stub';
import { startTestService, type TestService } from '../support/test-service';

/**
 * A plan's trial and its archiving, through the settings API against the Stripe double: a new subscription on a plan
 * with a trial starts `trialing` for that many days (Stripe `trial_period_days`); an archived plan can no longer be
 * assigned, its Stripe prices and product go inactive unless something else uses them, and the sub-accounts already on
 * it keep their subscription as it is.
 */
const COMPANY = 'companyPlanTrials0001';
const [L1, L2, L3, L4, L5] = ['locTrial01', 'locTrial02', 'locTrial03', 'locTrial04', 'locTrial05'];

let t: TestService;
let stripe: StripeStub;
let token = '';
const api = (method: 'get' | 'put' | 'post' | 'delete', path: string, body?: object) => {
  let req = t.http[method](path).set('authorization', `Bearer ${token}`);
  if (body) req = req.send(body);
  return req;
};
const subscriptionOf = async (locationId: string) => stripe.state.subscriptions.get((await api('get', `/api/sub-accounts/${locationId}`)).body.stripeSubscriptionId)!;
const createCalls = () => stripe.requestLog.filter((r) => r.method === 'POST' && r.path === '/v1/subscriptions');
const DAY = 86_400;

beforeAll(async () => {
  stripe = await startStripeStub();
  t = await startTestService({ STRIPE_API_URL: stripe.url, REPORTER_ENABLED: 'false' });
  await t.service.accounts.registerAgency(COMPANY, 'Trial Agency');
  await t.service.accounts.storeStripeKey(COMPANY, TEST_STRIPE_KEY);
  token = (await t.service.sessionTokens.issue({ userId: 'u-trials', companyId: COMPANY, type: 'agency', role: 'admin', activeLocation: null })).token;
  await api('put', '/api/pricing/sms', { threshold: 1, price: { currency: 'usd', unitAmountDecimal: '2' } }).expect(200);
  await api('put', '/api/defaults', { flatFeeAmount: 4900 }).expect(200);
  for (const locationId of [L1, L2, L3, L4, L5]) {
    await t.service.accounts.registerSubAccount(locationId, COMPANY, `Clinic ${locationId}`);
    await api('put', `/api/sub-accounts/${locationId}/customer`, { create: true }).expect(200);
  }
  await api('put', `/api/sub-accounts/${L2}/billing`, { rebillingEnabled: true }).expect(200);
});
afterAll(async () => {
  await t.close();
  await stripe.close();
});

describe('a plan with a trial', () => {
  let trial: { id: number; trialDays: number; stripeBasePriceId: string };

  it('when a plan is created with 14 trial days, then the plan says so', async () => {
    trial = (await api('post', '/api/catalog/plans', { name: 'Starter trial', currency: 'usd', baseFeeAmount: 3900, trialDays: 14 }).expect(201)).body;
    expect(trial).toMatchObject({ trialDays: 14, archived: false });
    expect((await api('post', '/api/catalog/plans', { name: 'Bad', currency: 'usd', baseFeeAmount: 0, trialDays: 731 }).expect(400)).body.error.code).toBe('invalid_request');
  });

  it('when a sub-account without a subscription is put on it, then Stripe is asked for trial_period_days 14 and the subscription is trialing until then', async () => {
    const before = Math.floor(Date.now() / 1000);
    await api('put', `/api/sub-accounts/${L1}/plan`, { planId: trial.id }).expect(200);
    expect(createCalls().at(-1)!.params.trial_period_days).toBe('14');
    const sub = await subscriptionOf(L1);
    expect(sub.status).toBe('trialing');
    expect(sub.trial_end - sub.trial_start).toBe(14 * DAY);
    expect(sub.trial_start).toBeGreaterThanOrEqual(before);
    expect(sub.items.data.map((i: StripeJson) => i.price.id)).toContain(trial.stripeBasePriceId);
  });

  /** Puts `locationId` on the plan with billing starting in 10 days; returns the schedule's phase and the subscription Stripe starts. */
  const scheduleOnPlan = async (locationId: string, planId: number) => {
    await api('put', `/api/sub-accounts/${locationId}/billing`, { rebillingEnabled: false }).expect(200);
    await api('put', `/api/sub-accounts/${locationId}/plan`, { planId }).expect(200);
    const start = Math.floor(Date.now() / 1000) + 10 * DAY;
    const scheduled = (await api('put', `/api/sub-accounts/${locationId}/billing`, { rebillingEnabled: true, subscription: { startAt: new Date(start * 1000).toISOString() } }).expect(200)).body;
    const schedule = stripe.state.subscriptionSchedules.get(scheduled.stripeSubscriptionScheduleId)!;
    stripe.startSubscriptionSchedule(schedule.id);
    return { start, phase: schedule.phases[0], sub: stripe.state.subscriptions.get(schedule.subscription as string)! };
  };

  it('when a sub-account on it starts later, then the schedule’s phase trials for 14 days from the start, and the subscription Stripe starts is trialing', async () => {
    const { start, phase, sub } = await scheduleOnPlan(L4, trial.id);
    expect([phase.start_date, phase.trial_end]).toEqual([start, start + 14 * DAY]);
    expect([sub.status, sub.trial_end - sub.trial_start]).toEqual(['trialing', 14 * DAY]);
  });

  it('when a trial is longer than a month and the subscription starts later, then Stripe takes the schedule: its phase ends after the trial', async () => {
    // A phase given no end lasts one iteration of its price (a month here), and phases.trial_end must come "before
    // the phase end date" (docs.stripe.com/api/subscription_schedules/create): without an end_date Stripe refuses.
    const long = (await api('post', '/api/catalog/plans', { name: 'Long trial', currency: 'usd', baseFeeAmount: 3900, trialDays: 45 }).expect(201)).body;
    const { start, phase, sub } = await scheduleOnPlan(L5, long.id);
    expect([phase.trial_end, phase.end_date]).toEqual([start + 45 * DAY, start + 46 * DAY]);
    expect([sub.status, sub.trial_end - sub.trial_start]).toEqual(['trialing', 45 * DAY]);
  });

  it('when a sub-account already subscribed moves to it, then its running subscription is updated, with no trial', async () => {
    const sub = await subscriptionOf(L2);
    const creates = createCalls().length;
    await api('put', `/api/sub-accounts/${L2}/plan`, { planId: trial.id, proration: 'none' }).expect(200);
    expect(createCalls()).toHaveLength(creates);
    const after = await subscriptionOf(L2);
    expect([after.id, after.status, after.trial_end]).toEqual([sub.id, sub.status, null]);
  });
});

describe('archiving a plan', () => {
  let pro: { id: number; stripeBasePriceId: string; metrics: Array<{ stripePriceId: string }> };
  let twin: { id: number; stripeBasePriceId: string; metrics: Array<{ stripePriceId: string }> };
  const proInput = { name: 'Pro', currency: 'usd', baseFeeAmount: 9900, metrics: [{ metric: 'sms', includedUnits: 100, overageUnitAmountDecimal: '3' }] };

  beforeAll(async () => {
    pro = (await api('post', '/api/catalog/plans', proInput).expect(201)).body;
    await api('put', `/api/sub-accounts/${L3}/plan`, { planId: pro.id }).expect(200);
  });

  it('when a plan is archived, then it is marked archived, its Stripe prices and product are inactive, and the sub-account on it keeps its subscription', async () => {
    const before = await subscriptionOf(L3);
    const archived = (await api('delete', `/api/catalog/plans/${pro.id}`).expect(200)).body;
    expect(archived).toMatchObject({ id: pro.id, archived: true });
    const base = stripe.state.prices.get(pro.stripeBasePriceId)!;
    expect([base.active, stripe.state.prices.get(pro.metrics[0]!.stripePriceId)!.active, stripe.state.products.get(base.product)!.active]).toEqual([false, false, false]);
    // Stripe keeps archived prices on the subscriptions that have them; a sync changes nothing.
    await t.service.billing.syncSubscription(L3);
    const after = await subscriptionOf(L3);
    expect(after.items.data.map((i: StripeJson) => i.price.id).sort()).toEqual(before.items.data.map((i: StripeJson) => i.price.id).sort());
    expect((await api('get', `/api/sub-accounts/${L3}/plan`)).body).toMatchObject({ planId: pro.id, plan: { archived: true } });
  });

  it('when an archived plan is assigned, or archived again, then 409 plan_archived', async () => {
    expect((await api('put', `/api/sub-accounts/${L2}/plan`, { planId: pro.id }).expect(409)).body.error.code).toBe('plan_archived');
    expect((await api('delete', `/api/catalog/plans/${pro.id}`).expect(409)).body.error.code).toBe('plan_archived');
    expect((await api('delete', '/api/catalog/plans/999999').expect(404)).body.error.code).toBe('plan_not_found');
  });

  it('when the default plan is to be archived, then 409 plan_is_default', async () => {
    const { plans } = (await api('get', '/api/catalog/plans')).body;
    const fallback = plans.find((p: { isDefault: boolean }) => p.isDefault) ?? (await api('post', '/api/catalog/plans', { name: 'Default', currency: 'usd', baseFeeAmount: 4900, isDefault: true }).expect(201)).body;
    expect((await api('delete', `/api/catalog/plans/${fallback.id}`).expect(409)).body.error.code).toBe('plan_is_default');
  });

  it('when a plan whose Stripe prices another plan shares is archived, then those prices stay active', async () => {
    const again = (await api('post', '/api/catalog/plans', proInput).expect(201)).body;
    twin = (await api('post', '/api/catalog/plans', proInput).expect(201)).body;
    expect(twin.stripeBasePriceId).toBe(again.stripeBasePriceId);
    await api('delete', `/api/catalog/plans/${twin.id}`).expect(200);
    expect(stripe.state.prices.get(again.stripeBasePriceId)!.active).toBe(true);
    expect(stripe.state.prices.get(again.metrics[0]!.stripePriceId)!.active).toBe(true);
  });
});
