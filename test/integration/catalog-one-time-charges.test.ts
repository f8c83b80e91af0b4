import Stripe from 'stripe';
import { startStripeStub, type StripeStub } from '../support/stripe-stub';
import { startTestService, type TestService } from '../support/test-service';

/**
 * One-time products and charges through the settings API against the Stripe double
 * (test/support/stripe/one-time-invoices.ts): a product becomes a Stripe product with a one-time price; "charge now"
 * makes one invoice paid with the card on file; "send invoice" has Stripe email it with a due date (and needs the
 * customer's email); a decline is kept with Stripe's message and can be retried; retries and replays never make a
 * second invoice or payment; invoice webhooks update the status.
 */
const COMPANY = 'companyOneTime000001';
const KEY = 'sk_test_oneTimeCharges0001';
const PAID = 'locOneTimePaid';
const MAILED = 'locOneTimeMailed';
const DECLINED = 'locOneTimeDeclined';

let t: TestService;
let stripe: StripeStub;
let client: Stripe;
let token = '';
let productId = 0;
const customers: Record<string, string> = {};
const api = (method: 'get' | 'put' | 'post' | 'delete', path: string, body?: object) => {
  let req = t.http[method](path).set('authorization', `Bearer ${token}`);
  if (body) req = req.send(body);
  return req;
};
const invoicesOf = (customer: string) => [...stripe.state.invoices.values()].filter((i) => i.customer === customer);
const requestsTo = (pattern: RegExp) => stripe.requestLog.filter((r) => r.method === 'POST' && pattern.test(r.path));

async function sendEvent(type: string, object: { id: string; object: string }) {
  const secret = [...stripe.state.webhookEndpoints.values()][0]!.secret as string;
  const payload = JSON.stringify({ id: `evt_${type}_${object.id}`, object: 'event', type, data: { object } });
  return t.http
    .post(`/webhooks/stripe/${COMPANY}`)
    .set('stripe-signature', Stripe.webhooks.generateTestHeaderString({ payload, secret }))
    .set('content-type', 'application/json')
    .send(payload)
    .expect(200);
}

beforeAll(async () => {
  stripe = await startStripeStub();
  client = new Stripe(KEY, { host: '127.0.0.1', port: Number(new URL(stripe.url).port), protocol: 'http', maxNetworkRetries: 0 });
  t = await startTestService({ STRIPE_API_URL: stripe.url, REPORTER_ENABLED: 'false' });
  await t.service.accounts.registerAgency(COMPANY, 'One-time Agency');
  token = (await t.service.sessionTokens.issue({ userId: 'u-onetime', companyId: COMPANY, type: 'agency', role: 'admin', activeLocation: null })).token;
  await api('put', '/api/stripe/connection', { secretKey: KEY }).expect(200);
  for (const [locationId, email, card] of [
    [PAID, 'pay@clinic.example', 'pm_card_visa'],
    [MAILED, 'ap@clinic.example', null],
    [DECLINED, null, 'pm_card_chargeDeclined'],
  ] as const) {
    await t.service.accounts.registerSubAccount(locationId, COMPANY, `Clinic ${locationId}`);
    const customer = await client.customers.create({ name: locationId, ...(email ? { email } : {}), ...(card ? { payment_method: card, invoice_settings: { default_payment_method: card } } : {}) });
    customers[locationId] = customer.id;
    await api('put', `/api/sub-accounts/${locationId}/customer`, { customerId: customer.id }).expect(200);
  }
});
afterAll(async () => {
  await t.close();
  await stripe.close();
});

describe('one-time products', () => {
  it('when a product is created, then Stripe has a product and a one-time price in cents with its tax behavior, and the list shows it', async () => {
    const created = (await api('post', '/api/catalog/one-time-products', { name: 'Set-up fee', description: 'Account onboarding', amount: 49_900, currency: 'usd', taxBehavior: 'exclusive' }).expect(201)).body;
    productId = created.id;
    expect(stripe.state.products.get(created.stripeProductId)).toMatchObject({ name: 'Set-up fee', description: 'Account onboarding' });
    expect(stripe.state.prices.get(created.stripePriceId)).toMatchObject({ product: created.stripeProductId, unit_amount: 49_900, currency: 'usd', tax_behavior: 'exclusive', type: 'one_time', recurring: null });
    expect((await api('get', '/api/catalog/one-time-products').expect(200)).body.products).toEqual([created]);
  });

  it('when the amount is not whole cents, then it is refused before Stripe is called', async () => {
    const res = await api('post', '/api/catalog/one-time-products', { name: 'Bad', amount: 10.5, currency: 'usd' }).expect(400);
    expect(res.body.error.code).toBe('invalid_request');
  });
});

describe('charging a sub-account once', () => {
  it('when "charge now" is chosen, then one invoice with only this item is finalized and paid with the card on file', async () => {
    const charge = (await api('post', `/api/sub-accounts/${PAID}/one-time-charges`, { mode: 'charge_now', productId }).expect(201)).body;
    expect(charge).toMatchObject({ status: 'paid', amount: 49_900, currency: 'usd', productName: 'Set-up fee', mode: 'charge_now', error: null });
    const [invoice, ...others] = invoicesOf(customers[PAID]!);
    expect(others).toEqual([]);
    expect(invoice).toMatchObject({ id: charge.stripeInvoiceId, status: 'paid', collection_method: 'charge_automatically', amount_paid: 49_900, metadata: { meterbridge_charge_id: String(charge.id) } });
    expect(invoice!.lines.data).toHaveLength(1);
    const keys = stripe.requestLog.filter((r) => r.idempotencyKey?.startsWith(`meterbridge-charge-${charge.id}-`)).map((r) => r.idempotencyKey);
    expect(keys).toEqual(['invoice', 'item', 'finalize', 'pay'].map((s) => `meterbridge-charge-${charge.id}-1-${s}`));
    expect((await api('get', `/api/sub-accounts/${PAID}/one-time-charges`).expect(200)).body.charges).toEqual([charge]);
  });

  it('when "send invoice" is chosen, then Stripe emails an open invoice due in the chosen days; a customer without email is refused before anything is made', async () => {
    const before = Date.now();
    const charge = (await api('post', `/api/sub-accounts/${MAILED}/one-time-charges`, { mode: 'send_invoice', productId, daysUntilDue: 14 }).expect(201)).body;
    expect(charge).toMatchObject({ status: 'open', hostedInvoiceUrl: expect.stringContaining(charge.stripeInvoiceId) });
    expect(Date.parse(charge.dueDate) - before).toBeGreaterThanOrEqual(14 * 86_400_000 - 5000);
    expect(stripe.state.invoices.get(charge.stripeInvoiceId)).toMatchObject({ collection_method: 'send_invoice', days_until_due: 14, status: 'open' });
    expect(requestsTo(new RegExp(`/v1/invoices/${charge.stripeInvoiceId}/send$`))).toHaveLength(1);

    const invoicesBefore = stripe.state.invoices.size;
    const refused = await api('post', `/api/sub-accounts/${DECLINED}/one-time-charges`, { mode: 'send_invoice', productId }).expect(422);
    expect(refused.body.error.code).toBe('customer_email_required');
    expect(stripe.state.invoices.size).toBe(invoicesBefore);
  });

  it('when the card is declined, then the charge is payment_failed with Stripe’s message; a retry after a new card pays the same invoice', async () => {
    const charge = (await api('post', `/api/sub-accounts/${DECLINED}/one-time-charges`, { mode: 'charge_now', productId }).expect(201)).body;
    expect(charge).toMatchObject({ status: 'payment_failed', error: 'Stripe: Your card was declined.', hostedInvoiceUrl: expect.any(String) });
    expect(stripe.state.invoices.get(charge.stripeInvoiceId)).toMatchObject({ status: 'open', attempt_count: 1 });

    await client.paymentMethods.attach('pm_card_mastercard', { customer: customers[DECLINED]! });
    await client.customers.update(customers[DECLINED]!, { invoice_settings: { default_payment_method: 'pm_card_mastercard' } });
    const retried = (await api('post', `/api/sub-accounts/${DECLINED}/one-time-charges/${charge.id}/retry`).expect(200)).body;
    expect(retried).toMatchObject({ id: charge.id, status: 'paid', error: null, stripeInvoiceId: charge.stripeInvoiceId });
    expect(invoicesOf(customers[DECLINED]!)).toHaveLength(1);
    expect((await api('post', `/api/sub-accounts/${DECLINED}/one-time-charges/${charge.id}/retry`).expect(409)).body.error.code).toBe('charge_not_retryable');
  });

  it('when Stripe fails after the invoice was made, then the charge is kept failed, and a retry reuses the invoice: one invoice, one payment', async () => {
    stripe.apiFaults.push({ method: 'POST', path: /^\/v1\/invoices\/[^/]+\/finalize$/, status: 500 });
    const res = await api('post', `/api/sub-accounts/${PAID}/one-time-charges`, { mode: 'charge_now', productId }).expect(502);
    expect(res.body.error.code).toBe('stripe_error');
    const [failed] = (await api('get', `/api/sub-accounts/${PAID}/one-time-charges`)).body.charges;
    expect(failed).toMatchObject({ status: 'failed', error: expect.stringContaining('Simulated 500') });
    const invoicesBefore = invoicesOf(customers[PAID]!).length;
    const retried = (await api('post', `/api/sub-accounts/${PAID}/one-time-charges/${failed.id}/retry`).expect(200)).body;
    expect(retried).toMatchObject({ status: 'paid', stripeInvoiceId: failed.stripeInvoiceId });
    expect(invoicesOf(customers[PAID]!)).toHaveLength(invoicesBefore);
    // The invoice already had its line: no second item; one payment.
    expect(stripe.state.invoices.get(failed.stripeInvoiceId)!.lines.data).toHaveLength(1);
    expect(requestsTo(new RegExp(`/v1/invoices/${failed.stripeInvoiceId}/pay$`))).toHaveLength(1);
  });

  it('when an invoice webhook arrives, then the charge’s status follows the invoice as Stripe has it now', async () => {
    const charge = (await api('post', `/api/sub-accounts/${MAILED}/one-time-charges`, { mode: 'send_invoice', productId, daysUntilDue: 7 }).expect(201)).body;
    await client.invoices.voidInvoice(charge.stripeInvoiceId);
    await sendEvent('invoice.voided', { id: charge.stripeInvoiceId, object: 'invoice' });
    const listed = (await api('get', `/api/sub-accounts/${MAILED}/one-time-charges`)).body.charges;
    expect(listed.find((c: { id: number }) => c.id === charge.id)).toMatchObject({ status: 'void' });
  });

  it('when an archived product is charged, then 409 product_archived; an unknown product is 404', async () => {
    const archived = (await api('delete', `/api/catalog/one-time-products/${productId}`).expect(200)).body;
    expect(archived.archived).toBe(true);
    expect(stripe.state.prices.get(archived.stripePriceId)!.active).toBe(false);
    expect((await api('post', `/api/sub-accounts/${PAID}/one-time-charges`, { mode: 'charge_now', productId }).expect(409)).body.error.code).toBe('product_archived');
    expect((await api('post', `/api/sub-accounts/${PAID}/one-time-charges`, { mode: 'charge_now', productId: 999_999 }).expect(404)).body.error.code).toBe('product_not_found');
  });
});

describe('the Stripe double’s invoice rules, through stripe-node', () => {
  it('when an idempotency key is reused with other parameters, then 400 idempotency_error; a paid invoice cannot be paid again; items only go on drafts', async () => {
    const customer = customers[PAID]!;
    const first = await client.invoices.create({ customer, auto_advance: false }, { idempotencyKey: 'double-key-1' });
    const again = await client.invoices.create({ customer, auto_advance: false }, { idempotencyKey: 'double-key-1' });
    expect(again.id).toBe(first.id);
    await expect(client.invoices.create({ customer, auto_advance: true }, { idempotencyKey: 'double-key-1' })).rejects.toMatchObject({ statusCode: 400, rawType: 'idempotency_error' });
    await client.invoiceItems.create({ customer, invoice: first.id, amount: 500, currency: 'usd' });
    await client.invoices.finalizeInvoice(first.id!);
    await expect(client.invoiceItems.create({ customer, invoice: first.id, amount: 100, currency: 'usd' })).rejects.toMatchObject({ statusCode: 400 });
    expect((await client.invoices.pay(first.id!)).status).toBe('paid');
    await expect(client.invoices.pay(first.id!)).rejects.toMatchObject({ statusCode: 400, message: 'Invoice is already paid.' });
    await expect(client.invoices.create({ customer, collection_method: 'send_invoice' })).rejects.toMatchObject({ code: 'parameter_missing', param: 'days_until_due' });
  });
});
