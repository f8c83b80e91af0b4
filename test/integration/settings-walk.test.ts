import { Writable } from 'node:stream';
import SwaggerParser from '@apidevtools/swagger-parser';
import pino from 'pino';
import nock from 'nock';
import Stripe from 'stripe';
import { PAYMENT_WEBHOOK_EVENTS } from '../../server/payments/webhook-events';
import { drainReporter } from '../support/billing';
import { fixture } from '../support/highlevel-fixtures';
import { installedLocations, OAUTH_ENV, serveInstalledLocations, tokenResponse } from '../support/highlevel-oauth';
import { encryptSsoPayload } from '../support/highlevel-sso';
import { startStripeStub, type StripeStub } from '../support/stripe-stub';
import { startTestService, type TestService } from '../support/test-service';

/**
 * The agency's road from "installed" to "my clients are billed", through the settings API only:
 * SSO → session → Stripe (a key missing a permission, then a full one) → meters and prices → two sub-accounts
 * mapped (one existing customer, one created) → subscriptions → webhooks → meter events for the right customers
 * → payment problems from Stripe.
 */
const SHARED_SECRET = 'sso-shared-secret-for-tests';
const COMPANY = 'companyWalk0000000001';
const FULL_KEY = 'sk_test_walkFullKey00000001';
const LIMITED_KEY = 'rk_test_walkNoMeterEvents01';

let t: TestService;
let stripe: StripeStub;
let token = '';
let L1 = '';
let L2 = '';
const bodies: string[] = [];
const logLines: string[] = [];

const api = (method: 'get' | 'put' | 'post' | 'delete', path: string, body?: object) => {
  let req = t.http[method](path).set('authorization', `Bearer ${token}`);
  if (body) req = req.send(body);
  return req.then((res) => {
    bodies.push(JSON.stringify(res.body));
    return res;
  });
};

beforeAll(async () => {
  stripe = await startStripeStub();
  stripe.keyPermissions.set(LIMITED_KEY, new Set(['customers', 'products', 'prices', 'subscriptions', 'billing_meters', 'invoices', 'webhook_endpoints', 'account']));
  const sink = new Writable({ write: (chunk, _enc, done) => (logLines.push(String(chunk)), done()) });
  t = await startTestService(
    { ...OAUTH_ENV, HIGHLEVEL_SHARED_SECRET: SHARED_SECRET, STRIPE_API_URL: stripe.url, REPORTER_RETRY_BASE_SECONDS: '0' },
    { logger: pino({ level: 'debug' }, sink) },
  );
  // The agency installed Meterbridge in bulk: two sub-accounts.
  const locations = installedLocations('locWalk', 2).map((l, i) => ({ ...l, name: i === 0 ? 'Harbor Dental' : 'Bay Physio' }));
  [L1, L2] = locations.map((l) => l._id) as [string, string];
  serveInstalledLocations(COMPANY, locations, 100);
  await t.service.install.completeOAuth(tokenResponse({ userType: 'Company', companyId: COMPANY, accessToken: 'at-walk', refreshToken: 'rt-walk', isBulkInstallation: true }));
});
afterAll(async () => {
  nock.cleanAll();
  await t.close();
  await stripe.close();
});

describe('settings API walk', () => {
  it('when HighLevel hands the page an SSO payload, then it is exchanged for a session token', async () => {
    const payload = encryptSsoPayload({ userId: 'user-walk', companyId: COMPANY, role: 'admin', type: 'agency', userName: 'Ana Agency', email: 'ana@agency.example' }, SHARED_SECRET);
    const res = await t.http.post('/api/session').send({ payload }).expect(200);
    expect(res.body.user).toEqual({ userId: 'user-walk', companyId: COMPANY, type: 'agency', role: 'admin', activeLocation: null, userName: 'Ana Agency' });
    token = res.body.token;
    expect(new Date(res.body.expiresAt).getTime()).toBeGreaterThan(Date.now());
  });

  it('when the payload was encrypted with another secret, then 401 with a clear message', async () => {
    const payload = encryptSsoPayload({ userId: 'u', companyId: COMPANY, role: 'admin', type: 'agency' }, 'some other secret');
    const res = await t.http.post('/api/session').send({ payload }).expect(401);
    expect(res.body.error).toMatchObject({ code: 'invalid_sso_payload', message: expect.stringContaining('Shared Secret') });
  });

  it('when a restricted key lacks the meter-event permission, then it is refused naming that permission, and nothing is stored', async () => {
    const res = await api('put', '/api/stripe/connection', { secretKey: LIMITED_KEY });
    expect(res.status).toBe(422);
    expect(res.body.error.code).toBe('stripe_permissions_missing');
    expect(res.body.error.message).toMatch(/meter event/i);
    expect(res.body.error.message).toContain('rak_billing_meter_event_write');
    expect((await api('get', '/api/stripe/connection')).body.connected).toBe(false);
  });

  it('when a full key is pasted, then Stripe is connected, the key shows only as its last 4, and the payment webhook exists', async () => {
    const res = await api('put', '/api/stripe/connection', { secretKey: FULL_KEY });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ connected: true, mode: 'test', keyType: 'secret', keyLast4: FULL_KEY.slice(-4), webhook: { configured: true, createdByMeterbridge: true } });
    const [endpoint] = [...stripe.state.webhookEndpoints.values()];
    expect(endpoint).toMatchObject({ url: `${OAUTH_ENV.APP_URL}/webhooks/stripe/${COMPANY}` });
    // Each type once (invoice.voided and invoice.marked_uncollectible are in both lists).
    expect([...endpoint!.enabled_events].sort()).toEqual(
      [...new Set(['customer.subscription.deleted', 'invoice.marked_uncollectible', 'invoice.paid', 'invoice.payment_action_required', 'invoice.payment_failed', 'invoice.voided', ...PAYMENT_WEBHOOK_EVENTS])].sort(),
    );
  });

  it('when defaults are priced, then one meter and one price per metric are made in Stripe, idempotently, and the grid shows the margin', async () => {
    const sms = { threshold: 1, price: { currency: 'usd', interval: 'month', unitAmountDecimal: '2' }, baseCostDecimal: '0.79' };
    const calls = { threshold: 1, direction: 'both', price: { currency: 'usd', interval: 'month', tiers: [{ upTo: 100, unitAmountDecimal: '0' }, { upTo: 'inf', unitAmountDecimal: '3.5' }] }, baseCostDecimal: '1.4' };
    expect((await api('put', '/api/pricing/sms', sms)).status).toBe(200);
    expect((await api('put', '/api/pricing/call_minutes', calls)).status).toBe(200);
    expect((await api('put', '/api/pricing/sms', sms)).status).toBe(200);
    expect(stripe.state.meters.size).toBe(2);
    expect(stripe.state.prices.size).toBe(2);
    const grid = (await api('get', '/api/pricing')).body;
    const row = grid.rows.find((r: { metric: string }) => r.metric === 'sms');
    expect(row).toMatchObject({ enabled: true, retailPerMetricUnit: '2', baseCostDecimal: '0.79', marginPerMetricUnit: '1.21', marginPercent: '60.5', belowCost: false });
    const tiered = [...stripe.state.prices.values()].find((p) => p.billing_scheme === 'tiered');
    expect(tiered).toMatchObject({ tiers_mode: 'graduated', recurring: expect.objectContaining({ usage_type: 'metered' }) });
  });

  it('when a price is below cost, then it is allowed and flagged', async () => {
    const res = await api('put', '/api/pricing/email', { threshold: 10, price: { currency: 'usd', unitAmountDecimal: '1' }, baseCostDecimal: '0.2' });
    expect(res.body).toMatchObject({ retailPerMetricUnit: '0.1', belowCost: true });
  });

  it('when one sub-account is mapped to an existing customer and another gets a new one, then both subscriptions carry the chosen items', async () => {
    const client = new Stripe(FULL_KEY, { host: '127.0.0.1', port: Number(new URL(stripe.url).port), protocol: 'http' });
    const existing = await client.customers.create({ name: 'Harbor Dental LLC', email: 'billing@harbordental.example' });
    const found = (await api('get', '/api/stripe/customers?query=harbordental')).body.customers;
    expect(found.map((c: { id: string }) => c.id)).toContain(existing.id);

    expect((await api('put', `/api/sub-accounts/${L1}/customer`, { customerId: existing.id })).body.stripeCustomerId).toBe(existing.id);
    const created = (await api('put', `/api/sub-accounts/${L2}/customer`, { create: true })).body.stripeCustomerId;
    expect(stripe.state.customers.get(created)).toMatchObject({ name: 'Bay Physio', metadata: { meterbridge_location_id: L2, meterbridge_company_id: COMPANY } });

    stripe.seedCoupon({ id: 'WELCOME10', percent_off: 10 });
    // Stripe Tax needs active tax settings (docs.stripe.com/api/tax/settings) and the customer's location.
    await client.tax.settings.update({ head_office: { address: { country: 'US', postal_code: '94107', state: 'CA' } } });
    const one = (await api('put', `/api/sub-accounts/${L1}/billing`, { rebillingEnabled: true })).body;
    const two = (
      await api('put', `/api/sub-accounts/${L2}/billing`, {
        overrides: [{ metric: 'sms', threshold: 2 }, { metric: 'email', enabled: false, threshold: 10 }],
        subscription: { coupon: 'WELCOME10', automaticTax: true, billingAddress: { country: 'US', postalCode: '97712', city: 'Brothers', state: 'OR' } },
      })
    ).body;
    const pricesOf = (subscriptionId: string) => stripe.state.subscriptions.get(subscriptionId)!.items.data.map((i: { price: { id: string } }) => i.price.id).sort();
    const priceOf = (metric: string) => [...stripe.state.prices.values()].find((p) => p.lookup_key?.includes(metric))!.id;
    expect(pricesOf(one.stripeSubscriptionId)).toEqual([priceOf('call_minutes'), priceOf('email'), priceOf('sms')].sort());
    expect(pricesOf(two.stripeSubscriptionId)).toEqual([priceOf('call_minutes'), priceOf('sms')].sort());
    expect(stripe.state.subscriptions.get(two.stripeSubscriptionId)).toMatchObject({ customer: created, automatic_tax: expect.objectContaining({ enabled: true }) });
    expect(stripe.state.customers.get(created)!.address).toMatchObject({ country: 'US', postal_code: '97712', city: 'Brothers', state: 'OR' });
    expect(two.automaticTax).toBe(true);
    expect(two.rules.find((r: { metric: string }) => r.metric === 'sms')).toMatchObject({ threshold: '2.000000', inherited: false });
  });

  it('when HighLevel webhooks are replayed, then meter events reach Stripe for the right customers', async () => {
    const customerOf = async (locationId: string) => (await api('get', `/api/sub-accounts/${locationId}`)).body.stripeCustomerId as string;
    const [c1, c2] = [await customerOf(L1), await customerOf(L2)];
    for (const [locationId, n] of [[L1, 3], [L2, 4]] as const) {
      for (let i = 0; i < n; i++) await t.postSigned({ ...fixture('sms-outbound'), locationId, webhookId: `walk-${locationId}-${i}` }).expect(200);
    }
    await t.postSigned({ ...fixture('call-outbound-completed'), locationId: L1, webhookId: `walk-call-${L1}` }).expect(200);
    await drainReporter(t.service);
    const totals = stripe.totals();
    expect(totals.get(`${c1}|meterbridge_sms`)).toBe(3);
    expect(totals.get(`${c1}|meterbridge_call_minutes`)).toBe(3);
    expect(totals.get(`${c2}|meterbridge_sms`)).toBe(2); // every 2 SMS = 1 unit for this sub-account
  });

  it('when Stripe reports a failed payment, then the sub-account turns delinquent, and back to ok once paid', async () => {
    const sub = (await api('get', `/api/sub-accounts/${L2}`)).body;
    const secret = [...stripe.state.webhookEndpoints.values()][0]!.secret as string;
    const send = (event: object) => {
      const payload = JSON.stringify(event);
      const signature = Stripe.webhooks.generateTestHeaderString({ payload, secret });
      return t.http.post(`/webhooks/stripe/${COMPANY}`).set('stripe-signature', signature).set('content-type', 'application/json').send(payload);
    };
    const invoice = stripe.seedInvoice({ customer: sub.stripeCustomerId, status: 'open', attempt_count: 1, number: 'INV-0001' });
    const failed = await send({ id: 'evt_1', object: 'event', type: 'invoice.payment_failed', data: { object: { id: invoice.id, object: 'invoice' } } });
    expect(failed.status).toBe(200);
    expect((await api('get', `/api/sub-accounts/${L2}`)).body).toMatchObject({ billingStatus: 'delinquent', billingStatusReason: expect.stringContaining('INV-0001') });

    invoice.status = 'paid';
    await send({ id: 'evt_2', object: 'event', type: 'invoice.paid', data: { object: { id: invoice.id, object: 'invoice' } } }).expect(200);
    expect((await api('get', `/api/sub-accounts/${L2}`)).body.billingStatus).toBe('ok');

    const forged = await t.http.post(`/webhooks/stripe/${COMPANY}`).set('stripe-signature', 't=1,v1=deadbeef').send('{}');
    expect(forged.status).toBe(401);
  });

  it('when the subscription is deleted in Stripe, then rebilling pauses and new usage is not billed', async () => {
    const sub = (await api('get', `/api/sub-accounts/${L1}`)).body;
    const client = new Stripe(FULL_KEY, { host: '127.0.0.1', port: Number(new URL(stripe.url).port), protocol: 'http' });
    await client.subscriptions.cancel(sub.stripeSubscriptionId);
    const secret = [...stripe.state.webhookEndpoints.values()][0]!.secret as string;
    const payload = JSON.stringify({ id: 'evt_3', object: 'event', type: 'customer.subscription.deleted', data: { object: { id: sub.stripeSubscriptionId, object: 'subscription' } } });
    await t.http
      .post(`/webhooks/stripe/${COMPANY}`)
      .set('stripe-signature', Stripe.webhooks.generateTestHeaderString({ payload, secret }))
      .set('content-type', 'application/json')
      .send(payload)
      .expect(200);
    expect((await api('get', `/api/sub-accounts/${L1}`)).body).toMatchObject({ billingStatus: 'paused', stripeSubscriptionId: null });
    const before = stripe.events.length;
    await t.postSigned({ ...fixture('sms-outbound'), locationId: L1, webhookId: `walk-paused-${L1}` }).expect(200);
    await drainReporter(t.service);
    expect(stripe.events.length).toBe(before);
  });

  it("when the default SMS price changes, then the subscriptions' SMS item moves to the new price", async () => {
    const sub = (await api('get', `/api/sub-accounts/${L2}`)).body;
    const itemsOf = () => stripe.state.subscriptions.get(sub.stripeSubscriptionId)!.items.data.map((i: { price: { id: string } }) => i.price.id);
    const before = itemsOf();
    const row = (await api('put', '/api/pricing/sms', { threshold: 1, price: { currency: 'usd', interval: 'month', unitAmountDecimal: '2.5' }, baseCostDecimal: '0.79' })).body;
    expect(before).not.toContain(row.stripePriceId);
    expect(itemsOf()).toContain(row.stripePriceId);
    expect(itemsOf()).toHaveLength(before.length);
  });

  it('when rebilling is switched off for a sub-account, then its new usage is kept but not billed', async () => {
    expect((await api('put', `/api/sub-accounts/${L2}/billing`, { rebillingEnabled: false })).body.rebillingEnabled).toBe(false);
    const before = stripe.events.length;
    for (let i = 0; i < 2; i++) await t.postSigned({ ...fixture('sms-outbound'), locationId: L2, webhookId: `walk-off-${i}` }).expect(200);
    await drainReporter(t.service);
    expect(stripe.events.length).toBe(before);
  });

  it('when the agency auto-applies its defaults, then a sub-account created in HighLevel gets a customer and a subscription', async () => {
    expect((await api('put', '/api/defaults', { autoApply: true })).body.autoApply).toBe(true);
    const L3 = 'locWalkCreated0001';
    await t.postSigned({ ...fixture('location-create'), id: L3, companyId: COMPANY, name: 'Cove Clinic', email: 'hello@cove.example', webhookId: 'walk-create-1' }).expect(200);
    expect(await t.service.billing.applyPendingDefaults()).toEqual({ applied: 1, failed: 0 });
    const detail = (await api('get', `/api/sub-accounts/${L3}`)).body;
    expect(detail).toMatchObject({ rebillingEnabled: true, stripeCustomerId: expect.stringMatching(/^cus_/), stripeSubscriptionId: expect.stringMatching(/^sub_/) });
    expect(stripe.state.customers.get(detail.stripeCustomerId)).toMatchObject({ name: 'Cove Clinic', email: 'hello@cove.example' });
    expect(await t.service.billing.applyPendingDefaults()).toEqual({ applied: 0, failed: 0 });
  });

  it('when the agency applies its defaults to chosen sub-accounts, then each reports its own outcome', async () => {
    await api('put', '/api/defaults', { autoApply: false });
    const L4 = 'locWalkCreated0002';
    await t.postSigned({ ...fixture('location-create'), id: L4, companyId: COMPANY, name: 'Dune Dental', webhookId: 'walk-create-2' }).expect(200);
    const res = await api('post', '/api/defaults/apply', { locationIds: [L4, 'locNotThere'] });
    expect(res.body.results).toEqual([
      { locationId: L4, ok: true, stripeCustomerId: expect.stringMatching(/^cus_/) },
      { locationId: 'locNotThere', ok: false, error: expect.stringContaining('locNotThere') },
    ]);
  });

  it('when the OpenAPI document is fetched, then it validates and covers every JSON route', async () => {
    const doc = (await t.http.get('/api/openapi.json').expect(200)).body;
    await SwaggerParser.validate(structuredClone(doc));
    const documented = Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops as object).map((m) => `${m} ${path}`));
    const declared = t.service.apiRoutes.map((r) => `${r.method} ${r.path.replace(/:([A-Za-z0-9_]+)/g, '{$1}')}`);
    expect(documented.sort()).toEqual(declared.sort());
  });

  it('when every answer and log line of this walk is read, then none carries a Stripe key, a webhook secret, the SSO secret or an OAuth token', () => {
    const all = bodies.join('\n') + logLines.join('');
    expect(logLines.length).toBeGreaterThan(10);
    expect(all).not.toContain(SHARED_SECRET);
    expect(all).not.toContain(FULL_KEY);
    expect(all).not.toContain(LIMITED_KEY);
    expect(all).not.toMatch(/whsec_/);
    expect(all).not.toMatch(/at-walk|rt-walk/);
  });
});
