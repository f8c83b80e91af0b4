import { copyFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import type { FrameLocator, Page } from 'playwright-core';
import { drainReporter } from '../support/billing';
import { screenshotFrame, screenshotPaths } from './support/browser';
import { startBrowserWorld, type BrowserWorld } from './support/browser-world';

/**
 * The Overview as the owner's cockpit (issues 16 item 3, 22 items 1 and 7), in a real browser against the real service
 * and the Stripe double: money this month (billed, HighLevel cost, profit, next invoices) and by month (chart and
 * table) from Stripe's invoices and previews; the needs-attention links land on the sub-accounts list filtered to
 * them; the usage dashboard shows money with a totals row and one stacked chart with metric toggles.
 */
jest.setTimeout(180_000);

const COMPANY = 'companyMoneyCockpit01';
const NAMES = ['Harbor Dental', 'Cedar Spa', 'Bay Physio'];
let HARBOR = '';
let CEDAR = '';
let BAY = '';

let world: BrowserWorld;
let page: Page;
let app: FrameLocator;

const now = new Date();
const monthStart = (back: number) => new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - back, 1));
const nav = (name: string) => app.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name, exact: true });
const listRow = (name: string) => app.locator('table.subs tbody tr', { has: app.getByRole('link', { name, exact: true }) });

beforeAll(async () => {
  world = await startBrowserWorld({ company: COMPANY, locations: NAMES, env: { REPORTER_RETRY_BASE_SECONDS: '0' } });
  const { t, stripe, api } = world;
  [HARBOR, CEDAR, BAY] = world.locationIds as [string, string, string];
  // Retail 2¢ an SMS and 3¢ a call minute; HighLevel's cost 0.79¢ and 1.4¢ (the grid's base costs).
  await api.put('/api/pricing/sms', { threshold: 1, price: { currency: 'usd', unitAmountDecimal: '2' }, baseCostDecimal: '0.79' });
  await api.put('/api/pricing/call_minutes', { threshold: 1, price: { currency: 'usd', unitAmountDecimal: '3' }, baseCostDecimal: '1.4' });
  await api.put('/api/defaults', { flatFeeAmount: 4900 });
  for (const id of [HARBOR, CEDAR, BAY]) await api.put(`/api/sub-accounts/${id}/billing`, { rebillingEnabled: true });
  const customers: Record<string, string> = {};
  for (const id of [HARBOR, CEDAR]) customers[id] = (await api.put(`/api/sub-accounts/${id}/customer`, { create: true })).body.stripeCustomerId;
  await api.put(`/api/sub-accounts/${HARBOR}/billing`, { subscription: {} }); // Cedar: a customer, no subscription; Bay: neither

  const key = (await t.service.apiKeys.create(COMPANY, 'cockpit')).key;
  let n = 0;
  const use = (locationId: string, metric: string, quantity: number, at: Date) =>
    t.http.post('/api/v1/usage').set('authorization', `Bearer ${key}`)
      .send({ events: [{ locationId, metric, quantity, occurredAt: at.toISOString(), idempotencyKey: `cockpit-${n++}` }] }).expect(200);
  // Five past months: Harbor's renewal invoices (what it was billed), and usage HighLevel charged for. The usage is
  // Bay's, recorded now: Bay has no customer, so it is counted (and costs) but never billed — Harbor's late usage
  // would be metered into its current period, as Stripe would.
  const past = [[1400, 380, 8860], [1250, 300, 8300], [1600, 420, 9360], [1100, 260, 7880], [900, 240, 7420]] as const;
  for (const [back, [sms, minutes, billed]] of past.map((p, i) => [i + 1, p] as const)) {
    const start = monthStart(back);
    await use(BAY, 'sms', sms, new Date(start.getTime() + 10 * 86_400_000));
    await use(BAY, 'call_minutes', minutes, new Date(start.getTime() + 12 * 86_400_000));
    const s = Math.floor(start.getTime() / 1000);
    stripe.seedInvoice({ customer: customers[HARBOR]!, status: 'paid', period_start: s, period_end: s + 28 * 86_400, created: s + 3600, total: billed, total_excluding_tax: billed, amount_paid: billed, amount_due: billed });
  }
  // This month so far: Harbor and Cedar used SMS and calls — now, after Harbor's subscription started (Stripe invoices
  // a period's meter events from its start).
  const today = new Date();
  await use(HARBOR, 'sms', 700, today);
  await use(HARBOR, 'call_minutes', 150, today);
  await use(CEDAR, 'sms', 120, today);
  await drainReporter(t.service);

  ({ page, app } = await world.openAgencyPage());
});

afterAll(async () => {
  await world?.close();
  expect(world?.pageErrors ?? []).toEqual([]);
});

describe('the Overview as the owner’s cockpit', () => {
  it('when the agency opens the Overview, then it sees this month’s billed, HighLevel cost, profit and next invoices, with the trend against last month', async () => {
    const tiles = app.getByTestId('money-this-month');
    // Billed this month: Harbor's upcoming invoice (Stripe's preview: 700 SMS × 2¢ + 150 min × 3¢ + next month's 49.00 fee).
    await tiles.getByTestId('tile-billed').getByText('$67.50').waitFor();
    // Cost: 700 × 0.79 = 553 and 150 × 1.4 = 210 (Harbor), 120 × 0.79 = 94.8 → 95 (Cedar): 858 cents.
    await tiles.getByTestId('tile-cost').getByText('$8.58').waitFor();
    await tiles.getByTestId('tile-margin').getByText('$58.92').waitFor();
    await tiles.getByTestId('tile-next').getByText('$67.50').waitFor();
    expect(await tiles.getByTestId('tile-next').innerText()).toMatch(/across 1 client/);
    // Stripe's preview as stored on the server (read just now, on this first visit: one client only).
    expect(await tiles.getByTestId('next-freshness').innerText()).toMatch(/^as of [A-Z][a-z]{2} \d{1,2}, \d{4}, \d{2}:\d{2} UTC$/);
    // Last month Harbor was billed 88.60: this month is 21.10 less.
    expect(await tiles.getByTestId('trend-billed').innerText()).toMatch(/▼ −\$21\.10 \(−24 %\) vs /);
  });

  it('when the agency reads money by month, then the chart draws billed, cost and margin and the table has every month’s figures', async () => {
    const card = app.getByTestId('money-by-month');
    await card.locator('.recharts-bar-rectangle').first().waitFor();
    expect(await card.locator('.recharts-line-curve').count()).toBe(1);
    const last = card.locator(`table.money-months tr[data-month="${monthStart(1).toISOString().slice(0, 7)}"]`);
    // 1400 × 0.79 = 1106 and 380 × 1.4 = 532: cost 16.38; billed 88.60; margin 72.22.
    expect((await last.locator('td').allInnerTexts()).map((c) => c.trim())).toEqual(['$88.60', '$0.00', '$88.60', '$16.38', '$72.22']);
    expect(await card.locator('table.money-months tbody tr').count()).toBe(6);
    await app.getByTestId('setup-done').getByText('5 of 5 done').waitFor();
    expect(await app.locator('.setup-done .checklist').isVisible()).toBe(false);
    await screenshotFrame(page, app, 'overview-1280.png');
    await page.setViewportSize({ width: 800, height: 900 });
    await card.locator('.recharts-bar-rectangle').first().waitFor();
    await screenshotFrame(page, app, 'overview-800.png');
    await page.setViewportSize({ width: 1280, height: 900 });
    publish('overview-1280.png', 'overview-800.png');
  });

  it('when the owner reads money by client, then each sub-account has its month’s billed, cost and margin, and another month can be picked', async () => {
    const card = app.getByTestId('money-by-client');
    const row = (id: string) => card.locator(`tr[data-location="${id}"] td`);
    await card.locator(`tr[data-location="${HARBOR}"]`).waitFor();
    expect((await row(HARBOR).allInnerTexts()).map((c) => c.trim())).toEqual(['$67.50', '$7.63', '$59.87']);
    expect((await row(CEDAR).allInnerTexts()).map((c) => c.trim())).toEqual(['$0.00', '$0.95', '-$0.95']);
    expect(await card.locator(`tr[data-location="${BAY}"]`).count()).toBe(0);
    await card.getByLabel('Month').selectOption(monthStart(1).toISOString().slice(0, 7));
    await card.locator(`tr[data-location="${BAY}"]`).waitFor();
    expect((await row(BAY).allInnerTexts()).map((c) => c.trim())).toEqual(['$0.00', '$16.38', '-$16.38']);
    expect((await row(HARBOR).allInnerTexts()).map((c) => c.trim())).toEqual(['$88.60', '$0.00', '$88.60']);
  });

  it('when the owner downloads the report, then the browser saves the “agency cost vs rebilled” CSV', async () => {
    const [download] = await Promise.all([page.waitForEvent('download'), app.getByRole('button', { name: 'Download CSV (12 months)' }).click()]);
    expect(download.suggestedFilename()).toMatch(/^meterbridge-cost-vs-rebilled-\d{4}-\d{2}\.csv$/);
    await app.getByText(`Downloaded ${download.suggestedFilename()}.`).waitFor();
  });

  it('when a needs-attention item is clicked, then the sub-accounts list shows exactly the sub-accounts it counts', async () => {
    const attention = app.getByTestId('needs-attention');
    // The cards as stored on the server (the few never read were read on this first visit): as of when.
    expect(await attention.getByTestId('cards-freshness').innerText()).toMatch(/^Cards as of [A-Z][a-z]{2} \d{1,2}, \d{4}, \d{2}:\d{2} UTC$/);
    await attention.getByRole('link', { name: /Billed without a card on file/ }).click();
    await app.getByTestId('status-filter').getByText('Billed without a card on file').waitFor();
    await app.getByTestId('status-filter').getByTestId('cards-freshness').getByText(/^Cards as of /).waitFor();
    await listRow('Harbor Dental').waitFor();
    expect(await app.locator('table.subs tbody tr').count()).toBe(1);
    await nav('Overview').click();
    const notBilling = attention.getByRole('link', { name: /Not billing although rebilling is on/ });
    expect((await notBilling.innerText()).trim()).toMatch(/^2\s/);
    await notBilling.click();
    await app.getByTestId('status-filter').getByText('Not billing although rebilling is on').waitFor();
    await app.getByText('1–2 of 2 sub-accounts').waitFor();
    expect(await listRow('Harbor Dental').count()).toBe(0);
    await nav('Overview').click();
    expect(await attention.locator('li[data-kind="payment_failed"] a').count()).toBe(0);
  });
});

describe('usage in money', () => {
  it('when the usage dashboard shows the current billing period, then it has amounts per metric, a money-only totals row and one stacked chart with metric toggles', async () => {
    await nav('Usage').click();
    await app.getByRole('button', { name: 'Current billing period' }).click();
    const amounts = app.locator('table.amounts');
    // Units billed this month: SMS 820 (2¢) = 16.40, call minutes 150 (3¢) = 4.50. Cost 5.53 + 0.95 = 6.48 and 2.10.
    await amounts.locator('tr[data-metric="sms"]').getByText('$16.40').waitFor();
    expect((await amounts.locator('tr[data-metric="sms"] td').allInnerTexts()).map((c) => c.trim())).toEqual(['820', '$16.40', '$6.48', '$9.92']);
    expect((await amounts.locator('tr[data-metric="call_minutes"] td').allInnerTexts()).map((c) => c.trim())).toEqual(['150', '$4.50', '$2.10', '$2.40']);
    // Money adds up across metrics; units do not.
    expect((await app.getByTestId('amounts-total').locator('td').allInnerTexts()).map((c) => c.trim())).toEqual(['—', '$20.90', '$8.58', '$12.32']);
    const chart = app.getByTestId('usage-stacked-chart');
    await chart.locator('.recharts-bar-rectangle').first().waitFor();
    expect(await chart.getAttribute('data-mode')).toBe('amounts');
    expect(await app.locator('figure[data-metric]').count()).toBe(0);
    const bars = async () => chart.locator('.recharts-bar').count();
    expect(await bars()).toBe(2);
    await screenshotFrame(page, app, 'usage-in-money.png');
    publish('usage-in-money.png');
    await chart.getByRole('checkbox', { name: 'Call minutes' }).uncheck();
    expect(await bars()).toBe(1);
    await chart.getByRole('radio', { name: 'Units' }).check();
    expect(await chart.getAttribute('data-mode')).toBe('units');
    expect(await bars()).toBe(1);
  });
});

/** The README's pictures: the tests' screenshots copied into docs/screenshots/ when UPDATE_SCREENSHOTS=1. */
function publish(...names: string[]) {
  if (process.env.UPDATE_SCREENSHOTS !== '1') return;
  const dir = path.join(__dirname, '..', '..', 'docs', 'screenshots');
  mkdirSync(dir, { recursive: true });
  for (const name of names) copyFileSync(screenshotPaths(name)[0]!, path.join(dir, name));
}
