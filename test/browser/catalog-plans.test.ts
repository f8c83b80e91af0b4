import type { FrameLocator, Page } from 'playwright-core';
import { openFold, screenshotFrame } from './support/browser';
import { startBrowserWorld, type BrowserWorld } from './support/browser-world';

/**
 * Plans on the settings page, in a real browser framed by a host page that plays HighLevel, against the real service
 * and the Stripe double: the Catalogue creates a plan with a base fee and an SMS allowance; a sub-account's Plan card
 * moves it to the plan with the proration chosen (stated on the page), then back to the default; at 800 px nothing
 * sticks out. And a per-sub-account price override, set from the rules table.
 */
jest.setTimeout(120_000);

const COMPANY = 'companyBrowserPlans01';
let LOCATION = '';

let world: BrowserWorld;
let page: Page;
let app: FrameLocator;

const nav = (name: string) => app.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name, exact: true });
const plansCard = () => app.locator('section', { has: app.getByRole('heading', { name: 'Plans', exact: true }) });
const planCard = () => app.locator('section', { has: app.getByRole('heading', { name: 'Plan', exact: true }) });
const subscription = () => [...world.stripe.state.subscriptions.values()][0]!;

beforeAll(async () => {
  world = await startBrowserWorld({ company: COMPANY, locations: ['Plan Clinic'], env: { REPORTER_ENABLED: 'false' }, users: { agency: { userName: 'Paula Plan' } } });
  [LOCATION] = world.locationIds as [string];
  await world.api.put('/api/pricing/sms', { threshold: 1, price: { currency: 'usd', unitAmountDecimal: '2' } });
  await world.api.put(`/api/sub-accounts/${LOCATION}/customer`, { create: true });
  await world.api.put(`/api/sub-accounts/${LOCATION}/billing`, { rebillingEnabled: true });
  ({ page, app } = await world.openAgencyPage());
});

afterAll(() => world?.close());

describe('plans', () => {
  it('when the agency creates a plan with a base fee and an SMS allowance, then Stripe has its prices and the catalogue lists it', async () => {
    await nav('Catalogue').click();
    await plansCard().getByText('No plan yet').waitFor();
    const form = plansCard().getByRole('form', { name: 'New plan' });
    await form.getByLabel('Plan name').fill('Pro');
    await form.getByLabel('Base fee (USD)').fill('99');
    await form.getByLabel('Included usage (optional)').selectOption('sms');
    await form.getByLabel('Units included').fill('1000');
    await form.getByLabel('Then per unit (USD)').fill('0.015');
    await form.getByRole('button', { name: 'Create plan' }).click();
    await plansCard().getByText('Plan “Pro” created in Stripe.').waitFor();
    await plansCard().getByRole('table', { name: 'Plans' }).getByRole('row', { name: /Pro.*\$99\.00 \/ month.*1,000 included, then \$0\.015 each/ }).waitFor();
    const tiered = [...world.stripe.state.prices.values()].find((p) => p.billing_scheme === 'tiered')!;
    expect(tiered.tiers.map((x: { up_to: number | null; unit_amount_decimal: string | null }) => [x.up_to, x.unit_amount_decimal])).toEqual([[1000, '0'], [null, '1.5']]);
    await screenshotFrame(page, app, 'catalogue.png', { published: true });
  });

  it('when the sub-account moves to the plan with "invoice the difference now", then Stripe is asked so and the page shows the plan; back to the default, then without proration', async () => {
    await nav('Sub-accounts').click();
    await app.getByRole('link', { name: 'Plan Clinic' }).click();
    await planCard().getByTestId('plan-in-force').getByText('No plan: the pricing page’s flat fee and prices apply.').waitFor();
    await planCard().getByLabel('Change to').selectOption({ label: 'Pro' });
    await planCard().getByLabel('Prorate and invoice the difference now').check();
    await planCard().getByRole('button', { name: 'Change plan' }).click();
    await planCard().getByText('Plan changed; the subscription follows in Stripe.').waitFor();
    await planCard().getByTestId('plan-in-force').getByText('$99.00 / month').waitFor();
    const updates = () => world.stripe.requestLog.filter((r) => r.method === 'POST' && r.path === `/v1/subscriptions/${subscription().id}`);
    expect(updates().at(-1)!.params.proration_behavior).toBe('always_invoice');
    expect(subscription().items.data).toHaveLength(2);

    await planCard().getByLabel('Change to').selectOption({ label: 'The agency’s default' });
    await planCard().getByLabel('No proration: the new prices apply from the next period').check();
    await planCard().getByRole('button', { name: 'Change plan' }).click();
    await planCard().getByTestId('plan-in-force').getByText('No plan: the pricing page’s flat fee and prices apply.').waitFor();
    expect(updates().at(-1)!.params.proration_behavior).toBe('none');
    expect(subscription().items.data).toHaveLength(1);

    await page.setViewportSize({ width: 800, height: 900 });
    const by = await app.locator('html').evaluate((html) => html.scrollWidth - html.clientWidth);
    expect(by).toBe(0);
    await screenshotFrame(page, app, 'sub-account-plan-800.png');
    await page.setViewportSize({ width: 1280, height: 900 });
    expect(world.pageErrors).toEqual([]);
  });

  it('when the sub-account gets its own SMS price on its page, then Stripe has a metered price at that amount and the subscription carries it', async () => {
    await openFold(app, 'Shadow mode and per-metric rules'); // per-metric rules are folded on the sub-account page
    const rules = app.getByRole('table', { name: 'Rules in force for this sub-account' });
    await rules.getByLabel('SMS messages: own price per unit (USD) for this sub-account').fill('0.03');
    await rules.getByRole('button', { name: 'Save override for SMS messages' }).click();
    await rules.getByRole('row', { name: /SMS messages.*Override/ }).waitFor();
    const own = [...world.stripe.state.prices.values()].find((p) => p.unit_amount_decimal === '3')!;
    expect(own).toMatchObject({ currency: 'usd', recurring: expect.objectContaining({ usage_type: 'metered', interval: 'month' }) });
    expect(subscription().items.data.map((i: { price: { id: string } }) => i.price.id)).toContain(own.id);
    expect(world.pageErrors).toEqual([]);
  });
});

