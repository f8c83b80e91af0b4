import Stripe from 'stripe';
import { startStripeStub, type StripeStub } from '../support/stripe-stub';

/**
 * The Stripe double's billing credits behave as Stripe documents them (test/support/stripe/credit-grants.ts,
 * credit-balance.ts, invoice-preview.ts), checked through stripe-node 23.1 itself.
 */
let stub: StripeStub;
let client: Stripe;
let customer = '';
let metered = '';

beforeAll(async () => {
  stub = await startStripeStub();
  client = new Stripe('sk_test_doubleKey000001', { host: '127.0.0.1', port: Number(new URL(stub.url).port), protocol: 'http', maxNetworkRetries: 0 });
  customer = (await client.customers.create({ name: 'Wallet client', payment_method: 'pm_card_visa', invoice_settings: { default_payment_method: 'pm_card_visa' } })).id;
  const meter = await client.billing.meters.create({ display_name: 'SMS', event_name: 'credits_sms', default_aggregation: { formula: 'sum' } });
  const product = await client.products.create({ name: 'SMS' });
  metered = (await client.prices.create({ product: product.id, currency: 'usd', unit_amount: 2, tax_behavior: 'exclusive', recurring: { interval: 'month', usage_type: 'metered', meter: meter.id } })).id;
  await client.subscriptions.create({ customer, items: [{ price: metered }] });
});
afterAll(() => stub.close());

const grant = (value: number, extra: Partial<Stripe.Billing.CreditGrantCreateParams> = {}) =>
  client.billing.creditGrants.create({
    customer,
    amount: { type: 'monetary', monetary: { currency: 'usd', value } },
    applicability_config: { scope: { price_type: 'metered' } },
    category: 'paid',
    name: 'Wallet top-up',
    ...extra,
  });
const balance = async () => {
  const summary = await client.billing.creditBalanceSummaries.retrieve({ customer, filter: { type: 'applicability_scope', applicability_scope: { price_type: 'metered' } } });
  return summary.balances[0]?.available_balance.monetary?.value ?? 0;
};

describe('billing credits in the Stripe double', () => {
  it('creates, retrieves and lists a monetary grant; the balance summary adds grants in effect, in cents', async () => {
    const first = await grant(1000, { metadata: { topup: '1' } });
    expect(first).toMatchObject({ object: 'billing.credit_grant', amount: { type: 'monetary', monetary: { currency: 'usd', value: 1000 } }, applicability_config: { scope: { price_type: 'metered' } }, category: 'paid', priority: 50, voided_at: null });
    expect((await client.billing.creditGrants.retrieve(first.id)).metadata).toEqual({ topup: '1' });
    expect((await client.billing.creditGrants.list({ customer })).data.map((g) => g.id)).toContain(first.id);
    expect(await balance()).toBe(1000);
    const byGrant = await client.billing.creditBalanceSummaries.retrieve({ customer, filter: { type: 'credit_grant', credit_grant: first.id } });
    expect(byGrant.balances[0]!.ledger_balance.monetary!.value).toBe(1000);
    await client.billing.creditGrants.voidGrant(first.id);
    expect(await balance()).toBe(0);
  });

  it('refuses what Stripe refuses, with its error shape', async () => {
    await expect(grant(0)).rejects.toMatchObject({ type: 'StripeInvalidRequestError', param: 'amount[monetary][value]' });
    await expect(grant(12.5 as number)).rejects.toMatchObject({ statusCode: 400 });
    await expect(grant(100, { applicability_config: { scope: { price_type: 'metered', prices: [{ id: metered }] } } })).rejects.toMatchObject({ param: 'applicability_config[scope]' });
    await expect(grant(100, { amount: { type: 'monetary', monetary: { currency: 'eur', value: 100 } }, applicability_config: { scope: { prices: [{ id: metered }] } } })).rejects.toMatchObject({ param: 'applicability_config[scope][prices][0][id]' });
    await expect(grant(100, { customer: 'cus_nobody' })).rejects.toMatchObject({ code: 'resource_missing' });
    await expect(client.billing.creditBalanceSummaries.retrieve({ customer } as never)).rejects.toMatchObject({ code: 'parameter_missing', param: 'filter' });
    await expect(client.billing.creditGrants.retrieve('credgr_nope')).rejects.toMatchObject({ statusCode: 404, code: 'resource_missing' });
  });

  it('expires a grant once; an expired grant counts for nothing', async () => {
    const g = await grant(500);
    expect(await balance()).toBe(500);
    const expired = await client.billing.creditGrants.expire(g.id);
    expect(expired.expires_at).not.toBeNull();
    expect(await balance()).toBe(0);
    await expect(client.billing.creditGrants.expire(g.id)).rejects.toMatchObject({ statusCode: 400 });
  });

  it('the invoice preview applies credits to metered usage before tax (total_pretax_credit_amounts)', async () => {
    for (let i = 0; i < 3; i++) {
      await client.billing.meterEvents.create({ event_name: 'credits_sms', payload: { stripe_customer_id: customer, value: '100' }, identifier: `credits-${i}` });
    }
    const before = await client.invoices.createPreview({ customer });
    expect(before.subtotal).toBe(600);
    expect(before.total).toBe(600);
    await grant(250);
    const after = await client.invoices.createPreview({ customer });
    expect(after.total_pretax_credit_amounts).toEqual([expect.objectContaining({ amount: 250, type: 'credit_balance_transaction' })]);
    expect(after.total).toBe(350);
    expect(await balance()).toBe(250); // a preview consumes nothing
    await grant(1000);
    expect((await client.invoices.createPreview({ customer })).total).toBe(0);
  });
});
