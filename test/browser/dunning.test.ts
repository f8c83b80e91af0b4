import type { AddressInfo } from 'node:net';
import nock from 'nock';
import Stripe from 'stripe';
import type { Browser, BrowserContext } from 'playwright-core';
import { installedLocations, OAUTH_ENV, serveInstalledLocations, tokenResponse } from '../support/highlevel-oauth';
import { startStripeStub, type StripeStub } from '../support/stripe-stub';
import { startTestService, type TestService } from '../support/test-service';
import { launchBrowser, openSignedInAgencyPage, screenshotFrame } from './support/browser';
import { startHighLevelParent, type HighLevelParent } from './support/highlevel-parent';

/**
 * A failed payment as people see it: the agency sees the sub-account flagged with Stripe's decline and the invoice
 * link to send; the client (sub-account user) sees "Payment required" with the amount due and a button to Stripe's
 * hosted invoice page.
 */
jest.setTimeout(120_000);

const SHARED_SECRET = 'browser-dunning-secret';
const COMPANY = 'companyBrowserDun001';
const INVOICE_URL = 'https://invoice.stripe.com/i/acct_test/dunning';
let LOCATION = '';

let t: TestService;
let stripe: StripeStub;
let parent: HighLevelParent;
let browser: Browser;
const contexts: BrowserContext[] = [];
const pageErrors: string[] = [];

beforeAll(async () => {
  browser = await launchBrowser();
  stripe = await startStripeStub();
  t = await startTestService({ ...OAUTH_ENV, HIGHLEVEL_SHARED_SECRET: SHARED_SECRET, STRIPE_API_URL: stripe.url });
  const server = await t.service.listen(0);
  const locations = installedLocations('locBrowserDun', 1).map((l) => ({ ...l, name: 'Harbor Dental' }));
  LOCATION = locations[0]!._id;
  serveInstalledLocations(COMPANY, locations, 100);
  await t.service.install.completeOAuth(tokenResponse({ userType: 'Company', companyId: COMPANY, accessToken: 'at-dun', refreshToken: 'rt-dun', isBulkInstallation: true }));
  const token = (await t.service.sessionTokens.issue({ userId: 'u-dun', companyId: COMPANY, type: 'agency', role: 'admin', activeLocation: null })).token;
  const api = (path: string, body: object) => t.http.put(path).set('authorization', `Bearer ${token}`).send(body).expect(200);
  await api('/api/stripe/connection', { secretKey: 'sk_test_browserDunning0001' });
  await api('/api/pricing/sms', { threshold: 1, price: { currency: 'usd', interval: 'month', unitAmountDecimal: '2' } });
  const customer = (await api(`/api/sub-accounts/${LOCATION}/customer`, { create: true })).body.stripeCustomerId;
  const invoice = stripe.seedInvoice({
    customer,
    status: 'open',
    number: 'HD-0042',
    amount_due: 4250,
    attempt_count: 1,
    next_payment_attempt: Math.floor(Date.now() / 1000) + 3 * 86_400,
    hosted_invoice_url: INVOICE_URL,
    payments: { data: [{ id: 'inpay_1', object: 'invoice_payment', created: 1, status: 'open', payment: { type: 'payment_intent', payment_intent: { id: 'pi_1', object: 'payment_intent', status: 'requires_payment_method', last_payment_error: { code: 'card_declined', decline_code: 'insufficient_funds', message: 'Your card has insufficient funds.' } } } }] },
  });
  const secret = [...stripe.state.webhookEndpoints.values()][0]!.secret as string;
  const payload = JSON.stringify({ id: 'evt_dun', object: 'event', type: 'invoice.payment_failed', data: { object: { id: invoice.id, object: 'invoice' } } });
  await t.http.post(`/webhooks/stripe/${COMPANY}`).set('stripe-signature', Stripe.webhooks.generateTestHeaderString({ payload, secret })).set('content-type', 'application/json').send(payload).expect(200);

  parent = await startHighLevelParent({ appUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, sharedSecret: SHARED_SECRET });
  parent.users.set('agency', { userId: 'u-dun', companyId: COMPANY, role: 'admin', type: 'agency', userName: 'Olive Owner' });
  parent.users.set('client', { userId: 'u-client', companyId: COMPANY, role: 'admin', type: 'location', userName: 'Dana Dental', activeLocation: LOCATION });
});

afterAll(async () => {
  nock.cleanAll();
  for (const context of contexts) await context.close();
  await browser?.close();
  await parent?.close();
  await t?.close();
  await stripe?.close();
});

describe('a failed payment on the page', () => {
  it('when the agency opens the sub-account, then it is flagged with Stripe’s decline and the invoice link to send', async () => {
    const { context, page, app } = await openSignedInAgencyPage(browser, parent.url('agency'), pageErrors);
    contexts.push(context);
    await app.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name: 'Sub-accounts', exact: true }).click();
    const row = app.locator('tr', { hasText: 'Harbor Dental' });
    await row.getByText('Delinquent').waitFor();
    await row.getByRole('link', { name: 'Harbor Dental' }).click();
    await app.getByText('Your card has insufficient funds. (insufficient_funds)').first().waitFor();
    expect(await app.getByRole('link', { name: 'invoice HD-0042' }).getAttribute('href')).toBe(INVOICE_URL);
    await screenshotFrame(page, app, 'dunning-agency.png');
  });

  it('when the client opens its own view, then it sees the payment required, the amount and a button to pay', async () => {
    const context = await browser.newContext({ viewport: { width: 800, height: 900 } });
    contexts.push(context);
    const page = await context.newPage();
    page.on('pageerror', (err) => pageErrors.push(err.message));
    const app = page.frameLocator('#app');
    await page.goto(parent.url('client'));
    const alert = app.getByRole('alert').filter({ hasText: 'Payment required' });
    await alert.waitFor();
    expect((await alert.innerText()).replace(/\s+/g, ' ')).toContain('Invoice HD-0042: $42.50 due — Your card has insufficient funds.');
    expect(await app.getByRole('link', { name: 'Pay the invoice' }).getAttribute('href')).toBe(INVOICE_URL);
    await screenshotFrame(page, app, 'dunning-client-800.png');
    expect(pageErrors).toEqual([]);
  });
});
