import { readFileSync } from 'node:fs';
import { sql } from 'drizzle-orm';
import type { BrowserContext, FrameLocator, Page } from 'playwright-core';
import Stripe from 'stripe';
import { selectRows } from '../../models/database';
import { drainReporter } from '../support/billing';
import { fixture } from '../support/highlevel-fixtures';
import { deliverStripeEventsTo } from '../support/stripe-deliveries';
import { screenshotFrame } from './support/browser';
import { startBrowserWorld, type BrowserWorld } from './support/browser-world';

/**
 * The settings page in a real browser, framed by a host page that plays HighLevel (answers REQUEST_USER_DATA with a
 * payload encrypted with the Shared Secret), against the real service on a real database with Stripe faked:
 * connect Stripe → set default prices → map sub-accounts → replay webhooks → see usage and sent units → export CSV
 * → retry a refused meter event; a sub-account user sees only their own sub-account.
 */
jest.setTimeout(180_000);

const SHARED_SECRET = 'browser-walk-shared-secret';
const COMPANY = 'companyBrowserWalk001';
const FULL_KEY = 'sk_test_browserWalkFullKey01';
const LIMITED_KEY = 'rk_test_browserWalkNoMeter01';
const WHITE_LABEL = 'http://crm.agency.example';

let world: BrowserWorld;
let context: BrowserContext;
let page: Page;
let app: FrameLocator;
let L1 = '';
let L2 = '';
const pageErrors: string[] = [];
const cspViolations: string[] = [];

const monthStart = () => Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth(), 1);
/** A moment a minute ago, but never before this month began (the page shows "this month"). */
const justNow = () => new Date(Math.max(Date.now() - 60_000, monthStart())).toISOString();

const watch = (p: Page) => {
  p.on('pageerror', (err) => pageErrors.push(err.message));
  p.on('console', (msg) => {
    if (/Content Security Policy|Refused to/i.test(msg.text())) cspViolations.push(msg.text());
  });
};
const nav = (name: string) => app.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name, exact: true });
const cells = async (row: ReturnType<FrameLocator['locator']>) => (await row.locator('td').allTextContents()).map((s) => s.trim());

beforeAll(async () => {
  world = await startBrowserWorld({
    company: COMPANY,
    sharedSecret: SHARED_SECRET,
    locations: ['Harbor Dental', 'Bay Physio', 'Cove Clinic'],
    env: { REPORTER_RETRY_BASE_SECONDS: '0', FRAME_ANCESTORS: `${WHITE_LABEL}:*` },
    stripeKey: null,
    users: { agency: { userName: 'Ana Agency', email: 'ana@agency.example' }, bay: { userName: 'Ben Bay', role: 'user', location: 1 } },
  });
  world.stripe.keyPermissions.set(LIMITED_KEY, new Set(['customers', 'products', 'prices', 'subscriptions', 'billing_meters', 'invoices', 'webhook_endpoints', 'account']));
  deliverStripeEventsTo(world.stripe, world.t);
  [L1, L2] = world.locationIds as [string, string];
  context = await world.browser.newContext({ viewport: { width: 1280, height: 900 }, acceptDownloads: true });
  page = await context.newPage();
  watch(page);
  app = page.frameLocator('#app');
});

afterAll(() => world?.close());

describe('the settings page inside HighLevel', () => {
  it('when the page is opened outside HighLevel, then it says how to open it', async () => {
    const alone = await context.newPage();
    watch(alone);
    await alone.goto(`${world.appUrl}/app/`);
    await alone.getByRole('heading', { name: 'Open Meterbridge from HighLevel' }).waitFor();
    expect(await alone.locator('main').innerText()).toMatch(/Usage billing/);
    await alone.getByRole('link', { name: 'Open the development host' }).waitFor();
    await alone.close();
  });

  it('when HighLevel frames the page for an agency user, then it signs in and shows the onboarding checklist', async () => {
    const started = Date.now();
    await page.goto(world.parent.url('agency'));
    await app.getByRole('heading', { name: 'Usage billing' }).waitFor();
    await app.getByText('1 of 5 done').waitFor();
    console.log(`agency view signed in and rendered in ${Date.now() - started} ms`);
    expect(world.parent.answered).toBe(1);
    const checklist = await app.locator('.checklist').innerText();
    expect(checklist).toMatch(/Installed in HighLevel/);
    for (const action of ['Connect Stripe', 'Set prices', 'Map sub-accounts', 'See usage']) {
      await app.locator('.checklist').getByRole('link', { name: action }).waitFor();
    }
  });

  it('when a restricted key lacks a permission, then the card names it; when a full key is pasted, then Stripe shows connected in test mode', async () => {
    await app.locator('.checklist').getByRole('link', { name: 'Connect Stripe' }).click();
    const key = app.getByLabel('Stripe secret or restricted key');
    await key.fill(LIMITED_KEY);
    await app.getByRole('button', { name: 'Connect Stripe' }).click();
    await app.getByRole('alert').filter({ hasText: 'rak_billing_meter_event_write' }).waitFor();

    await key.fill(FULL_KEY);
    await app.getByRole('button', { name: 'Connect Stripe' }).click();
    await app.getByText('Test mode').waitFor();
    await app.locator('#stripe code', { hasText: FULL_KEY.slice(-4) }).waitFor();
    await app.getByText('2 of 5 done').waitFor();
    expect(await app.locator('body').innerText()).not.toContain(FULL_KEY);
  });

  it('when default prices are set in the grid, then Stripe gets meters and prices, and the grid shows margins and warnings', async () => {
    await app.locator('.checklist').getByRole('link', { name: 'Set prices' }).click();
    await app.getByRole('heading', { name: 'Price per metric' }).waitFor();
    const price = async (label: string, threshold: string, retail: string, cost: string) => {
      await app.getByLabel(`${label}: every N = 1 unit`).fill(threshold);
      await app.getByLabel(`${label}: retail price per unit`).fill(retail);
      await app.getByLabel(new RegExp(`^${label}: base cost`)).fill(cost);
    };
    await price('SMS messages', '1', '0.02', '0.0079');
    await price('Call minutes', '1', '0.035', '0.014');
    await price('Emails', '10', '0.01', '0.002');
    // One Save for the grid: the three changed rows.
    await app.getByRole('button', { name: 'Save 3 changes' }).click();
    await app.getByText(/^Saved: SMS messages, Emails, Call minutes\./).waitFor();
    const row = (metric: string) => app.locator(`table.pricing tr[data-metric="${metric}"]`);
    expect(await row('sms').innerText()).toMatch(/\$0\.0121\s+60\.5%/);
    expect(await row('email').innerText()).toContain('Below cost');
    expect(await row('whatsapp').innerText()).not.toContain('Below cost');
    expect(await row('voicemail_drops').innerText()).toContain('Voicemail drops');
    expect(world.stripe.state.meters.size).toBe(3);
    expect(world.stripe.state.prices.size).toBe(3);
  });

  it('when the pricing page is read, then it shows which emails are billed with the default marked, and the agency can switch', async () => {
    const section = app.getByRole('region', { name: 'Which emails are billed' });
    const conversations = section.getByRole('radio', { name: /Conversation emails sent through LC Email \(default\)/ });
    await conversations.waitFor();
    expect(await conversations.isChecked()).toBe(true);
    await section.getByRole('radio', { name: /LCEmailStats/ }).check();
    await section.getByRole('button', { name: 'Save email billing' }).click();
    await section.getByText('Email billing saved.').waitFor();
    await section.getByRole('radio', { name: /Conversation emails/ }).check();
    await section.getByRole('button', { name: 'Save email billing' }).click();
    await section.getByText('Email billing saved.').waitFor();
  });

  it('when sub-accounts are mapped (one new customer, one found in Stripe) and subscribed, then their pages show customer and subscription', async () => {
    const client = new Stripe(FULL_KEY, { host: '127.0.0.1', port: Number(new URL(world.stripe.url).port), protocol: 'http' });
    const existing = await client.customers.create({ name: 'Bay Physio Ltd', email: 'billing@bayphysio.example' });

    await nav('Sub-accounts').click();
    await app.getByText('1–3 of 3 sub-accounts').waitFor();
    await app.getByRole('link', { name: 'Harbor Dental' }).click();
    await app.getByRole('button', { name: /Create a Stripe customer/ }).click();
    await app.getByText('Customer created in Stripe and mapped.').waitFor();
    // The customer by name, linked to the Stripe Dashboard in test mode (a test key); its id only on hover.
    const customerLink = app.getByTestId('customer-link');
    await customerLink.getByText('Harbor Dental').waitFor();
    const created = (await customerLink.getAttribute('title'))!;
    expect(world.stripe.state.customers.get(created)).toMatchObject({ name: 'Harbor Dental', metadata: { meterbridge_location_id: L1 } });
    expect(await customerLink.getAttribute('href')).toBe(await world.stripeDashboardUrl(`customers/${created}`));
    expect(await customerLink.getAttribute('target')).toBe('_blank');
    expect(await customerLink.getAttribute('rel')).toBe('noopener noreferrer');
    expect(await app.locator('section[aria-labelledby="billing-title"]').innerText()).not.toMatch(/cus_/);
    await app.getByRole('button', { name: 'Create subscription' }).click();
    const subscriptionLink = app.getByTestId('subscription-link');
    await subscriptionLink.getByText('Open in Stripe').waitFor();
    expect(await subscriptionLink.getAttribute('href')).toBe(await world.stripeDashboardUrl(`subscriptions/${await subscriptionLink.getAttribute('title')}`));
    expect(await app.locator('form[aria-labelledby="subscription-title"]').innerText()).not.toMatch(/sub_/);

    await app.getByRole('link', { name: '← Sub-accounts' }).click();
    await app.getByRole('link', { name: 'Bay Physio' }).click();
    await app.getByLabel('Find an existing Stripe customer').fill('bayphysio');
    await app.getByRole('button', { name: 'Search Stripe' }).click();
    await app.getByRole('button', { name: `Use Bay Physio Ltd (${existing.id})` }).click();
    // Billing changes hands only after a confirmation.
    await app.getByRole('group', { name: 'Confirm billing Bay Physio Ltd' }).getByText('Bill this sub-account to Bay Physio Ltd from now on?').waitFor();
    expect(await app.getByTestId('customer-link').count()).toBe(0);
    await app.getByRole('button', { name: 'Yes, bill this customer' }).click();
    await app.locator(`[data-testid="customer-link"][title="${existing.id}"]`).getByText('Bay Physio Ltd').waitFor();
    await app.getByRole('button', { name: 'Create subscription' }).click();
    await app.getByTestId('subscription-link').waitFor();
    const subscription = (await app.getByTestId('subscription-link').getAttribute('title'))!;
    expect(world.stripe.state.subscriptions.get(subscription)).toMatchObject({ customer: existing.id });
  });

  it('when HighLevel webhooks are replayed, then the usage dashboard and the sub-accounts table show the usage and the units sent', async () => {
    for (const [locationId, n] of [[L1, 3], [L2, 4]] as const) {
      for (let i = 0; i < n; i++) {
        const at = justNow();
        await world.t.postSigned({ ...fixture('sms-outbound'), locationId, webhookId: `browser-sms-${locationId}-${i}`, dateAdded: at, timestamp: at }).expect(200);
      }
    }
    const at = justNow();
    await world.t.postSigned({ ...fixture('call-outbound-completed'), locationId: L1, webhookId: 'browser-call-1', dateAdded: at, timestamp: at }).expect(200);
    await drainReporter(world.t.service);
    expect([...world.stripe.totals().values()].reduce((a, b) => a + b, 0)).toBe(10);

    await nav('Usage').click();
    const sms = app.locator('table.totals tr[data-metric="sms"]');
    await sms.waitFor();
    expect(await cells(sms)).toEqual(['7', '7', '7', '0']);
    expect(await cells(app.locator('table.totals tr[data-metric="call_minutes"]'))).toEqual(['3', '3', '3', '0']);
    // One stacked chart with a toggle per metric (issue 22 item 7), not one chart per metric.
    await app.getByTestId('usage-stacked-chart').getByRole('checkbox', { name: 'SMS messages' }).waitFor();
    await app.getByTestId('usage-stacked-chart').locator('.recharts-bar-rectangle').first().waitFor();
    const drill = app.locator('table.drill');
    await drill.getByRole('link', { name: 'Harbor Dental' }).waitFor();
    expect(await drill.locator('tbody tr').count()).toBe(2);

    await nav('Sub-accounts').click();
    const harbor = app.locator('table.subs tr', { has: app.getByRole('link', { name: 'Harbor Dental' }) });
    await harbor.getByText('3 SMS messages').waitFor();
    expect(await harbor.innerText()).toMatch(/3 Call minutes/);
    // Each metric with its own billed units, never "6 units" (3 call minutes + 3 SMS added up).
    expect(await harbor.locator('li[data-metric="sms"]').innerText()).toBe('3 SMS messages (3 billed units)');
    expect(await harbor.locator('li[data-metric="call_minutes"]').innerText()).toBe('3 Call minutes (3 billed units)');
    expect(await harbor.innerText()).not.toMatch(/6 units/);
    await harbor.getByText('Billing', { exact: true }).waitFor();

    await nav('Overview').click();
    await app.getByText('5 of 5 done').waitFor();
    // The README's picture of the agency view: the frame's whole page at 1280 px.
    await screenshotFrame(page, app, 'agency-view.png', { published: true });
  });

  it('when the usage is exported, then the server streams a CSV with a line per day, sub-account and metric and the browser downloads it', async () => {
    await nav('Usage').click();
    await app.locator('table.totals').waitFor();
    const [response, download] = await Promise.all([
      page.waitForResponse((r) => r.url().includes('/api/usage/export.csv')),
      page.waitForEvent('download'),
      app.getByRole('button', { name: 'Export CSV', exact: true }).click(),
    ]);
    expect(response.headers()['content-type']).toMatch(/^text\/csv/);
    expect(response.headers()['content-disposition']).toContain(download.suggestedFilename());
    const lines = readFileSync((await download.path())!, 'utf8').trim().split('\n');
    expect(lines[0]).toBe('date,sub_account_id,sub_account_name,metric,quantity,unit,units_billed');
    const rows = lines.slice(1).map((l) => l.split(',').slice(1));
    // By day, then sub-account name. Every SMS also counts its segments; segments have no price here, so no units.
    expect(rows).toEqual([
      [L2, 'Bay Physio', 'sms', '4', 'message', '4'],
      [L2, 'Bay Physio', 'sms_segments', '4', 'segment', '0'],
      [L1, 'Harbor Dental', 'call_minutes', '3', 'minute', '3'],
      [L1, 'Harbor Dental', 'sms', '3', 'message', '3'],
      [L1, 'Harbor Dental', 'sms_segments', '3', 'segment', '0'],
    ]);
    expect(download.suggestedFilename()).toMatch(/^meterbridge-usage-\d{4}-\d{2}-\d{2}-to-\d{4}-\d{2}-\d{2}\.csv$/);
    await app.getByText(`Downloaded ${download.suggestedFilename()}.`).waitFor();
  });

  it('when the API fails, then the section says so and Try again recovers; when a range has no usage, then it says so', async () => {
    await nav('Usage').click();
    await app.locator('table.totals').waitFor();
    let failures = 1;
    const usageApi = (url: URL) => url.pathname === '/api/usage';
    await context.route(usageApi, (route) =>
      failures-- > 0
        ? route.fulfill({ status: 503, contentType: 'application/json', body: JSON.stringify({ error: { code: 'unavailable', message: 'The service is temporarily unavailable; retry later.' } }) })
        : route.continue(),
    );
    await app.getByRole('button', { name: 'Last 7 days' }).click();
    await app.getByRole('alert').filter({ hasText: 'temporarily unavailable' }).waitFor();
    expect(await app.locator('table.totals').count()).toBe(0);
    await app.getByRole('button', { name: 'Try again' }).click();
    await app.locator('table.totals').waitFor();
    await context.unroute(usageApi);

    await app.getByLabel('From', { exact: true }).fill('2020-01-01');
    await app.getByLabel('To', { exact: true }).fill('2020-01-31');
    await app.getByText('No usage between Jan 1, 2020 and Jan 31, 2020.').waitFor();
    await app.getByText('No sub-account used anything in this range.').waitFor();
  });

  it('when Stripe refuses a meter event, then the log shows its message, and Retry sends it again with the same identifier', async () => {
    world.stripe.apiKeys.add('sk_test_onlyThisKeyIsValid01'); // the agency's key stops working
    const at = justNow();
    await world.t.postSigned({ ...fixture('sms-outbound'), locationId: L1, webhookId: 'browser-sms-refused', dateAdded: at, timestamp: at }).expect(200);
    await drainReporter(world.t.service);

    await nav('Sub-accounts').click();
    await app.locator('table.subs tr', { has: app.getByRole('link', { name: 'Harbor Dental' }) }).getByText('1 failed report').waitFor();
    await app.getByRole('link', { name: 'Harbor Dental' }).click();
    const failed = app.locator('table.log tr[data-status="failed"]');
    await failed.getByText(/Invalid API Key provided/).waitFor();
    const identifier = (await failed.locator('code').innerText()).trim();

    const smsFailed = app.locator('table.totals tr[data-metric="sms"] td').nth(3);
    await smsFailed.filter({ hasText: /^1$/ }).waitFor();
    world.stripe.apiKeys.clear(); // the agency fixed its key
    await failed.getByRole('button', { name: /^Retry/ }).click();
    await app.getByText(/Queued: the meter event is sent again/).waitFor();
    // The usage card reads its numbers again: no "1 failed" left after the retry.
    await smsFailed.filter({ hasText: /^0$/ }).waitFor();
    await drainReporter(world.t.service);
    await app.getByRole('button', { name: 'Refresh' }).click();
    await app.locator('table.log tr[data-status="failed"]').waitFor({ state: 'detached' });
    expect(world.stripe.events.filter((e) => e.identifier === identifier)).toHaveLength(1);
    expect(world.stripe.events).toHaveLength(4);
    await app.locator('figure[data-metric="sms"] .recharts-bar-rectangle').first().waitFor();
    await screenshotFrame(page, app, 'agency-sub-account.png');
  });

  it('when Stripe rejects a meter event after taking it, then the log shows it Rejected with Stripe\'s message, and Resend after re-mapping bills it once with a new identifier', async () => {
    const [row] = await selectRows<{ customer: string }>(world.t.database.db, sql`select stripe_customer_id as customer from sub_accounts where location_id = ${L1}`);
    const deletedCustomer = row!.customer;
    world.stripe.state.customers.get(deletedCustomer)!.deleted = true; // deleted in Stripe's dashboard
    const at = justNow();
    await world.t.postSigned({ ...fixture('sms-outbound'), locationId: L1, webhookId: 'browser-sms-rejected', dateAdded: at, timestamp: at }).expect(200);
    await drainReporter(world.t.service);
    await world.stripe.flushErrorReports();

    await nav('Sub-accounts').click();
    await app.locator('table.subs tr', { has: app.getByRole('link', { name: 'Harbor Dental' }) }).getByText('1 rejected by Stripe').waitFor();
    await app.getByRole('link', { name: 'Harbor Dental' }).click();
    const rejected = app.locator('table.log tr[data-status="rejected"]');
    await rejected.getByText(/Stripe rejected this event \(meter_event_customer_not_found\)/).waitFor();
    await rejected.getByText('Rejected', { exact: true }).waitFor();
    const identifier = (await rejected.locator('code').innerText()).trim();

    // The agency maps Harbor Dental to a new customer, then resends.
    const replacement = 'cus_browserReplacement1';
    world.stripe.state.customers.set(replacement, { id: replacement, object: 'customer', deleted: false, metadata: {} });
    world.stripe.customers.add(replacement);
    await world.t.service.accounts.mapCustomer(L1, replacement);
    await rejected.getByRole('button', { name: /^Resend/ }).click();
    await app.getByText(/Stripe never counted the rejected event/).waitFor();
    await drainReporter(world.t.service);
    await app.getByRole('button', { name: 'Refresh' }).click();
    await app.locator('table.log tr[data-status="rejected"]').waitFor({ state: 'detached' });
    const resent = world.stripe.events.filter((e) => e.customer === replacement);
    expect(resent.map((e) => e.value)).toEqual(['1']);
    expect(resent[0]!.identifier).not.toBe(identifier);
    expect(world.stripe.events.filter((e) => e.customer === deletedCustomer && e.identifier === identifier)).toEqual([]);
    await screenshotFrame(page, app, 'agency-sub-account-rejected-resent.png');
  });

  it('when a sub-account user opens the page, then they see only their own sub-account, this month, read-only', async () => {
    const own = await context.newPage();
    watch(own);
    // Even pointed at another sub-account's path, the page shows the user's own.
    await own.goto(world.parent.url('bay', `/app/sub-accounts/${L1}`));
    const frame = own.frameLocator('#app');
    await frame.getByTestId('sub-account-name').filter({ hasText: 'Bay Physio' }).waitFor();
    const sms = frame.locator('table.charges tr[data-metric="sms"]');
    await sms.waitFor();
    expect(await cells(sms)).toEqual(['4', '4', '$0.08']);
    expect((await frame.getByTestId('estimated-total').innerText()).trim()).toBe('$0.08');
    const text = await frame.locator('body').innerText();
    expect(text).not.toContain('Harbor Dental');
    expect(await frame.getByRole('navigation', { name: 'Sections' }).count()).toBe(0);
    const buttons = await frame.getByRole('button').allInnerTexts();
    expect(buttons.every((b) => /^(Last 7 days|Last 30 days|This month|Last 12 months|All time)$/.test(b.trim()))).toBe(true);
    await frame.locator('figure[data-metric="sms"] .recharts-bar-rectangle').first().waitFor();
    await screenshotFrame(own, frame, 'sub-account-view.png');
    await own.close();
  });

  it('when the agency view is used with the keyboard only, then search, links and controls are reachable, and every control has a name', async () => {
    await nav('Overview').focus();
    const tabTo = async (matches: () => Promise<boolean>, what: string) => {
      for (let i = 0; i < 60; i++) {
        if (await matches()) return;
        await page.keyboard.press('Tab');
      }
      throw new Error(`Tab never reached ${what}`);
    };
    await tabTo(() => nav('Sub-accounts').evaluate((el) => el === el.ownerDocument.activeElement), 'the Sub-accounts link');
    await page.keyboard.press('Enter');
    await app.getByLabel('Search sub-accounts').waitFor();
    await tabTo(() => app.getByLabel('Search sub-accounts').evaluate((el) => el === el.ownerDocument.activeElement), 'the search box');
    await page.keyboard.type('bay');
    await app.getByText('1–1 of 1 sub-account').waitFor();
    await tabTo(() => app.getByRole('link', { name: 'Bay Physio' }).evaluate((el) => el === el.ownerDocument.activeElement), 'the Bay Physio link');
    await page.keyboard.press('Enter');
    await app.getByRole('heading', { name: /Bay Physio/ }).waitFor();

    for (const section of ['Overview', 'Pricing', 'Sub-accounts', 'Usage']) {
      await nav(section).click();
      await app.locator('main .card').first().waitFor();
      await app.locator('[role="status"] .spinner').first().waitFor({ state: 'detached' });
      // (In-page callbacks reach the DOM through the element: this test program has no DOM types, as server code must not.)
      const unnamed = await app.locator('body').evaluate((body) =>
        [...body.ownerDocument.querySelectorAll('input, select, textarea, button, a[href]')]
          .filter((el) => {
            const labelled = el.labels?.length || el.getAttribute('aria-label') || el.getAttribute('aria-labelledby');
            return !labelled && !(el.textContent ?? '').trim();
          })
          .map((el) => el.outerHTML.slice(0, 120)),
      );
      expect({ section, unnamed }).toEqual({ section, unnamed: [] });
    }
  });

  it('when the frame is 800 px wide, then no page scrolls sideways', async () => {
    await page.setViewportSize({ width: 800, height: 900 });
    for (const section of ['Overview', 'Pricing', 'Sub-accounts', 'Usage']) {
      await nav(section).click();
      await app.locator('main .card').first().waitFor();
      await app.locator('[role="status"] .spinner').first().waitFor({ state: 'detached' });
      // Anything sticking out past the frame's right edge (tables scroll inside their own wrapper instead).
      const overflow = await app.locator('html').evaluate((html) => ({
        by: html.scrollWidth - html.clientWidth,
        culprits: [...html.ownerDocument.querySelectorAll('body *')]
          .filter((el) => el.getBoundingClientRect().right > html.clientWidth + 1 && !el.closest('.table-wrap'))
          .slice(0, 5)
          .map((el) => `${el.tagName.toLowerCase()}.${el.className}`),
      }));
      expect({ section, overflow }).toEqual({ section, overflow: { by: 0, culprits: [] } });
      // The working tables fit too: no sideways scrolling to reach a Save button or a status.
      for (const table of ['table.pricing', 'table.subs']) {
        const wrap = app.locator('.table-wrap', { has: app.locator(table) });
        if ((await wrap.count()) === 0) continue;
        expect({ table, hidden: await wrap.evaluate((el) => el.scrollWidth - el.clientWidth) }).toEqual({ table, hidden: 0 });
      }
      await screenshotFrame(page, app, `agency-${section.toLowerCase()}-800.png`);
    }
    await page.setViewportSize({ width: 1280, height: 900 });
  });

  it('when a white-label domain listed in FRAME_ANCESTORS frames the page, then it loads; when another site does, then the browser refuses', async () => {
    const port = new URL(world.parent.origin).port;
    const allowed = await context.newPage();
    watch(allowed);
    await allowed.goto(world.parent.url('agency').replace(world.parent.origin, `${WHITE_LABEL}:${port}`));
    await allowed.frameLocator('#app').getByRole('heading', { name: 'Usage billing' }).waitFor();
    await allowed.close();

    const before = world.parent.answered;
    const hostile = await context.newPage();
    const refused = new Promise<string>((resolve) => hostile.on('console', (msg) => /frame-ancestors/.test(msg.text()) && resolve(msg.text())));
    await hostile.goto(world.parent.url('agency').replace(world.parent.origin, `http://evil.example:${port}`));
    expect(await refused).toMatch(/frame-ancestors/);
    expect(world.parent.answered).toBe(before);
    await hostile.close();
  });

  it('when a developer opens the development host with the Shared Secret, then the page signs in as the simulated user; with a wrong secret, it says so', async () => {
    const dev = await context.newPage();
    watch(dev);
    await dev.goto(`${world.appUrl}/app/dev`);
    await dev.getByLabel('Company (agency) id').fill(COMPANY);
    await dev.getByLabel(/Shared Secret/).fill('not the secret');
    await dev.getByRole('button', { name: 'Open the page as this user' }).click();
    const frame = dev.frameLocator('iframe[title="Meterbridge settings page"]');
    await frame.getByText(/Shared Secret does not match/).waitFor();

    await dev.getByLabel(/Shared Secret/).fill(SHARED_SECRET);
    await dev.getByRole('button', { name: 'Open the page as this user' }).click();
    await frame.getByRole('heading', { name: 'Usage billing' }).waitFor();
    await frame.getByText('5 of 5 done').waitFor();
    await dev.close();
  });

  it('when the walk is over, then no script error happened and no Content Security Policy blocked anything on our pages', () => {
    expect(pageErrors).toEqual([]);
    expect(cspViolations).toEqual([]);
  });
});
