import nock from 'nock';
import Stripe from 'stripe';
import { drainReporter } from '../support/billing';
import { fixture } from '../support/highlevel-fixtures';
import { startStripeStub, type StripeStub } from '../support/stripe-stub';
import { startTestService, type TestService } from '../support/test-service';

/**
 * Dunning as Stripe reports it: a failed payment's attempt count, next retry and decline reason come from the
 * invoice and its latest payment attempt (not `last_finalization_error`); a payment waiting for the client's
 * authentication is "action required" with the hosted invoice link; a paid invoice clears it; a subscription Stripe
 * canceled for non-payment pauses billing and says so, and a new subscription resumes billing.
 */
const COMPANY = 'companyDunning000001';
const LOCATION = 'locDunning0000000001';
const KEY = 'sk_test_dunningKey00000001';

let t: TestService;
let stripe: StripeStub;
let token = '';
let customer = '';

const api = (method: 'get' | 'put', path: string, body?: object) => {
  const req = t.http[method](path).set('authorization', `Bearer ${token}`);
  return body ? req.send(body) : req;
};
const detail = async () => (await api('get', `/api/sub-accounts/${LOCATION}`).expect(200)).body;

/** Posts a Stripe event (only a hint: the handler re-reads the object) signed with the endpoint's secret. */
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

/** An open invoice with one payment attempt whose PaymentIntent ended as `intent` says. */
function seedAttemptedInvoice(intent: { status: string; last_payment_error: object | null }, extra: object = {}) {
  return stripe.seedInvoice({
    customer,
    status: 'open',
    number: `INV-${Math.floor(Math.random() * 1e6)}`,
    amount_due: 4200,
    attempt_count: 2,
    next_payment_attempt: Math.floor(Date.UTC(2026, 11, 9, 12) / 1000),
    hosted_invoice_url: 'https://invoice.stripe.com/i/acct_test/demo',
    last_finalization_error: { message: 'A finalization problem that is not the decline' },
    payments: {
      data: [
        { id: 'inpay_old', object: 'invoice_payment', created: 1, status: 'open', payment: { type: 'payment_intent', payment_intent: { id: 'pi_old', object: 'payment_intent', status: 'requires_payment_method', last_payment_error: { code: 'expired_card', message: 'An older attempt.' } } } },
        { id: 'inpay_new', object: 'invoice_payment', created: 2, status: 'open', payment: { type: 'payment_intent', payment_intent: { id: 'pi_new', object: 'payment_intent', ...intent } } },
      ],
    },
    ...extra,
  });
}

beforeAll(async () => {
  stripe = await startStripeStub();
  t = await startTestService({ STRIPE_API_URL: stripe.url, REPORTER_RETRY_BASE_SECONDS: '0' });
  await t.service.accounts.registerAgency(COMPANY, 'Dunning Agency');
  await t.service.accounts.registerSubAccount(LOCATION, COMPANY, 'Harbor Dental');
  token = (await t.service.sessionTokens.issue({ userId: 'u-dunning', companyId: COMPANY, type: 'agency', role: 'admin', activeLocation: null })).token;
  await api('put', '/api/stripe/connection', { secretKey: KEY }).expect(200);
  await api('put', '/api/pricing/sms', { threshold: 1, price: { currency: 'usd', interval: 'month', unitAmountDecimal: '2' } }).expect(200);
  customer = (await api('put', `/api/sub-accounts/${LOCATION}/customer`, { create: true }).expect(200)).body.stripeCustomerId;
  await api('put', `/api/sub-accounts/${LOCATION}/billing`, { rebillingEnabled: true }).expect(200);
});
afterAll(async () => {
  nock.cleanAll();
  await t.close();
  await stripe.close();
});

describe('dunning', () => {
  it('when Meterbridge connects Stripe, then its endpoint also listens for payments that need the client’s action', () => {
    const [endpoint] = [...stripe.state.webhookEndpoints.values()];
    expect(endpoint!.enabled_events).toContain('invoice.payment_action_required');
  });

  it('when a payment fails, then the sub-account is delinquent with the attempts, the next retry and the decline of the latest attempt', async () => {
    const invoice = seedAttemptedInvoice({ status: 'requires_payment_method', last_payment_error: { code: 'card_declined', decline_code: 'insufficient_funds', message: 'Your card has insufficient funds.' } });
    await sendEvent('invoice.payment_failed', { id: invoice.id, object: 'invoice' });
    const d = await detail();
    expect(d.billingStatus).toBe('delinquent');
    expect(d.billingStatusReason).toBe(`Payment of invoice ${invoice.number} failed after 2 attempts: Your card has insufficient funds. (insufficient_funds) Stripe retries on 2026-12-09.`);
    expect(d.paymentProblem).toEqual({
      invoiceId: invoice.id,
      invoiceNumber: invoice.number,
      amountDueCents: 4200,
      currency: 'usd',
      attemptCount: 2,
      nextPaymentAttempt: '2026-12-09T12:00:00.000Z',
      declineCode: 'insufficient_funds',
      failureCode: 'card_declined',
      failureMessage: 'Your card has insufficient funds.',
      hostedInvoiceUrl: 'https://invoice.stripe.com/i/acct_test/demo',
    });
    expect(d.billingStatusReason).not.toContain('finalization');
  });

  it('when the payment waits for the client’s authentication, then the sub-account shows action required with the invoice link', async () => {
    const invoice = seedAttemptedInvoice({ status: 'requires_action', last_payment_error: null }, { next_payment_attempt: null });
    await sendEvent('invoice.payment_action_required', { id: invoice.id, object: 'invoice' });
    const d = await detail();
    expect(d.billingStatus).toBe('action_required');
    expect(d.billingStatusReason).toContain('must confirm the payment');
    expect(d.paymentProblem).toMatchObject({ invoiceId: invoice.id, hostedInvoiceUrl: 'https://invoice.stripe.com/i/acct_test/demo', nextPaymentAttempt: null });
    const list = (await api('get', '/api/sub-accounts').expect(200)).body.items;
    expect(list.find((s: { locationId: string }) => s.locationId === LOCATION)).toMatchObject({ billingStatus: 'action_required' });

    // A late "payment_failed" for an invoice Stripe now says is paid converges on what Stripe says: paid.
    stripe.state.invoices.get(invoice.id)!.status = 'paid';
    await sendEvent('invoice.payment_failed', { id: invoice.id, object: 'invoice' });
    expect(await detail()).toMatchObject({ billingStatus: 'ok', billingStatusReason: null, paymentProblem: null });
  });

  it('when Stripe cancels the subscription for non-payment, then billing pauses and says why; a new subscription resumes billing', async () => {
    const subscriptionId = (await detail()).stripeSubscriptionId;
    const sub = stripe.state.subscriptions.get(subscriptionId)!;
    sub.status = 'canceled';
    sub.cancellation_details = { comment: null, feedback: null, reason: 'payment_failed' };
    await sendEvent('customer.subscription.deleted', { id: subscriptionId, object: 'subscription' });
    expect(await detail()).toMatchObject({ billingStatus: 'paused', stripeSubscriptionId: null, billingStatusReason: expect.stringContaining('canceled for non-payment') });

    await api('put', `/api/sub-accounts/${LOCATION}/billing`, { subscription: {} }).expect(200);
    const resumed = await detail();
    expect(resumed.billingStatus).toBe('ok');
    expect(resumed.stripeSubscriptionId).not.toBeNull();
    expect(resumed.stripeSubscriptionId).not.toBe(subscriptionId);

    const before = stripe.events.filter((e) => e.customer === customer).length;
    await t.postSigned({ ...fixture('sms-outbound'), locationId: LOCATION, webhookId: 'dunning-after-resume' }).expect(200);
    await drainReporter(t.service);
    expect(stripe.events.filter((e) => e.customer === customer).length).toBe(before + 1);
  });
});
