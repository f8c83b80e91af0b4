import type { FrameLocator, Page } from 'playwright-core';
import { openFold, screenshotFrame } from './support/browser';
import { startBrowserWorld, type BrowserWorld } from './support/browser-world';

/**
 * One-time charges on the settings page, in a real browser framed by a host page that plays HighLevel, against the
 * real service and the Stripe double: the Catalogue creates a one-time product; on a sub-account, "Charge now" pays
 * it with the card on file, "Send invoice" has Stripe email it; a declined card shows Stripe's message and a retry
 * pays; at 800 px nothing sticks out.
 */
jest.setTimeout(120_000);

const COMPANY = 'companyBrowserOneTime';
let LOCATION = '';

let world: BrowserWorld;
let page: Page;
let app: FrameLocator;

const nav = (name: string) => app.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name, exact: true });
const productsCard = () => app.locator('section', { has: app.getByRole('heading', { name: 'One-time products' }) });
const chargesCard = () => app.locator('section', { has: app.getByRole('heading', { name: 'One-time charges' }) });
const customer = () => [...world.stripe.state.customers.values()][0]!;

beforeAll(async () => {
  world = await startBrowserWorld({ company: COMPANY, locations: ['Invoice Clinic'], env: { REPORTER_ENABLED: 'false' }, users: { agency: { userName: 'Olga Once' } } });
  [LOCATION] = world.locationIds as [string];
  await world.api.put('/api/pricing/sms', { threshold: 1, price: { currency: 'usd', unitAmountDecimal: '2' } });
  await world.api.put(`/api/sub-accounts/${LOCATION}/customer`, { create: true });
  // The client saved a card and has a billing email in Stripe.
  Object.assign(customer(), { email: 'billing@invoiceclinic.example', invoice_settings: { ...customer().invoice_settings, default_payment_method: 'pm_card_chargeDeclined' } });
  ({ page, app } = await world.openAgencyPage());
});

afterAll(() => world?.close());

describe('one-time charges', () => {
  it('when the agency creates a one-time product, then Stripe has it with a one-time price in cents and the catalogue lists it', async () => {
    await nav('Catalogue').click();
    await productsCard().getByText('No one-time product yet.').waitFor();
    const form = productsCard().getByRole('form', { name: 'New one-time product' });
    await form.getByLabel('Product name').fill('Set-up fee');
    await form.getByLabel('Description (optional)').fill('Onboarding and first campaign');
    await form.getByLabel('Price').fill('499.99');
    await form.getByLabel('Tax').selectOption('inclusive');
    await form.getByRole('button', { name: 'Create product' }).click();
    await productsCard().getByText('Product “Set-up fee” created in Stripe.').waitFor();
    await productsCard().getByRole('table', { name: 'One-time products' }).getByRole('row', { name: /Set-up fee.*\$499\.99.*Included/ }).waitFor();
    const price = [...world.stripe.state.prices.values()].find((p) => p.type === 'one_time')!;
    expect(price).toMatchObject({ unit_amount: 49_999, currency: 'usd', tax_behavior: 'inclusive' });
    await screenshotFrame(page, app, 'catalogue-one-time-products.png');
  });

  it('when "Charge now" meets a declined card, then Stripe’s message shows; after a new card, Retry pays the same invoice', async () => {
    await nav('Sub-accounts').click();
    await app.getByRole('link', { name: 'Invoice Clinic' }).click();
    await openFold(app, 'One-time charges'); // folded on the sub-account page
    await chargesCard().getByText('No one-time charge yet.').waitFor();
    const form = chargesCard().getByRole('form', { name: 'New one-time charge' });
    await form.getByLabel('Product').selectOption({ label: 'Set-up fee — $499.99' });
    await form.getByRole('button', { name: 'Charge now' }).click();
    await chargesCard().getByRole('status').filter({ hasText: 'Stripe: Your card was declined.' }).waitFor();
    const table = chargesCard().getByRole('table', { name: 'One-time charges' });
    await table.getByRole('row', { name: /Set-up fee.*\$499\.99.*Card declined/ }).waitFor();

    customer().invoice_settings.default_payment_method = 'pm_card_visa';
    await table.getByRole('button', { name: 'Retry' }).click();
    await chargesCard().getByText('Charged $499.99: paid.').waitFor();
    await table.getByRole('row', { name: /Set-up fee.*Paid/ }).waitFor();
    expect([...world.stripe.state.invoices.values()].map((i) => i.status)).toEqual(['paid']);
  });

  it('when "Send invoice" is chosen, then Stripe emails an invoice due in the chosen days and the list links it; at 800 px nothing sticks out', async () => {
    const form = chargesCard().getByRole('form', { name: 'New one-time charge' });
    await form.getByLabel('Product').selectOption({ label: 'Set-up fee — $499.99' });
    await form.getByLabel('Send invoice (needs the client’s email)').check();
    await form.getByLabel('Due in (days)').fill('14');
    await form.getByRole('button', { name: 'Send invoice' }).click();
    await chargesCard().getByText('Invoice sent by Stripe.').waitFor();
    const due = new Date(Date.now() + 14 * 86_400_000).toISOString().slice(0, 10);
    const row = chargesCard().getByRole('table', { name: 'One-time charges' }).getByRole('row', { name: new RegExp(`invoice, due ${due}.*Invoice sent`) });
    await row.waitFor();
    expect(await row.getByRole('link', { name: 'Invoice' }).getAttribute('href')).toContain('https://invoice.stripe.com/');
    expect([...world.stripe.state.invoices.values()].at(-1)).toMatchObject({ collection_method: 'send_invoice', days_until_due: 14, status: 'open' });

    await page.setViewportSize({ width: 800, height: 900 });
    const by = await app.locator('html').evaluate((html) => html.scrollWidth - html.clientWidth);
    expect(by).toBe(0);
    await screenshotFrame(page, app, 'sub-account-one-time-charges-800.png');
    await page.setViewportSize({ width: 1280, height: 900 });
    expect(world.pageErrors).toEqual([]);
  });
});
