import type { FrameLocator, Page } from 'playwright-core';
import { screenshotFrame } from './support/browser';
import { startBrowserWorld, type BrowserWorld } from './support/browser-world';

/**
 * Coupons on the settings page, in a real browser framed by a host page that plays HighLevel, against the real
 * service and the Stripe double: the Catalogue creates a percent coupon for three months and a fixed-amount one;
 * a sub-account's Discount card applies one (showing until when), replaces and removes it; archiving a coupon
 * takes it off the list; at 800 px nothing sticks out.
 */
jest.setTimeout(120_000);

const COMPANY = 'companyBrowserCoupon1';
let LOCATION = '';

let world: BrowserWorld;
let page: Page;
let app: FrameLocator;

const nav = (name: string) => app.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name, exact: true });
const couponsCard = () => app.locator('section', { has: app.getByRole('heading', { name: 'Coupons' }) });
const discountCard = () => app.locator('section', { has: app.getByRole('heading', { name: 'Discount' }) });
const subscription = () => [...world.stripe.state.subscriptions.values()][0]!;

beforeAll(async () => {
  world = await startBrowserWorld({ company: COMPANY, locations: ['Coupon Clinic'], env: { REPORTER_ENABLED: 'false' }, users: { agency: { userName: 'Cora Coupon' } } });
  [LOCATION] = world.locationIds as [string];
  await world.api.put('/api/pricing/sms', { threshold: 1, price: { currency: 'usd', unitAmountDecimal: '2' } });
  await world.api.put(`/api/sub-accounts/${LOCATION}/customer`, { create: true });
  await world.api.put(`/api/sub-accounts/${LOCATION}/billing`, { rebillingEnabled: true });
  ({ page, app } = await world.openAgencyPage());
});

afterAll(() => world?.close());

describe('the catalogue’s coupons', () => {
  it('when the agency creates a percent coupon for three months and a fixed-amount one, then Stripe has them and the list shows them', async () => {
    await nav('Catalogue').click();
    await couponsCard().getByText('No coupon yet.').waitFor();
    const form = couponsCard().getByRole('form', { name: 'New coupon' });
    await form.getByLabel('Name (shown on invoices)').fill('Spring 20');
    await form.getByLabel('Percent').fill('20');
    await form.getByLabel('Duration').selectOption('repeating');
    await form.getByLabel('Months').fill('3');
    await form.getByLabel('Redemption limit (optional)').fill('10');
    await form.getByRole('button', { name: 'Create coupon' }).click();
    await couponsCard().getByText('Coupon “Spring 20” created in Stripe').waitFor();
    await form.getByLabel('Name (shown on invoices)').fill('Ten dollars');
    await form.getByLabel('Discount').selectOption('amount');
    await form.getByLabel('Amount').fill('10.50');
    await form.getByLabel('Duration').selectOption('forever');
    await form.getByRole('button', { name: 'Create coupon' }).click();
    await couponsCard().getByText('Coupon “Ten dollars” created in Stripe').waitFor();

    const coupons = [...world.stripe.state.coupons.values()];
    expect(coupons).toEqual([
      expect.objectContaining({ name: 'Spring 20', percent_off: 20, duration: 'repeating', duration_in_months: 3, max_redemptions: 10 }),
      expect.objectContaining({ name: 'Ten dollars', amount_off: 1050, currency: 'usd', duration: 'forever' }),
    ]);
    const table = couponsCard().getByRole('table', { name: 'Coupons' });
    await table.getByRole('row', { name: /Spring 20.*20% off.*for 3 months.*0 of 10/ }).waitFor();
    await table.getByRole('row', { name: /Ten dollars.*\$10\.50 off.*forever/ }).waitFor();
    await screenshotFrame(page, app, 'catalogue-coupons.png');
  });

  it('when a coupon is applied on the sub-account’s page, then the discount in force shows until when; replaced and removed, then Stripe follows', async () => {
    await nav('Sub-accounts').click();
    await app.getByRole('link', { name: 'Coupon Clinic' }).click();
    await discountCard().getByTestId('no-discount').waitFor();
    await discountCard().getByLabel('Coupon').selectOption({ label: 'Spring 20 — 20% off, for 3 months' });
    await discountCard().getByRole('button', { name: 'Apply coupon' }).click();
    await discountCard().getByText('Coupon applied in Stripe.').waitFor();
    const end = new Date();
    end.setUTCMonth(end.getUTCMonth() + 3);
    await discountCard().getByTestId('discount-in-force').filter({ hasText: `Spring 20: 20% off, for 3 months, until ${end.toISOString().slice(0, 10)} (UTC)` }).waitFor();
    expect(subscription().discounts).toEqual([expect.objectContaining({ source: { coupon: expect.any(String), type: 'coupon' } })]);

    await discountCard().getByLabel('Coupon').selectOption({ label: 'Ten dollars — $10.50 off, forever' });
    await discountCard().getByRole('button', { name: 'Replace the discount' }).click();
    await discountCard().getByTestId('discount-in-force').filter({ hasText: 'Ten dollars: $10.50 off, forever, for as long as the subscription runs' }).waitFor();
    await screenshotFrame(page, app, 'sub-account-discount.png');

    await discountCard().getByRole('button', { name: 'Remove the discount' }).click();
    await discountCard().getByTestId('no-discount').waitFor();
    expect(subscription().discounts).toEqual([]);
  });

  it('when a coupon is archived, then it leaves the list; at 800 px the catalogue does not stick out', async () => {
    await nav('Catalogue').click();
    const table = couponsCard().getByRole('table', { name: 'Coupons' });
    await table.getByRole('button', { name: 'Archive coupon Spring 20' }).click();
    await couponsCard().getByRole('group', { name: 'Confirm archiving Spring 20' }).getByRole('button', { name: 'Archive' }).click();
    await couponsCard().getByText('Coupon “Spring 20” archived').waitFor();
    await table.getByRole('row', { name: /Spring 20/ }).waitFor({ state: 'detached' });
    expect([...world.stripe.state.coupons.values()].map((c) => c.name)).toEqual(['Ten dollars']);

    await page.setViewportSize({ width: 800, height: 900 });
    const by = await app.locator('html').evaluate((html) => html.scrollWidth - html.clientWidth);
    expect(by).toBe(0);
    await screenshotFrame(page, app, 'catalogue-coupons-800.png');
    await page.setViewportSize({ width: 1280, height: 900 });
    expect(world.pageErrors).toEqual([]);
  });
});
