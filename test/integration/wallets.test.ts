import { sql } from 'drizzle-orm';
import nock from 'nock';
import { findSubAccount } from '../../server/tenancy/accounts-repository';
import { drainReporter } from '../support/billing';
import { setUpPaymentsAgency, type PaymentsAgency } from '../support/payments';
import { attachTestCard } from '../support/stripe/customers';
import { startStripeStub, type StripeStub } from '../support/stripe-stub';
import { startTestService, type TestService } from '../support/test-service';

/**
 * Prepaid wallets (issue 17) through the real app and the Stripe double: a top-up is an invoice paid with the card on
 * file and then a Stripe credit grant, charged once even when Stripe's answer is lost; the balance is Stripe's credit
 * less the unbilled usage; the auto top-up respects the threshold, the maximum balance and the monthly cap; a decline
 * is logged and goes to the sub-account's payment problem.
 */
const COMPANY = 'companyWallets000001';
const HARBOR = 'locWalletHarbor00001';
const CEDAR = 'locWalletCedar000001';
let t: TestService;
let stripe: StripeStub;
let agency: PaymentsAgency;
const customers: Record<string, string> = {};
const SETTINGS = { billingMode: 'prepaid', currency: 'usd', initialTopUpCents: 5000, thresholdCents: 1000, topUpCents: 2000, maxBalanceCents: 6000, monthlyCapCents: null };

const as = (method: 'get' | 'put' | 'post', path: string, token = agency.agencyToken) => t.http[method](path).set('authorization', `Bearer ${token}`);
const card = (locationId: string, pm: string) => {
  attachTestCard(stripe.state, pm, customers[locationId]!);
  stripe.state.customers.get(customers[locationId]!)!.invoice_settings = { default_payment_method: pm };
};
const paidTopUps = (customer: string) => [...stripe.state.invoices.values()].filter((i) => i.customer === customer && i.description === 'Wallet top-up' && i.status === 'paid');
const grants = (customer: string) => [...stripe.state.creditGrants.values()].filter((g) => g.customer === customer);

beforeAll(async () => {
  stripe = await startStripeStub();
  t = await startTestService({ STRIPE_API_URL: stripe.url, REPORTER_RETRY_BASE_SECONDS: '0' });
  agency = await setUpPaymentsAgency(t, stripe, COMPANY);
  customers[HARBOR] = await agency.addSubAccount(HARBOR, 'Harbor Dental');
  customers[CEDAR] = await agency.addSubAccount(CEDAR, 'Cedar Spa');
  card(HARBOR, 'pm_card_visa');
});
afterAll(async () => {
  nock.cleanAll();
  await t.close();
  await stripe.close();
});

describe('wallet settings', () => {
  it('refuses a threshold at or above the maximum, a foreign currency and amounts that are not whole positive cents', async () => {
    expect((await as('put', '/api/wallets/settings').send({ ...SETTINGS, thresholdCents: 6000 }).expect(400)).body.error.code).toBe('invalid_wallet_settings');
    expect((await as('put', '/api/wallets/settings').send({ ...SETTINGS, currency: 'eur' }).expect(400)).body.error.code).toBe('invalid_wallet_settings');
    expect((await as('put', '/api/wallets/settings').send({ ...SETTINGS, topUpCents: 12.5 }).expect(400)).body.error.code).toBe('invalid_request');
    expect((await as('put', '/api/wallets/settings').send({ ...SETTINGS, topUpCents: 0 }).expect(400)).body.error.code).toBe('invalid_request');
  });

  it('a postpaid agency default leaves top-ups refused until a sub-account is switched to prepaid explicitly', async () => {
    await as('put', '/api/wallets/settings').send({ ...SETTINGS, billingMode: 'postpaid' }).expect(200);
    expect((await as('post', `/api/sub-accounts/${HARBOR}/wallet/top-ups`).send({}).expect(409)).body.error.code).toBe('wallet_not_prepaid');
    const own = (await as('put', `/api/sub-accounts/${HARBOR}/wallet/settings`).send(SETTINGS).expect(200)).body;
    expect(own).toMatchObject({ billingMode: 'prepaid', source: 'sub-account' });
  });
});

describe('top-ups', () => {
  it('the first top-up charges the initial amount once and, once paid, becomes a metered credit grant; the balance follows', async () => {
    const client = await agency.clientToken(HARBOR, true);
    const { topUp } = (await as('post', `/api/sub-accounts/${HARBOR}/wallet/top-ups`, client).send({}).expect(200)).body;
    expect(topUp).toMatchObject({ status: 'granted', amountCents: 5000, trigger: 'manual', stripeInvoiceId: expect.any(String), stripeCreditGrantId: expect.any(String) });
    expect(paidTopUps(customers[HARBOR]!).map((i) => i.amount_paid)).toEqual([5000]);
    expect(grants(customers[HARBOR]!)).toEqual([expect.objectContaining({ amount: { type: 'monetary', monetary: { currency: 'usd', value: 5000 } }, applicability_config: { scope: { price_type: 'metered' } }, category: 'paid' })]);
    const wallet = (await as('get', `/api/sub-accounts/${HARBOR}/wallet`, client).expect(200)).body;
    expect(wallet.balance).toMatchObject({ creditCents: 5000, unbilledUsageCents: 0, balanceCents: 5000, low: false });
  });

  it('the balance is Stripe’s credit less the usage not yet invoiced at today’s prices', async () => {
    await agency.recordSms(HARBOR, 150); // 150 × 2¢
    await drainReporter(t.service);
    const wallet = (await as('get', `/api/sub-accounts/${HARBOR}/wallet`).expect(200)).body;
    expect(wallet.balance).toMatchObject({ creditCents: 5000, unbilledUsageCents: 300, balanceCents: 4700 });
  });

  it('a top-up above the maximum balance is refused with the most it can take', async () => {
    const res = await as('post', `/api/sub-accounts/${HARBOR}/wallet/top-ups`).send({ amountCents: 2000 }).expect(422);
    expect(res.body.error).toMatchObject({ code: 'wallet_max_balance', message: expect.stringContaining('1300') });
  });

  it('when Stripe’s answer to paying is lost, then the resumed top-up never pays twice and grants once', async () => {
    stripe.apiFaults.push({ method: 'POST', path: /^\/v1\/invoices\/[^/]+\/pay$/, status: 500, afterExecuting: true });
    const { topUp } = (await as('post', `/api/sub-accounts/${HARBOR}/wallet/top-ups`).send({ amountCents: 1000 }).expect(200)).body;
    expect(topUp).toMatchObject({ status: 'pending', error: expect.stringContaining('Stripe') });
    // A retried request while it is in flight is refused, not charged.
    expect((await as('post', `/api/sub-accounts/${HARBOR}/wallet/top-ups`).send({ amountCents: 1000 }).expect(409)).body.error.code).toBe('top_up_in_flight');
    await t.service.wallets.autoTopUp(); // resumes it
    expect(paidTopUps(customers[HARBOR]!).map((i) => i.amount_paid)).toEqual([5000, 1000]);
    expect(grants(customers[HARBOR]!).map((g) => g.amount.monetary.value)).toEqual([5000, 1000]);
    const wallet = (await as('get', `/api/sub-accounts/${HARBOR}/wallet`).expect(200)).body;
    expect(wallet.topUps[0]).toMatchObject({ status: 'granted', amountCents: 1000 });
  });

  it('when the credit grant’s answer is lost, then the resumed run finds the grant instead of granting again', async () => {
    stripe.apiFaults.push({ method: 'POST', path: '/v1/billing/credit_grants', status: 500, afterExecuting: true });
    const { topUp } = (await as('post', `/api/sub-accounts/${HARBOR}/wallet/top-ups`).send({ amountCents: 100 }).expect(200)).body;
    expect(topUp.status).toBe('paid');
    await t.service.wallets.autoTopUp();
    expect(grants(customers[HARBOR]!).map((g) => g.amount.monetary.value)).toEqual([5000, 1000, 100]);
  });
});

describe('auto top-up', () => {
  it('tops up a wallet below its threshold, never above the maximum balance, and stops at the monthly cap', async () => {
    card(CEDAR, 'pm_card_visa');
    await as('put', `/api/sub-accounts/${CEDAR}/wallet/settings`).send({ ...SETTINGS, initialTopUpCents: 3000, monthlyCapCents: 4000 }).expect(200);
    await t.service.wallets.autoTopUp(); // balance 0 < 10.00: the initial top-up
    expect(grants(customers[CEDAR]!).map((g) => g.amount.monetary.value)).toEqual([3000]);
    await t.service.wallets.autoTopUp(); // 30.00 ≥ threshold: nothing
    expect(grants(customers[CEDAR]!)).toHaveLength(1);
    await agency.recordSms(CEDAR, 1500); // 30.00 of usage at 2¢ → balance 0, below 10.00
    await drainReporter(t.service);
    await t.service.wallets.autoTopUp(); // wants 20.00; the monthly cap (40.00) leaves 10.00
    expect(grants(customers[CEDAR]!).map((g) => g.amount.monetary.value)).toEqual([3000, 1000]);
    await agency.recordSms(CEDAR, 500); // 10.00 more → balance 0 again
    await drainReporter(t.service);
    await t.service.wallets.autoTopUp(); // the cap is used up
    expect(grants(customers[CEDAR]!)).toHaveLength(2);
    const wallet = (await as('get', `/api/sub-accounts/${CEDAR}/wallet`).expect(200)).body;
    expect(wallet.topUps.map((u: { trigger: string }) => u.trigger)).toEqual(['auto', 'initial']);
    expect(wallet.balance).toMatchObject({ creditCents: 4000, unbilledUsageCents: 4000, balanceCents: 0, low: true });
    // "Wallet low" (server/alerts): once per low spell — empty at first, after the first top-up, after the second
    // (the cap stops the top-up, not the alert); the checks that found it still low added none.
    const low = (await as('get', '/api/alerts').expect(200)).body.items.filter((a: { kind: string; locationId: string }) => a.kind === 'wallet_low' && a.locationId === CEDAR);
    expect(low).toHaveLength(3);
    expect(low[0].message).toContain('0.00 USD, below its minimum of 10.00 USD');
  });

  it('a declined card is logged in the ledger, sets the sub-account’s payment problem, and is not charged again at once', async () => {
    await as('put', `/api/sub-accounts/${CEDAR}/wallet/settings`).send({ ...SETTINGS, monthlyCapCents: null }).expect(200);
    card(CEDAR, 'pm_card_chargeDeclined');
    const before = stripe.requestLog.filter((r) => r.path.endsWith('/pay')).length;
    await t.service.wallets.autoTopUp();
    const wallet = (await as('get', `/api/sub-accounts/${CEDAR}/wallet`).expect(200)).body;
    expect(wallet.topUps[0]).toMatchObject({ status: 'payment_failed', error: 'Stripe: Your card was declined.' });
    expect((await findSubAccount(t.service.database.db, CEDAR))?.billingStatus).toBe('delinquent');
    await t.service.wallets.autoTopUp();
    expect(stripe.requestLog.filter((r) => r.path.endsWith('/pay')).length).toBe(before + 1);
  });

  it('a declined top-up is never lost nor doubled: paid by the client on Stripe’s page it is granted; retried later it pays the same invoice', async () => {
    const declined = (await as('get', `/api/sub-accounts/${CEDAR}/wallet`).expect(200)).body.topUps[0];
    // The client pays the open invoice on Stripe's hosted page (the double marks it paid).
    Object.assign(stripe.state.invoices.get(declined.stripeInvoiceId)!, { status: 'paid', amount_paid: declined.amountCents, amount_remaining: 0 });
    await t.service.wallets.autoTopUp();
    const after = (await as('get', `/api/sub-accounts/${CEDAR}/wallet`).expect(200)).body.topUps[0];
    expect(after).toMatchObject({ id: declined.id, status: 'granted', stripeInvoiceId: declined.stripeInvoiceId });
    expect(grants(customers[CEDAR]!).filter((g) => g.metadata.meterbridge_top_up_id === String(declined.id))).toHaveLength(1);

    // Declined again by "Top up now", then retried a day later with a good card: the same invoice is paid.
    const { topUp } = (await as('post', `/api/sub-accounts/${CEDAR}/wallet/top-ups`).send({ amountCents: 500 }).expect(200)).body;
    expect(topUp.status).toBe('payment_failed');
    card(CEDAR, 'pm_card_visa');
    await t.service.database.db.execute(sql`update wallet_top_ups set updated_at = updated_at - interval '25 hours' where id = ${topUp.id}`);
    const invoicesBefore = stripe.state.invoices.size;
    await t.service.wallets.autoTopUp();
    const retried = (await as('get', `/api/sub-accounts/${CEDAR}/wallet`).expect(200)).body.topUps[0];
    expect(retried).toMatchObject({ id: topUp.id, status: 'granted', stripeInvoiceId: topUp.stripeInvoiceId });
    expect(stripe.state.invoices.size).toBe(invoicesBefore);
  });

  it('when Stripe reports a declined top-up’s invoice paid (invoice.paid), then it is granted at once, once', async () => {
    card(CEDAR, 'pm_card_chargeDeclined');
    const { topUp } = (await as('post', `/api/sub-accounts/${CEDAR}/wallet/top-ups`).send({ amountCents: 300 }).expect(200)).body;
    expect(topUp.status).toBe('payment_failed');
    const invoice = stripe.state.invoices.get(topUp.stripeInvoiceId)!;
    Object.assign(invoice, { status: 'paid', amount_paid: 300, amount_remaining: 0 });
    await agency.sendEvent('invoice.paid', { id: invoice.id, object: 'invoice', customer: customers[CEDAR] });
    await agency.sendEvent('invoice.paid', { id: invoice.id, object: 'invoice', customer: customers[CEDAR] }); // a repeat changes nothing
    const now = (await as('get', `/api/sub-accounts/${CEDAR}/wallet`).expect(200)).body.topUps[0];
    expect(now).toMatchObject({ id: topUp.id, status: 'granted' });
    expect(grants(customers[CEDAR]!).filter((g) => g.metadata.meterbridge_top_up_id === String(topUp.id))).toHaveLength(1);
  });
});
