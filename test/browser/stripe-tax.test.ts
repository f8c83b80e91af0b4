import type { FrameLocator, Page } from 'playwright-core';
import { screenshotFrame } from './support/browser';
import { startBrowserWorld, type BrowserWorld } from './support/browser-world';

/**
 * Tax and start dates on the settings page, in a real browser framed by a host page that plays HighLevel, against
 * the real service and the Stripe double: a sub-account whose subscription starts later is listed as Scheduled; the
 * pricing page's tax inclusion re-prices in Stripe; on a sub-account, switching Stripe Tax on with a billing address
 * sets it in Stripe; the page loads it checked, and an unrelated update keeps it on.
 */
jest.setTimeout(120_000);

const COMPANY = 'companyBrowserTax001';
let LOCATION = '';
let LATER = '';

let world: BrowserWorld;
let page: Page;
let app: FrameLocator;

const nav = (name: string) => app.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name, exact: true });
const taxBox = () => app.getByRole('checkbox', { name: 'Stripe Tax calculates tax automatically' });
const subscription = () => [...world.stripe.state.subscriptions.values()][0]!;

/** Opens the sub-account's page from the sub-accounts list. */
async function openSubAccount(): Promise<void> {
  await nav('Sub-accounts').click();
  await app.getByRole('link', { name: 'Tax Clinic' }).click();
  await app.getByRole('heading', { name: 'Subscription', exact: true }).waitFor();
}

beforeAll(async () => {
  // The agency installed Meterbridge (the page signs in installed agencies only).
  world = await startBrowserWorld({ company: COMPANY, locations: ['Tax Clinic', 'Later Clinic'], env: { REPORTER_ENABLED: 'false' }, users: { agency: { userName: 'Tia Tax' } } });
  [LOCATION, LATER] = world.locationIds as [string, string];
  await world.api.put('/api/pricing/sms', { threshold: 1, price: { currency: 'usd', unitAmountDecimal: '2' } });
  await world.api.put(`/api/sub-accounts/${LOCATION}/customer`, { create: true });
  // The agency has set up Stripe Tax in its Stripe account (docs.stripe.com/api/tax/settings).
  world.stripe.taxSettings = { ...world.stripe.taxSettings, head_office: { address: { country: 'US', postal_code: '94107' } }, status: 'active', status_details: { active: {} } };
  ({ page, app } = await world.openAgencyPage());
});

afterAll(() => world?.close());

describe('a subscription that starts later', () => {
  it('when it is scheduled, then the list shows it as Scheduled and its page the start date', async () => {
    await world.api.put(`/api/sub-accounts/${LATER}/customer`, { create: true });
    await world.api.put(`/api/sub-accounts/${LATER}/billing`, { subscription: { startAt: '2099-01-15T00:00:00.000Z' } });
    await nav('Sub-accounts').click();
    const row = app.locator('table.subs tr', { has: app.getByRole('link', { name: 'Later Clinic' }) });
    await row.getByText('Scheduled', { exact: true }).waitFor();
    expect(await app.locator('table.subs tr', { has: app.getByRole('link', { name: 'Tax Clinic' }) }).getByText('Scheduled', { exact: true }).count()).toBe(0);
    await app.getByRole('link', { name: 'Later Clinic' }).click();
    expect(await app.getByTestId('subscription-scheduled').innerText()).toContain('starts on 2099-01-15');
  });
});

describe('tax on the settings page', () => {
  it('when the agency chooses prices that include tax, then its price is made anew in Stripe as inclusive', async () => {
    await nav('Pricing').click();
    const select = app.getByLabel('Tax inclusion of prices');
    expect(await select.inputValue()).toBe('exclusive');
    await select.selectOption('inclusive');
    await app.getByRole('button', { name: 'Save defaults' }).click();
    await app.getByText('Defaults saved.').waitFor();
    expect([...world.stripe.state.prices.values()].map((p) => p.tax_behavior).sort()).toEqual(['exclusive', 'inclusive']);
  });

  it('when Stripe Tax is switched on with a billing address, then Stripe has it on and the page loads it checked after a reload', async () => {
    await openSubAccount();
    expect(await taxBox().isChecked()).toBe(false);
    await taxBox().check();
    await app.getByLabel('Country (2 letters)').fill('us');
    await app.getByLabel('Postal code').fill('97712');
    await app.getByRole('button', { name: 'Create subscription' }).click();
    await app.getByTestId('subscription-link').waitFor();
    expect(subscription().automatic_tax.enabled).toBe(true);
    expect(world.stripe.state.customers.get(subscription().customer)!.address).toMatchObject({ country: 'US', postal_code: '97712' });

    await page.reload();
    await app.getByRole('heading', { name: 'Usage billing' }).waitFor();
    await openSubAccount();
    expect(await taxBox().isChecked()).toBe(true);
    await screenshotFrame(page, app, 'sub-account-stripe-tax.png');
  });

  it('when the subscription is updated for something else, then tax stays on in Stripe and on the page', async () => {
    // The Subscription card has no coupon field any more (the Discount card shows and applies the coupon in force).
    expect(await app.getByLabel('Coupon (optional)').count()).toBe(0);
    await app.getByRole('heading', { name: 'Discount' }).waitFor();
    await app.getByRole('button', { name: 'Update subscription' }).click();
    await app.getByText('Subscription saved in Stripe.').waitFor();
    expect(subscription().automatic_tax.enabled).toBe(true);
    await page.reload();
    await app.getByRole('heading', { name: 'Usage billing' }).waitFor();
    await openSubAccount();
    expect(await taxBox().isChecked()).toBe(true);
    expect(world.pageErrors).toEqual([]);
  });
});
