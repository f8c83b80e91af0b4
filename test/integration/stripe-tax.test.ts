import { sql } from 'drizzle-orm';
import Stripe from 'stripe';
import { startStripeStub, type StripeJson, type StripeStub } from '../support/stripe-stub';
import { TEST_STRIPE_KEY } from '../support/billing';
import { startTestService, type TestService } from '../support/test-service';

/**
 * Tax as Stripe defines it, through the settings API against the Stripe double:
 * - every price Meterbridge creates carries the agency's `tax_behavior` (exclusive by default); changing the setting
 *   makes new prices (Stripe never changes it on a price) and moves the subscriptions onto them;
 * - automatic tax is switched on only with active Stripe Tax settings and a located customer, each refused with a
 *   clear message otherwise, and nothing is changed by a refused request;
 * - the sub-account's automatic-tax state is returned, so an unrelated update keeps it.
 */
const COMPANY = 'companyTax000000001';
const L1 = 'locTaxHarbor0000001';
const L2 = 'locTaxBay0000000002';

let t: TestService;
let stripe: StripeStub;
let token = '';

const api = (method: 'get' | 'put' | 'post', path: string, body?: object) => {
  let req = t.http[method](path).set('authorization', `Bearer ${token}`);
  if (body) req = req.send(body);
  return req;
};
const subscriptionOf = async (locationId: string) => stripe.state.subscriptions.get((await api('get', `/api/sub-accounts/${locationId}`)).body.stripeSubscriptionId)!;
const pricesOf = (sub: StripeJson) => sub.items.data.map((i: StripeJson) => stripe.state.prices.get(i.price.id)!);
const activateStripeTax = () => {
  stripe.taxSettings = { ...stripe.taxSettings, head_office: { address: { country: 'US', postal_code: '94107' } }, status: 'active', status_details: { active: {} } };
};

beforeAll(async () => {
  stripe = await startStripeStub();
  stripe.apiKeys.add(TEST_STRIPE_KEY);
  t = await startTestService({ STRIPE_API_URL: stripe.url, REPORTER_ENABLED: 'false' });
  await t.service.accounts.registerAgency(COMPANY, 'Tax Agency');
  await t.service.accounts.registerSubAccount(L1, COMPANY, 'Harbor Dental');
  await t.service.accounts.registerSubAccount(L2, COMPANY, 'Bay Physio');
  await t.service.accounts.storeStripeKey(COMPANY, TEST_STRIPE_KEY);
  token = (await t.service.sessionTokens.issue({ userId: 'u-tax', companyId: COMPANY, type: 'agency', role: 'admin', activeLocation: null })).token;
  await api('put', '/api/pricing/sms', { threshold: 1, price: { currency: 'usd', unitAmountDecimal: '2' } }).expect(200);
  await api('put', '/api/defaults', { flatFeeAmount: 4900 }).expect(200);
  for (const locationId of [L1, L2]) await api('put', `/api/sub-accounts/${locationId}/customer`, { create: true }).expect(200);
  // L2 has its own email price (an override with a price of its own).
  await api('put', `/api/sub-accounts/${L2}/billing`, { overrides: [{ metric: 'email', threshold: 1, price: { currency: 'usd', unitAmountDecimal: '0.5' } }] }).expect(200);
  await api('put', `/api/sub-accounts/${L1}/billing`, { rebillingEnabled: true }).expect(200);
  // Set-up only (a database, migrations, a few Stripe calls): allowed more than a test's 30 s on a loaded machine.
}, 90_000);
afterAll(async () => {
  await t.close();
  await stripe.close();
});

describe('tax behavior of prices', () => {
  it('when nothing is set, then the agency is exclusive and every price Meterbridge made says so in Stripe', async () => {
    expect((await api('get', '/api/pricing')).body.taxBehavior).toBe('exclusive');
    const prices = [...stripe.state.prices.values()];
    expect(prices.length).toBe(3); // sms default, flat fee, L2's email override
    expect(prices.map((p) => p.tax_behavior)).toEqual(['exclusive', 'exclusive', 'exclusive']);
  });

  it('when the agency switches to inclusive, then each price is made anew as inclusive and both subscriptions move to them', async () => {
    const before = new Set(stripe.state.prices.keys());
    const grid = (await api('put', '/api/defaults', { taxBehavior: 'inclusive' }).expect(200)).body;
    expect(grid.taxBehavior).toBe('inclusive');
    const created = [...stripe.state.prices.values()].filter((p) => !before.has(p.id));
    expect(created.map((p) => [p.tax_behavior, p.unit_amount_decimal]).sort()).toEqual([['inclusive', '0.5'], ['inclusive', '2'], ['inclusive', '4900']]);
    // Stripe keeps the exclusive ones as they were: their behavior never changes.
    for (const id of before) expect(stripe.state.prices.get(id)!.tax_behavior).toBe('exclusive');
    for (const locationId of [L1, L2]) {
      const prices = pricesOf(await subscriptionOf(locationId));
      expect(prices.length).toBe(locationId === L1 ? 2 : 3);
      expect(prices.every((p: StripeJson) => p.tax_behavior === 'inclusive')).toBe(true);
    }
    expect(grid.rows.find((r: { metric: string }) => r.metric === 'sms').stripePriceId).toBe(created.find((p) => p.unit_amount_decimal === '2')!.id);
  });

  it('when the same behavior is set again, then nothing is created in Stripe', async () => {
    const count = stripe.state.prices.size;
    await api('put', '/api/defaults', { taxBehavior: 'inclusive' }).expect(200);
    expect(stripe.state.prices.size).toBe(count);
  });

  it('when a new price is set after the switch, then it is inclusive too', async () => {
    await api('put', '/api/pricing/mms', { threshold: 1, price: { currency: 'usd', unitAmountDecimal: '3' } }).expect(200);
    const mms = [...stripe.state.prices.values()].find((p) => p.unit_amount_decimal === '3')!;
    expect(mms.tax_behavior).toBe('inclusive');
  });

  it('when a price predates tax behavior (unspecified) and the setting is sent again, then it is replaced and the subscription moved', async () => {
    const smsRule = (await api('get', '/api/pricing')).body.rows.find((r: { metric: string }) => r.metric === 'sms');
    const inclusive = stripe.state.prices.get(smsRule.stripePriceId)!;
    // A price made the way Meterbridge made them before: no tax_behavior, so Stripe keeps it `unspecified`.
    const legacy = await new Stripe(TEST_STRIPE_KEY, { host: '127.0.0.1', port: Number(new URL(stripe.url).port), protocol: 'http' }).prices.create({
      currency: 'usd',
      unit_amount: 2,
      recurring: { interval: 'month', usage_type: 'metered', meter: inclusive.recurring.meter },
      product_data: { name: 'SMS messages' },
    });
    expect(legacy.tax_behavior).toBe('unspecified');
    await t.database.db.execute(sql`update rebilling_rules set stripe_price_id = ${legacy.id} where company_id = ${COMPANY} and location_id is null and metric = 'sms'`);
    await t.service.billing.resyncSubscriptions(COMPANY);
    expect(pricesOf(await subscriptionOf(L1)).map((p: StripeJson) => p.id)).toContain(legacy.id);

    const count = stripe.state.prices.size;
    await api('put', '/api/defaults', { taxBehavior: 'inclusive' }).expect(200);
    expect(stripe.state.prices.size).toBe(count); // the inclusive price with these terms exists: found, not made again
    expect((await api('get', '/api/pricing')).body.rows.find((r: { metric: string }) => r.metric === 'sms').stripePriceId).toBe(inclusive.id);
    const prices = pricesOf(await subscriptionOf(L1)).map((p: StripeJson) => p.id);
    expect(prices).toContain(inclusive.id);
    expect(prices).not.toContain(legacy.id);
  });

  it('when the value is not inclusive or exclusive, then 400 and the setting stays', async () => {
    const res = await api('put', '/api/defaults', { taxBehavior: 'included' }).expect(400);
    expect(res.body.error.code).toBeDefined();
    expect((await api('get', '/api/pricing')).body.taxBehavior).toBe('inclusive');
  });
});

describe('automatic tax', () => {
  it('when Stripe Tax is not active, then 409 stripe_tax_inactive names what to do, and nothing changes', async () => {
    const before = await subscriptionOf(L1);
    const res = await api('put', `/api/sub-accounts/${L1}/billing`, { rebillingEnabled: false, subscription: { automaticTax: true, billingAddress: { country: 'US', postalCode: '97712' } } }).expect(409);
    expect(res.body.error).toMatchObject({ code: 'stripe_tax_inactive', message: expect.stringContaining('head_office') });
    expect(res.body.error.message).toContain('Settings → Tax');
    const detail = (await api('get', `/api/sub-accounts/${L1}`)).body;
    expect(detail).toMatchObject({ rebillingEnabled: true, automaticTax: false });
    expect(stripe.state.customers.get(detail.stripeCustomerId)!.address).toBeNull();
    expect((await subscriptionOf(L1)).automatic_tax.enabled).toBe(before.automatic_tax.enabled);
  });

  it('when the customer has no location and none is given, then 422 customer_location_required', async () => {
    activateStripeTax();
    const res = await api('put', `/api/sub-accounts/${L1}/billing`, { subscription: { automaticTax: true } }).expect(422);
    expect(res.body.error).toMatchObject({ code: 'customer_location_required', message: expect.stringContaining('billingAddress') });
    expect((await subscriptionOf(L1)).automatic_tax.enabled).toBe(false);
  });

  it('when the billing address is malformed, then 400 and nothing is sent to Stripe', async () => {
    const from = stripe.requestLog.length;
    await api('put', `/api/sub-accounts/${L1}/billing`, { subscription: { automaticTax: true, billingAddress: { country: 'usa', postalCode: '97712' } } }).expect(400);
    expect(stripe.requestLog.slice(from).filter((r) => r.method === 'POST')).toEqual([]);
  });

  it('when a billing address comes with it, then it is set on the customer (validated by Stripe Tax) and tax is on', async () => {
    const res = await api('put', `/api/sub-accounts/${L1}/billing`, { subscription: { automaticTax: true, billingAddress: { country: 'US', postalCode: '97712', state: 'OR' } } }).expect(200);
    expect(res.body.automaticTax).toBe(true);
    const update = stripe.requestLog.find((r) => r.method === 'POST' && r.path === `/v1/customers/${res.body.stripeCustomerId}`)!;
    expect(update.params).toMatchObject({ address: { country: 'US', postal_code: '97712', state: 'OR' }, tax: { validate_location: 'immediately' } });
    expect((await subscriptionOf(L1)).automatic_tax.enabled).toBe(true);
  });

  it('when the sub-account is read and then updated without mentioning tax, then tax stays on', async () => {
    expect((await api('get', `/api/sub-accounts/${L1}`)).body.automaticTax).toBe(true);
    const list = (await api('get', '/api/sub-accounts')).body.items;
    expect(list.find((r: { locationId: string }) => r.locationId === L1).automaticTax).toBe(true);
    await api('put', `/api/sub-accounts/${L1}/billing`, { rebillingEnabled: true, subscription: {} }).expect(200);
    await api('put', '/api/pricing/sms', { threshold: 2, price: { currency: 'usd', unitAmountDecimal: '2.5' } }).expect(200);
    expect((await subscriptionOf(L1)).automatic_tax.enabled).toBe(true);
    expect((await api('get', `/api/sub-accounts/${L1}`)).body.automaticTax).toBe(true);
  });

  it('when it is switched off, then Stripe has it off and the sub-account says so', async () => {
    const res = await api('put', `/api/sub-accounts/${L1}/billing`, { subscription: { automaticTax: false } }).expect(200);
    expect(res.body.automaticTax).toBe(false);
    expect((await subscriptionOf(L1)).automatic_tax.enabled).toBe(false);
  });

  it('when the customer already has a location, then no address is needed', async () => {
    const customer = (await api('get', `/api/sub-accounts/${L2}`)).body.stripeCustomerId;
    stripe.state.customers.get(customer)!.address = { country: 'DE', postal_code: '10115', city: 'Berlin', line1: null, line2: null, state: null };
    const res = await api('put', `/api/sub-accounts/${L2}/billing`, { subscription: { automaticTax: true } }).expect(200);
    expect(res.body.automaticTax).toBe(true);
    expect((await subscriptionOf(L2)).automatic_tax.enabled).toBe(true);
  });
});
