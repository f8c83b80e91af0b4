import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import { MIGRATIONS_FOLDER } from '../../models/database';
import Stripe from 'stripe';
import { TEST_STRIPE_KEY } from '../support/billing';
import { startStripeStub, type StripeJson, type StripeStub } from '../support/stripe-stub';
import { startTestService, type TestService } from '../support/test-service';

/**
 * Plans through the settings API against the Stripe double: a base fee and a per-metric allowance become a licensed
 * price and a graduated metered price whose first tier is free; the double's invoice preview (invoices.createPreview)
 * for usage below, at and above the allowance is what Stripe's graduated pricing computes; a sub-account's plan change updates its
 * subscription with the proration chosen; today's flat fee becomes the default plan (migration 0015) without any change
 * to what is charged.
 */
const COMPANY = 'companyPlans00000001';
const L1 = 'locPlans01';
const L2 = 'locPlans02';

let t: TestService;
let stripe: StripeStub;
let token = '';
let client: Stripe;
const api = (method: 'get' | 'put' | 'post' | 'delete', path: string, body?: object) => {
  let req = t.http[method](path).set('authorization', `Bearer ${token}`);
  if (body) req = req.send(body);
  return req;
};
const subscriptionOf = async (locationId: string) => stripe.state.subscriptions.get((await api('get', `/api/sub-accounts/${locationId}`)).body.stripeSubscriptionId)!;
const itemPrices = (sub: StripeJson) => sub.items.data.map((i: StripeJson) => i.price.id).sort();

/** Usage as Stripe receives it: `value` units on the metric's meter for the customer (docs.stripe.com/api/billing/meter-event/create). */
async function meterUsage(customer: string, eventName: string, value: number): Promise<void> {
  await client.billing.meterEvents.create({ event_name: eventName, payload: { stripe_customer_id: customer, value: String(value) } });
}

beforeAll(async () => {
  stripe = await startStripeStub();
  client = new Stripe(TEST_STRIPE_KEY, { host: '127.0.0.1', port: Number(new URL(stripe.url).port), protocol: 'http', maxNetworkRetries: 0 });
  t = await startTestService({ STRIPE_API_URL: stripe.url, REPORTER_ENABLED: 'false' });
  await t.service.accounts.registerAgency(COMPANY, 'Plan Agency');
  await t.service.accounts.storeStripeKey(COMPANY, TEST_STRIPE_KEY);
  token = (await t.service.sessionTokens.issue({ userId: 'u-plans', companyId: COMPANY, type: 'agency', role: 'admin', activeLocation: null })).token;
  await api('put', '/api/pricing/sms', { threshold: 1, price: { currency: 'usd', unitAmountDecimal: '2' } }).expect(200);
  await api('put', '/api/defaults', { flatFeeAmount: 4900 }).expect(200);
  for (const locationId of [L1, L2]) {
    await t.service.accounts.registerSubAccount(locationId, COMPANY, `Clinic ${locationId}`);
    await api('put', `/api/sub-accounts/${locationId}/customer`, { create: true }).expect(200);
    await api('put', `/api/sub-accounts/${locationId}/billing`, { rebillingEnabled: true }).expect(200);
  }
});
afterAll(async () => {
  await t.close();
  await stripe.close();
});

describe('the flat fee becomes the default plan', () => {
  it('when migration 0015’s data step runs on an agency with a flat fee, then its default plan has the same price, and a sync changes nothing in Stripe', async () => {
    const file = readdirSync(MIGRATIONS_FOLDER).find((f) => f.endsWith('_catalog.sql'))!;
    const statement = readFileSync(path.join(MIGRATIONS_FOLDER, file), 'utf8').split('--> statement-breakpoint').find((s) => s.includes('INSERT INTO "plans"'))!;
    const before = itemPrices(await subscriptionOf(L1));
    await t.database.db.execute(sql.raw(statement));
    const { plans } = (await api('get', '/api/catalog/plans').expect(200)).body;
    const flatFee = (await api('get', '/api/pricing')).body.flatFee;
    expect(plans).toEqual([expect.objectContaining({ name: 'Default plan', isDefault: true, baseFeeAmount: 4900, stripeBasePriceId: flatFee.priceId, metrics: [] })]);
    const updates = stripe.requestLog.length;
    await t.service.billing.syncSubscription(L1);
    expect(itemPrices(await subscriptionOf(L1))).toEqual(before);
    expect(stripe.requestLog.slice(updates).filter((r) => r.method === 'POST')).toEqual([]);
    expect((await api('get', `/api/sub-accounts/${L1}/plan`).expect(200)).body).toMatchObject({ planId: null, plan: { isDefault: true } });
  });

  it('when the flat fee is changed afterwards, then the default plan follows it', async () => {
    await api('put', '/api/defaults', { flatFeeAmount: 5900 }).expect(200);
    const [plan] = (await api('get', '/api/catalog/plans')).body.plans;
    expect(plan).toMatchObject({ isDefault: true, baseFeeAmount: 5900, stripeBasePriceId: (await api('get', '/api/pricing')).body.flatFee.priceId });
    expect(itemPrices(await subscriptionOf(L1))).toContain(plan.stripeBasePriceId);
  });
});

describe('a plan with a base fee and an allowance', () => {
  let pro: { id: number; stripeBasePriceId: string; metrics: Array<{ stripePriceId: string }> };

  it('when it is created, then Stripe has a licensed base price and a graduated metered price on the metric’s meter, its first tier free', async () => {
    pro = (await api('post', '/api/catalog/plans', { name: 'Pro', currency: 'usd', baseFeeAmount: 9900, metrics: [{ metric: 'sms', includedUnits: 1000, overageUnitAmountDecimal: '1.5' }] }).expect(201)).body;
    expect(pro).toMatchObject({ name: 'Pro', interval: 'month', baseFeeAmount: 9900, isDefault: false, metrics: [{ metric: 'sms', includedUnits: 1000, overageUnitAmountDecimal: '1.5' }] });
    expect(stripe.state.prices.get(pro.stripeBasePriceId)).toMatchObject({ unit_amount: 9900, recurring: expect.objectContaining({ usage_type: 'licensed', interval: 'month' }) });
    const overage = stripe.state.prices.get(pro.metrics[0]!.stripePriceId)!;
    const smsMeter = [...stripe.state.meters.values()].find((m) => m.event_name === 'meterbridge_sms')!;
    expect(overage).toMatchObject({ billing_scheme: 'tiered', tiers_mode: 'graduated', recurring: expect.objectContaining({ usage_type: 'metered', meter: smsMeter.id }) });
    expect(overage.tiers.map((x: StripeJson) => [x.up_to, x.unit_amount_decimal ?? String(x.unit_amount)])).toEqual([[1000, '0'], [null, '1.5']]);
  });

  it('when a sub-account moves to it with proration "always_invoice", then Stripe is asked so, and the items are the plan’s base fee and sms price', async () => {
    const res = (await api('put', `/api/sub-accounts/${L1}/plan`, { planId: pro.id, proration: 'always_invoice' }).expect(200)).body;
    expect(res).toMatchObject({ planId: pro.id, plan: { id: pro.id, name: 'Pro' } });
    const sub = await subscriptionOf(L1);
    expect(itemPrices(sub)).toEqual([pro.stripeBasePriceId, pro.metrics[0]!.stripePriceId].sort());
    const update = stripe.requestLog.filter((r) => r.method === 'POST' && r.path === `/v1/subscriptions/${sub.id}`).at(-1)!;
    expect(update.params.proration_behavior).toBe('always_invoice');
    // The other sub-account stays on the default plan.
    expect((await api('get', `/api/sub-accounts/${L2}/plan`)).body).toMatchObject({ planId: null, plan: { isDefault: true } });
  });

  it('when usage is below, at and above the allowance, then Stripe’s invoice preview is the base fee, the base fee, and the base fee plus the overage', async () => {
    // Graduated tiers (docs.stripe.com/products-prices/pricing-models#graduated-pricing): units 1–1000 at 0, every
    // further unit at 1.5 ¢; the line rounded to a whole cent (docs.stripe.com/billing/subscriptions/decimal-amounts#rounding).
    const sub = await subscriptionOf(L1);
    const overagePrice = pro.metrics[0]!.stripePriceId;
    const preview = async () => {
      const invoice = await client.invoices.createPreview({ customer: sub.customer, subscription: sub.id });
      const line = (price: string) => invoice.lines.data.find((l) => l.pricing?.price_details?.price === price)!;
      return { total: invoice.total, base: line(pro.stripeBasePriceId).amount, sms: [line(overagePrice).quantity, line(overagePrice).amount] };
    };
    await meterUsage(sub.customer, 'meterbridge_sms', 500);
    expect(await preview()).toEqual({ total: 9900, base: 9900, sms: [500, 0] });
    await meterUsage(sub.customer, 'meterbridge_sms', 500);
    expect(await preview()).toEqual({ total: 9900, base: 9900, sms: [1000, 0] });
    await meterUsage(sub.customer, 'meterbridge_sms', 501);
    // 501 units above the allowance × 1.5 ¢ = 751.5 ¢ → 752 ¢.
    expect(await preview()).toEqual({ total: 9900 + 752, base: 9900, sms: [1501, 752] });
  });

  it('when the sub-account goes back to the default plan with proration "none", then the flat fee and the grid’s price return', async () => {
    await api('put', `/api/sub-accounts/${L1}/plan`, { planId: null, proration: 'none' }).expect(200);
    const sub = await subscriptionOf(L1);
    const grid = (await api('get', '/api/pricing')).body;
    expect(itemPrices(sub)).toEqual([grid.flatFee.priceId, grid.rows.find((r: { metric: string }) => r.metric === 'sms').stripePriceId].sort());
    expect(stripe.requestLog.filter((r) => r.method === 'POST' && r.path === `/v1/subscriptions/${sub.id}`).at(-1)!.params.proration_behavior).toBe('none');
  });

  it('when a new default plan is created, then it replaces the old default, becomes the flat fee, and the sub-accounts following the default get its base fee', async () => {
    const basic = (await api('post', '/api/catalog/plans', { name: 'Basic', currency: 'usd', baseFeeAmount: 2900, isDefault: true }).expect(201)).body;
    const listed = (await api('get', '/api/catalog/plans')).body.plans;
    expect(listed.filter((p: { isDefault: boolean }) => p.isDefault).map((p: { id: number }) => p.id)).toEqual([basic.id]);
    expect((await api('get', '/api/pricing')).body.flatFee).toEqual({ amount: 2900, priceId: basic.stripeBasePriceId });
    expect(itemPrices(await subscriptionOf(L2))).toContain(basic.stripeBasePriceId);
  });

  it('when a plan names an unknown metric or an unknown plan is assigned, then 400 unknown_metric / 404 plan_not_found', async () => {
    expect((await api('post', '/api/catalog/plans', { name: 'Bad', currency: 'usd', baseFeeAmount: 0, metrics: [{ metric: 'nope', includedUnits: 1, overageUnitAmountDecimal: '1' }] }).expect(400)).body.error.code).toBe('unknown_metric');
    expect((await api('put', `/api/sub-accounts/${L1}/plan`, { planId: 999_999 }).expect(404)).body.error.code).toBe('plan_not_found');
  });
});

describe('a plan change prorates as chosen', () => {
  // The double prorates as Stripe documents (test/support/stripe/prorations.ts): a fixed fee leaving or joining mid-
  // period is credited or charged for the time left; each step checks what Stripe was asked AND what it bills.
  const L3 = 'locPlans03';
  let growth: { id: number; stripeBasePriceId: string };
  let basicPrice: string;
  const prorationLines = async (subscription: string) =>
    (await client.invoices.createPreview({ subscription })).lines.data
      .filter((l) => l.parent?.subscription_item_details?.proration)
      .map((l) => [l.pricing?.price_details?.price, l.amount]);
  const updateAsked = (subscriptionId: string) => stripe.requestLog.filter((r) => r.method === 'POST' && r.path === `/v1/subscriptions/${subscriptionId}`).at(-1)!.params;
  const updateInvoices = (subscriptionId: string) =>
    [...stripe.state.invoices.values()].filter((i) => i.billing_reason === 'subscription_update' && i.parent?.subscription_details?.subscription === subscriptionId);

  beforeAll(async () => {
    await t.service.accounts.registerSubAccount(L3, COMPANY, 'Clinic L3');
    await api('put', `/api/sub-accounts/${L3}/customer`, { create: true }).expect(200);
    await api('put', `/api/sub-accounts/${L3}/billing`, { rebillingEnabled: true }).expect(200);
    growth = (await api('post', '/api/catalog/plans', { name: 'Growth', currency: 'usd', baseFeeAmount: 6900 }).expect(201)).body;
    basicPrice = (await api('get', '/api/pricing')).body.flatFee.priceId;
  });

  it('when the change is made with "create_prorations", then Stripe is asked so and the next invoice credits the old fee’s unused time and charges the new fee’s', async () => {
    const sub = await subscriptionOf(L3);
    await api('put', `/api/sub-accounts/${L3}/plan`, { planId: growth.id, proration: 'create_prorations' }).expect(200);
    expect(updateAsked(sub.id).proration_behavior).toBe('create_prorations');
    // Changed within seconds of the period's start: the time left is the whole period to the cent.
    expect(await prorationLines(sub.id)).toEqual([[basicPrice, -2900], [growth.stripeBasePriceId, 6900]]);
    expect(updateInvoices(sub.id)).toEqual([]);
  });

  it('when the change is made with "always_invoice", then the prorations are invoiced at once, not left for the next invoice', async () => {
    const sub = await subscriptionOf(L3);
    await api('put', `/api/sub-accounts/${L3}/plan`, { planId: null, proration: 'always_invoice' }).expect(200);
    expect(updateAsked(sub.id).proration_behavior).toBe('always_invoice');
    const [invoice] = updateInvoices(sub.id);
    expect(invoice!.lines.data.map((l: StripeJson) => [l.pricing.price_details.price, l.amount])).toEqual([[growth.stripeBasePriceId, -6900], [basicPrice, 2900]]);
    expect(invoice!.total).toBe(-4000);
    // Only the earlier create_prorations items wait for the next invoice.
    expect(await prorationLines(sub.id)).toEqual([[basicPrice, -2900], [growth.stripeBasePriceId, 6900]]);
  });

  it('when the change is made with "none", then nothing is prorated: the new fee starts with the next period', async () => {
    const sub = await subscriptionOf(L3);
    await api('put', `/api/sub-accounts/${L3}/plan`, { planId: growth.id, proration: 'none' }).expect(200);
    expect(updateAsked(sub.id).proration_behavior).toBe('none');
    expect(itemPrices(await subscriptionOf(L3))).toContain(growth.stripeBasePriceId);
    expect(await prorationLines(sub.id)).toHaveLength(2);
    expect(updateInvoices(sub.id)).toHaveLength(1);
  });
});
