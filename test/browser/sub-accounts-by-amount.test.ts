import type { AddressInfo } from 'node:net';
import type { Browser, BrowserContext, FrameLocator, Page } from 'playwright-core';
import { installedLocations, OAUTH_ENV, serveInstalledLocations, tokenResponse } from '../support/highlevel-oauth';
import { TEST_STRIPE_KEY } from '../support/billing';
import { startStripeStub, type StripeStub } from '../support/stripe-stub';
import { startTestService, type TestService } from '../support/test-service';
import { closeBrowserTest, launchBrowser, openSignedInAgencyPage } from './support/browser';
import { startHighLevelParent, type HighLevelParent } from './support/highlevel-parent';

/**
 * "Sort by this period's amount" on the sub-accounts list is the server's order over every client, not a re-sort of
 * the page on screen: 55 clients (the page shows 50), two of them billed — Aspen Clinic (3 SMS at 2¢, first by name)
 * and Zephyr Dental (50 SMS, last by name, so on page 2 by name). Sorted by amount, Zephyr comes first on page 1.
 */
jest.setTimeout(180_000);

const SHARED_SECRET = 'browser-by-amount';
const COMPANY = 'companyByAmountPage1';
const FILLERS = Array.from({ length: 53 }, (_, i) => `Client ${String(i).padStart(2, '0')}`);
const NAMES = ['Aspen Clinic', ...FILLERS, 'Zephyr Dental'];

let t: TestService;
let stripe: StripeStub;
let parent: HighLevelParent;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let app: FrameLocator;
const pageErrors: string[] = [];
const listRequests: URL[] = [];

const listed = () => app.locator('table.subs tbody th > a').allInnerTexts();
const count = () => app.getByTestId('sub-count');

beforeAll(async () => {
  browser = await launchBrowser();
  stripe = await startStripeStub();
  stripe.apiKeys.add(TEST_STRIPE_KEY);
  t = await startTestService({ ...OAUTH_ENV, STRIPE_API_URL: stripe.url, HIGHLEVEL_SHARED_SECRET: SHARED_SECRET, REPORTER_ENABLED: 'false' });
  const server = await t.service.listen(0);
  const appUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const locations = installedLocations('locByAmountPage', NAMES.length).map((l, i) => ({ ...l, name: NAMES[i]! }));
  const id = (name: string) => locations[NAMES.indexOf(name)]!._id;
  serveInstalledLocations(COMPANY, locations, 100);
  await t.service.install.completeOAuth(tokenResponse({ userType: 'Company', companyId: COMPANY, accessToken: 'at-amount', refreshToken: 'rt-amount', isBulkInstallation: true }));
  const token = (await t.service.sessionTokens.issue({ userId: 'user-amount', companyId: COMPANY, type: 'agency', role: 'admin', activeLocation: null })).token;
  const put = (path: string, body: object) => t.http.put(path).set('authorization', `Bearer ${token}`).send(body).expect(200);
  await put('/api/stripe/connection', { secretKey: TEST_STRIPE_KEY });
  await put('/api/pricing/sms', { threshold: 1, price: { currency: 'usd', unitAmountDecimal: '2' } });
  const apiKey = (await t.service.apiKeys.create(COMPANY, 'by amount')).key;
  for (const [name, sms] of [['Aspen Clinic', 3], ['Zephyr Dental', 50]] as const) {
    await put(`/api/sub-accounts/${id(name)}/customer`, { create: true });
    await put(`/api/sub-accounts/${id(name)}/billing`, { rebillingEnabled: true, subscription: {} });
    await t.http.post('/api/v1/usage').set('authorization', `Bearer ${apiKey}`)
      .send({ locationId: id(name), metric: 'sms', quantity: String(sms), occurredAt: new Date().toISOString(), idempotencyKey: `amount-${sms}` }).expect(200);
  }
  await t.drain();

  parent = await startHighLevelParent({ appUrl, sharedSecret: SHARED_SECRET });
  parent.users.set('agency', { userId: 'user-amount', companyId: COMPANY, role: 'admin', type: 'agency', userName: 'Amy Amount' });
  ({ context, page, app } = await openSignedInAgencyPage(browser, parent.url('agency'), pageErrors));
  page.on('request', (request) => {
    const url = new URL(request.url());
    if (url.pathname === '/api/sub-accounts') listRequests.push(url);
  });
});

afterAll(() => closeBrowserTest(context, browser, parent, t, stripe));

describe('the sub-accounts list sorted by this period’s amount, across pages', () => {
  it('when the list opens by name, then the biggest client is not on page 1', async () => {
    await app.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name: 'Sub-accounts', exact: true }).click();
    await count().filter({ hasText: '1–50 of 55 sub-accounts' }).waitFor();
    const names = await listed();
    expect(names[0]).toBe('Aspen Clinic');
    expect(names).not.toContain('Zephyr Dental');
  });

  it('when sorted by amount, then the page asks the server for sort=amount and the biggest client, from page 2 by name, is first', async () => {
    await app.getByLabel('Sort by').selectOption('amount');
    await app.locator('table.subs tbody tr').first().getByRole('link', { name: 'Zephyr Dental' }).waitFor();
    expect((await listed()).slice(0, 2)).toEqual(['Zephyr Dental', 'Aspen Clinic']);
    await app.locator('table.subs tbody tr').first().getByTestId('period-amount').getByText('$1.00 so far').waitFor();
    expect(listRequests.at(-1)!.searchParams.get('sort')).toBe('amount');
    expect(await app.locator('body').evaluate((b) => b.ownerDocument.defaultView!.location.search)).toBe('?sort=amount');
    expect(await count().innerText()).toBe('1–50 of 55 sub-accounts');
  });

  it('when the next page is opened, then it goes on in the same order: the last clients not billed, by name', async () => {
    await app.getByRole('button', { name: 'Next page' }).click();
    await count().filter({ hasText: '51–55 of 55 sub-accounts' }).waitFor();
    expect(await listed()).toEqual(FILLERS.slice(-5));
    expect(listRequests.at(-1)!.searchParams.get('sort')).toBe('amount');
    expect(listRequests.at(-1)!.searchParams.get('page')).toBe('2');
  });

  it('when the walk is over, then no script error happened', () => {
    expect(pageErrors).toEqual([]);
  });
});
