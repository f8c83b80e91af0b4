import type { AddressInfo } from 'node:net';
import nock from 'nock';
import type { Browser, BrowserContext } from 'playwright-core';
import { installedLocations, OAUTH_ENV, serveInstalledLocations, tokenResponse } from '../support/highlevel-oauth';
import { attachTestCard } from '../support/stripe/customers';
import { startStripeStub, type StripeStub } from '../support/stripe-stub';
import { startTestService, type TestService } from '../support/test-service';
import { launchBrowser, openSignedInAgencyPage, screenshotFrame } from './support/browser';
import { startHighLevelParent, type HighLevelParent } from './support/highlevel-parent';

/**
 * The prepaid wallet as people see it (issue 17): the client (a sub-account admin, 800 px wide) sees an empty wallet
 * flagged low, tops it up with the card on file and sees the credit and the top-up; the agency sees the same wallet
 * on the sub-account's page.
 */
jest.setTimeout(150_000);

const SHARED_SECRET = 'browser-wallets-secret';
const COMPANY = 'companyBrowserWal001';
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
  const locations = installedLocations('locBrowserWal', 1).map((l) => ({ ...l, name: 'Harbor Dental' }));
  LOCATION = locations[0]!._id;
  serveInstalledLocations(COMPANY, locations, 100);
  await t.service.install.completeOAuth(tokenResponse({ userType: 'Company', companyId: COMPANY, accessToken: 'at-wal', refreshToken: 'rt-wal', isBulkInstallation: true }));
  const token = (await t.service.sessionTokens.issue({ userId: 'u-wal', companyId: COMPANY, type: 'agency', role: 'admin', activeLocation: null })).token;
  const api = (path: string, body: object) => t.http.put(path).set('authorization', `Bearer ${token}`).send(body).expect(200);
  await api('/api/stripe/connection', { secretKey: 'sk_test_browserWallets0001' });
  await api('/api/pricing/sms', { threshold: 1, price: { currency: 'usd', interval: 'month', unitAmountDecimal: '2' } });
  const customer = (await api(`/api/sub-accounts/${LOCATION}/customer`, { create: true })).body.stripeCustomerId as string;
  attachTestCard(stripe.state, 'pm_card_visa', customer);
  stripe.state.customers.get(customer)!.invoice_settings = { default_payment_method: 'pm_card_visa' };
  await api('/api/wallets/settings', { billingMode: 'prepaid', currency: 'usd', initialTopUpCents: 5000, thresholdCents: 1000, topUpCents: 2000, maxBalanceCents: 10000, monthlyCapCents: null });

  parent = await startHighLevelParent({ appUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, sharedSecret: SHARED_SECRET });
  parent.users.set('agency', { userId: 'u-wal', companyId: COMPANY, role: 'admin', type: 'agency', userName: 'Olive Owner' });
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

describe('the prepaid wallet on the page', () => {
  it('when the client tops up its empty wallet, then the card is charged once and the balance shows the credit', async () => {
    const context = await browser.newContext({ viewport: { width: 800, height: 900 } });
    contexts.push(context);
    const page = await context.newPage();
    page.on('pageerror', (err) => pageErrors.push(err.message));
    const app = page.frameLocator('#app');
    await page.goto(parent.url('client'));
    const wallet = app.getByTestId('wallet');
    await wallet.getByText('Low balance').waitFor();
    await wallet.getByTestId('wallet-balance').getByText('$0.00').waitFor();
    await wallet.getByRole('button', { name: /Top up now/ }).click();
    await wallet.getByText('Credited').waitFor();
    await wallet.getByTestId('wallet-balance').getByText('$50.00').waitFor();
    expect([...stripe.state.creditGrants.values()].map((g) => g.amount.monetary.value)).toEqual([5000]);
    await screenshotFrame(page, app, 'wallet-client-800.png');
    expect(pageErrors).toEqual([]);
  });

  it('when the agency opens the sub-account, then it sees the wallet’s balance and its top-ups', async () => {
    const { context, page, app } = await openSignedInAgencyPage(browser, parent.url('agency'), pageErrors);
    contexts.push(context);
    await app.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name: 'Sub-accounts', exact: true }).click();
    await app.locator('tr', { hasText: 'Harbor Dental' }).getByRole('link', { name: 'Harbor Dental' }).click();
    const wallet = app.getByTestId('wallet');
    await wallet.getByTestId('wallet-balance').getByText('$50.00').waitFor();
    await wallet.getByText('Credited').waitFor();
    await screenshotFrame(page, app, 'wallet-agency.png');
    expect(pageErrors).toEqual([]);
  });
});
