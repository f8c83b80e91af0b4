import type Stripe from 'stripe';
import { createStripeClientFactory } from '../../server/stripe/stripe-client';
import { releaseSchedule, retrieveSchedule, scheduleSubscription } from '../../server/stripe/subscription-schedules';
import { ensureCustomerTaxLocation, requireStripeTaxActive } from '../../server/stripe/tax';
import { startStripeStub, type StripeStub } from '../support/stripe-stub';

/**
 * The Stripe Tax and subscription-schedule wrappers (server/stripe/tax.ts, subscription-schedules.ts) against the
 * Stripe double, and the double's side of them: tax settings pending until a head office is set
 * (docs.stripe.com/api/tax/settings), customer addresses validated with `tax[validate_location]=immediately`
 * (docs.stripe.com/tax/customer-locations), schedules that start, release and cancel as
 * docs.stripe.com/api/subscription_schedules describes.
 */
let stub: StripeStub;
let stripe: Stripe;

beforeAll(async () => {
  stub = await startStripeStub();
  stripe = createStripeClientFactory({ apiUrl: stub.url, timeoutMs: 5_000 })('sk_test_taxWrappers00000001');
});
afterAll(async () => {
  await stub.close();
});
beforeEach(() => stub.resetState());

async function customerAndPrice(): Promise<{ customer: string; price: string }> {
  const customer = await stripe.customers.create({ name: 'Harbor Dental' });
  const price = await stripe.prices.create({ currency: 'usd', unit_amount: 4900, recurring: { interval: 'month' }, product_data: { name: 'Fee' }, tax_behavior: 'exclusive' });
  return { customer: customer.id, price: price.id };
}

describe('Stripe Tax prerequisites', () => {
  it('when the account is new, then its tax settings are pending for head_office and automatic tax is refused naming it', async () => {
    const settings = await stripe.tax.settings.retrieve();
    expect(settings).toMatchObject({ object: 'tax.settings', status: 'pending', status_details: { pending: { missing_fields: ['head_office'] } }, head_office: null });
    await expect(requireStripeTaxActive(stripe)).rejects.toMatchObject({ status: 409, code: 'stripe_tax_inactive', message: expect.stringContaining('missing: head_office') });
  });

  it('when the head office is set, then the settings are active and the check passes', async () => {
    const updated = await stripe.tax.settings.update({ head_office: { address: { country: 'US', postal_code: '94107', state: 'CA' } } });
    expect(updated).toMatchObject({ status: 'active', head_office: { address: { country: 'US', postal_code: '94107' } } });
    await expect(requireStripeTaxActive(stripe)).resolves.toBeUndefined();
  });

  it('when a customer has no address and none is given, then 422 customer_location_required', async () => {
    const { customer } = await customerAndPrice();
    await expect(ensureCustomerTaxLocation(stripe, customer)).rejects.toMatchObject({ status: 422, code: 'customer_location_required' });
  });

  it('when the address given cannot be located, then Stripe refuses it and it becomes 422 customer_location_invalid, nothing stored', async () => {
    const { customer } = await customerAndPrice();
    await expect(ensureCustomerTaxLocation(stripe, customer, { country: 'US', postalCode: '' })).rejects.toMatchObject({ status: 422, code: 'customer_location_invalid' });
    expect(stub.state.customers.get(customer)!.address).toBeNull();
  });

  it('when a usable address is given, then it is set and Stripe Tax reads a supported location from it', async () => {
    const { customer } = await customerAndPrice();
    await ensureCustomerTaxLocation(stripe, customer, { country: 'DE', postalCode: '10115', city: 'Berlin' });
    const read = await stripe.customers.retrieve(customer, { expand: ['tax'] });
    expect(read).toMatchObject({ address: { country: 'DE', postal_code: '10115', city: 'Berlin' }, tax: { automatic_tax: 'supported' } });
    await expect(ensureCustomerTaxLocation(stripe, customer)).resolves.toBeUndefined();
  });

  it('when a price has no tax_behavior and the settings no default, then automatic tax is refused on it', async () => {
    const { customer } = await customerAndPrice();
    await stripe.tax.settings.update({ head_office: { address: { country: 'US', postal_code: '94107' } } });
    await ensureCustomerTaxLocation(stripe, customer, { country: 'US', postalCode: '97712' });
    const unspecified = await stripe.prices.create({ currency: 'usd', unit_amount: 100, recurring: { interval: 'month' }, product_data: { name: 'Old' } });
    expect(unspecified.tax_behavior).toBe('unspecified');
    await expect(stripe.subscriptions.create({ customer, items: [{ price: unspecified.id }], automatic_tax: { enabled: true } })).rejects.toMatchObject({ statusCode: 400 });
    await stripe.tax.settings.update({ defaults: { tax_behavior: 'exclusive' } });
    expect((await stripe.subscriptions.create({ customer, items: [{ price: unspecified.id }], automatic_tax: { enabled: true } })).automatic_tax.enabled).toBe(true);
  });
});

describe('subscription schedules', () => {
  it('when the start is not in the future, then 400 invalid_start_date before Stripe is called', async () => {
    const { customer, price } = await customerAndPrice();
    const from = stub.requestLog.length;
    await expect(scheduleSubscription(stripe, { customerId: customer, startAt: new Date(Date.now() - 1000), prices: [price], automaticTax: false, metadata: {} })).rejects.toMatchObject({
      status: 400,
      code: 'invalid_start_date',
    });
    expect(stub.requestLog.length).toBe(from);
  });

  it('when a schedule has not started, then releasing leaves it as is; once started, release keeps the subscription', async () => {
    const { customer, price } = await customerAndPrice();
    const startAt = new Date(Date.now() + 5 * 86_400_000);
    const scheduled = await scheduleSubscription(stripe, { customerId: customer, startAt, prices: [price], automaticTax: false, metadata: { k: 'v' } });
    expect(scheduled).toMatchObject({ status: 'not_started', subscriptionId: null, automaticTax: false, startAt: new Date(Math.floor(startAt.getTime() / 1000) * 1000) });
    expect(await releaseSchedule(stripe, scheduled.scheduleId)).toMatchObject({ status: 'not_started' });

    stub.startSubscriptionSchedule(scheduled.scheduleId);
    const started = await retrieveSchedule(stripe, scheduled.scheduleId);
    expect(started).toMatchObject({ status: 'active', subscriptionId: expect.stringMatching(/^sub_/) });
    const released = await releaseSchedule(stripe, scheduled.scheduleId);
    expect(released).toMatchObject({ status: 'released', subscriptionId: started.subscriptionId });
    expect(stub.state.subscriptions.get(started.subscriptionId!)).toMatchObject({ customer, schedule: null, metadata: { k: 'v' } });
    // Stripe: "A schedule can only be released if its status is not_started or active."
    await expect(stripe.subscriptionSchedules.release(scheduled.scheduleId)).rejects.toMatchObject({ statusCode: 400 });
  });

  it('when a started schedule is canceled, then its subscription is canceled with it', async () => {
    const { customer, price } = await customerAndPrice();
    const scheduled = await scheduleSubscription(stripe, { customerId: customer, startAt: new Date(Date.now() + 86_400_000), prices: [price], automaticTax: false, metadata: {} });
    stub.startSubscriptionSchedule(scheduled.scheduleId);
    const subscriptionId = (await retrieveSchedule(stripe, scheduled.scheduleId)).subscriptionId!;
    await stripe.subscriptionSchedules.cancel(scheduled.scheduleId);
    expect(stub.state.subscriptionSchedules.get(scheduled.scheduleId)!.status).toBe('canceled');
    expect(stub.state.subscriptions.get(subscriptionId)!.status).toBe('canceled');
  });

  it('when a schedule starting now is created, then its subscription exists at once', async () => {
    const { customer, price } = await customerAndPrice();
    const schedule = await stripe.subscriptionSchedules.create({ customer, start_date: 'now', end_behavior: 'release', phases: [{ items: [{ price }] }] });
    expect(schedule.status).toBe('active');
    // A flat fee due now and no payment method: the subscription starts `incomplete`, as a direct create would.
    expect(stub.state.subscriptions.get(schedule.subscription as string)).toMatchObject({ customer, schedule: schedule.id, status: 'incomplete' });
  });
});
