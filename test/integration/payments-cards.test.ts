import nock from 'nock';
import { setUpPaymentsAgency, type PaymentsAgency } from '../support/payments';
import { startStripeStub, type StripeStub } from '../support/stripe-stub';
import { startTestService, type TestService } from '../support/test-service';

/**
 * Cards on file through Stripe's hosted pages: the client opens Checkout in setup mode, the card it saves becomes the
 * customer's default for invoices when Stripe reports the session completed, and the agency sees it; the Customer
 * Portal opens with the configuration Meterbridge made once; an agency may require a card before a subscription.
 */
const COMPANY = 'companyPayCards00001';
const HARBOR = 'locPayCardsHarbor001';
const CEDAR = 'locPayCardsCedar0001';

let t: TestService;
let stripe: StripeStub;
let agency: PaymentsAgency;
let harborCustomer = '';

const get = (path: string, token: string) => t.http.get(path).set('authorization', `Bearer ${token}`);
const post = (path: string, token: string) => t.http.post(path).set('authorization', `Bearer ${token}`).send({});

beforeAll(async () => {
  stripe = await startStripeStub();
  t = await startTestService({ STRIPE_API_URL: stripe.url, REPORTER_RETRY_BASE_SECONDS: '0' });
  agency = await setUpPaymentsAgency(t, stripe, COMPANY, { flatFeeCents: 4900 });
  harborCustomer = await agency.addSubAccount(HARBOR, 'Harbor Dental');
  await t.http.put(`/api/sub-accounts/${HARBOR}/billing`).set('authorization', `Bearer ${agency.agencyToken}`).send({ rebillingEnabled: true }).expect(200);
});
afterAll(async () => {
  nock.cleanAll();
  await t.close();
  await stripe.close();
});

describe('cards on file', () => {
  it('when a subscribed client has no card, then its page says so and the agency list flags it as billed without a card', async () => {
    const client = await agency.clientToken(HARBOR);
    const payments = (await get(`/api/sub-accounts/${HARBOR}/payments`, client).expect(200)).body;
    expect(payments.card).toMatchObject({ status: 'no_card', usable: false, last4: null });
    const flags = (await get(`/api/payments/sub-accounts?locationIds=${HARBOR}`, agency.agencyToken).expect(200)).body.items;
    expect(flags).toEqual([expect.objectContaining({ locationId: HARBOR, billedWithoutCard: true, hasHeldUsage: false, error: null })]);
  });

  it('when the client adds a card through Checkout and Stripe reports the session completed, then it is the default for invoices and the agency sees it', async () => {
    const client = await agency.clientToken(HARBOR);
    const link = (await post(`/api/sub-accounts/${HARBOR}/payments/card-link`, client).expect(200)).body;
    expect(link).toEqual({ url: expect.stringMatching(/^https:\/\/checkout\.stripe\.com\/c\/pay\/cs_test_/), expiresAt: expect.any(String), kind: 'checkout_setup' });
    const session = [...stripe.state.checkoutSessions.values()].at(-1)!;
    expect(session).toMatchObject({ mode: 'setup', customer: harborCustomer, currency: 'usd', client_reference_id: HARBOR, metadata: { meterbridge_location_id: HARBOR } });
    expect(session.success_url).toContain('/payments/return?outcome=card_saved');

    // Only the webhook applies the card: reading the page before it does not.
    const completed = stripe.completeCheckoutSession(session.id, { brand: 'mastercard', last4: '4444', exp_month: 8, exp_year: 2031 });
    expect(stripe.state.customers.get(harborCustomer)!.invoice_settings.default_payment_method).toBeNull();
    const res = await agency.sendEvent('checkout.session.completed', { id: completed.id, object: 'checkout.session', customer: harborCustomer });
    expect(res.body).toMatchObject({ received: true, locationId: HARBOR });
    const pm = stripe.state.setupIntents.get(completed.setup_intent)!.payment_method;
    expect(stripe.state.customers.get(harborCustomer)!.invoice_settings.default_payment_method).toBe(pm);

    const payments = (await get(`/api/sub-accounts/${HARBOR}/payments`, agency.agencyToken).expect(200)).body;
    expect(payments.card).toEqual({
      status: 'card_on_file', customerName: 'Harbor Dental', usable: true, source: 'customer', paymentMethodId: pm, type: 'card', brand: 'mastercard', last4: '4444', expMonth: 8, expYear: 2031,
      expiringSoon: false, expired: false,
    });
    const flags = (await get(`/api/payments/sub-accounts?locationIds=${HARBOR}`, agency.agencyToken).expect(200)).body.items;
    expect(flags[0]).toMatchObject({ billedWithoutCard: false });
  });

  it('when the same completion is delivered again, then the same card is set again and nothing else changes', async () => {
    const session = [...stripe.state.checkoutSessions.values()].at(-1)!;
    const updates = () => stripe.requestLog.filter((r) => r.method === 'POST' && r.path === `/v1/customers/${harborCustomer}`).length;
    const before = updates();
    await agency.sendEvent('checkout.session.completed', { id: session.id, object: 'checkout.session' });
    expect(updates()).toBe(before + 1); // the same default, set again: idempotent
    expect(stripe.state.customers.get(harborCustomer)!.invoice_settings.default_payment_method).toBe(stripe.state.setupIntents.get(session.setup_intent)!.payment_method);
  });

  it('when a setup session Meterbridge did not make completes for the customer, then the default card is left alone; a card changed in Stripe shows after customer.updated', async () => {
    const before = stripe.state.customers.get(harborCustomer)!.invoice_settings.default_payment_method;
    expect((await get(`/api/sub-accounts/${HARBOR}/payments`, agency.agencyToken).expect(200)).body.card.last4).toBe('4444'); // read, and cached
    const made = await fetch(`${stripe.url}/v1/checkout/sessions`, {
      method: 'POST',
      headers: { authorization: `Bearer sk_test_${COMPANY}Key0001`, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ mode: 'setup', customer: harborCustomer, currency: 'usd', success_url: 'https://agency.example/done' }),
    }).then((r) => r.json() as Promise<{ id: string }>);
    const foreign = stripe.completeCheckoutSession(made.id, { last4: '0005' });
    const res = await agency.sendEvent('checkout.session.completed', { id: foreign.id, object: 'checkout.session', customer: harborCustomer });
    expect(res.body.locationId).toBeNull();
    expect(stripe.state.customers.get(harborCustomer)!.invoice_settings.default_payment_method).toBe(before);

    // The agency sets that card as the default in its Dashboard: Stripe says so with customer.updated.
    const pm = stripe.state.setupIntents.get(foreign.setup_intent)!.payment_method;
    stripe.state.customers.get(harborCustomer)!.invoice_settings.default_payment_method = pm;
    expect((await get(`/api/sub-accounts/${HARBOR}/payments`, agency.agencyToken).expect(200)).body.card.last4).toBe('4444'); // still the cached read
    await agency.sendEvent('customer.updated', { id: harborCustomer, object: 'customer' });
    expect((await get(`/api/sub-accounts/${HARBOR}/payments`, agency.agencyToken).expect(200)).body.card.last4).toBe('0005');
  });

  it('when the subscription has a default card of its own, then that card is the one shown, as Stripe charges it before the customer’s', async () => {
    // docs.stripe.com/api/subscriptions/object#subscription_object-default_payment_method: "This takes precedence over
    // default_source. If neither are set, invoices will use the customer's invoice_settings.default_payment_method".
    const customerDefault = stripe.state.customers.get(harborCustomer)!.invoice_settings.default_payment_method as string;
    const other = [...stripe.state.paymentMethods.values()].find((pm) => pm.customer === harborCustomer && pm.id !== customerDefault)!;
    const sub = [...stripe.state.subscriptions.values()].find((s) => s.customer === harborCustomer)!;
    sub.default_payment_method = other.id;
    await agency.sendEvent('customer.subscription.updated', { ...sub, object: 'subscription' });
    const card = (await get(`/api/sub-accounts/${HARBOR}/payments`, agency.agencyToken).expect(200)).body.card;
    expect(card).toMatchObject({ source: 'subscription', last4: other.card.last4 });
    expect(card.last4).not.toBe(stripe.state.paymentMethods.get(customerDefault)!.card.last4);
    sub.default_payment_method = null;
    await agency.sendEvent('customer.subscription.updated', { ...sub, object: 'subscription' });
    expect((await get(`/api/sub-accounts/${HARBOR}/payments`, agency.agencyToken).expect(200)).body.card).toMatchObject({ source: 'customer' });
  });

  it('when a sub-account user who is not its admin asks for the card page, then 403 admin_required; reading still works', async () => {
    const user = await agency.clientToken(HARBOR, false);
    const res = await post(`/api/sub-accounts/${HARBOR}/payments/card-link`, user).expect(403);
    expect(res.body.error.code).toBe('admin_required');
    await get(`/api/sub-accounts/${HARBOR}/payments`, user).expect(200);
  });

  it('when the portal is opened twice, then Meterbridge made one configuration and both sessions use it; deleted in Stripe, it is made again', async () => {
    const client = await agency.clientToken(HARBOR);
    const first = (await post(`/api/sub-accounts/${HARBOR}/payments/portal-link`, client).expect(200)).body;
    expect(first).toEqual({ url: expect.stringMatching(/^https:\/\/billing\.stripe\.com\/p\/session\//), expiresAt: null, kind: 'billing_portal' });
    await post(`/api/sub-accounts/${HARBOR}/payments/portal-link`, agency.agencyToken).expect(200);
    const configurations = [...stripe.state.portalConfigurations.values()];
    expect(configurations).toHaveLength(1);
    expect(configurations[0]!.features).toMatchObject({ invoice_history: { enabled: true }, payment_method_update: { enabled: true }, subscription_cancel: { enabled: false } });
    expect([...stripe.state.portalSessions.values()].map((s) => s.configuration)).toEqual([configurations[0]!.id, configurations[0]!.id]);

    stripe.state.portalConfigurations.clear();
    await post(`/api/sub-accounts/${HARBOR}/payments/portal-link`, client).expect(200);
    expect(stripe.state.portalConfigurations.size).toBe(1);
  });

  it('when the agency requires a card, then a subscription is refused with 409 card_required until the client saves one, and then it starts by itself', async () => {
    await t.http.put('/api/payments/settings').set('authorization', `Bearer ${agency.agencyToken}`).send({ requireCardBeforeSubscription: true }).expect(200);
    const cedarCustomer = await agency.addSubAccount(CEDAR, 'Cedar Spa');
    const refused = await t.http.put(`/api/sub-accounts/${CEDAR}/billing`).set('authorization', `Bearer ${agency.agencyToken}`).send({ rebillingEnabled: true }).expect(409);
    expect(refused.body.error).toEqual({ code: 'card_required', message: expect.stringContaining('requires a card before a subscription starts') });
    expect([...stripe.state.subscriptions.values()].filter((s) => s.customer === cedarCustomer)).toEqual([]);
    const applied = await t.http.post('/api/defaults/apply').set('authorization', `Bearer ${agency.agencyToken}`).send({ locationIds: [CEDAR] }).expect(200);
    expect(applied.body.results[0]).toMatchObject({ ok: false, error: expect.stringContaining('requires a card') });

    const link = (await post(`/api/sub-accounts/${CEDAR}/payments/card-link`, await agency.clientToken(CEDAR)).expect(200)).body;
    const completed = stripe.completeCheckoutSession(link.url.split('/').at(-1));
    await agency.sendEvent('checkout.session.completed', { id: completed.id, object: 'checkout.session' });
    const subs = [...stripe.state.subscriptions.values()].filter((s) => s.customer === cedarCustomer);
    expect(subs).toHaveLength(1);
    expect(subs[0]!.status).toBe('active');
    expect((await get(`/api/sub-accounts/${CEDAR}`, agency.agencyToken).expect(200)).body.stripeSubscriptionId).toBe(subs[0]!.id);
  });
});
