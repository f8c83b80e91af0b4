import { sql } from 'drizzle-orm';
import type { FrameLocator, Page } from 'playwright-core';
import { fixture } from '../support/highlevel-fixtures';
import { drainReporter } from '../support/billing';
import { attachTestCard } from '../support/stripe/customers';
import { screenshotFrame } from './support/browser';
import { justNow, startBrowserWorld, type BrowserWorld } from './support/browser-world';

/**
 * Issue 22, "the page an agency owner opens", items 2–6, in a real browser against the real service and the Stripe
 * double. Four clients: Billed Clinic (customer, subscription, a card, SMS and a custom metric used this month),
 * Unmapped Clinic (no Stripe customer), Held Clinic (a customer, no subscription), Overdue Clinic (subscribed, no
 * card, an invoice whose payment failed). The list is a work queue (filters read from the address, sort, money,
 * subscription / card / invoice, customer by name, bulk actions summarised first); a sub-account's page opens on a
 * summary and folds its rare tools; one billing state everywhere; pricing prefilled with HighLevel's list prices,
 * tiers editable; the client's own view is the agency's, in money, without Meterbridge's name.
 */
jest.setTimeout(180_000);

const COMPANY = 'companyOwnerPage0001';
const AGENCY_NAME = 'Sunrise Marketing';
const NAMES = ['Billed Clinic', 'Unmapped Clinic', 'Held Clinic', 'Overdue Clinic'] as const;
const ids = {} as Record<(typeof NAMES)[number], string>;

let world: BrowserWorld;
let page: Page;
let app: FrameLocator;

const nav = (name: string) => app.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name, exact: true });
const listRow = (name: string) => app.locator('table.subs tbody tr', { has: app.getByRole('link', { name, exact: true }) });
const listed = async () => app.locator('table.subs tbody th > a').allInnerTexts();
const get = async (path: string) => (await world.api.get(path)).body;

/** Opens the list at an app address, as a link from another page would. */
async function openList(query: string): Promise<void> {
  await app.locator('body').evaluate((body, q) => {
    const w = body.ownerDocument.defaultView!;
    w.history.pushState(null, '', `/app/sub-accounts${q}`);
    w.dispatchEvent(new w.PopStateEvent('popstate'));
  }, query);
  await app.getByRole('heading', { name: 'Sub-accounts', level: 1 }).waitFor();
  await app.locator('.table-wrap[aria-busy="false"] table.subs, .state-empty').first().waitFor();
}

/** Waits until the element's text is `expected`; then (or after 15 s) compares, so a failure shows what it said. */
async function textOf(locator: ReturnType<FrameLocator['locator']>, expected: string): Promise<string> {
  for (let i = 0; i < 60 && (await locator.innerText().catch(() => '')) !== expected; i++) await new Promise((r) => setTimeout(r, 250));
  return locator.innerText();
}

/** The height of the framed page, in CSS pixels, at the frame's current width. */
const frameHeight = () => app.locator('html').evaluate((el) => el.scrollHeight);

beforeAll(async () => {
  world = await startBrowserWorld({
    company: COMPANY,
    locations: NAMES,
    env: { REPORTER_ENABLED: 'false' },
    users: { client: { userName: 'Bill Billed', location: 0 } },
  });
  const { t, stripe, api } = world;
  NAMES.forEach((name, i) => (ids[name] = world.locationIds[i]!));
  // HighLevel's INSTALL webhook carries the agency's `companyName` (its official white-label example does).
  await t.database.db.execute(sql`update agencies set name = ${AGENCY_NAME} where company_id = ${COMPANY}`);
  await api.put('/api/pricing/sms', { threshold: 1, price: { currency: 'usd', unitAmountDecimal: '2' } });
  await api.put('/api/pricing/whatsapp', { threshold: 1, price: { currency: 'usd', tiers: [{ upTo: 100, unitAmountDecimal: '2' }, { upTo: 'inf', unitAmountDecimal: '1' }] } });
  await api.post('/api/custom-metrics', { key: 'seo_reports', label: 'SEO reports', unit: 'report' }, 201);
  await api.put('/api/pricing/seo_reports', { threshold: 1, price: { currency: 'usd', unitAmountDecimal: '500' } });
  for (const name of NAMES) await api.put(`/api/sub-accounts/${ids[name]}/billing`, { rebillingEnabled: true });
  for (const name of ['Billed Clinic', 'Held Clinic', 'Overdue Clinic'] as const) await api.put(`/api/sub-accounts/${ids[name]}/customer`, { create: true });
  for (const name of ['Billed Clinic', 'Overdue Clinic'] as const) await api.put(`/api/sub-accounts/${ids[name]}/billing`, { subscription: {} });
  // Held Clinic's customer has no name in Stripe (an agency's own customers often have only an email).
  stripe.state.customers.get((await get(`/api/sub-accounts/${ids['Held Clinic']}`)).stripeCustomerId as string)!.name = null;
  // Billed Clinic's client saved a card (docs.stripe.com/api/customers/object#customer_object-invoice_settings).
  const billedCustomer = (await get(`/api/sub-accounts/${ids['Billed Clinic']}`)).stripeCustomerId as string;
  attachTestCard(stripe.state, 'pm_card_visa', billedCustomer);
  stripe.state.customers.get(billedCustomer)!.invoice_settings = { default_payment_method: 'pm_card_visa' };
  // Overdue Clinic's invoice failed (what server/stripe/payment-problem.ts records from invoice.payment_failed).
  const problem = { invoiceId: 'in_overdue1', invoiceNumber: 'OC-0007', amountDueCents: 6120, currency: 'usd', attemptCount: 2, nextPaymentAttempt: null, declineCode: 'insufficient_funds', failureCode: 'card_declined', failureMessage: 'Your card has insufficient funds.', hostedInvoiceUrl: 'https://invoice.stripe.com/i/oc7' };
  await t.database.db.execute(sql`update sub_accounts set billing_status = 'delinquent', payment_problem = ${JSON.stringify(problem)}::jsonb where location_id = ${ids['Overdue Clinic']}`);
  // Billed Clinic: 2 SMS and 3 SEO reports this month.
  for (let i = 0; i < 2; i++) {
    const at = justNow();
    await t.postSigned({ ...fixture('sms-outbound'), locationId: ids['Billed Clinic'], webhookId: `page-sms-${i}`, dateAdded: at, timestamp: at }).expect(200);
  }
  const { key } = (await api.post('/api/api-keys', { name: 'reports' }, 201)).body as { key: string };
  await t.http.post('/api/v1/usage').set('authorization', `Bearer ${key}`).send({ locationId: ids['Billed Clinic'], metric: 'seo_reports', quantity: '3', occurredAt: justNow(), idempotencyKey: 'seo-1' }).expect(200);
  await t.drain();
  await drainReporter(t.service); // the usage reaches Stripe, so its invoice preview carries it

  ({ page, app } = await world.openAgencyPage());
});

afterAll(() => world?.close());

describe('the sub-account page starts with a summary (item 3)', () => {
  it('when a billed client’s page is opened, then its head says billing, card, subscription, this period, next invoice and the next step', async () => {
    await nav('Sub-accounts').click();
    await app.getByRole('link', { name: 'Billed Clinic' }).click();
    const summary = app.getByTestId('sub-account-summary');
    await summary.waitFor();
    expect(await app.getByTestId('summary-state').innerText()).toBe('Billing');
    await app.getByTestId('summary-card').getByText(/^Visa •••• 4242/).waitFor();
    expect(await app.getByTestId('summary-subscription').innerText()).toBe('Active');
    // 2 SMS at $0.02 and 3 SEO reports at $5.
    expect(await textOf(app.getByTestId('summary-period'), '$15.04')).toBe('$15.04');
    // Stripe's preview of the same usage (the double prices the meter events of the period).
    await app.getByTestId('summary-next-invoice').getByText(/^\$15\.04 so far/).waitFor();
    expect(await app.getByTestId('next-step').innerText()).toBe('Next step: Nothing to do: usage is billed by the subscription as it comes.');
  });

  it('when the page is read at 800 px, then rare tools are folded and the page is much shorter than the ~2,800 px it was', async () => {
    await page.setViewportSize({ width: 800, height: 900 });
    try {
      await app.getByTestId('card-description').getByText(/^Visa/).waitFor();
      await app.getByTestId('next-invoice').getByText(/Total so far|no/i).first().waitFor();
      await app.locator('.spinner').first().waitFor({ state: 'detached' });
      const height = await frameHeight();
      console.log(`sub-account page height at 800 px: ${height} px`);
      for (const fold of ['Backfill from HighLevel', 'Meter reports', 'Reconciliation with Stripe']) {
        const details = app.locator('details.fold', { has: app.locator('summary', { hasText: fold }) });
        expect(await details.evaluate((el) => (el as unknown as { open: boolean }).open)).toBe(false);
      }
      await screenshotFrame(page, app, 'screenshots/owner-sub-account-800.png', { published: true });
      expect(height).toBeLessThan(2100); // 3,932 px before issue 22's summary and folds (same data); 1,993 px after
      // A folded tool opens with its summary.
      await app.locator('summary', { hasText: 'Meter reports' }).click();
      await app.getByRole('heading', { name: 'Meter reports' }).waitFor();
    } finally {
      await page.setViewportSize({ width: 1280, height: 900 });
    }
    await screenshotFrame(page, app, 'screenshots/owner-sub-account-1280.png', { published: true });
  });

  it('when a client has no customer, then the head says why it is not billed and its next step; once a customer is created, every panel says so', async () => {
    await nav('Sub-accounts').click();
    await app.getByRole('link', { name: 'Unmapped Clinic' }).click();
    expect(await app.getByTestId('summary-state').innerText()).toBe('Not billing: no Stripe customer');
    await app.getByTestId('next-step').getByRole('link', { name: /Map this sub-account to a Stripe customer/ }).waitFor();
    await app.getByRole('button', { name: 'Create a Stripe customer from HighLevel’s details' }).click();
    await app.getByText('Customer created in Stripe and mapped.').waitFor();
    // The head, the card and the next invoice are read again: no panel keeps "no customer".
    await app.getByTestId('summary-state').getByText('Not billing: no subscription').waitFor();
    await app.getByTestId('summary-card').getByText('No card on file.').waitFor();
    await app.getByTestId('card-description').getByText('No card on file.').waitFor();
    await app.getByTestId('next-step').getByRole('link', { name: /Create the Stripe subscription/ }).waitFor();
  });
});

describe('one status, computed once (item 4)', () => {
  it('when the Overview API counts states, then each count is what the list shows for that filter', async () => {
    const overview = await get('/api/overview');
    for (const [state, count] of Object.entries(overview.billingStates as Record<string, number>)) {
      const list = await get(`/api/sub-accounts?status=${state}`);
      expect([state, list.total]).toEqual([state, count]);
    }
    expect(overview.billingStates).toMatchObject({ billing: 2, no_subscription: 2 });
    const rows = (await get('/api/sub-accounts')).items as Array<{ locationId: string; billingState: string }>;
    for (const row of rows) expect((await get(`/api/sub-accounts/${row.locationId}`)).billingState).toBe(row.billingState);
  });
});

describe('the sub-accounts list as a work queue (item 2)', () => {
  it('when the list is opened with ?status=payment_failed, then only the client whose payment failed is listed, with the amount due and its link', async () => {
    await openList('?status=payment_failed');
    await app.getByTestId('status-filter').getByText('Payment failed or needs the client’s action').waitFor();
    expect(await listed()).toEqual(['Overdue Clinic']);
    const invoice = listRow('Overdue Clinic').getByRole('link', { name: 'Payment failed: $61.20 due' });
    expect(await invoice.getAttribute('href')).toBe('https://invoice.stripe.com/i/oc7');
    expect(await app.getByLabel('Show').inputValue()).toBe('payment_failed');
  });

  it('when ?status=no_card, then the billed clients Stripe has no card for are listed; ?status=not_billing lists the others', async () => {
    await openList('?status=no_card');
    await listRow('Overdue Clinic').waitFor();
    expect(await listed()).toEqual(['Overdue Clinic']);
    await openList('?status=not_billing');
    await listRow('Held Clinic').waitFor();
    expect((await listed()).sort()).toEqual(['Held Clinic', 'Unmapped Clinic']);
  });

  it('when a filter is picked, then the address carries it so it can be linked to', async () => {
    await openList('');
    await app.getByLabel('Show').selectOption('billing');
    await app.getByTestId('status-filter').getByText('Billing', { exact: true }).waitFor();
    expect(await app.locator('body').evaluate((b) => b.ownerDocument.defaultView!.location.search)).toBe('?status=billing');
    expect((await listed()).sort()).toEqual(['Billed Clinic', 'Overdue Clinic']);
  });

  it('when the list is read, then each row has its money this period, subscription, card, invoice and the customer by name, linked to Stripe, its id on hover', async () => {
    await openList('');
    const billed = listRow('Billed Clinic');
    await billed.getByTestId('period-amount').getByText('$15.04 so far').waitFor();
    expect(await billed.innerText()).not.toMatch(/\b5 units?\b/);
    await billed.locator('li[data-metric="seo_reports"]').getByText(/^3 SEO reports/).waitFor();
    await billed.getByTestId('card-status').getByText('Visa •••• 4242').waitFor();
    expect(await billed.getByTestId('subscription-status').innerText()).toBe('Active');
    await billed.getByTestId('customer-name').getByText('Billed Clinic').waitFor();
    await listRow('Held Clinic').getByTestId('customer-name').getByText('no name in Stripe', { exact: true }).waitFor();
    const customer = billed.getByTestId('customer-link');
    const customerId = (await get(`/api/sub-accounts/${ids['Billed Clinic']}`)).stripeCustomerId as string;
    expect(await customer.innerText()).toBe('Open in Stripe');
    expect(await customer.getAttribute('title')).toBe(customerId);
    expect(await customer.getAttribute('href')).toBe(await world.stripeDashboardUrl(`customers/${customerId}`));
    expect(await customer.getAttribute('target')).toBe('_blank');
    expect(await app.locator('table.subs').innerText()).not.toMatch(/cus_/);
    await listRow('Overdue Clinic').getByTestId('card-status').getByText('No card').waitFor();
    expect(await listRow('Unmapped Clinic').getByTestId('period-amount').count()).toBe(0);
  });

  it('when sorted by what needs attention, then the clients not billed come first', async () => {
    await openList('');
    await app.getByLabel('Sort by').selectOption('attention');
    await app.locator('table.subs').waitFor();
    await app.locator('table.subs tbody tr').first().getByText('Not billing', { exact: false }).waitFor();
    const order = await listed();
    expect(order.slice(0, 2).sort()).toEqual(['Held Clinic', 'Unmapped Clinic']);
    expect(order[2]).toBe('Overdue Clinic');
  });

  it('when clients are selected for the defaults, then a summary says what will be created before anything is', async () => {
    await openList('?status=not_billing');
    await listRow('Held Clinic').waitFor();
    await app.getByLabel('Select all on this page').check();
    const subscriptionsBefore = world.stripe.state.subscriptions.size;
    await app.getByRole('button', { name: 'Apply defaults to 2 selected' }).click();
    const summary = app.getByTestId('bulk-summary');
    await summary.waitFor();
    expect(await summary.locator('li').allInnerTexts()).toEqual(['Creates 2 Stripe subscriptions with the default prices (and the monthly fee, if set).']);
    expect(world.stripe.state.subscriptions.size).toBe(subscriptionsBefore);
    await screenshotFrame(page, app, 'owner-bulk-summary.png');
    await app.getByRole('button', { name: 'Yes, apply the defaults' }).click();
    await app.getByText('Defaults applied to 2 sub-accounts.').waitFor();
    expect(world.stripe.state.subscriptions.size).toBe(subscriptionsBefore + 2);
    await app.getByText('No sub-account is in this state.').waitFor();
  });
});

describe('pricing that cannot mislead (item 5)', () => {
  const row = (metric: string) => app.locator(`table.pricing tr[data-metric="${metric}"]`);

  it('when a metric has no saved base cost, then HighLevel’s list price is prefilled, marked with its source and editable; a metric without one says so', async () => {
    await nav('Pricing').click();
    await row('sms').waitFor();
    expect(await app.getByLabel('SMS messages: base cost per SMS message').inputValue()).toBe('0.0083');
    await row('sms').getByTestId('list-price-sms').getByText(/HighLevel list price/).waitFor();
    expect(await row('sms').getByRole('link', { name: 'source' }).getAttribute('href')).toMatch(/^https:\/\/help\.gohighlevel\.com\//);
    expect(await app.getByLabel('Emails: base cost per email').inputValue()).toBe('0.000675');
    expect(await app.getByLabel('Call minutes: base cost per call minute').inputValue()).toBe('');
    await row('call_minutes').getByText('No HighLevel list price', { exact: true }).waitFor();
    expect(await row('call_minutes').getByTestId('list-price-call_minutes').getAttribute('title')).toMatch(/enter your cost per minute/);
    expect(await row('sms').getByTestId('list-price-sms').getAttribute('title')).toMatch(/per SMS segment, US\/Canada: a message of 2 segments costs twice this/);
    // 2¢ against 0.83¢: margin and markup on the same per-message basis.
    expect((await app.getByTestId('margin-sms').innerText()).split('\n')).toEqual(['$0.0117', '58.5%', '2.41× cost']);
    expect(await app.getByTestId('unsaved-count').innerText()).toBe('All changes saved');
  });

  it('when a graduated price’s tier is edited, then the row is unsaved, and saving keeps it graduated with the new tier', async () => {
    await app.getByLabel('WhatsApp messages: tier 1 up to').fill('250');
    await app.getByLabel('WhatsApp messages: tier 2 price per unit').fill('0.005');
    await row('whatsapp').getByText('Unsaved', { exact: true }).waitFor();
    expect(await app.getByTestId('tiers-whatsapp').innerText()).toBe('Graduated: up to 250 at $0.02, then at $0.005');
    await app.getByRole('button', { name: 'Add a tier' }).click();
    expect(await app.getByTestId('tiers-whatsapp').innerText()).toBe('Graduated: up to 250 at $0.02, up to 350 at $0.005, then at $0.005');
    await app.getByRole('button', { name: 'WhatsApp messages: remove tier 2' }).click();
    await screenshotFrame(page, app, 'screenshots/owner-pricing-1280.png', { published: true });
    await app.getByRole('button', { name: 'Save 1 change' }).click();
    await app.getByText(/^Saved: WhatsApp messages\./).waitFor();
    const pricing = await get('/api/pricing');
    const whatsapp = (pricing.rows as Array<{ metric: string; priceTerms: { tiers: unknown[] } }>).find((r) => r.metric === 'whatsapp')!;
    expect(whatsapp.priceTerms.tiers).toEqual([
      { upTo: 250, unitAmountDecimal: '2' },
      { upTo: 'inf', unitAmountDecimal: '0.5' },
    ]);
    await page.setViewportSize({ width: 800, height: 900 });
    await screenshotFrame(page, app, 'screenshots/owner-pricing-800.png', { published: true });
    await page.setViewportSize({ width: 1280, height: 900 });
  });

  it('when the grid is read at 800 px, then no price or base cost is cut off in its field (HighLevel’s email cost has six decimals)', async () => {
    await page.setViewportSize({ width: 800, height: 900 });
    try {
      await row('email').waitFor();
      const cut = await app.locator('table.pricing input[inputmode="decimal"]').evaluateAll((inputs) =>
        (inputs as unknown as Array<{ value: string; scrollWidth: number; clientWidth: number; getAttribute(name: string): string | null }>).filter((el) => el.value !== '' && el.scrollWidth > el.clientWidth).map((el) => `${el.getAttribute('aria-label')}: ${el.value}`),
      );
      expect(cut).toEqual([]);
      expect(await app.getByLabel('Emails: base cost per email').inputValue()).toBe('0.000675');
    } finally {
      await page.setViewportSize({ width: 1280, height: 900 });
    }
  });
});

describe('the client’s own view is the agency’s (item 6)', () => {
  it('when the client opens its page, then it sees the agency’s name, money, invoices and card, custom metrics by label, and no Meterbridge or Stripe plumbing', async () => {
    const { context: clientContext, page: clientPage, app: client } = await world.openPage('client');
    try {
      await client.getByTestId('agency-brand').getByText(AGENCY_NAME).waitFor();
      await client.getByTestId('estimated-total').getByText('$15.04').waitFor();
      await client.locator('table.charges tr[data-metric="seo_reports"] th').getByText('SEO reports').waitFor();
      await client.getByTestId('card-description').getByText(/^Visa •••• 4242/).waitFor();
      await client.getByRole('heading', { name: 'Your invoices' }).waitFor();
      await client.getByRole('heading', { name: 'Usage over time' }).waitFor();
      await client.locator('table.client-usage').waitFor();
      const text = await client.locator('body').innerText();
      expect(text).not.toMatch(/Meterbridge/i);
      expect(text).not.toMatch(/sent to Stripe/i);
      expect(text).not.toMatch(/\bFailed\b/);
      expect(text).not.toContain('seo_reports');
      await screenshotFrame(clientPage, client, 'screenshots/client-view-1280.png', { published: true });
      await clientPage.setViewportSize({ width: 800, height: 900 });
      await screenshotFrame(clientPage, client, 'screenshots/client-view-800.png', { published: true });
    } finally {
      await clientContext.close();
    }
  });
});

describe('the top bar', () => {
  it('when the page is read at 1280 and 800 px, then the signed-in user’s name is shown whole and the sections sit on their own row inside the frame', async () => {
    try {
      for (const width of [1280, 800]) {
        await page.setViewportSize({ width, height: 900 });
        const user = app.locator('.topbar .user');
        await user.getByText('Olive Owner').waitFor();
        const layout = await app.locator('header.topbar').evaluate((header) => {
          const name = header.querySelector('.user')!;
          const [user, nav] = [name.getBoundingClientRect(), header.querySelector('nav')!.getBoundingClientRect()];
          return { whole: name.scrollWidth <= name.clientWidth, navBelowName: nav.top >= user.bottom - 1, navInside: nav.right <= header.ownerDocument.documentElement.clientWidth + 1 };
        });
        expect([width, layout]).toEqual([width, { whole: true, navBelowName: true, navInside: true }]);
      }
    } finally {
      await page.setViewportSize({ width: 1280, height: 900 });
    }
  });

  it('when the walk is over, then no script error happened', () => {
    expect(world.pageErrors).toEqual([]);
  });
});
