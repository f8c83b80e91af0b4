import type { BrowserContext, FrameLocator, Page } from 'playwright-core';
import { drainReporter, markSubscribed } from '../support/billing';
import { fixture } from '../support/highlevel-fixtures';
import { exportedSms, giveLocationToken, serveExport } from '../support/highlevel-export';
import { screenshotFrame, openFold } from './support/browser';
import { startBrowserWorld, type BrowserWorld } from './support/browser-world';

/**
 * The three screens added for the usage API, shadow mode and backfill, in a real browser framed by a host page
 * that plays HighLevel, against the real service with Stripe faked by the stub and HighLevel's API by nock:
 * create an API key (shown once) → use it → revoke it; define a custom metric; switch a sub-account to shadow,
 * cross thresholds by webhook, see what it would bill, bill it (409 without a customer first); backfill a
 * sub-account's history from a faked export and bill what it imported. A sub-account user sees none of it.
 */
jest.setTimeout(180_000);

const COMPANY = 'companyBrowserExtra01';
const CUSTOMER = 'cus_BrowserShadow01';
const HISTORY_CUSTOMER = 'cus_BrowserHistory01';
const LOCATION_TOKEN = 'at-location-browser-backfill';

let world: BrowserWorld;
let context: BrowserContext;
let page: Page;
let app: FrameLocator;
let L1 = '';
let L2 = '';
let L3 = '';

const day = 86_400_000;
const isoDay = (ms: number) => new Date(ms).toISOString().slice(0, 10);
const todayMs = Math.floor(Date.now() / day) * day;
const FROM = isoDay(todayMs - 10 * day);
const TO = isoDay(todayMs - 3 * day);
const monthStart = () => Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth(), 1);
const justNow = () => new Date(Math.max(Date.now() - 60_000, monthStart())).toISOString();

const nav = (name: string) => app.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name, exact: true });
const cells = async (row: ReturnType<FrameLocator['locator']>) => (await row.locator('td').allTextContents()).map((s) => s.trim());
const postUsage = (key: string, idempotencyKey: string) =>
  world.t.http
    .post('/api/v1/usage')
    .set('authorization', `Bearer ${key}`)
    .send({ locationId: L3, metric: 'vapi_minutes', quantity: '3.5', occurredAt: new Date(Date.now() - 1000).toISOString(), idempotencyKey });

/** Waits for the frame's spinners to go, then lists controls without an accessible name. */
async function unnamedControls(frame: FrameLocator): Promise<string[]> {
  await frame.locator('[role="status"] .spinner').first().waitFor({ state: 'detached' });
  return frame.locator('body').evaluate((body) =>
    [...body.ownerDocument.querySelectorAll('input, select, textarea, button, a[href]')]
      .filter((el) => {
        const labelled = el.labels?.length || el.getAttribute('aria-label') || el.getAttribute('aria-labelledby');
        return !labelled && !(el.textContent ?? '').trim();
      })
      .map((el) => el.outerHTML.slice(0, 120)),
  );
}

/** What sticks out past the frame's right edge (tables scroll inside their wrapper instead). */
async function overflow(frame: FrameLocator) {
  return frame.locator('html').evaluate((html) => ({
    by: html.scrollWidth - html.clientWidth,
    culprits: [...html.ownerDocument.querySelectorAll('body *')]
      .filter((el) => el.getBoundingClientRect().right > html.clientWidth + 1 && !el.closest('.table-wrap') && !el.closest('.code-block'))
      .slice(0, 5)
      .map((el) => `${el.tagName.toLowerCase()}.${el.className}`),
  }));
}

async function openSubAccount(name: string): Promise<void> {
  await nav('Sub-accounts').click();
  await app.getByRole('link', { name }).click();
  await app.getByRole('heading', { name: new RegExp(name) }).waitFor();
  // Rare tools are folded on the sub-account page: open the ones this file uses.
  for (const fold of ['Shadow mode and per-metric rules', 'Backfill from HighLevel', 'Usage over time']) await openFold(app, fold);
}

beforeAll(async () => {
  world = await startBrowserWorld({
    company: COMPANY,
    locations: ['Shadow Dental', 'History Physio', 'Vendor Clinic'],
    env: { REPORTER_RETRY_BASE_SECONDS: '0' },
    users: { agency: { userName: 'Ana Agency' }, physio: { userName: 'Pat Physio', role: 'user', location: 1 } },
  });
  world.stripe.customers.add(CUSTOMER);
  world.stripe.customers.add(HISTORY_CUSTOMER);
  [L1, L2, L3] = world.locationIds as [string, string, string];
  await giveLocationToken(world.t.service, COMPANY, L2, LOCATION_TOKEN);
  // SMS at 2 cents each, the agency default; both sub-accounts rebill.
  await world.api.put('/api/pricing/sms', { enabled: true, threshold: '1', direction: 'both', price: { currency: 'usd', interval: 'month', unitAmountDecimal: '2' }, baseCostDecimal: null });
  for (const id of [L1, L2]) await world.api.put(`/api/sub-accounts/${id}/billing`, { rebillingEnabled: true });
  await world.t.service.accounts.mapCustomer(L2, HISTORY_CUSTOMER); // (after: with a customer, the billing call also syncs a subscription)
  await markSubscribed(world.t.database.db, L2); // its priced usage is sent, not held (held-usage.ts)
  ({ context, page, app } = await world.openAgencyPage());
});

afterAll(() => world?.close());

describe('Usage API screen', () => {
  let key = '';

  it('when the agency defines a custom metric, then it is listed active', async () => {
    await nav('Usage API').click();
    await app.getByRole('heading', { name: 'Usage API', level: 1 }).waitFor();
    await app.getByText('No custom metric yet.').waitFor();
    await app.getByLabel('Key', { exact: true }).fill('Vapi minutes');
    expect(await app.getByRole('button', { name: 'Define metric' }).isDisabled()).toBe(true); // not snake case
    await app.getByLabel('Key', { exact: true }).fill('vapi_minutes');
    await app.getByLabel('Label', { exact: true }).fill('Vapi minutes');
    await app.getByLabel('Unit', { exact: true }).fill('minute');
    await app.getByRole('button', { name: 'Define metric' }).click();
    await app.getByText('Metric vapi_minutes defined.').waitFor();
    // The notice shows at once; the list reloads after it.
    const metricRow = app.locator('table.custom-metrics tr[data-metric="vapi_minutes"]');
    await metricRow.waitFor();
    expect(await cells(metricRow)).toEqual(['Vapi minutes', 'minute', 'Active', 'Archive']);

    // A built-in name is refused by the server, with its message.
    await app.getByLabel('Key', { exact: true }).fill('sms');
    await app.getByLabel('Label', { exact: true }).fill('Texts');
    await app.getByLabel('Unit', { exact: true }).fill('message');
    await app.getByRole('button', { name: 'Define metric' }).click();
    await app.locator('#custom-metrics-title ~ form [role="alert"]').waitFor();
  });

  it('when the agency creates an API key, then it is shown once with a copy button, listed by prefix, and it opens the usage API', async () => {
    await app.getByLabel('New key’s name').fill('Voice vendor');
    await app.getByRole('button', { name: 'Create API key' }).click();
    const shown = app.getByLabel('Your new API key');
    await shown.waitFor();
    key = await shown.inputValue();
    expect(key).toMatch(/^mbk_[A-Za-z0-9_-]{43}$/);
    await app.getByText('you will not see this key again').waitFor();
    await app.getByRole('button', { name: 'Copy key' }).waitFor();
    const row = app.locator(`table.api-keys tr[data-prefix="${key.slice(0, 12)}"]`);
    await row.waitFor();
    expect(await row.innerText()).toMatch(/Voice vendor[\s\S]*mbk_[\w-]+…[\s\S]*Never[\s\S]*Active/);
    expect(await app.locator('table.api-keys').innerText()).not.toContain(key);

    // The curl example names this app's origin and the usage route.
    expect(await app.getByLabel('Example request with curl').innerText()).toContain(`curl -X POST "${world.appUrl}/api/v1/usage"`);
    await screenshotFrame(page, app, 'usage-api.png');

    expect((await postUsage(key, 'browser-vapi-1').expect(200)).body.totals).toMatchObject({ accepted: 1 });
    await app.getByRole('button', { name: 'I have stored it' }).click();
    await nav('Overview').click();
    await nav('Usage API').click();
    await row.waitFor();
    expect(await cells(row)).not.toContain('Never'); // last used now
    expect(await app.locator('body').innerText()).not.toContain(key);
  });

  it('when the key is revoked after confirming, then it is listed revoked and refused', async () => {
    const row = app.locator(`table.api-keys tr[data-prefix="${key.slice(0, 12)}"]`);
    await row.getByRole('button', { name: /^Revoke Voice vendor/ }).click();
    await row.getByRole('button', { name: 'Keep it' }).click(); // changed their mind
    await row.getByRole('button', { name: /^Revoke Voice vendor/ }).click();
    await row.getByRole('button', { name: 'Yes, revoke' }).click();
    await app.getByText(/Key “Voice vendor” \(mbk_[\w-]+…\) revoked/).waitFor();
    await row.filter({ hasText: 'Revoked' }).waitFor();
    expect(await row.getByRole('button').count()).toBe(0);
    expect((await postUsage(key, 'browser-vapi-2').expect(401)).body.error.code).toBe('api_key_revoked');
  });

  it('when the Usage API screen is 800 px wide and used by keyboard, then nothing scrolls sideways and every control has a name', async () => {
    expect(await unnamedControls(app)).toEqual([]);
    await page.setViewportSize({ width: 800, height: 900 });
    expect(await overflow(app)).toEqual({ by: 0, culprits: [] });
    await screenshotFrame(page, app, 'usage-api-800.png');
    await page.setViewportSize({ width: 1280, height: 900 });
  });
});

describe('Shadow mode on the sub-account page', () => {
  it('when the agency switches a sub-account to shadow and webhooks cross thresholds, then it shows what would be billed and nothing reaches Stripe', async () => {
    await openSubAccount('Shadow Dental');
    expect((await app.getByTestId('billing-mode').innerText()).trim()).toBe('Live');
    await app.getByText('No shadow backlog').waitFor();
    // A controlled switch: it flips when the server has answered (so `check()`, which expects it at once, is not used).
    await app.getByRole('switch', { name: /Shadow mode/ }).click();
    await app.getByText('Shadow mode on: usage is counted, nothing is sent to Stripe.').waitFor();
    expect((await app.getByTestId('billing-mode').innerText()).trim()).toBe('Shadow');

    for (let i = 0; i < 3; i++) {
      const at = justNow();
      await world.t.postSigned({ ...fixture('sms-outbound'), locationId: L1, webhookId: `extra-sms-${i}`, messageId: `extra-m-${i}`, dateAdded: at, timestamp: at }).expect(200);
    }
    await drainReporter(world.t.service);
    expect(world.stripe.events).toEqual([]);

    await openSubAccount('Shadow Dental');
    const sms = app.locator('table.would-bill tr[data-metric="sms"]');
    await sms.waitFor();
    const [units, amount, , months] = await cells(sms);
    expect([units, amount]).toEqual(['3', '$0.06']);
    expect(months).toMatch(/: 3 · \$0\.06$/);
    expect((await app.getByTestId('would-bill-total').innerText()).trim()).toBe('$0.06');
  });

  it('when there is no Stripe customer, then "Bill this backlog" is disabled and says why; with one, then it is sent once', async () => {
    const bill = app.getByRole('button', { name: 'Bill this backlog' });
    await bill.waitFor();
    expect(await bill.isDisabled()).toBe(true);
    await app.getByText('Choose or create a Stripe customer in the Billing card first: there is no one to bill yet.').waitFor();
    expect(await app.locator('body').innerText()).not.toContain('/api/');
    await screenshotFrame(page, app, 'sub-account-shadow.png');

    await world.t.service.accounts.mapCustomer(L1, CUSTOMER);
    await markSubscribed(world.t.database.db, L1); // its priced usage is sent, not held (held-usage.ts)
    await openSubAccount('Shadow Dental');
    await app.getByRole('button', { name: 'Bill this backlog' }).click();
    await app.getByRole('group', { name: 'Confirm billing the backlog' }).getByText('Send $0.06 (3 units of SMS messages) to Stripe for the client’s Stripe customer?').waitFor();
    await screenshotFrame(page, app, 'sub-account-shadow-confirm.png');
    await app.getByRole('button', { name: 'Yes, bill it' }).click();
    await app.getByText('3 reports queued for Stripe, to bill the client’s Stripe customer.').waitFor();
    await app.getByText('No shadow backlog').waitFor();
    await drainReporter(world.t.service);
    expect(world.stripe.events.filter((e) => e.customer === CUSTOMER).reduce((n, e) => n + Number(e.value), 0)).toBe(3);

    await app.getByRole('switch', { name: /Shadow mode/ }).click();
    await app.getByText('Live billing on: new crossings are sent to Stripe.').waitFor();
  });
});

describe('Backfill on the sub-account page', () => {
  const at = (hours: number) => ({ locationId: '', dateAdded: new Date(Date.parse(`${FROM}T00:00:00Z`) + hours * 3_600_000).toISOString() });
  const message = (i: number) => exportedSms(`bfBrowser${i}`, { ...at(i + 1), locationId: L2 }, `Hello ${i}`);

  it('when the agency starts an SMS backfill, then its progress is polled until completed, and its imported usage can be billed', async () => {
    const scopes = serveExport({
      locationId: L2,
      channel: 'SMS',
      startAt: `${FROM}T00:00:00.000Z`,
      endAt: new Date(Date.parse(`${TO}T00:00:00Z`) + day).toISOString(),
      token: LOCATION_TOKEN,
      pages: [[message(0), message(1), message(2)], [message(3), message(4)]],
    });
    await openSubAccount('History Physio');
    await app.getByText('No backfill yet.').waitFor();
    const form = app.getByRole('form', { name: 'Start a backfill' });
    await form.getByLabel('From', { exact: true }).fill(FROM);
    await form.getByLabel('To (inclusive)').fill(TO);
    const channels = app.getByRole('group', { name: 'Channels' });
    for (const name of ['Calls', 'Email', 'WhatsApp']) await channels.getByLabel(name, { exact: true }).uncheck();
    await app.getByRole('button', { name: 'Start backfill' }).click();
    const row = app.locator('table.backfills tbody tr').first();
    await row.getByTestId('backfill-status').filter({ hasText: 'Queued' }).waitFor();
    await app.getByText(/Backfill \d+ queued/).waitFor();
    expect(await app.getByRole('button', { name: 'Start backfill' }).isDisabled()).toBe(true); // one at a time
    expect(await row.getByRole('button', { name: /^Cancel backfill/ }).count()).toBe(1);

    await world.t.service.scheduler.runNow('backfill');
    await row.getByTestId('backfill-status').filter({ hasText: 'Completed' }).waitFor(); // the page polls
    expect((await row.getByTestId('backfill-progress').innerText()).replace(/\s+/g, ' ')).toBe('2 pages · 5 seen · 5 imported · 0 already known · 0 skipped');
    expect(await row.innerText()).toMatch(/SMS[\s\S]*Held/);
    for (const scope of scopes) scope.done();
    await screenshotFrame(page, app, 'sub-account-backfill.png');

    await row.getByRole('button', { name: /^Bill imported usage of backfill/ }).click();
    await app.getByText(/Imported usage of backfill \d+ billed: \d+ records? offered; units due: 5 SMS messages/).waitFor();
    await row.getByText(/^Billed /).waitFor();
    expect(await row.getByRole('button').count()).toBe(0);
    // The page's Usage card reads its numbers again: the billed SMS show without a reload.
    await app.locator('table.totals tr[data-metric="sms"] td').first().filter({ hasText: /^5$/ }).waitFor();
    // And the rules table's counter: no "Counted so far 0" left (issue 22 item 5).
    const smsRule = app.getByRole('table', { name: 'Rules in force for this sub-account' }).locator('tr', { has: app.locator('th', { hasText: /^SMS messages$/ }) });
    await smsRule.locator('td').nth(4).filter({ hasText: /^5$/ }).waitFor();
    await drainReporter(world.t.service);
    expect(world.stripe.events.filter((e) => e.customer === HISTORY_CUSTOMER).reduce((n, e) => n + Number(e.value), 0)).toBe(5);
    await screenshotFrame(page, app, 'sub-account-backfill-billed.png');
  });

  it('when the sub-account page is 800 px wide, then nothing scrolls sideways and every control has a name', async () => {
    expect(await unnamedControls(app)).toEqual([]);
    await page.setViewportSize({ width: 800, height: 900 });
    expect(await overflow(app)).toEqual({ by: 0, culprits: [] });
    await screenshotFrame(page, app, 'sub-account-extra-800.png');
    await page.setViewportSize({ width: 1280, height: 900 });
  });
});

describe('a sub-account user', () => {
  it('when they open the page, then they see none of the Usage API, shadow-mode or backfill controls', async () => {
    const own = await context.newPage();
    own.on('pageerror', (err) => world.pageErrors.push(err.message));
    await own.goto(world.parent.url('physio', `/app/sub-accounts/${L2}`));
    const frame = own.frameLocator('#app');
    await frame.getByTestId('sub-account-name').filter({ hasText: 'History Physio' }).waitFor();
    await frame.getByRole('heading', { name: /^This month/ }).waitFor();
    await frame.locator('[role="status"] .spinner').first().waitFor({ state: 'detached' });
    const text = await frame.locator('body').innerText();
    for (const agencyOnly of ['Usage API', 'API key', 'Billing mode', 'Shadow', 'Would bill', 'Backfill']) expect(text).not.toContain(agencyOnly);
    const buttons = await frame.getByRole('button').allInnerTexts();
    // The range buttons, and (for a sub-account admin) Stripe's card and portal pages (server/payments/).
    expect(buttons.filter((b) => !/^(Last 7 days|Last 30 days|This month|Last 12 months|All time|Add a card|Change card|Cards, invoices and receipts|More invoices)$/.test(b.trim()))).toEqual([]);
    await own.goto(world.parent.url('physio', '/app/usage-api'));
    await frame.getByTestId('sub-account-name').filter({ hasText: 'History Physio' }).waitFor();
    expect(await frame.locator('body').innerText()).not.toContain('API key');
    await own.close();
  });

  it('when the walk is over, then no script error happened', () => {
    expect(world.pageErrors).toEqual([]);
  });
});
