/**
 * The Stripe wrappers (connection check, catalog, customers, subscriptions) against the in-memory Stripe fake of
 * test/support/stripe-stub.ts, through real stripe-node clients built by the production factory.
 */
import type Stripe from 'stripe';
import { AppError } from '../../server/http/errors';
import { ensureFlatFeePrice, ensureMeter, ensureMeteredPrice } from '../../server/stripe/catalog';
import { checkStripeKey, StripeKeyRejectedError } from '../../server/stripe/connection-check';
import { createCustomer, retrieveCustomer, searchCustomers } from '../../server/stripe/customers';
import { createStripeClientFactory, type StripeClientFactory } from '../../server/stripe/stripe-client';
import { cancelSubscription, upsertSubscription } from '../../server/stripe/subscriptions';
import { parseForm, startStripeStub, type StripeStub } from '../support/stripe-stub';

const SECRET_KEY = 'sk_test_wrappersSecretKey0001';
const RESTRICTED_KEY = 'rk_test_wrappersRestrictedKey01';
/** Every resource Meterbridge uses, as the stub names grants. */
const ALL_GRANTS = ['customers', 'products', 'prices', 'subscriptions', 'billing_meters', 'meter_events', 'invoices_read', 'webhook_endpoints', 'account'];

let stub: StripeStub;
let clientFor: StripeClientFactory;
let stripe: Stripe;

beforeAll(async () => {
  stub = await startStripeStub();
  clientFor = createStripeClientFactory({ apiUrl: stub.url, timeoutMs: 5_000 });
  stripe = clientFor(SECRET_KEY);
});
afterAll(async () => {
  await stub.close();
});
beforeEach(() => {
  stub.resetState();
  stub.keyPermissions.clear();
  stub.apiKeys.clear();
  stub.customers.clear();
  stub.events.length = 0;
  stub.requests.length = 0;
});

/** "METHOD /path" of the requests made while `work` ran. */
async function requestsDuring(work: () => Promise<unknown>): Promise<string[]> {
  const from = stub.requestLog.length;
  await work();
  return stub.requestLog.slice(from).map((r) => `${r.method} ${r.path}`);
}

const meterFor = (metric: string) => ensureMeter(stripe, { metric, eventName: `meterbridge_${metric}`, displayName: `Meterbridge: ${metric}` });

describe('the fake: form bodies', () => {
  it('when a body has bracket keys, then they nest, and indexed keys become arrays', () => {
    expect(parseForm('a[b][0][c]=1&a[b][1][c]=2&k[]=x&k[]=y&m[x]=1&items[0][deleted]=true&q=O%27Brien+x')).toEqual({
      a: { b: [{ c: '1' }, { c: '2' }] },
      k: ['x', 'y'],
      m: { x: '1' },
      items: [{ deleted: 'true' }],
      q: "O'Brien x",
    });
  });
});

describe('checkStripeKey', () => {
  it('when a secret key is checked, then it is a test secret key of the account and nothing is missing', async () => {
    const check = await checkStripeKey(stripe, SECRET_KEY);
    expect(check).toEqual({ mode: 'test', keyType: 'secret', accountId: stub.account.id, accountName: 'Stub Agency', missing: [] });
    // The write probes were refused by validation, not performed: no meter event, no object.
    expect(stub.events).toEqual([]);
    expect([...stub.state.customers.values(), ...stub.state.prices.values(), ...stub.state.subscriptions.values()]).toEqual([]);
    const probes = stub.requestLog.filter((r) => r.method === 'POST').map((r) => [r.path, r.status]);
    expect(probes).toEqual(
      expect.arrayContaining([
        ['/v1/billing/meter_events', 400],
        ['/v1/customers/cus_meterbridge_permission_probe', 404],
        ['/v1/subscriptions/sub_meterbridge_permission_probe', 404],
      ]),
    );
  });

  it('when a restricted key has every permission Meterbridge uses, then nothing is missing', async () => {
    stub.keyPermissions.set(RESTRICTED_KEY, new Set(ALL_GRANTS));
    const check = await checkStripeKey(clientFor(RESTRICTED_KEY), RESTRICTED_KEY);
    expect(check).toMatchObject({ mode: 'test', keyType: 'restricted', accountId: stub.account.id, missing: [] });
  });

  it('when a restricted key lacks meter events and subscriptions, then exactly those two are missing, with labels', async () => {
    stub.keyPermissions.set(RESTRICTED_KEY, new Set(ALL_GRANTS.filter((g) => g !== 'meter_events' && g !== 'subscriptions')));
    const check = await checkStripeKey(clientFor(RESTRICTED_KEY), RESTRICTED_KEY);
    expect(check.missing).toEqual([
      { permission: 'rak_billing_meter_event_write', label: 'Billing meter events: write' },
      { permission: 'rak_subscription_write', label: 'Subscriptions: write' },
    ]);
    expect(check.keyType).toBe('restricted');
    // Stripe's own wording reached the client for the refused calls.
    const refused = stub.requestLog.filter((r) => r.status === 403).map((r) => r.path);
    expect(refused).toEqual(expect.arrayContaining(['/v1/billing/meter_events', '/v1/subscriptions']));
    await expect(clientFor(RESTRICTED_KEY).subscriptions.list({ limit: 1 })).rejects.toMatchObject({
      type: 'StripePermissionError',
      statusCode: 403,
      message: expect.stringMatching(
        /^The provided key 'rk_test_\*+dKey01' does not have the required permissions for this endpoint on account 'acct_1MeterbridgeStub01'\. Having the 'rak_subscription_read' permission would allow this request to continue\.$/,
      ),
    });
  });

  it('when a restricted key may only read customers and prices, then their write permissions are missing', async () => {
    const grants = ALL_GRANTS.filter((g) => g !== 'customers' && g !== 'prices').concat(['customers_read', 'prices_read']);
    stub.keyPermissions.set(RESTRICTED_KEY, new Set(grants));
    const check = await checkStripeKey(clientFor(RESTRICTED_KEY), RESTRICTED_KEY);
    expect(check.missing).toEqual([
      { permission: 'rak_customer_write', label: 'Customers: write' },
      { permission: 'rak_price_write', label: 'Prices: write' },
    ]);
  });

  it("when a restricted key may not read the account, then the account id comes from Stripe's message and the permission is named", async () => {
    stub.keyPermissions.set(RESTRICTED_KEY, new Set(ALL_GRANTS.filter((g) => g !== 'account')));
    const check = await checkStripeKey(clientFor(RESTRICTED_KEY), RESTRICTED_KEY);
    expect(check).toMatchObject({
      accountId: stub.account.id,
      accountName: null,
      missing: [{ permission: 'rak_accounts_kyc_basic_read', label: 'Account details: read' }],
    });
  });

  it("when Stripe does not know the key, then StripeKeyRejectedError carries Stripe's message after a single call", async () => {
    stub.apiKeys.add(SECRET_KEY);
    const unknown = 'sk_test_notAKeyStripeKnows01';
    const requests = await requestsDuring(async () => {
      const error = await checkStripeKey(clientFor(unknown), unknown).catch((err: unknown) => err);
      expect(error).toBeInstanceOf(StripeKeyRejectedError);
      expect(error).toBeInstanceOf(AppError);
      expect(error).toMatchObject({ status: 400, code: 'stripe_key_rejected', message: 'Invalid API Key provided: sk_test_****' });
    });
    expect(requests).toEqual(['GET /v1/account']);
  });

  it("when Stripe fails in another way, then the error is rethrown with Stripe's message", async () => {
    stub.apiFaults.push({ method: 'GET', path: '/v1/invoices', status: 500, error: { message: 'Something went wrong at Stripe.' } });
    const error = await checkStripeKey(stripe, SECRET_KEY).catch((err: unknown) => err);
    expect(error).not.toBeInstanceOf(StripeKeyRejectedError);
    expect(error).toMatchObject({ type: 'StripeAPIError', statusCode: 500, message: 'Something went wrong at Stripe.' });
  });

  it('when the key is a live restricted key, then mode is live and type restricted', async () => {
    const live = ['rk', 'live', 'wrappersLiveKey000001'].join('_'); // built, so no committed text looks like a live key
    expect(await checkStripeKey(clientFor(live), live)).toMatchObject({ mode: 'live', keyType: 'restricted', missing: [] });
  });
});

describe('ensureMeter', () => {
  it('when it runs twice, then one meter exists: sum of "value" per stripe_customer_id, and the second run creates nothing', async () => {
    const first = await meterFor('sms');
    const requests = await requestsDuring(async () => expect(await meterFor('sms')).toEqual(first));
    expect(requests).toEqual(['GET /v1/billing/meters']);
    expect([...stub.state.meters.values()]).toEqual([
      expect.objectContaining({
        id: first.id,
        object: 'billing.meter',
        event_name: 'meterbridge_sms',
        display_name: 'Meterbridge: sms',
        status: 'active',
        default_aggregation: { formula: 'sum' },
        customer_mapping: { event_payload_key: 'stripe_customer_id', type: 'by_id' },
        value_settings: { event_payload_key: 'value' },
        livemode: false,
      }),
    ]);
    expect(first).toEqual({ id: expect.stringMatching(/^mtr_/), eventName: 'meterbridge_sms' });
  });

  it('when there are more active meters than one page, then it pages through them to find its own', async () => {
    for (let i = 0; i < 105; i++) await stripe.billing.meters.create({ display_name: `Other ${i}`, event_name: `other_${i}`, default_aggregation: { formula: 'count' } });
    const first = await meterFor('email');
    expect((await meterFor('email')).id).toBe(first.id);
    expect([...stub.state.meters.values()].filter((m) => m.event_name === 'meterbridge_email')).toHaveLength(1);
  });

  it('when Stripe refuses a second active meter for an event name, then the fake answers 400 like Stripe', async () => {
    await meterFor('mms');
    await expect(
      stripe.billing.meters.create({ display_name: 'Again', event_name: 'meterbridge_mms', default_aggregation: { formula: 'sum' } }),
    ).rejects.toMatchObject({ statusCode: 400, param: 'event_name' });
  });

  it('when the active meter for the event reads another payload key, then it refuses with 409 and creates nothing', async () => {
    await stripe.billing.meters.create({
      display_name: 'Hand-made',
      event_name: 'meterbridge_whatsapp',
      default_aggregation: { formula: 'sum' },
      value_settings: { event_payload_key: 'count' },
    });
    await expect(meterFor('whatsapp')).rejects.toMatchObject({ status: 409, code: 'stripe_meter_incompatible' });
    expect(stub.state.meters.size).toBe(1);
  });

  it('when its meter was deactivated since it was created, then a new active meter is made despite the remembered idempotency key', async () => {
    const first = await meterFor('call_minutes');
    await stripe.billing.meters.deactivate(first.id);
    const second = await meterFor('call_minutes');
    expect(second.id).not.toBe(first.id);
    expect(stub.state.meters.get(second.id)).toMatchObject({ status: 'active', event_name: 'meterbridge_call_minutes' });
  });
});

describe('ensureMeteredPrice', () => {
  const terms = (meterId: string, overrides: Partial<Parameters<typeof ensureMeteredPrice>[1]> = {}) => ({
    metric: 'sms',
    meterId,
    productName: 'SMS messages',
    currency: 'usd',
    interval: 'month' as const,
    unitAmountDecimal: '0.75',
    taxBehavior: 'exclusive' as const,
    ...overrides,
  });

  it('when it runs twice with the same terms, then one per-unit metered price exists and the second run creates nothing', async () => {
    const meter = await meterFor('sms');
    const first = await ensureMeteredPrice(stripe, terms(meter.id));
    // Equal amounts written differently are the same terms.
    const requests = await requestsDuring(async () => expect(await ensureMeteredPrice(stripe, terms(meter.id, { unitAmountDecimal: '0.750' }))).toEqual(first));
    expect(requests).toEqual(['GET /v1/prices']);
    expect(first.lookupKey).toMatch(/^meterbridge:sms:[0-9a-f]{24}$/);
    const price = stub.state.prices.get(first.id)!;
    expect(price).toMatchObject({
      object: 'price',
      active: true,
      billing_scheme: 'per_unit',
      currency: 'usd',
      lookup_key: first.lookupKey,
      recurring: { interval: 'month', interval_count: 1, meter: meter.id, usage_type: 'metered' },
      tax_behavior: 'exclusive',
      tiers: null,
      type: 'recurring',
      unit_amount: null,
      unit_amount_decimal: '0.75',
    });
    expect(stub.state.products.get(price.product)).toMatchObject({ name: 'SMS messages' });
    expect(stub.state.prices.size).toBe(1);
  });

  it('when only the tax behavior differs, then it is another price with its own lookup key, and Stripe refuses to change it on the first', async () => {
    const meter = await meterFor('sms');
    const exclusive = await ensureMeteredPrice(stripe, terms(meter.id));
    const inclusive = await ensureMeteredPrice(stripe, terms(meter.id, { taxBehavior: 'inclusive' }));
    expect(inclusive.id).not.toBe(exclusive.id);
    expect(inclusive.lookupKey).not.toBe(exclusive.lookupKey);
    expect(stub.state.prices.get(inclusive.id)).toMatchObject({ tax_behavior: 'inclusive', unit_amount_decimal: '0.75' });
    expect(stub.state.prices.get(exclusive.id)).toMatchObject({ tax_behavior: 'exclusive', active: true });
    // docs.stripe.com/api/prices/update `tax_behavior`: once inclusive or exclusive, it cannot be changed.
    await expect(stripe.prices.update(exclusive.id, { tax_behavior: 'inclusive' })).rejects.toMatchObject({ statusCode: 400, param: 'tax_behavior' });
    await expect(ensureMeteredPrice(stripe, terms(meter.id, { taxBehavior: 'unspecified' as 'inclusive' }))).rejects.toMatchObject({ status: 400, code: 'invalid_price_terms' });
  });

  it('when the terms differ, then a second price with its own lookup key is created', async () => {
    const meter = await meterFor('sms');
    const a = await ensureMeteredPrice(stripe, terms(meter.id));
    const b = await ensureMeteredPrice(stripe, terms(meter.id, { unitAmountDecimal: '1' }));
    const c = await ensureMeteredPrice(stripe, terms(meter.id, { interval: 'year' }));
    expect(new Set([a.id, b.id, c.id]).size).toBe(3);
    expect(new Set([a.lookupKey, b.lookupKey, c.lookupKey]).size).toBe(3);
    expect(stub.state.prices.get(b.id)).toMatchObject({ unit_amount: 1, unit_amount_decimal: '1' });
  });

  it("when tiers are given, then a graduated tiered price is created in Stripe's tier shape", async () => {
    const meter = await meterFor('email');
    const tiered = terms(meter.id, {
      metric: 'email',
      productName: 'Emails',
      unitAmountDecimal: undefined,
      tiers: [
        { upTo: 1000, unitAmountDecimal: '0' },
        { upTo: 10000, unitAmountDecimal: '0.15', flatAmount: 500 },
        { upTo: 'inf', unitAmountDecimal: '0.1' },
      ],
    });
    const { id } = await ensureMeteredPrice(stripe, tiered);
    expect(stub.state.prices.get(id)).toMatchObject({
      billing_scheme: 'tiered',
      tiers_mode: 'graduated',
      unit_amount: null,
      unit_amount_decimal: null,
      recurring: { usage_type: 'metered', meter: meter.id },
      tiers: [
        { up_to: 1000, unit_amount: 0, unit_amount_decimal: '0', flat_amount: null, flat_amount_decimal: null },
        { up_to: 10000, unit_amount: null, unit_amount_decimal: '0.15', flat_amount: 500, flat_amount_decimal: '500' },
        { up_to: null, unit_amount: null, unit_amount_decimal: '0.1', flat_amount: null, flat_amount_decimal: null },
      ],
    });
    // Stripe leaves tiers out unless expanded; stripe-node turns decimal strings into Decimals.
    expect((await stripe.prices.retrieve(id)).tiers).toBeUndefined();
    const expanded = await stripe.prices.retrieve(id, { expand: ['tiers'] });
    expect(expanded.tiers!.map((t) => [t.up_to, t.unit_amount_decimal?.toString(), t.flat_amount])).toEqual([
      [1000, '0', null],
      [10000, '0.15', 500],
      [null, '0.1', null],
    ]);
    expect((await ensureMeteredPrice(stripe, tiered)).id).toBe(id);
  });

  it('when the terms are not a valid price, then it refuses with 400 before calling Stripe', async () => {
    const requests = await requestsDuring(async () => {
      for (const bad of [
        terms('mtr_x', { currency: 'USD' }),
        terms('mtr_x', { unitAmountDecimal: '-1' }),
        terms('mtr_x', { unitAmountDecimal: '0.1234567890123' }),
        terms('mtr_x', { tiers: [{ upTo: 'inf', unitAmountDecimal: '1' }] }),
        terms('mtr_x', { unitAmountDecimal: undefined, tiers: [{ upTo: 10, unitAmountDecimal: '1' }] }),
        terms('mtr_x', { unitAmountDecimal: undefined, tiers: [{ upTo: 10, unitAmountDecimal: '1' }, { upTo: 5, unitAmountDecimal: '1' }, { upTo: 'inf', unitAmountDecimal: '1' }] }),
      ]) {
        await expect(ensureMeteredPrice(stripe, bad)).rejects.toMatchObject({ status: 400, code: 'invalid_price_terms' });
      }
    });
    expect(requests).toEqual([]);
  });

  it('when its price was archived since, then a new one is made and takes over the lookup key', async () => {
    const meter = await meterFor('sms');
    const first = await ensureMeteredPrice(stripe, terms(meter.id));
    await stripe.prices.update(first.id, { active: false });
    const second = await ensureMeteredPrice(stripe, terms(meter.id));
    expect(second.id).not.toBe(first.id);
    expect(second.lookupKey).toBe(first.lookupKey);
    expect(stub.state.prices.get(second.id)).toMatchObject({ active: true, lookup_key: first.lookupKey });
    expect(stub.state.prices.get(first.id)).toMatchObject({ active: false, lookup_key: null });
  });
});

describe('ensureFlatFeePrice', () => {
  it('when a flat fee is ensured twice, then one licensed monthly price of that many cents exists', async () => {
    const input = { productName: 'Platform fee', currency: 'usd', unitAmount: 4900, interval: 'month' as const, taxBehavior: 'exclusive' as const };
    const first = await ensureFlatFeePrice(stripe, input);
    const requests = await requestsDuring(async () => expect(await ensureFlatFeePrice(stripe, input)).toEqual(first));
    expect(requests).toEqual(['GET /v1/prices']);
    expect(first.lookupKey).toMatch(/^meterbridge:flat_fee:[0-9a-f]{24}$/);
    expect(stub.state.prices.get(first.id)).toMatchObject({
      billing_scheme: 'per_unit',
      unit_amount: 4900,
      unit_amount_decimal: '4900',
      recurring: { interval: 'month', usage_type: 'licensed', meter: null },
      tax_behavior: 'exclusive',
    });
    const other = await ensureFlatFeePrice(stripe, { ...input, unitAmount: 9900 });
    expect(other.id).not.toBe(first.id);
    const inclusive = await ensureFlatFeePrice(stripe, { ...input, taxBehavior: 'inclusive' });
    expect(stub.state.prices.get(inclusive.id)).toMatchObject({ unit_amount: 4900, tax_behavior: 'inclusive' });
    expect(inclusive.lookupKey).not.toBe(first.lookupKey);
    await expect(ensureFlatFeePrice(stripe, { ...input, unitAmount: 49.5 })).rejects.toMatchObject({ status: 400, code: 'invalid_price_terms' });
  });
});

describe('customers', () => {
  it('when a customer is created, then it carries the sub-account and agency in metadata, and a retry with the key creates no second one', async () => {
    const input = { name: 'Harbor Dental', email: 'billing@harbor.test', locationId: 'locHarbor0001', companyId: 'compAgency0001' };
    const created = await createCustomer(stripe, input, 'meterbridge-customer-locHarbor0001');
    expect(created).toEqual({ id: expect.stringMatching(/^cus_/), name: 'Harbor Dental', email: 'billing@harbor.test' });
    expect(stub.state.customers.get(created.id)).toMatchObject({
      metadata: { meterbridge_location_id: 'locHarbor0001', meterbridge_company_id: 'compAgency0001' },
      livemode: false,
    });
    expect(await createCustomer(stripe, input, 'meterbridge-customer-locHarbor0001')).toEqual(created);
    expect(stub.state.customers.size).toBe(1);
    // Customers made through the fake exist for meter events too.
    expect(stub.customers.has(created.id)).toBe(true);
  });

  it('when a customer has no email, then it is created without one', async () => {
    const created = await createCustomer(stripe, { name: 'No Mail Inc', email: null, locationId: 'locNoMail001', companyId: 'comp1' }, 'k-nomail');
    expect(created.email).toBeNull();
  });

  it('when customers are searched by email or by name, then the matches come back as id, name and email', async () => {
    const harbor = await createCustomer(stripe, { name: 'Harbor Dental', email: 'Billing@Harbor.test', locationId: 'l1', companyId: 'c1' }, 'k1');
    const bay = await createCustomer(stripe, { name: 'Bay Harbor Vets', email: 'vets@bay.test', locationId: 'l2', companyId: 'c1' }, 'k2');
    await createCustomer(stripe, { name: 'Summit Law', email: 'law@summit.test', locationId: 'l3', companyId: 'c1' }, 'k3');

    expect(await searchCustomers(stripe, 'billing@harbor.test')).toEqual([{ id: harbor.id, name: 'Harbor Dental', email: 'Billing@Harbor.test' }]);
    expect((await searchCustomers(stripe, 'harbor')).map((c) => c.id).sort()).toEqual([harbor.id, bay.id].sort());
    expect(await searchCustomers(stripe, 'harbor', 1)).toHaveLength(1);
    expect(stub.requestLog.at(-1)!.params).toEqual({ query: "email~'harbor' OR name~'harbor'", limit: '1' });
    // Email matches by substring too (3 characters or more).
    expect((await searchCustomers(stripe, 'summit.test')).map((c) => c.email)).toEqual(['law@summit.test']);
    expect(await searchCustomers(stripe, 'nobody')).toEqual([]);
  });

  it('when a cus_ id is typed, then that customer is found by retrieve (search matches no ids); an unknown or deleted id finds none', async () => {
    const typed = await createCustomer(stripe, { name: 'By Id Clinic', email: 'id@clinic.test', locationId: 'l1', companyId: 'c1' }, 'k-by-id');
    expect(await searchCustomers(stripe, `  ${typed.id} `)).toEqual([typed]);
    expect(stub.requestLog.at(-1)!.path).toBe(`/v1/customers/${typed.id}`);
    expect(await searchCustomers(stripe, 'cus_neverExisted')).toEqual([]);
    await stripe.customers.del(typed.id);
    expect(await searchCustomers(stripe, typed.id)).toEqual([]);
  });

  it('when the query has quotes or is short, then it is escaped, and a short one matches the name exactly', async () => {
    const pat = await createCustomer(stripe, { name: "Pat O'Brien", locationId: 'l1', companyId: 'c1' }, 'k-pat');
    const jo = await createCustomer(stripe, { name: 'Jo', locationId: 'l2', companyId: 'c1' }, 'k-jo');
    expect((await searchCustomers(stripe, "O'Brien")).map((c) => c.id)).toEqual([pat.id]);
    expect(stub.requestLog.at(-1)!.params.query).toBe("email~'O\\'Brien' OR name~'O\\'Brien'");
    expect((await searchCustomers(stripe, 'jo')).map((c) => c.id)).toEqual([jo.id]);
    expect(stub.requestLog.at(-1)!.params.query).toBe("email:'jo' OR name:'jo'");
    expect(await requestsDuring(async () => expect(await searchCustomers(stripe, '   ')).toEqual([]))).toEqual([]);
  });

  it('when a customer is retrieved, then it is returned; when deleted or unknown, then null', async () => {
    const created = await createCustomer(stripe, { name: 'Gone Soon', email: 'gone@soon.test', locationId: 'l1', companyId: 'c1' }, 'k-gone');
    expect(await retrieveCustomer(stripe, created.id)).toEqual(created);
    await stripe.customers.del(created.id);
    expect(await retrieveCustomer(stripe, created.id)).toBeNull();
    expect(await retrieveCustomer(stripe, 'cus_neverExisted')).toBeNull();
  });
});

describe('subscriptions', () => {
  /** A customer, two metered prices and a flat fee. */
  async function catalog() {
    const customer = await createCustomer(stripe, { name: 'Harbor Dental', email: 'b@harbor.test', locationId: 'locH', companyId: 'compA' }, `k-${Math.random()}`);
    const sms = await meterFor('sms');
    const email = await meterFor('email');
    const mms = await meterFor('mms');
    const price = (meterId: string, metric: string) =>
      ensureMeteredPrice(stripe, { metric, meterId, productName: metric, currency: 'usd', interval: 'month', unitAmountDecimal: '1.5', taxBehavior: 'exclusive' }).then((p) => p.id);
    return {
      customer: customer.id,
      sms: await price(sms.id, 'sms'),
      email: await price(email.id, 'email'),
      mms: await price(mms.id, 'mms'),
      fee: (await ensureFlatFeePrice(stripe, { productName: 'Platform fee', currency: 'usd', unitAmount: 4900, interval: 'month', taxBehavior: 'exclusive' })).id,
    };
  }
  const metadata = { meterbridge_location_id: 'locH', meterbridge_company_id: 'compA' };

  it('when no subscription exists, then one is created with an item per price, metered items without quantity', async () => {
    const c = await catalog();
    const result = await upsertSubscription(stripe, { customerId: c.customer, subscriptionId: null, prices: [c.sms, c.email, c.sms], metadata });
    expect(result).toEqual({
      subscriptionId: expect.stringMatching(/^sub_/),
      status: 'active',
      automaticTax: false,
      items: [
        { id: expect.stringMatching(/^si_/), priceId: c.sms },
        { id: expect.stringMatching(/^si_/), priceId: c.email },
      ],
    });
    const create = stub.requestLog.filter((r) => r.method === 'POST' && r.path === '/v1/subscriptions');
    expect(create.map((r) => r.params)).toEqual([{ customer: c.customer, items: [{ price: c.sms }, { price: c.email }], metadata }]);
    const stored = stub.state.subscriptions.get(result.subscriptionId)!;
    expect(stored.items.data.map((i: { quantity?: number }) => i.quantity)).toEqual([undefined, undefined]);
    expect(stored).toMatchObject({ customer: c.customer, metadata });
  });

  it('when Stripe Tax is active and the customer located, then a coupon and automatic tax are set on create', async () => {
    const c = await catalog();
    stub.seedCoupon({ id: 'LAUNCH20', percent_off: 20 });
    stub.state.customers.get(c.customer)!.address = { country: 'US', postal_code: '97712', city: null, line1: null, line2: null, state: null };
    await stripe.tax.settings.update({ head_office: { address: { country: 'US', postal_code: '94107', state: 'CA' } } });
    const result = await upsertSubscription(stripe, { customerId: c.customer, subscriptionId: null, prices: [c.sms, c.fee], coupon: 'LAUNCH20', automaticTax: true, metadata });
    const [create] = stub.requestLog.filter((r) => r.method === 'POST' && r.path === '/v1/subscriptions');
    expect(create!.params).toMatchObject({ discounts: [{ coupon: 'LAUNCH20' }], automatic_tax: { enabled: 'true' } });
    expect(result.automaticTax).toBe(true);
    expect(stub.state.subscriptions.get(result.subscriptionId)).toMatchObject({
      automatic_tax: { enabled: true },
      discounts: [expect.objectContaining({ object: 'discount', source: { coupon: 'LAUNCH20', type: 'coupon' } })],
    });
  });

  it('when automatic tax is asked without active tax settings or a customer location, then Stripe refuses it with its codes', async () => {
    const c = await catalog();
    const input = { customerId: c.customer, subscriptionId: null, prices: [c.sms], automaticTax: true, metadata };
    await expect(upsertSubscription(stripe, input)).rejects.toMatchObject({ statusCode: 400, code: 'stripe_tax_inactive' });
    await stripe.tax.settings.update({ head_office: { address: { country: 'US', postal_code: '94107' } } });
    await expect(upsertSubscription(stripe, input)).rejects.toMatchObject({ statusCode: 400, code: 'customer_tax_location_invalid' });
    expect(stub.state.subscriptions.size).toBe(0);
  });

  it('when a billing_cycle_anchor is past the next natural billing date, then Stripe refuses the subscription', async () => {
    const c = await catalog();
    const params = { customer: c.customer, items: [{ price: c.sms }], proration_behavior: 'none' as const };
    const inTenDays = Math.floor(Date.now() / 1000) + 10 * 86_400;
    await expect(stripe.subscriptions.create({ ...params, billing_cycle_anchor: inTenDays + 40 * 86_400 })).rejects.toMatchObject({ statusCode: 400, param: 'billing_cycle_anchor' });
    expect((await stripe.subscriptions.create({ ...params, billing_cycle_anchor: inTenDays })).billing_cycle_anchor).toBe(inTenDays);
  });

  it('when a price is added and another removed, then one update makes the items as desired and keeps the rest', async () => {
    const c = await catalog();
    const created = await upsertSubscription(stripe, { customerId: c.customer, subscriptionId: null, prices: [c.sms, c.email], metadata });
    const smsItem = created.items.find((i) => i.priceId === c.sms)!;
    const emailItem = created.items.find((i) => i.priceId === c.email)!;

    const from = stub.requestLog.length;
    const updated = await upsertSubscription(stripe, { customerId: c.customer, subscriptionId: created.subscriptionId, prices: [c.sms, c.mms], metadata });
    const requests = stub.requestLog.slice(from);
    expect(requests.map((r) => `${r.method} ${r.path}`)).toEqual([`GET /v1/subscriptions/${created.subscriptionId}`, `POST /v1/subscriptions/${created.subscriptionId}`]);
    expect(requests[1]!.params).toEqual({ items: [{ id: emailItem.id, deleted: 'true' }, { price: c.mms }], proration_behavior: 'none' });
    expect(updated.subscriptionId).toBe(created.subscriptionId);
    expect(updated.items).toEqual([smsItem, { id: expect.stringMatching(/^si_/), priceId: c.mms }]);
  });

  it('when nothing changed, then re-running makes no update call at all', async () => {
    const c = await catalog();
    stub.seedCoupon({ id: 'VIP', amount_off: 500, currency: 'usd' });
    const input = { customerId: c.customer, subscriptionId: null, prices: [c.sms, c.fee], coupon: 'VIP', automaticTax: false, metadata };
    const created = await upsertSubscription(stripe, input);
    const requests = await requestsDuring(async () => {
      const again = await upsertSubscription(stripe, { ...input, subscriptionId: created.subscriptionId, prices: [c.fee, c.sms] });
      expect(again).toEqual(created);
    });
    expect(requests).toEqual([`GET /v1/subscriptions/${created.subscriptionId}`]);
  });

  it('when only metadata, coupon or tax differ, then one update sends only those', async () => {
    const c = await catalog();
    stub.seedCoupon({ id: 'VIP', amount_off: 500, currency: 'usd' });
    const created = await upsertSubscription(stripe, { customerId: c.customer, subscriptionId: null, prices: [c.sms], coupon: 'VIP', metadata });
    const base = { customerId: c.customer, subscriptionId: created.subscriptionId, prices: [c.sms] };
    await stripe.tax.settings.update({ head_office: { address: { country: 'US', postal_code: '94107' } } });
    await stripe.customers.update(c.customer, { address: { country: 'US', postal_code: '97712' } });

    await upsertSubscription(stripe, { ...base, metadata: { ...metadata, meterbridge_company_id: 'compB' }, automaticTax: true });
    expect(stub.requestLog.at(-1)!.params).toEqual({
      automatic_tax: { enabled: 'true' },
      metadata: { meterbridge_company_id: 'compB' },
      proration_behavior: 'none',
    });
    // undefined leaves the coupon alone; null removes it.
    expect(await requestsDuring(() => upsertSubscription(stripe, { ...base, metadata: {} }))).toEqual([`GET /v1/subscriptions/${created.subscriptionId}`]);
    await upsertSubscription(stripe, { ...base, coupon: null, metadata: {} });
    expect(stub.requestLog.at(-1)!.params).toEqual({ discounts: '', proration_behavior: 'none' });
    expect(stub.state.subscriptions.get(created.subscriptionId)!.discounts).toEqual([]);
  });

  it('when the stored subscription was canceled, then a new one is created', async () => {
    const c = await catalog();
    const created = await upsertSubscription(stripe, { customerId: c.customer, subscriptionId: null, prices: [c.sms], metadata });
    expect(await cancelSubscription(stripe, created.subscriptionId)).toEqual({ subscriptionId: created.subscriptionId, status: 'canceled' });
    const next = await upsertSubscription(stripe, { customerId: c.customer, subscriptionId: created.subscriptionId, prices: [c.sms], metadata });
    expect(next.subscriptionId).not.toBe(created.subscriptionId);
    expect(next.status).toBe('active');
  });

  it('when the stored subscription belongs to another customer, then it refuses with 409 and changes nothing', async () => {
    const c = await catalog();
    const other = await createCustomer(stripe, { name: 'Other', locationId: 'l9', companyId: 'compA' }, 'k-other');
    const created = await upsertSubscription(stripe, { customerId: c.customer, subscriptionId: null, prices: [c.sms], metadata });
    const requests = await requestsDuring(() =>
      expect(upsertSubscription(stripe, { customerId: other.id, subscriptionId: created.subscriptionId, prices: [c.email], metadata })).rejects.toMatchObject({
        status: 409,
        code: 'subscription_customer_mismatch',
      }),
    );
    expect(requests).toEqual([`GET /v1/subscriptions/${created.subscriptionId}`]);
  });

  it("when Stripe refuses the prices, then Stripe's error comes through", async () => {
    const c = await catalog();
    const yearly = await ensureFlatFeePrice(stripe, { productName: 'Yearly', currency: 'usd', unitAmount: 100, interval: 'year', taxBehavior: 'exclusive' });
    await expect(
      upsertSubscription(stripe, { customerId: c.customer, subscriptionId: null, prices: [c.sms, yearly.id], metadata }),
    ).rejects.toMatchObject({ type: 'StripeInvalidRequestError', statusCode: 400, message: expect.stringContaining('must match') });
    await expect(upsertSubscription(stripe, { customerId: c.customer, subscriptionId: null, prices: [], metadata })).rejects.toMatchObject({
      status: 400,
      code: 'invalid_subscription_prices',
    });
  });

  it('when a subscription is canceled, then usage is invoiced now without proration, and canceling again is harmless', async () => {
    const c = await catalog();
    const created = await upsertSubscription(stripe, { customerId: c.customer, subscriptionId: null, prices: [c.sms], metadata });
    await cancelSubscription(stripe, created.subscriptionId);
    expect(stub.requestLog.at(-1)).toMatchObject({ method: 'DELETE', params: { invoice_now: 'true', prorate: 'false' } });
    expect(await cancelSubscription(stripe, created.subscriptionId)).toEqual({ subscriptionId: created.subscriptionId, status: 'canceled' });
    await expect(cancelSubscription(stripe, 'sub_unknown0001')).rejects.toMatchObject({ statusCode: 404, code: 'resource_missing' });
  });
});

describe('the fake: other endpoints the wrappers rely on', () => {
  it('when a webhook endpoint is created, then only the create answer carries its whsec_ secret; list and delete work', async () => {
    const created = await stripe.webhookEndpoints.create({ url: 'https://app.example/webhooks/stripe/c1', enabled_events: ['invoice.paid', 'invoice.payment_failed'] });
    expect(created.secret).toMatch(/^whsec_/);
    const listed = await stripe.webhookEndpoints.list();
    expect(listed.data.map((e) => [e.id, e.enabled_events, e.secret])).toEqual([[created.id, ['invoice.paid', 'invoice.payment_failed'], undefined]]);
    expect(await stripe.webhookEndpoints.del(created.id)).toMatchObject({ id: created.id, deleted: true });
    expect(stub.state.webhookEndpoints.size).toBe(0);
  });

  it('when a webhook endpoint is updated, then its list is replaced without the secret; an unknown id is 404 resource_missing', async () => {
    const created = await stripe.webhookEndpoints.create({ url: 'https://app.example/webhooks/stripe/c1', enabled_events: ['invoice.paid'] });
    const updated = await stripe.webhookEndpoints.update(created.id, { enabled_events: ['invoice.paid', 'setup_intent.succeeded'] });
    expect([updated.id, updated.enabled_events, updated.secret]).toEqual([created.id, ['invoice.paid', 'setup_intent.succeeded'], undefined]);
    await stripe.webhookEndpoints.del(created.id);
    await expect(stripe.webhookEndpoints.update(created.id, { enabled_events: ['invoice.paid'] })).rejects.toMatchObject({
      statusCode: 404,
      type: 'StripeInvalidRequestError',
      raw: { type: 'invalid_request_error', code: 'resource_missing', param: 'id', message: `No such webhook endpoint: '${created.id}'` },
    });
  });

  it('when invoices are seeded, then invoices.list filters them by customer', async () => {
    stub.seedInvoice({ customer: 'cus_a', total: 1234, status: 'paid' });
    stub.seedInvoice({ customer: 'cus_b', total: 99 });
    const listed = await stripe.invoices.list({ customer: 'cus_a' });
    expect(listed.data.map((i) => [i.customer, i.total, i.status])).toEqual([['cus_a', 1234, 'paid']]);
  });

  it('when a create is repeated with the same idempotency key, then the first answer is replayed; with other parameters, refused', async () => {
    const first = await stripe.products.create({ name: 'Once' }, { idempotencyKey: 'same-key' });
    const again = await stripe.products.create({ name: 'Once' }, { idempotencyKey: 'same-key' });
    expect(again.id).toBe(first.id);
    expect(again.lastResponse.headers['idempotent-replayed']).toBe('true');
    expect(stub.state.products.size).toBe(1);
    await expect(stripe.products.create({ name: 'Twice' }, { idempotencyKey: 'same-key' })).rejects.toMatchObject({
      type: 'StripeIdempotencyError',
      statusCode: 400,
    });
  });

  it('when a parameter is unknown, then the fake refuses it like Stripe', async () => {
    await expect(stripe.customers.create({ nmae: 'typo' } as unknown as Stripe.CustomerCreateParams)).rejects.toMatchObject({
      statusCode: 400,
      code: 'parameter_unknown',
      message: 'Received unknown parameter: nmae',
    });
  });

  it('when a restricted key may not send meter events, then the meter-event endpoint answers 403 and records the refusal', async () => {
    stub.keyPermissions.set(RESTRICTED_KEY, new Set(['customers']));
    await expect(
      clientFor(RESTRICTED_KEY).billing.meterEvents.create({ event_name: 'meterbridge_sms', payload: { stripe_customer_id: 'cus_x', value: '1' }, identifier: 'id-403' }),
    ).rejects.toMatchObject({ statusCode: 403, message: expect.stringContaining("Having the 'rak_billing_meter_event_write' permission") });
    expect(stub.requests).toEqual([{ identifier: 'id-403', status: 403 }]);
    expect(stub.events).toEqual([]);
  });
});
