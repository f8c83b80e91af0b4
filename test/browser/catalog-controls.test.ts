import type { FrameLocator, Page } from 'playwright-core';
import type { StripeJson } from '../support/stripe-stub';
import { openFold, screenshotFrame } from './support/browser';
import { startBrowserWorld, type BrowserWorld } from './support/browser-world';

/**
 * Every catalogue control issue 18 adds, walked in a real browser framed by a host page that plays HighLevel, against
 * the real service and the Stripe double: inbound and outbound rows of a directional metric on the Pricing page; a
 * plan with an interval and a trial, then archived; a sub-account's own price as graduated tiers, and in another
 * currency and interval; its inbound and outbound rules; a nickname. Each at 1280 px, the busy pages at 800 px too.
 */
jest.setTimeout(180_000);

const COMPANY = 'companyBrowserCtrl01';
let L1 = '';

let world: BrowserWorld;
let page: Page;
let app: FrameLocator;

const nav = (name: string) => app.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name, exact: true });
const card = (heading: string) => app.locator('section', { has: app.getByRole('heading', { name: heading, exact: true }) });
const meterOf = (price: StripeJson) => world.stripe.state.meters.get(price.recurring.meter)?.event_name;
const noSideScroll = async () => expect(await app.locator('html').evaluate((html) => html.scrollWidth - html.clientWidth)).toBe(0);
const at800 = async (name: string) => {
  await page.setViewportSize({ width: 800, height: 900 });
  await noSideScroll();
  await screenshotFrame(page, app, name);
  await page.setViewportSize({ width: 1280, height: 900 });
};
const openSubAccount = async (name: string) => {
  await nav('Sub-accounts').click();
  await app.getByRole('link', { name, exact: true }).click();
  await openFold(app, 'Shadow mode and per-metric rules'); // per-metric rules are folded on the sub-account page
  await app.getByRole('heading', { name: 'Rules in force' }).waitFor();
};

beforeAll(async () => {
  world = await startBrowserWorld({ company: COMPANY, locations: ['Call Clinic', 'Euro Clinic'], env: { REPORTER_ENABLED: 'false' }, users: { agency: { userName: 'Cora Controls' } } });
  [L1] = world.locationIds as [string];
  await world.api.put('/api/pricing/sms', { threshold: 1, price: { currency: 'usd', unitAmountDecimal: '2' } });
  await world.api.put('/api/pricing/call_minutes', { threshold: 1, direction: 'outbound', price: { currency: 'usd', unitAmountDecimal: '9' } });
  await world.api.put(`/api/sub-accounts/${L1}/customer`, { create: true });
  await world.api.put(`/api/sub-accounts/${L1}/billing`, { rebillingEnabled: true });
  ({ page, app } = await world.openAgencyPage());
});

afterAll(() => world?.close());

describe('inbound and outbound rows on the Pricing page', () => {
  it('when the agency splits call minutes and prices inbound calls at $0.05, then two rows show and Stripe has the inbound price on its own meter', async () => {
    await nav('Pricing').click();
    const rows = card('Inbound and outbound prices');
    await rows.getByText('Every metric is priced the same in both directions.').waitFor();
    await rows.getByLabel('Price inbound and outbound separately').selectOption({ label: 'Call minutes' });
    await rows.getByRole('button', { name: 'Split' }).click();
    await rows.getByText('Call minutes: inbound and outbound are priced separately now.').waitFor();
    const table = rows.getByRole('table', { name: 'Inbound and outbound prices' });
    await table.locator('tr[data-direction="inbound"]').waitFor();
    await table.getByLabel('Call minutes (inbound): price per unit (USD)').fill('0.05');
    await table.getByRole('button', { name: 'Save Call minutes (inbound)' }).click();
    await rows.getByText('Call minutes (inbound) saved: its Stripe meter and price are in place.').waitFor();
    await table.locator('tr[data-direction="inbound"]').getByText('$0.05').waitFor();
    const inbound = [...world.stripe.state.prices.values()].find((p) => p.unit_amount_decimal === '5')!;
    expect(meterOf(inbound)).toBe('meterbridge_call_minutes_inbound');
    const outbound = [...world.stripe.state.prices.values()].find((p) => p.unit_amount_decimal === '9' && meterOf(p) === 'meterbridge_call_minutes_outbound');
    expect(outbound).toBeDefined();
    // The main grid no longer lists the metric priced per direction.
    await expect(app.locator('table.pricing tr[data-metric="call_minutes"]').count()).resolves.toBe(0);
    await screenshotFrame(page, app, 'pricing-inbound-outbound.png');
    await at800('pricing-inbound-outbound-800.png');
    expect(world.pageErrors).toEqual([]);
  });
});

describe('plans: interval, trial, archive', () => {
  it('when the agency creates a yearly plan with a 14-day trial and archives it, then Stripe has a yearly base price, the list shows the trial, then Archived', async () => {
    await nav('Catalogue').click();
    const plans = card('Plans');
    const form = plans.getByRole('form', { name: 'New plan' });
    await form.getByLabel('Plan name').fill('Annual trial');
    await form.getByLabel('Base fee (USD)').fill('990');
    await form.getByLabel('per', { exact: true }).selectOption('year');
    await form.getByLabel('Free trial (days, optional)').fill('14');
    await form.getByRole('button', { name: 'Create plan' }).click();
    await plans.getByText('Plan “Annual trial” created in Stripe.').waitFor();
    const row = plans.getByRole('table', { name: 'Plans' }).getByRole('row', { name: /Annual trial.*\$990\.00 \/ year.*14 days/ });
    await row.waitFor();
    const base = [...world.stripe.state.prices.values()].find((p) => p.unit_amount === 99000)!;
    expect(base.recurring).toMatchObject({ interval: 'year', usage_type: 'licensed' });
    await form.getByLabel('Plan name').fill('Monthly');
    await form.getByLabel('Base fee (USD)').fill('49');
    await form.getByRole('button', { name: 'Create plan' }).click();
    await plans.getByText('Plan “Monthly” created in Stripe.').waitFor();
    await screenshotFrame(page, app, 'catalogue-plans.png');

    await row.getByRole('button', { name: 'Archive plan Annual trial' }).click();
    await plans.getByRole('group', { name: 'Confirm archiving Annual trial' }).getByRole('button', { name: 'Archive' }).click();
    await plans.getByText('Plan “Annual trial” archived.').waitFor();
    await plans.getByRole('row', { name: /Annual trial.*Archived/ }).waitFor();
    expect(world.stripe.state.prices.get(base.id)!.active).toBe(false);
    await at800('catalogue-plans-800.png');
    expect(world.pageErrors).toEqual([]);
  });
});

describe('a sub-account’s own prices, directions and nickname', () => {
  it('when the agency gives a sub-account graduated SMS tiers, then Stripe has that graduated price and the subscription carries it', async () => {
    await openSubAccount('Call Clinic');
    const rules = app.getByRole('table', { name: 'Rules in force for this sub-account' });
    await rules.getByLabel('SMS messages: currency, interval and tiers').click();
    await rules.getByLabel('SMS messages: graduated tiers').check();
    await rules.getByLabel('SMS messages: tier 1 up to').fill('100');
    await rules.getByLabel('SMS messages: tier 1 price per unit').fill('0');
    await rules.getByLabel('SMS messages: tier 2 price per unit').fill('0.02');
    await rules.getByRole('button', { name: 'Save override for SMS messages' }).click();
    await rules.getByRole('row', { name: /SMS messages.*Override/ }).waitFor();
    const tiered = [...world.stripe.state.prices.values()].find((p) => p.billing_scheme === 'tiered')!;
    expect(tiered.tiers.map((x: StripeJson) => [x.up_to, x.unit_amount_decimal])).toEqual([[100, '0'], [null, '2']]);
    const sub = [...world.stripe.state.subscriptions.values()].find((s) => s.items.data.some((i: StripeJson) => i.price.id === tiered.id));
    expect(sub).toBeDefined();
  });

  it('when the sub-account prices its inbound calls itself, then its inbound and outbound rows show, the inbound one its own', async () => {
    const rules = app.getByRole('table', { name: 'Rules in force for this sub-account' });
    await rules.getByLabel('Call minutes (inbound): own price per unit (USD) for this sub-account').fill('0.07');
    await rules.getByRole('button', { name: 'Save override for Call minutes (inbound)' }).click();
    await rules.getByRole('row', { name: /Call minutes \(inbound\).*Override/ }).waitFor();
    await rules.getByRole('row', { name: /Call minutes \(outbound\).*Override/ }).waitFor();
    const own = [...world.stripe.state.prices.values()].find((p) => p.unit_amount_decimal === '7')!;
    expect(meterOf(own)).toBe('meterbridge_call_minutes_inbound');
    await screenshotFrame(page, app, 'sub-account-own-prices.png');
    await at800('sub-account-own-prices-800.png');
  });

  it('when the agency names the client, then the page and the list show the nickname and the search finds it', async () => {
    await app.getByText('Give this client your own name', { exact: true }).click();
    await app.getByLabel('Your name for this client').fill('Dr. Ruiz – downtown');
    await app.getByRole('button', { name: 'Save nickname' }).click();
    await app.getByRole('heading', { name: /Call Clinic \(Dr\. Ruiz – downtown\)/ }).waitFor();
    await nav('Sub-accounts').click();
    await app.getByRole('searchbox').or(app.getByLabel(/Search/)).first().fill('Ruiz');
    // The search (debounced, server-side) leaves only the client it names.
    await app.getByRole('link', { name: 'Euro Clinic' }).waitFor({ state: 'detached' });
    await app.getByRole('row', { name: /Call Clinic.*Dr\. Ruiz – downtown/ }).waitFor();
  });

  it('when a sub-account without a customer gets its own SMS price in EUR billed yearly, then Stripe has that price', async () => {
    await app.getByRole('searchbox').or(app.getByLabel(/Search/)).first().fill('');
    await openSubAccount('Euro Clinic');
    const rules = app.getByRole('table', { name: 'Rules in force for this sub-account' });
    await rules.getByLabel('SMS messages: currency, interval and tiers').click();
    await rules.getByLabel('SMS messages: currency', { exact: true }).fill('EUR');
    await rules.getByLabel('SMS messages: billing interval').selectOption('year');
    await rules.getByLabel('SMS messages: own price per unit (EUR) for this sub-account').fill('0.04');
    await rules.getByRole('button', { name: 'Save override for SMS messages' }).click();
    await rules.getByRole('row', { name: /SMS messages.*Override/ }).waitFor();
    const euro = [...world.stripe.state.prices.values()].find((p) => p.currency === 'eur')!;
    expect([euro.unit_amount_decimal, euro.recurring.interval, meterOf(euro)]).toEqual(['4', 'year', 'meterbridge_sms']);
    expect(world.pageErrors).toEqual([]);
  });
});
