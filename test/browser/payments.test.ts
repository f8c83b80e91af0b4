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
 * Cards and invoices as people see them: the agency's list flags a subscribed client billed without a card; the
 * client (a sub-account admin, 800 px wide) adds a card through Stripe's hosted page, then sees it, its invoices and
 * its next invoice; the agency sees the invoices of every client by status, with totals.
 */
jest.setTimeout(150_000);

const SHARED_SECRET = 'browser-payments-secret';
const COMPANY = 'companyBrowserPay001';
let LOCATION = '';
let customer = '';

let t: TestService;
let stripe: StripeStub;
let parent: HighLevelParent;
let browser: Browser;
const contexts: BrowserContext[] = [];
const pageErrors: string[] = [];

async function sendEvent(type: string, object: object) {
  const secret = [...stripe.state.webhookEndpoints.values()][0]!.secret as string;
  const payload = JSON.stringify({ id: `evt_${type}_${Date.now()}`, object: 'event', type, data: { object } });
  await t.http.post(`/webhooks/stripe/${COMPANY}`).set('stripe-signature', Stripe.webhooks.generateTestHeaderString({ payload, secret })).set('content-type', 'application/json').send(payload).expect(200);
}

beforeAll(async () => {
  browser = await launchBrowser();
  stripe = await startStripeStub();
  t = await startTestService({ ...OAUTH_ENV, HIGHLEVEL_SHARED_SECRET: SHARED_SECRET, STRIPE_API_URL: stripe.url });
  const server = await t.service.listen(0);
  const locations = installedLocations('locBrowserPay', 1).map((l) => ({ ...l, name: 'Harbor Dental' }));
  LOCATION = locations[0]!._id;
  serveInstalledLocations(COMPANY, locations, 100);
  await t.service.install.completeOAuth(tokenResponse({ userType: 'Company', companyId: COMPANY, accessToken: 'at-pay', refreshToken: 'rt-pay', isBulkInstallation: true }));
  const token = (await t.service.sessionTokens.issue({ userId: 'u-pay', companyId: COMPANY, type: 'agency', role: 'admin', activeLocation: null })).token;
  const api = (path: string, body: object) => t.http.put(path).set('authorization', `Bearer ${token}`).send(body).expect(200);
  await api('/api/stripe/connection', { secretKey: 'sk_test_browserPayments001' });
  await api('/api/pricing/sms', { threshold: 1, price: { currency: 'usd', interval: 'month', unitAmountDecimal: '2' } });
  await api('/api/defaults', { flatFeeAmount: 4900 });
  customer = (await api(`/api/sub-accounts/${LOCATION}/customer`, { create: true })).body.stripeCustomerId;
  await api(`/api/sub-accounts/${LOCATION}/billing`, { rebillingEnabled: true });
  const now = Math.floor(Date.now() / 1000);
  const month = 30 * 86_400;
  stripe.seedInvoice({ customer, status: 'paid', number: 'HD-0041', total: 5340, amount_paid: 5340, amount_due: 5340, period_start: now - 2 * month, period_end: now - month, created: now - month, hosted_invoice_url: 'https://invoice.stripe.com/i/hd41', invoice_pdf: 'https://pay.stripe.com/invoice/hd41/pdf' });
  stripe.seedInvoice({ customer, status: 'open', number: 'HD-0042', total: 6120, amount_paid: 0, amount_due: 6120, attempt_count: 1, period_start: now - month, period_end: now, hosted_invoice_url: 'https://invoice.stripe.com/i/hd42', invoice_pdf: 'https://pay.stripe.com/invoice/hd42/pdf' });

  parent = await startHighLevelParent({ appUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, sharedSecret: SHARED_SECRET });
  parent.users.set('agency', { userId: 'u-pay', companyId: COMPANY, role: 'admin', type: 'agency', userName: 'Olive Owner' });
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

describe('cards and invoices on the page', () => {
  it('when the agency opens its sub-accounts, then a subscribed client without a card is flagged', async () => {
    const { context, page, app } = await openSignedInAgencyPage(browser, parent.url('agency'), pageErrors);
    contexts.push(context);
    await app.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name: 'Sub-accounts', exact: true }).click();
    await app.locator('tr', { hasText: 'Harbor Dental' }).getByText('Billed without a card').waitFor();
    await screenshotFrame(page, app, 'payments-agency-list.png');
  });

  it('when the client adds a card through Stripe’s page, then it sees the card, its invoices and its next invoice', async () => {
    const context = await browser.newContext({ viewport: { width: 800, height: 900 } });
    contexts.push(context);
    // Stripe's hosted page is out of reach here: the new tab gets a stand-in, and the test completes the session.
    await context.route('https://checkout.stripe.com/**', (route) => route.fulfill({ contentType: 'text/html', body: '<h1>Stripe Checkout (stand-in)</h1>' }));
    const page = await context.newPage();
    page.on('pageerror', (err) => pageErrors.push(err.message));
    const app = page.frameLocator('#app');
    await page.goto(parent.url('client'));
    await app.getByTestId('card-description').getByText('No card on file.').waitFor();
    const [tab] = await Promise.all([context.waitForEvent('page'), app.getByRole('button', { name: 'Add a card' }).click()]);
    await tab.waitForURL(/^https:\/\/checkout\.stripe\.com\/c\/pay\/cs_test_/);
    const sessionId = new URL(tab.url()).pathname.split('/').at(-1)!;
    const completed = stripe.completeCheckoutSession(sessionId, { brand: 'visa', last4: '4242', exp_month: 9, exp_year: 2030 });
    await sendEvent('checkout.session.completed', { id: completed.id, object: 'checkout.session', customer });
    await tab.close();

    await page.reload();
    await app.getByTestId('card-description').getByText('Visa •••• 4242, expires 09/2030').waitFor();
    await app.getByTestId('card-on-file').getByText('Card on file').waitFor();
    const invoices = app.getByTestId('invoices');
    await invoices.getByText('HD-0042').waitFor();
    expect((await invoices.locator('tr', { hasText: 'HD-0042' }).innerText()).replace(/\s+/g, ' ')).toContain('Past due $61.20 $0.00 $61.20');
    expect(await invoices.locator('tr', { hasText: 'HD-0041' }).getByRole('link', { name: 'PDF' }).getAttribute('href')).toBe('https://pay.stripe.com/invoice/hd41/pdf');
    await app.getByTestId('next-invoice-total').getByText('$49.00').waitFor();
    await screenshotFrame(page, app, 'payments-client-800.png', { published: true });
    expect(pageErrors).toEqual([]);
  });

  it('when the agency opens Invoices and picks “Past due”, then it sees the client’s overdue invoice and the totals', async () => {
    const { context, page, app } = await openSignedInAgencyPage(browser, parent.url('agency'), pageErrors);
    contexts.push(context);
    await app.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name: 'Invoices', exact: true }).click();
    await app.getByTestId('invoices').getByText('HD-0041').waitFor();
    await app.getByRole('button', { name: 'Past due' }).click();
    await app.getByTestId('invoice-totals').getByText('1 invoice shown').waitFor();
    expect(await app.getByTestId('invoices').locator('tbody tr').count()).toBe(1);
    expect((await app.getByTestId('invoice-totals').innerText()).replace(/\s+/g, ' ')).toContain('total $61.20, paid $0.00, due $61.20');
    await screenshotFrame(page, app, 'payments-agency-invoices.png', { published: true });
    await page.setViewportSize({ width: 800, height: 900 });
    await screenshotFrame(page, app, 'payments-agency-invoices-800.png');
    expect(pageErrors).toEqual([]);
  });
});
