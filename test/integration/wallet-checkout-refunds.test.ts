import nock from 'nock';
import type { WalletLowCrossing } from '../../server/wallets/wallets';
import { drainReporter } from '../support/billing';
import { setUpPaymentsAgency, type PaymentsAgency } from '../support/payments';
import { attachTestCard } from '../support/stripe/customers';
import { startStripeStub, type StripeStub } from '../support/stripe-stub';
import { startTestService, type TestService } from '../support/test-service';

/**
 * Prepaid wallets, the client's and the agency's tools (issue 17): "Top up now" on Stripe Checkout in payment mode
 * (credit granted once, from the completed session re-read in Stripe), refunds of a top-up's unused credit (grant
 * voided, the rest granted again, the payment refunded once), the agency's balances with low and negative ones
 * flagged, the wallet check nudged by counted usage, one top-up for concurrent checks, and "wallet low" crossings.
 */
const COMPANY = 'companyWalletCheckout1';
const HARBOR = 'locWalletCoHarbor0001';
const CEDAR = 'locWalletCoCedar00001';
const BIRCH = 'locWalletCoBirch00001';
let t: TestService;
let stripe: StripeStub;
let agency: PaymentsAgency;
const customers: Record<string, string> = {};
const lows: WalletLowCrossing[] = [];
const SETTINGS = { billingMode: 'prepaid', currency: 'usd', initialTopUpCents: 5000, thresholdCents: 1000, topUpCents: 2000, maxBalanceCents: 6000, monthlyCapCents: null };

const as = (method: 'get' | 'put' | 'post', path: string, token = agency.agencyToken) => t.http[method](path).set('authorization', `Bearer ${token}`);
const card = (locationId: string, pm: string) => {
  attachTestCard(stripe.state, pm, customers[locationId]!);
  stripe.state.customers.get(customers[locationId]!)!.invoice_settings = { default_payment_method: pm };
};
const grants = (locationId: string) => [...stripe.state.creditGrants.values()].filter((g) => g.customer === customers[locationId]);
const wallet = async (locationId: string) => (await as('get', `/api/sub-accounts/${locationId}/wallet`).expect(200)).body;

beforeAll(async () => {
  stripe = await startStripeStub();
  t = await startTestService({ STRIPE_API_URL: stripe.url, REPORTER_RETRY_BASE_SECONDS: '0' }, { onWalletLow: (c) => void lows.push(c) });
  agency = await setUpPaymentsAgency(t, stripe, COMPANY);
  for (const [id, name] of [[HARBOR, 'Harbor Dental'], [CEDAR, 'Cedar Spa'], [BIRCH, 'Birch Bakery']] as const) customers[id] = await agency.addSubAccount(id, name);
  await as('put', '/api/wallets/settings').send(SETTINGS).expect(200);
});
afterAll(async () => {
  nock.cleanAll();
  await t.close();
  await stripe.close();
});

describe('Top up now on Stripe Checkout', () => {
  it('gives a sub-account admin the hosted payment page of the amount, in the agency’s currency; not to its other users', async () => {
    const user = await agency.clientToken(HARBOR, false);
    expect((await as('post', `/api/sub-accounts/${HARBOR}/wallet/checkout`, user).send({ amountCents: 2500 }).expect(403)).body.error.code).toBe('admin_required');
    const admin = await agency.clientToken(HARBOR, true);
    const page = (await as('post', `/api/sub-accounts/${HARBOR}/wallet/checkout`, admin).send({ amountCents: 2500 }).expect(200)).body;
    expect(page).toMatchObject({ url: expect.stringContaining('checkout.stripe.com'), amountCents: 2500 });
    expect(stripe.state.checkoutSessions.get(page.sessionId)).toMatchObject({ mode: 'payment', currency: 'usd', amount_total: 2500, customer: customers[HARBOR], payment_status: 'unpaid' });
  });

  it('refuses an amount that would take the balance above the maximum, naming the most it can take', async () => {
    const res = await as('post', `/api/sub-accounts/${HARBOR}/wallet/checkout`).send({ amountCents: 7000 }).expect(422);
    expect(res.body.error).toMatchObject({ code: 'wallet_max_balance', message: expect.stringContaining('6000') });
  });

  it('a new page expires the open one, and an open page counts as in the wallet for every other top-up', async () => {
    const a = (await as('post', `/api/sub-accounts/${HARBOR}/wallet/checkout`).send({ amountCents: 4000 }).expect(200)).body;
    const b = (await as('post', `/api/sub-accounts/${HARBOR}/wallet/checkout`).send({ amountCents: 3000 }).expect(200)).body;
    expect(stripe.state.checkoutSessions.get(a.sessionId)!.status).toBe('expired');
    expect(stripe.state.checkoutSessions.get(b.sessionId)!.status).toBe('open');
    card(HARBOR, 'pm_card_visa');
    const res = await as('post', `/api/sub-accounts/${HARBOR}/wallet/top-ups`).send({ amountCents: 4000 }).expect(422);
    expect(res.body.error).toMatchObject({ code: 'wallet_max_balance', message: expect.stringContaining('3000 cents') });
  });

  it('when the client pays, then the completion event (sent twice, and once more at the same time) grants the money exactly once', async () => {
    const page = (await as('post', `/api/sub-accounts/${HARBOR}/wallet/checkout`).send({ amountCents: 3000 }).expect(200)).body;
    // Before the client pays, a (forged or early) completion event changes nothing: the session is re-read.
    await agency.sendEvent('checkout.session.completed', { id: page.sessionId, object: 'checkout.session', customer: customers[HARBOR] });
    expect(grants(HARBOR)).toHaveLength(0);
    stripe.completeCheckoutSession(page.sessionId);
    const event = { id: page.sessionId, object: 'checkout.session', customer: customers[HARBOR] };
    await Promise.all([agency.sendEvent('checkout.session.completed', event), agency.sendEvent('checkout.session.completed', event)]);
    await agency.sendEvent('checkout.session.completed', event);
    expect(grants(HARBOR).map((g) => g.amount.monetary.value)).toEqual([3000]);
    const now = await wallet(HARBOR);
    expect(now.topUps).toEqual([expect.objectContaining({ trigger: 'checkout', status: 'granted', amountCents: 3000, balanceBeforeCents: 0 })]);
    expect(now.balance).toMatchObject({ creditCents: 3000, balanceCents: 3000 });
  });

  it('a session made for another sub-account never credits this one', async () => {
    const page = (await as('post', `/api/sub-accounts/${CEDAR}/wallet/checkout`).send({ amountCents: 1000 }).expect(200)).body;
    const session = stripe.state.checkoutSessions.get(page.sessionId)!;
    session.metadata.meterbridge_location_id = HARBOR; // tampered: the customer is Cedar's
    stripe.completeCheckoutSession(page.sessionId);
    await agency.sendEvent('checkout.session.completed', { id: page.sessionId, object: 'checkout.session', customer: customers[CEDAR] });
    expect(grants(CEDAR)).toHaveLength(0);
    expect((await wallet(HARBOR)).topUps).toHaveLength(1);
  });
});

describe('refunds', () => {
  it('refunds at most the unused part: what remains of the grant, no more than the balance after unbilled usage', async () => {
    await agency.recordSms(HARBOR, 400); // 8.00 of unbilled usage: balance 22.00
    await drainReporter(t.service);
    await t.service.wallets.idle();
    const topUp = (await wallet(HARBOR)).topUps[0];
    const refundable = (await as('get', `/api/sub-accounts/${HARBOR}/wallet/top-ups/${topUp.id}/refundable`).expect(200)).body;
    expect(refundable).toMatchObject({ refundableCents: 2200, grantRemainingCents: 3000, balanceCents: 2200, paidLeftCents: 3000 });
    const above = await as('post', `/api/sub-accounts/${HARBOR}/wallet/top-ups/${topUp.id}/refund`).send({ amountCents: 2300 }).expect(422);
    expect(above.body.error).toMatchObject({ code: 'refund_above_unused', message: expect.stringContaining('2200') });
    // A client cannot refund.
    await as('post', `/api/sub-accounts/${HARBOR}/wallet/top-ups/${topUp.id}/refund`, await agency.clientToken(HARBOR, true)).send({}).expect(403);
  });

  it('when the refund’s answer is lost, then the repeated request refunds once: grant voided, the rest granted again, money back', async () => {
    const topUp = (await wallet(HARBOR)).topUps[0];
    stripe.apiFaults.push({ method: 'POST', path: '/v1/refunds', status: 500, afterExecuting: true });
    const first = (await as('post', `/api/sub-accounts/${HARBOR}/wallet/top-ups/${topUp.id}/refund`).send({ amountCents: 1200 }).expect(200)).body.refund;
    expect(first).toMatchObject({ status: 'pending', error: expect.stringContaining('Stripe') });
    const again = (await as('post', `/api/sub-accounts/${HARBOR}/wallet/top-ups/${topUp.id}/refund`).send({ amountCents: 1200 }).expect(200)).body.refund;
    expect(again).toMatchObject({ id: first.id, status: 'refunded', amountCents: 1200, grantRemainingCents: 3000 });
    const refunds = [...stripe.state.refunds.values()];
    expect(refunds.map((r) => r.amount)).toEqual([1200]);
    expect(stripe.state.paymentIntents.get(refunds[0]!.payment_intent)).toMatchObject({ amount_received: 3000, metadata: expect.objectContaining({ meterbridge_location_id: HARBOR }) });
    expect(stripe.state.creditGrants.get(topUp.stripeCreditGrantId)!.voided_at).not.toBeNull();
    expect(grants(HARBOR).filter((g) => !g.voided_at).map((g) => g.amount.monetary.value)).toEqual([1800]);
    expect((await wallet(HARBOR)).balance).toMatchObject({ creditCents: 1800, unbilledUsageCents: 800, balanceCents: 1000 });
    // The next refund of the same top-up starts from the credit kept: 10.00 is left to refund at most.
    expect((await as('get', `/api/sub-accounts/${HARBOR}/wallet/top-ups/${topUp.id}/refundable`).expect(200)).body).toMatchObject({ refundableCents: 1000, paidLeftCents: 1800 });
  });

  it('refunds a top-up charged by invoice on the invoice’s payment', async () => {
    card(BIRCH, 'pm_card_visa');
    const { topUp } = (await as('post', `/api/sub-accounts/${BIRCH}/wallet/top-ups`).send({ amountCents: 1500 }).expect(200)).body;
    const { refund } = (await as('post', `/api/sub-accounts/${BIRCH}/wallet/top-ups/${topUp.id}/refund`).send({}).expect(200)).body;
    expect(refund).toMatchObject({ status: 'refunded', amountCents: 1500, replacementGrantId: null });
    const invoice = stripe.state.invoices.get(topUp.stripeInvoiceId)!;
    const intent = invoice.payments.data[0].payment.payment_intent.id;
    expect([...stripe.state.refunds.values()].filter((r) => r.payment_intent === intent).map((r) => r.amount)).toEqual([1500]);
    expect((await as('post', `/api/sub-accounts/${BIRCH}/wallet/top-ups/${topUp.id}/refund`).send({}).expect(422)).body.error.code).toBe('refund_above_unused');
  });
});

describe('the wallet check', () => {
  it('counted usage nudges the check: a wallet drained below its threshold is topped up without the job, and told low once', async () => {
    card(CEDAR, 'pm_card_visa');
    lows.length = 0;
    await agency.recordSms(CEDAR, 10);
    await drainReporter(t.service);
    await t.service.wallets.idle();
    expect(grants(CEDAR).map((g) => g.amount.monetary.value)).toEqual([5000]); // the initial top-up, from the nudge alone
    expect(lows).toEqual([expect.objectContaining({ companyId: COMPANY, locationId: CEDAR, balanceCents: -20, thresholdCents: 1000 })]);
    await agency.recordSms(CEDAR, 5);
    await drainReporter(t.service);
    await t.service.wallets.idle();
    expect(lows).toHaveLength(1); // not low any more: no second crossing
  });

  it('concurrent checks and a Top up now charge at most one top-up', async () => {
    await agency.recordSms(CEDAR, 2200); // 44.00 → balance 5.70, below 10.00
    await t.service.pipeline.drain();
    const results = await Promise.allSettled([
      t.service.wallets.checkWallet(CEDAR),
      t.service.wallets.checkWallet(CEDAR),
      t.service.wallets.autoTopUp(),
      t.service.wallets.topUpNow(CEDAR, 2000),
    ]);
    await t.service.wallets.idle();
    expect(results.filter((r) => r.status === 'rejected')).toEqual([]);
    const rows = (await wallet(CEDAR)).topUps as Array<{ trigger: string; status: string; amountCents: number; balanceBeforeCents: number }>;
    // One check charged (2000 from 570); Top up now charged before or after it, within the maximum; nothing in flight.
    expect(rows.filter((u) => u.trigger === 'auto')).toEqual([expect.objectContaining({ amountCents: 2000, status: 'granted' })]);
    expect(rows.filter((u) => u.trigger === 'manual')).toEqual([expect.objectContaining({ amountCents: 2000, status: 'granted' })]);
    for (const u of rows) expect(u.balanceBeforeCents + u.amountCents).toBeLessThanOrEqual(6000);
    expect(grants(CEDAR).map((g) => g.amount.monetary.value)).toEqual([5000, 2000, 2000]);
  });
});

describe('the agency’s balances', () => {
  it('lists prepaid wallets with negative and low ones first and flagged', async () => {
    card(BIRCH, 'pm_card_chargeDeclined');
    // Birch: 20.00 of credit (the job’s top-up in the test above); 22.00 of usage → −2.00, and its top-up is declined.
    await agency.recordSms(BIRCH, 1100);
    await t.service.pipeline.drain();
    await t.service.wallets.idle();
    const { wallets } = (await as('get', '/api/wallets/balances').expect(200)).body;
    expect(wallets[0]).toMatchObject({ locationId: BIRCH, name: 'Birch Bakery', negative: true, balance: expect.objectContaining({ balanceCents: -200, low: true }) });
    expect(wallets[0].lastTopUp).toMatchObject({ status: 'payment_failed', error: 'Stripe: Your card was declined.' });
    expect(wallets.map((w: { locationId: string }) => w.locationId).sort()).toEqual([BIRCH, CEDAR, HARBOR].sort());
    expect((await as('get', '/api/wallets/balances', await agency.clientToken(HARBOR, true)).expect(403)).body.error.code).toBe('forbidden');
  });
});
