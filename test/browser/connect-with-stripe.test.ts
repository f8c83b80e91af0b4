import type { BrowserContext, FrameLocator, Page } from 'playwright-core';
import { connectEnv, deliverConnectEvent } from '../support/stripe-connect';
import { startBrowserWorld, type BrowserWorld } from './support/browser-world';

/**
 * "Connect with Stripe" in a real browser, the page framed by a host page that plays HighLevel: the admin clicks it,
 * a new tab goes through Meterbridge's authorize link to Stripe's page (played here), Stripe sends the tab back to the
 * callback (the tab's cookie proves it is the same browser), and the card shows the account connected through
 * Connect; when the agency later revokes access in Stripe, the card says billing is held and offers to reconnect.
 */
jest.setTimeout(120_000);

const COMPANY = 'companyBrowserConnect1';
let world: BrowserWorld;
let context: BrowserContext;
let page: Page;
let app: FrameLocator;
/** Where Meterbridge's authorize step redirected (Stripe's authorize URL). */
const stripeRedirects: string[] = [];

beforeAll(async () => {
  // The agency installed the app (SSO signs in installed agencies only).
  world = await startBrowserWorld({ company: COMPANY, env: ({ stripe, appUrl }) => connectEnv(stripe, appUrl), stripeKey: null, users: { agency: { userName: 'Casey Connect' } } });
  ({ context, page, app } = await world.openAgencyPage());
  // Stripe's authorize page, played. Playwright does not intercept the target of a redirect, so Meterbridge's authorize
  // step is fetched for real (its 302 and cookie kept) and the tab shows Stripe's page in place of following it.
  await context.route('**/stripe/connect/authorize?**', async (route) => {
    const answer = await route.fetch({ maxRedirects: 0 });
    stripeRedirects.push(answer.headers().location ?? '');
    const headers = Object.fromEntries(Object.entries(answer.headers()).filter(([name]) => name !== 'location'));
    await route.fulfill({ status: 200, headers: { ...headers, 'content-type': 'text/html' }, body: '<h1>Stripe (played)</h1>' });
  });
});

afterAll(() => world?.close());

describe('Connect with Stripe on the Stripe card', () => {
  it('when the admin connects through Stripe’s page in a new tab, then the card shows the account connected through Connect', async () => {
    const card = app.locator('#stripe');
    await card.getByRole('button', { name: 'Connect with Stripe' }).waitFor();
    const [tab] = await Promise.all([context.waitForEvent('page'), card.getByRole('button', { name: 'Connect with Stripe' }).click()]);
    await tab.getByRole('heading', { name: 'Stripe (played)' }).waitFor();
    const authorize = new URL(stripeRedirects.at(-1)!);
    expect(`${authorize.origin}${authorize.pathname}`).toBe('https://connect.stripe.com/oauth/authorize');
    expect(authorize.searchParams.get('client_id')).toBe(world.stripe.connect.clientId);
    // The agency approves; Stripe sends the tab to the redirect URI with a code and the state.
    const { code, accountId } = world.stripe.connect.authorize();
    await tab.goto(`${authorize.searchParams.get('redirect_uri')}?code=${code}&scope=read_write&state=${encodeURIComponent(authorize.searchParams.get('state')!)}`);
    await tab.getByRole('heading', { name: 'Stripe connected' }).waitFor();
    await tab.close();

    await card.getByRole('button', { name: 'I’ve finished on Stripe' }).click();
    await card.getByText('Stripe Connect (no key stored)').waitFor();
    expect(await card.innerText()).toContain(`Connected ${accountId.slice(-6)}`);
    expect(world.pageErrors).toEqual([]);

    world.stripe.connect.revoke(accountId);
    await deliverConnectEvent(world.t, world.stripe.connect.deauthorizedEvent(accountId)).expect(200);
    await page.reload();
    await app.locator('#stripe').getByRole('alert').filter({ hasText: 'Billing is on hold' }).waitFor();
    await app.locator('#stripe').getByRole('button', { name: 'Connect with Stripe again' }).waitFor();
  });
});
