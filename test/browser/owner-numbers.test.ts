import type { FrameLocator, Page } from 'playwright-core';
import { fixture } from '../support/highlevel-fixtures';
import { TEST_STRIPE_KEY } from '../support/billing';
import { screenshotFrame } from './support/browser';
import { startBrowserWorld, type BrowserWorld } from './support/browser-world';

/**
 * Issue 22, "no number that misleads", walked as an agency owner in a real browser against the real service and the
 * Stripe double: three sub-accounts with rebilling on — one billed (customer and subscription), one with no Stripe
 * customer, one with a customer but no subscription (its units are held) — and usage of two metrics on the first.
 * Units of different metrics are never added up; a sub-account that is not billed says so and why; the Overview and
 * the list count the same "On"; the key's last four stay on one line at 800 px; the focus ring has 3:1 contrast.
 */
jest.setTimeout(120_000);

let world: BrowserWorld;
let page: Page;
let app: FrameLocator;

interface PricingBody {
  rows: Array<{ metric: string; enabled: boolean; threshold: string; baseCostDecimal: string | null; priceTerms: { unitAmountDecimal?: string; tiers?: unknown[] } | null }>;
}
const getPricing = async () => (await world.api.get('/api/pricing')).body as PricingBody;

const monthStart = () => Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth(), 1);
const justNow = () => new Date(Math.max(Date.now() - 60_000, monthStart())).toISOString();
const nav = (name: string) => app.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name, exact: true });
const listRow = (name: string) => app.locator('table.subs tbody tr', { has: app.getByRole('link', { name, exact: true }) });

beforeAll(async () => {
  world = await startBrowserWorld({ company: 'companyOwnerNumbers01', locations: ['Billed Clinic', 'Unmapped Clinic', 'Held Clinic'], env: { REPORTER_ENABLED: 'false' } });
  const { t, api } = world;
  const [BILLED, UNMAPPED, HELD] = world.locationIds as [string, string, string];
  await api.put('/api/pricing/sms', { threshold: 1, price: { currency: 'usd', unitAmountDecimal: '2' } });
  await api.put('/api/pricing/call_minutes', { threshold: 1, price: { currency: 'usd', unitAmountDecimal: '3' } });
  for (const id of [BILLED, UNMAPPED, HELD]) await api.put(`/api/sub-accounts/${id}/billing`, { rebillingEnabled: true });
  await api.put(`/api/sub-accounts/${BILLED}/customer`, { create: true });
  await api.put(`/api/sub-accounts/${BILLED}/billing`, { subscription: {} });
  await api.put(`/api/sub-accounts/${HELD}/customer`, { create: true });
  await api.post('/api/custom-metrics', { key: 'seo_reports', label: 'SEO reports', unit: 'report' }, 201);
  // A graduated price, set through the API: the grid must keep its tiers.
  await api.put('/api/pricing/whatsapp', { threshold: 1, price: { currency: 'usd', tiers: [{ upTo: 100, unitAmountDecimal: '2' }, { upTo: 'inf', unitAmountDecimal: '1' }] } });
  // Billed Clinic: 2 SMS and a 3-minute call this month (5 units of two metrics that must never read "5 units").
  for (let i = 0; i < 2; i++) {
    const at = justNow();
    await t.postSigned({ ...fixture('sms-outbound'), locationId: BILLED, webhookId: `owner-sms-${i}`, dateAdded: at, timestamp: at }).expect(200);
  }
  const at = justNow();
  await t.postSigned({ ...fixture('call-outbound-completed'), locationId: BILLED, webhookId: 'owner-call-1', dateAdded: at, timestamp: at }).expect(200);
  ({ page, app } = await world.openAgencyPage());
});

afterAll(() => world?.close());

describe('units are never added across metrics', () => {
  it('when a sub-account used two metrics, then the list shows each metric with its own billed units and no total', async () => {
    await nav('Sub-accounts').click();
    const billed = listRow('Billed Clinic');
    await billed.locator('li[data-metric="call_minutes"]').waitFor();
    expect(await billed.locator('li[data-metric="sms"]').innerText()).toBe('2 SMS messages (2 billed units, 0 sent)');
    expect(await billed.locator('li[data-metric="call_minutes"]').innerText()).toBe('3 Call minutes (3 billed units, 0 sent)');
    expect(await billed.innerText()).not.toMatch(/\b5 units?\b/);
  });

  it('when a billed sub-account used priced metrics, then the list shows this period’s amount so far in money; a not-billed one shows none', async () => {
    await nav('Sub-accounts').click();
    // 2 SMS at $0.02 and 3 call minutes at $0.03.
    await listRow('Billed Clinic').getByTestId('period-amount').filter({ hasText: '$0.13 so far' }).waitFor();
    await listRow('Held Clinic').waitFor();
    expect(await listRow('Held Clinic').getByTestId('period-amount').count()).toBe(0);
  });

  it('when the usage drill-down is read, then each metric cell carries its billed units and no "Units billed" total column exists', async () => {
    await nav('Usage').click();
    const drill = app.locator('table.drill');
    await drill.getByRole('link', { name: 'Billed Clinic' }).waitFor();
    expect(await drill.getByRole('columnheader', { name: 'Units billed' }).count()).toBe(0);
    expect(await drill.locator('td[data-metric="call_minutes"]').innerText()).toMatch(/^3\s+3 billed units$/);
    expect(await drill.innerText()).not.toMatch(/\b5\b/);
  });

  it('when the Overview is read, then no headline adds units of different metrics, all time or otherwise', async () => {
    await nav('Overview').click();
    await app.getByRole('region', { name: 'Headline numbers' }).waitFor();
    const headlines = await app.getByRole('region', { name: 'Headline numbers' }).innerText();
    expect(headlines).not.toMatch(/units/i);
    expect(await app.locator('.checklist').innerText()).not.toMatch(/\d+ units sent/);
  });
});

describe('one status: billing, or not billing and why', () => {
  it('when a sub-account has no Stripe customer, or no subscription, then the list says "Not billing" with the reason, never "OK"', async () => {
    await nav('Sub-accounts').click();
    await listRow('Unmapped Clinic').getByText('Not billing: no Stripe customer', { exact: true }).waitFor();
    await listRow('Held Clinic').getByText('Not billing: no subscription', { exact: true }).waitFor();
    await listRow('Billed Clinic').getByText('Billing', { exact: true }).waitFor();
    expect(await app.locator('table.subs').getByText('OK', { exact: true }).count()).toBe(0);
    expect(await listRow('Unmapped Clinic').getByText('On', { exact: true }).count()).toBe(0);
    await screenshotFrame(page, app, 'owner-sub-accounts-status.png');
  });

  it('when the Overview counts sub-accounts billing, then it counts the same as the list shows "Billing"', async () => {
    await nav('Sub-accounts').click();
    await listRow('Held Clinic').waitFor();
    const billingInList = await app.locator('table.subs tbody').getByText('Billing', { exact: true }).count();
    await nav('Overview').click();
    const stat = app.getByRole('region', { name: 'Headline numbers' }).locator('.stat', { has: app.getByText('Billing', { exact: true }) });
    await stat.waitFor();
    expect(Number(await stat.locator('.stat-value').innerText())).toBe(billingInList);
    expect(billingInList).toBe(1);
  });

  it('when an Overview number is clicked, then the list shows only the sub-accounts it counts', async () => {
    await nav('Overview').click();
    const headlines = app.getByRole('region', { name: 'Headline numbers' });
    expect(await headlines.getByRole('link', { name: /with failed reports/ }).getAttribute('href')).toBe('/app/sub-accounts?status=failed');
    expect(await headlines.getByRole('link', { name: /Need reinstall/ }).getAttribute('href')).toBe('/app/sub-accounts?status=needs_reinstall');
    await headlines.getByRole('link', { name: /^\S+ Billing$/ }).click();
    await app.getByTestId('status-filter').getByText('Billing', { exact: true }).waitFor();
    await app.getByText('1–1 of 1 sub-accounts').waitFor();
    expect(await app.locator('table.subs').getByRole('link', { name: 'Unmapped Clinic' }).count()).toBe(0);
    expect(await app.locator('table.subs').getByRole('link', { name: 'Held Clinic' }).count()).toBe(0);
    await app.getByRole('link', { name: 'Show all sub-accounts' }).click();
    await app.getByText('1–3 of 3 sub-accounts').waitFor();
  });

  it('when a sub-account page is opened without a customer, then its header says it is not billed and why', async () => {
    await nav('Sub-accounts').click();
    await app.getByRole('link', { name: 'Unmapped Clinic' }).click();
    await app.getByRole('heading', { name: /Unmapped Clinic/ }).getByText('Not billing: no Stripe customer').waitFor();
  });
});

describe('pricing that cannot mislead', () => {
  const row = (metric: string) => app.locator(`table.pricing tr[data-metric="${metric}"]`);

  it('when the agency defined a custom metric, then the grid names it by its label, not its key', async () => {
    await nav('Pricing').click();
    const custom = app.locator('table.pricing tr[data-metric="seo_reports"] th');
    await custom.waitFor();
    expect(await custom.innerText()).toMatch(/^SEO reports/);
    await app.getByLabel('SEO reports: every N = 1 unit').waitFor();
  });

  it('when a metric has no price, then it is off and marked "Not priced", and its empty price field does not read as a price', async () => {
    await nav('Pricing').click();
    await row('mms').waitFor();
    expect(await app.getByLabel('MMS messages: billed').isChecked()).toBe(false);
    await row('mms').getByText('Not priced', { exact: true }).waitFor();
    expect(await app.getByLabel('MMS messages: retail price per unit').getAttribute('placeholder')).not.toMatch(/\d/);
    expect(await app.getByLabel('SMS messages: billed').isChecked()).toBe(true);
  });

  it('when the price is per 10 emails and the base cost per email, then the grid shows the price per email and compares like with like', async () => {
    await app.getByLabel('Emails: every N = 1 unit').fill('10');
    await app.getByLabel('Emails: retail price per unit').fill('0.05');
    await app.getByLabel('Emails: base cost per email').fill('0.002');
    // Typing a first price switched the metric on.
    expect(await app.getByLabel('Emails: billed').isChecked()).toBe(true);
    expect(await app.getByTestId('per-item-email').innerText()).toBe('= $0.005 per email');
    expect((await app.getByTestId('margin-email').innerText()).split('\n')).toEqual(['$0.003', '60%', '2.5× cost']);
  });

  it('when rows are changed, then they are marked unsaved and one Save sends them all', async () => {
    expect(await app.locator('table.pricing').getByRole('button', { name: /^Save/ }).count()).toBe(0);
    await row('email').getByText('Unsaved', { exact: true }).waitFor();
    await app.getByLabel('SMS messages: base cost per SMS message').fill('0.0079');
    await row('sms').getByText('Unsaved', { exact: true }).waitFor();
    expect(await app.getByTestId('unsaved-count').innerText()).toBe('2 unsaved changes');
    await screenshotFrame(page, app, 'owner-pricing-unsaved.png');
    await app.getByRole('button', { name: 'Save 2 changes' }).click();
    await app.getByText(/^Saved: SMS messages, Emails\./).waitFor();
    expect(await app.getByTestId('unsaved-count').innerText()).toBe('All changes saved');
    const saved = new Map((await getPricing()).rows.map((r) => [r.metric, r]));
    expect(saved.get('email')).toMatchObject({ enabled: true, threshold: '10', baseCostDecimal: '0.2', priceTerms: { unitAmountDecimal: '5' } });
    expect(saved.get('sms')?.baseCostDecimal).toBe('0.79');
  });

  it('when a graduated row is saved for another reason, then its tiers are kept; replacing them is an explicit choice', async () => {
    await app.getByTestId('tiers-whatsapp').waitFor();
    expect(await app.getByTestId('tiers-whatsapp').innerText()).toMatch(/up to 100 at \$0\.02, then at \$0\.01/);
    await app.getByLabel('WhatsApp messages: base cost per WhatsApp message').fill('0.005');
    await app.getByRole('button', { name: 'Save 1 change' }).click();
    await app.getByText(/^Saved: WhatsApp messages\./).waitFor();
    const whatsapp = (await getPricing()).rows.find((r) => r.metric === 'whatsapp')!;
    expect(whatsapp.priceTerms?.tiers).toHaveLength(2);
    expect(whatsapp.baseCostDecimal).toBe('0.5');
    await row('whatsapp').getByRole('button', { name: 'Replace the tiers with a flat price' }).click();
    await row('whatsapp').getByText('Saving replaces the graduated tiers with this flat price.').waitFor();
    await page.setViewportSize({ width: 800, height: 900 });
    await screenshotFrame(page, app, 'owner-pricing-800.png');
    await page.setViewportSize({ width: 1280, height: 900 });
    await app.getByRole('button', { name: 'Discard changes' }).click();
    await app.getByTestId('tiers-whatsapp').waitFor();
  });
});

describe('readable at 800 px and with the keyboard', () => {
  it('when the frame is 800 px wide, then the key’s last four characters never break across lines', async () => {
    await page.setViewportSize({ width: 800, height: 900 });
    try {
      await nav('Overview').click();
      const last4 = app.locator('#stripe code', { hasText: TEST_STRIPE_KEY.slice(-4) });
      await last4.waitFor();
      // Where the line breaks depends on the width: try every width around 800 px, a few pixels apart.
      const split: number[] = [];
      for (let width = 700; width <= 900; width += 3) {
        await page.setViewportSize({ width, height: 900 });
        if ((await last4.evaluate((el) => el.getClientRects().length)) > 1) split.push(width);
      }
      expect(split).toEqual([]);
      await page.setViewportSize({ width: 800, height: 900 });
      await screenshotFrame(page, app, 'owner-overview-800.png');
    } finally {
      await page.setViewportSize({ width: 1280, height: 900 });
    }
  });

  it('when a control has keyboard focus, then its focus ring contrasts at least 3:1 with the white card', async () => {
    await nav('Overview').focus();
    await page.keyboard.press('Tab');
    const color = await app.locator(':focus-visible').evaluate((el) => el.ownerDocument.defaultView!.getComputedStyle(el).outlineColor);
    const [r, g, b] = (color.match(/\d+(\.\d+)?/g) ?? []).map(Number) as [number, number, number];
    const lin = (c: number) => (c / 255 <= 0.03928 ? c / 255 / 12.92 : ((c / 255 + 0.055) / 1.055) ** 2.4);
    const luminance = 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b);
    expect((1 + 0.05) / (luminance + 0.05)).toBeGreaterThanOrEqual(3);
  });

  it('when the walk is over, then no script error happened', () => {
    expect(world.pageErrors).toEqual([]);
  });
});
