import Stripe from 'stripe';
import { TEST_STRIPE_KEY } from '../support/billing';
import { startStripeStub, type StripeStub } from '../support/stripe-stub';
import { startTestService, type TestService } from '../support/test-service';

/**
 * Coupons through the settings API against the Stripe double (test/support/stripe/coupons.ts): created on the
 * agency's Stripe account with Stripe's rules, listed, archived (deleted in Stripe); applied to and removed from a
 * sub-account's subscription, whose page reads the discount in force and until when.
 */
const COMPANY = 'companyCoupons000001';
const L1 = 'locCoupons01';
const L2 = 'locCoupons02';
const L3 = 'locCoupons03';

let t: TestService;
let stripe: StripeStub;
let client: Stripe;
let token = '';
const api = (method: 'get' | 'put' | 'post' | 'delete', path: string, body?: object) => {
  let req = t.http[method](path).set('authorization', `Bearer ${token}`);
  if (body) req = req.send(body);
  return req;
};

beforeAll(async () => {
  stripe = await startStripeStub();
  client = new Stripe(TEST_STRIPE_KEY, { host: '127.0.0.1', port: Number(new URL(stripe.url).port), protocol: 'http', maxNetworkRetries: 0 });
  t = await startTestService({ STRIPE_API_URL: stripe.url, REPORTER_ENABLED: 'false' });
  await t.service.accounts.registerAgency(COMPANY, 'Coupon Agency');
  await t.service.accounts.storeStripeKey(COMPANY, TEST_STRIPE_KEY);
  token = (await t.service.sessionTokens.issue({ userId: 'u-coupons', companyId: COMPANY, type: 'agency', role: 'admin', activeLocation: null })).token;
  await api('put', '/api/pricing/sms', { threshold: 1, price: { currency: 'usd', unitAmountDecimal: '2' } }).expect(200);
  for (const locationId of [L1, L2, L3]) {
    await t.service.accounts.registerSubAccount(locationId, COMPANY, `Clinic ${locationId}`);
    await api('put', `/api/sub-accounts/${locationId}/customer`, { create: true }).expect(200);
  }
  for (const locationId of [L1, L2]) await api('put', `/api/sub-accounts/${locationId}/billing`, { rebillingEnabled: true }).expect(200);
});
afterAll(async () => {
  await t.close();
  await stripe.close();
});

const subscriptionOf = async (locationId: string) => (await api('get', `/api/sub-accounts/${locationId}`)).body.stripeSubscriptionId as string;

describe('coupons on the agency’s Stripe account', () => {
  it('when coupons of each duration are created, then Stripe has them as asked and the list shows them newest first', async () => {
    const once = await api('post', '/api/catalog/coupons', { name: 'Welcome', percentOff: 25, duration: 'once' }).expect(201);
    const forever = await api('post', '/api/catalog/coupons', { name: 'Partner', amountOff: 1500, currency: 'usd', duration: 'forever', maxRedemptions: 5 }).expect(201);
    const redeemBy = new Date(Date.now() + 30 * 86_400_000).toISOString().replace(/\.\d+Z$/, '.000Z');
    const repeating = await api('post', '/api/catalog/coupons', { name: 'Three months', percentOff: 12.5, duration: 'repeating', durationInMonths: 3, redeemBy }).expect(201);
    expect(stripe.state.coupons.get(once.body.id)).toMatchObject({ name: 'Welcome', percent_off: 25, duration: 'once', metadata: { meterbridge_company_id: COMPANY } });
    expect(stripe.state.coupons.get(forever.body.id)).toMatchObject({ amount_off: 1500, currency: 'usd', duration: 'forever', max_redemptions: 5 });
    expect(repeating.body).toMatchObject({ percentOff: 12.5, duration: 'repeating', durationInMonths: 3, redeemBy, valid: true, timesRedeemed: 0 });
    const listed = (await api('get', '/api/catalog/coupons').expect(200)).body;
    expect(listed.coupons.map((c: { id: string }) => c.id)).toEqual([repeating.body.id, forever.body.id, once.body.id]);
    expect(listed.hasMore).toBe(false);
  });

  it('when a coupon is ill-formed, then the API refuses it before Stripe is called, naming the field', async () => {
    const before = stripe.requestLog.length;
    const both = await api('post', '/api/catalog/coupons', { name: 'Both', percentOff: 10, amountOff: 100, currency: 'usd', duration: 'once' }).expect(400);
    expect(both.body.error).toMatchObject({ code: 'invalid_request', message: expect.stringContaining('either percentOff or amountOff') });
    const noCurrency = await api('post', '/api/catalog/coupons', { name: 'No currency', amountOff: 100, duration: 'once' }).expect(400);
    expect(noCurrency.body.error.message).toContain('amountOff needs a currency');
    const noMonths = await api('post', '/api/catalog/coupons', { name: 'Repeat', percentOff: 10, duration: 'repeating' }).expect(400);
    expect(noMonths.body.error.message).toContain('durationInMonths');
    expect(stripe.requestLog.length).toBe(before);
  });

  it('when Stripe itself refuses a coupon (redeem-by in the past), then its message reaches the caller', async () => {
    const res = await api('post', '/api/catalog/coupons', { name: 'Late', percentOff: 10, duration: 'once', redeemBy: '2020-01-01T00:00:00.000Z' }).expect(400);
    expect(res.body.error).toEqual({ code: 'stripe_refused', message: expect.stringContaining('Stripe: Redeem by date must be in the future') });
  });
});

describe('the Stripe double’s coupon rules, through stripe-node', () => {
  it('when percent_off and amount_off come together, amount_off has no currency, or repeating has no months, then Stripe-shaped 400s answer', async () => {
    await expect(client.coupons.create({ percent_off: 10, amount_off: 100, currency: 'usd' })).rejects.toMatchObject({ statusCode: 400, type: 'StripeInvalidRequestError', param: 'percent_off' });
    await expect(client.coupons.create({ amount_off: 100 })).rejects.toMatchObject({ statusCode: 400, param: 'currency' });
    await expect(client.coupons.create({ percent_off: 10, duration: 'repeating' })).rejects.toMatchObject({ statusCode: 400, code: 'parameter_missing', param: 'duration_in_months' });
    // Only name and metadata can change (docs.stripe.com/api/coupons/update).
    const coupon = await client.coupons.create({ percent_off: 5, name: 'Fixed' });
    await expect(client.coupons.update(coupon.id, { percent_off: 50 } as Stripe.CouponUpdateParams)).rejects.toMatchObject({ code: 'parameter_unknown' });
    expect((await client.coupons.update(coupon.id, { name: 'Renamed' })).name).toBe('Renamed');
  });
});

describe('a sub-account’s discount', () => {
  it('when a coupon of each duration is applied, then the discount in force shows it and its end (repeating only), and removing it clears it', async () => {
    const subscriptionId = await subscriptionOf(L1);
    expect((await api('get', `/api/sub-accounts/${L1}/discount`).expect(200)).body).toEqual({ subscriptionId, discount: null });
    // 50 SMS at 2 ¢ as Stripe counted them: the next invoice's subtotal is 100 ¢.
    const customer = stripe.state.subscriptions.get(subscriptionId)!.customer;
    await client.billing.meterEvents.create({ event_name: 'meterbridge_sms', payload: { stripe_customer_id: customer, value: '50' } });
    for (const [duration, months] of [['once', undefined], ['forever', undefined], ['repeating', 6]] as const) {
      const coupon = (await api('post', '/api/catalog/coupons', { name: `Try ${duration}`, percentOff: 20, duration, ...(months ? { durationInMonths: months } : {}) }).expect(201)).body;
      const applied = (await api('put', `/api/sub-accounts/${L1}/discount`, { couponId: coupon.id }).expect(200)).body;
      expect(applied.discount.coupon).toMatchObject({ id: coupon.id, name: `Try ${duration}`, percentOff: 20, duration });
      const start = new Date(applied.discount.start);
      if (months) {
        const end = new Date(start);
        end.setUTCMonth(end.getUTCMonth() + months);
        expect(applied.discount.end).toBe(end.toISOString());
      } else {
        expect(applied.discount.end).toBeNull();
      }
      expect(stripe.state.subscriptions.get(subscriptionId)!.discounts).toHaveLength(1);
      expect((await api('get', `/api/sub-accounts/${L1}/discount`)).body.discount.coupon.id).toBe(coupon.id);
      // The next invoice Stripe would make takes 20 % off; once removed, nothing.
      const discounted = await client.invoices.createPreview({ subscription: subscriptionId });
      expect([discounted.subtotal, discounted.total_discount_amounts!.map((d) => d.amount), discounted.total]).toEqual([100, [20], 80]);
      const removed = (await api('delete', `/api/sub-accounts/${L1}/discount`).expect(200)).body;
      expect(removed).toEqual({ subscriptionId, discount: null });
      expect(stripe.state.subscriptions.get(subscriptionId)!.discounts).toEqual([]);
      const full = await client.invoices.createPreview({ subscription: subscriptionId });
      expect([full.subtotal, full.total_discount_amounts, full.total]).toEqual([100, [], 100]);
    }
  });

  it('when a coupon is archived, then it leaves the list and cannot be applied anew, while the subscription that has it keeps its discount', async () => {
    const coupon = (await api('post', '/api/catalog/coupons', { name: 'Retiring', amountOff: 500, currency: 'usd', duration: 'forever' }).expect(201)).body;
    await api('put', `/api/sub-accounts/${L1}/discount`, { couponId: coupon.id }).expect(200);
    expect((await api('delete', `/api/catalog/coupons/${coupon.id}`).expect(200)).body).toEqual({ id: coupon.id, archived: true });
    expect((await api('get', '/api/catalog/coupons')).body.coupons.map((c: { id: string }) => c.id)).not.toContain(coupon.id);
    const kept = (await api('get', `/api/sub-accounts/${L1}/discount`).expect(200)).body.discount;
    expect(kept.coupon).toMatchObject({ id: coupon.id, amountOff: 500, currency: 'usd' });
    const refused = await api('put', `/api/sub-accounts/${L2}/discount`, { couponId: coupon.id }).expect(400);
    expect(refused.body.error.code).toBe('unknown_coupon');
    expect((await api('delete', `/api/catalog/coupons/${coupon.id}`).expect(404)).body.error.code).toBe('coupon_not_found');
  });

  it('when a coupon has reached its redemption limit, then applying it again is refused with Stripe’s message', async () => {
    const coupon = (await api('post', '/api/catalog/coupons', { name: 'Only one', percentOff: 50, duration: 'once', maxRedemptions: 1 }).expect(201)).body;
    await api('put', `/api/sub-accounts/${L1}/discount`, { couponId: coupon.id }).expect(200);
    const refused = await api('put', `/api/sub-accounts/${L2}/discount`, { couponId: coupon.id }).expect(400);
    expect(refused.body.error).toEqual({ code: 'stripe_refused', message: `Stripe: Coupon expired: ${coupon.id}` });
    expect((await api('get', '/api/catalog/coupons')).body.coupons.find((c: { id: string }) => c.id === coupon.id)).toMatchObject({ valid: false, timesRedeemed: 1 });
  });

  it('when the sub-account has no subscription, then applying a coupon answers 409 no_subscription and reading says none', async () => {
    const coupon = (await api('post', '/api/catalog/coupons', { name: 'Nowhere', percentOff: 5, duration: 'once' }).expect(201)).body;
    expect((await api('put', `/api/sub-accounts/${L3}/discount`, { couponId: coupon.id }).expect(409)).body.error.code).toBe('no_subscription');
    expect((await api('get', `/api/sub-accounts/${L3}/discount`).expect(200)).body).toEqual({ subscriptionId: null, discount: null });
  });
});
