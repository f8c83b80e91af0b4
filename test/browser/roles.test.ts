import type { FrameLocator } from 'playwright-core';
import { setUpBilling } from '../support/billing';
import { screenshotFrame, openFold } from './support/browser';
import { startBrowserWorld, type BrowserWorld } from './support/browser-world';

/**
 * Who may change billing, as the page shows it: an agency user whose HighLevel role is not "admin" sees every screen
 * with its values but none of the controls that change something (the server refuses them with 403
 * admin_required), and is told why — Stripe, Pricing, the sub-account (billing, shadow mode, charges), Catalogue,
 * Usage API, Reconciliation; the agency's admin sees the controls. (Such a user reads the Activity page:
 * test/browser/activity.test.ts.)
 */
jest.setTimeout(120_000);

const COMPANY = 'companyBrowserRoles01';
let LOCATION = '';
let world: BrowserWorld;

const openAs = (user: 'owner' | 'assistant') => world.openAgencyPage(user);
const CREATE_BUTTONS = ['Create coupon', 'Create plan', 'Create product'];
const shadowSwitch = (app: FrameLocator) => app.getByRole('switch', { name: /^Shadow mode/ });
const nav = (app: FrameLocator, name: string) => app.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name, exact: true });

beforeAll(async () => {
  // Installed in bulk, one sub-account, then Stripe, a customer and an SMS price.
  world = await startBrowserWorld({
    company: COMPANY,
    stripeKey: null,
    users: { owner: { userName: 'Olive Owner' }, assistant: { userName: 'Andy Assistant', role: 'user' } },
  });
  [LOCATION] = world.locationIds as [string];
  await setUpBilling(world.t.service, { companyId: COMPANY, locationId: LOCATION, customer: 'cus_rolesBrowser0001', rules: [{ metric: 'sms', threshold: '1' }] });
});

afterAll(() => world?.close());

describe('roles on the page', () => {
  it('when an agency user who is not an admin opens the page, then every screen reads but offers no control that changes billing', async () => {
    const { page, app } = await openAs('assistant');
    await app.getByRole('note').filter({ hasText: 'only your agency’s admins can change billing' }).waitFor();
    // Stripe: the connection is shown, without Replace / Disconnect.
    await app.getByText('Secret key ending in').waitFor();
    expect(await app.getByRole('button', { name: 'Replace key' }).count()).toBe(0);
    expect(await app.getByRole('button', { name: 'Disconnect' }).count()).toBe(0);

    await nav(app, 'Pricing').click();
    const threshold = app.getByLabel('SMS messages: every N = 1 unit');
    await threshold.waitFor();
    expect(await threshold.inputValue()).toBe('1');
    expect(await threshold.isDisabled()).toBe(true);
    expect(await app.getByRole('button', { name: /^Save/ }).count()).toBe(0);
    await screenshotFrame(page, app, 'roles-read-only-pricing.png');

    await nav(app, 'Sub-accounts').click();
    await app.getByRole('link', { name: `Sub-account ${LOCATION}` }).click();
    await app.getByRole('heading', { name: 'Subscription', exact: true }).waitFor();
    expect(await app.getByRole('button', { name: /subscription$/ }).count()).toBe(0);
    expect(await app.getByRole('checkbox', { name: 'Rebill this sub-account’s usage' }).isDisabled()).toBe(true);
    expect(await app.getByRole('button', { name: 'Search Stripe' }).count()).toBe(0);
    // The sub-account's other changes: shadow mode (shown, disabled), one-time charges and plan (no button).
    for (const fold of ['Shadow mode and per-metric rules', 'One-time charges']) await openFold(app, fold); // folded tools
    expect(await shadowSwitch(app).isDisabled()).toBe(true);
    await app.getByRole('heading', { name: 'One-time charges' }).waitFor();
    expect(await app.getByRole('button', { name: /^(Charge now|Send invoice)$/ }).count()).toBe(0);

    await nav(app, 'Catalogue').click();
    await app.getByRole('heading', { name: 'Plans', exact: true }).waitFor();
    for (const name of CREATE_BUTTONS) expect(await app.getByRole('button', { name }).count()).toBe(0);
    await screenshotFrame(page, app, 'roles-read-only-catalogue.png');

    await nav(app, 'Reconciliation').click();
    await app.getByRole('heading', { name: 'Reconciliation with Stripe' }).waitFor();
    expect(await app.getByRole('button', { name: 'Reconcile now' }).count()).toBe(0);

    await nav(app, 'Usage API').click();
    await app.getByRole('heading', { name: 'Usage API' }).waitFor();
    expect(await app.getByRole('button', { name: 'Create API key' }).isDisabled()).toBe(true);
    expect(world.pageErrors).toEqual([]);
  });

  it('when the agency admin opens the same screens, then the controls are there', async () => {
    const { app } = await openAs('owner');
    expect(await app.getByRole('note').filter({ hasText: 'only your agency’s admins' }).count()).toBe(0);
    await app.getByRole('button', { name: 'Replace key' }).waitFor();
    await nav(app, 'Pricing').click();
    await app.getByRole('button', { name: 'Save prices' }).waitFor();
    expect(await app.getByLabel('SMS messages: every N = 1 unit').isDisabled()).toBe(false);
    await nav(app, 'Catalogue').click();
    for (const name of CREATE_BUTTONS) await app.getByRole('button', { name }).waitFor();
    await nav(app, 'Reconciliation').click();
    await app.getByRole('button', { name: 'Reconcile now' }).waitFor();
    await nav(app, 'Sub-accounts').click();
    await app.getByRole('link', { name: `Sub-account ${LOCATION}` }).click();
    for (const fold of ['Shadow mode and per-metric rules', 'One-time charges']) await openFold(app, fold); // folded tools
    await app.getByRole('heading', { name: 'One-time charges' }).waitFor();
    expect(await shadowSwitch(app).isDisabled()).toBe(false);
  });
});
