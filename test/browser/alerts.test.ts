import type { AddressInfo } from 'node:net';
import nock from 'nock';
import type { Browser, BrowserContext } from 'playwright-core';
import Stripe from 'stripe';
import { installedLocations, OAUTH_ENV, serveInstalledLocations, tokenResponse } from '../support/highlevel-oauth';
import { startStripeStub, type StripeStub } from '../support/stripe-stub';
import { startTestService, type TestService } from '../support/test-service';
import { launchBrowser, openSignedInAgencyPage, screenshotFrame } from './support/browser';
import { startHighLevelParent, type HighLevelParent } from './support/highlevel-parent';

/**
 * Alerts as the agency sees them (issue 16, item 5): it sets its webhook URL and is shown the signing secret once;
 * a client's payment fails; the unread count appears in the top bar on every page; the Notifications page lists the
 * alert with a link to the sub-account and the default usage threshold it set; the delivery log shows the webhook refused (500) and its next retry; marking
 * it read clears the count. At 1280 and 800 px.
 */
jest.setTimeout(150_000);

const SHARED_SECRET = 'browser-alerts-secret';
const COMPANY = 'companyBrowserAlr001';
const RECEIVER = 'https://hooks.agency.example';
let LOCATION = '';

let t: TestService;
let stripe: StripeStub;
let parent: HighLevelParent;
let browser: Browser;
let customer = '';
const contexts: BrowserContext[] = [];
const pageErrors: string[] = [];

/** Stripe tells Meterbridge a payment failed (a hint: the invoice is re-read from the Stripe double). */
async function failPayment() {
  const invoice = stripe.seedInvoice({
    customer, status: 'open', number: 'INV-BROWSER-1', amount_due: 4200, attempt_count: 1, next_payment_attempt: Math.floor(Date.now() / 1000) + 3 * 86400,
    payments: { data: [{ id: 'inpay_b', object: 'invoice_payment', created: 1, status: 'open', payment: { type: 'payment_intent', payment_intent: { id: 'pi_b', object: 'payment_intent', status: 'requires_payment_method', last_payment_error: { code: 'card_declined', decline_code: 'insufficient_funds', message: 'Your card has insufficient funds.' } } } }] },
  });
  const secret = [...stripe.state.webhookEndpoints.values()][0]!.secret as string;
  const payload = JSON.stringify({ id: `evt_browser_${invoice.id}`, object: 'event', type: 'invoice.payment_failed', data: { object: { id: invoice.id, object: 'invoice' } } });
  await t.http.post(`/webhooks/stripe/${COMPANY}`).set('stripe-signature', Stripe.webhooks.generateTestHeaderString({ payload, secret })).set('content-type', 'application/json').send(payload).expect(200);
}

beforeAll(async () => {
  browser = await launchBrowser();
  stripe = await startStripeStub();
  t = await startTestService({ ...OAUTH_ENV, HIGHLEVEL_SHARED_SECRET: SHARED_SECRET, STRIPE_API_URL: stripe.url });
  const server = await t.service.listen(0);
  const locations = installedLocations('locBrowserAlr', 1).map((l) => ({ ...l, name: 'Harbor Dental' }));
  LOCATION = locations[0]!._id;
  serveInstalledLocations(COMPANY, locations, 100);
  await t.service.install.completeOAuth(tokenResponse({ userType: 'Company', companyId: COMPANY, accessToken: 'at-alr', refreshToken: 'rt-alr', isBulkInstallation: true }));
  const token = (await t.service.sessionTokens.issue({ userId: 'u-alr', companyId: COMPANY, type: 'agency', role: 'admin', activeLocation: null })).token;
  const api = (path: string, body: object) => t.http.put(path).set('authorization', `Bearer ${token}`).send(body).expect(200);
  await api('/api/stripe/connection', { secretKey: 'sk_test_browserAlerts00001' });
  await api('/api/pricing/sms', { threshold: 1, price: { currency: 'usd', interval: 'month', unitAmountDecimal: '2' } });
  customer = (await api(`/api/sub-accounts/${LOCATION}/customer`, { create: true })).body.stripeCustomerId as string;
  await api(`/api/sub-accounts/${LOCATION}/billing`, { rebillingEnabled: true });

  parent = await startHighLevelParent({ appUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, sharedSecret: SHARED_SECRET });
  parent.users.set('agency', { userId: 'u-alr', companyId: COMPANY, role: 'admin', type: 'agency', userName: 'Olive Owner' });
});

afterAll(async () => {
  nock.cleanAll();
  for (const context of contexts) await context.close();
  await browser?.close();
  await parent?.close();
  await t?.close();
  await stripe?.close();
});

describe('alerts on the page', () => {
  it('when the agency sets its webhook and a payment fails, then it sees the unread count, the notification and the delivery log', async () => {
    const { context, page, app } = await openSignedInAgencyPage(browser, parent.url('agency'), pageErrors);
    contexts.push(context);
    const nav = app.getByRole('navigation', { name: 'Sections' });
    await nav.getByRole('link', { name: /^Notifications/ }).click();
    await app.getByText('No alerts yet.').waitFor();
    await app.getByLabel('Endpoint URL (https)').fill(`${RECEIVER}/meterbridge`);
    await app.getByLabel('Send alerts to this URL').check();
    await app.getByRole('button', { name: 'Save webhook' }).click();
    const secret = await app.getByRole('textbox', { name: /Your signing secret/ }).inputValue();
    expect(secret).toMatch(/^whsec_/);
    await screenshotFrame(page, app, 'alerts-webhook-secret-1280.png');
    await app.getByRole('button', { name: 'I have stored it' }).click();
    // A default usage alert: 100 SMS a month for every sub-account.
    await app.getByLabel('Threshold (units)').fill('100');
    await app.getByRole('button', { name: 'Set threshold' }).click();
    await app.getByTestId('thresholds').locator('tr', { hasText: 'Every sub-account (default)' }).getByText('100').waitFor();

    await failPayment();
    nock(RECEIVER).post('/meterbridge').reply(500, 'down for maintenance');
    expect(await t.service.alerts.delivery.deliverDue()).toEqual({ delivered: 0, retrying: 1, failed: 0 });

    // Any page change re-reads the count: the badge shows on the Overview.
    await nav.getByRole('link', { name: 'Overview', exact: true }).click();
    await app.getByTestId('unread-badge').getByText('1').waitFor();
    await screenshotFrame(page, app, 'alerts-badge-overview-1280.png');
    await nav.getByRole('link', { name: /^Notifications/ }).click();
    const item = app.getByTestId('notification');
    await item.getByText('Payment failed: Harbor Dental').waitFor();
    await item.getByText(/Your card has insufficient funds/).waitFor();
    expect(await item.getByRole('link', { name: 'Open Harbor Dental' }).getAttribute('href')).toBe(`/app/sub-accounts/${LOCATION}`);
    const log = app.getByTestId('delivery-log');
    const row = log.locator('tr', { hasText: 'Payment failed: Harbor Dental' });
    await row.getByText('Retrying').waitFor();
    await row.getByRole('cell', { name: '500' }).waitFor();
    await screenshotFrame(page, app, 'alerts-notifications.png', { published: true });

    await page.setViewportSize({ width: 800, height: 900 });
    await screenshotFrame(page, app, 'alerts-notifications-800.png');
    await item.getByRole('button', { name: 'Mark read' }).click();
    await app.getByTestId('unread-badge').waitFor({ state: 'detached' });
    await item.getByText('Unread').waitFor({ state: 'detached' });
    expect(pageErrors).toEqual([]);
  });
});
