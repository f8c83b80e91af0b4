import { screenshotFrame } from './support/browser';
import { startBrowserWorld, type BrowserWorld } from './support/browser-world';

/**
 * Cards and invoices as people see them: the agency's list flags a subscribed client billed without a card; the
 * client (a sub-account admin, 800 px wide) adds a card through Stripe's hosted page, then sees it, its invoices and
 * its next invoice; the agency sees the invoices of every client by status, with totals.
 */
jest.setTimeout(150_000);

const COMPANY = 'companyBrowserPay001';
let LOCATION = '';
let customer = '';
let world: BrowserWorld;

beforeAll(async () => {
  world = await startBrowserWorld({
    company: COMPANY,
    locations: ['Harbor Dental'],
    users: { client: { userName: 'Dana Dental', location: 0 } },
  });
  const { stripe, api } = world;
  [LOCATION] = world.locationIds as [string];
  await api.put('/api/pricing/sms', { threshold: 1, price: { currency: 'usd', interval: 'month', unitAmountDecimal: '2' } });
  await api.put('/api/defaults', { flatFeeAmount: 4900 });
  customer = (await api.put(`/api/sub-accounts/${LOCATION}/customer`, { create: true })).body.stripeCustomerId;
  await api.put(`/api/sub-accounts/${LOCATION}/billing`, { rebillingEnabled: true });
  const now = Math.floor(Date.now() / 1000);
  const month = 30 * 86_400;
  stripe.seedInvoice({ customer, status: 'paid', number: 'HD-0041', total: 5340, amount_paid: 5340, amount_due: 5340, period_start: now - 2 * month, period_end: now - month, created: now - month, hosted_invoice_url: 'https://invoice.stripe.com/i/hd41', invoice_pdf: 'https://pay.stripe.com/invoice/hd41/pdf' });
  stripe.seedInvoice({ customer, status: 'open', number: 'HD-0042', total: 6120, amount_paid: 0, amount_due: 6120, attempt_count: 1, period_start: now - month, period_end: now, hosted_invoice_url: 'https://invoice.stripe.com/i/hd42', invoice_pdf: 'https://pay.stripe.com/invoice/hd42/pdf' });
});

afterAll(() => world?.close());

describe('cards and invoices on the page', () => {
  it('when the agency opens its sub-accounts, then a subscribed client without a card is flagged', async () => {
    const { page, app } = await world.openAgencyPage();
    await app.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name: 'Sub-accounts', exact: true }).click();
    await app.locator('tr', { hasText: 'Harbor Dental' }).getByText('Billed without a card').waitFor();
    await screenshotFrame(page, app, 'payments-agency-list.png');
  });

  it('when the client adds a card through Stripe’s page, then it sees the card, its invoices and its next invoice', async () => {
    const { context, page, app } = await world.openPage('client', 800);
    // Stripe's hosted page is out of reach here: the new tab gets a stand-in, and the test completes the session.
    await context.route('https://checkout.stripe.com/**', (route) => route.fulfill({ contentType: 'text/html', body: '<h1>Stripe Checkout (stand-in)</h1>' }));
    await app.getByTestId('card-description').getByText('No card on file.').waitFor();
    const [tab] = await Promise.all([context.waitForEvent('page'), app.getByRole('button', { name: 'Add a card' }).click()]);
    await tab.waitForURL(/^https:\/\/checkout\.stripe\.com\/c\/pay\/cs_test_/);
    const sessionId = new URL(tab.url()).pathname.split('/').at(-1)!;
    const completed = world.stripe.completeCheckoutSession(sessionId, { brand: 'visa', last4: '4242', exp_month: 9, exp_year: 2030 });
    await world.sendStripeEvent('checkout.session.completed', { id: completed.id, object: 'checkout.session', customer });
    await tab.close();

    await page.reload();
    await app.getByTestId('card-description').getByText('Visa •••• 4242, expires 09/2030').waitFor();
    await app.getByTestId('card-on-file').getByText('Card on file').waitFor();
    const invoices = app.getByTestId('invoices');
    await invoices.getByText('HD-0042').waitFor();
    expect((await invoices.locator('tr', { hasText: 'HD-0042' }).innerText()).replace(/\s+/g, ' ')).toContain('Past due $61.20 $0.00 $61.20');
    expect(await invoices.locator('tr', { hasText: 'HD-0041' }).getByRole('link', { name: 'PDF' }).getAttribute('href')).toBe('https://pay.stripe.com/invoice/hd41/pdf');
    await app.getByTestId('next-invoice-total').getByText('$49.00').waitFor();
    await screenshotFrame(page, app, 'payments-client-800.png', { published: true });
    expect(world.pageErrors).toEqual([]);
  });

  it('when the agency opens Invoices and picks “Past due”, then it sees the client’s overdue invoice and the totals', async () => {
    const { page, app } = await world.openAgencyPage();
    await app.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name: 'Invoices', exact: true }).click();
    await app.getByTestId('invoices').getByText('HD-0041').waitFor();
    await app.getByRole('button', { name: 'Past due' }).click();
    await app.getByTestId('invoice-totals').getByText('1 invoice shown').waitFor();
    expect(await app.getByTestId('invoices').locator('tbody tr').count()).toBe(1);
    expect((await app.getByTestId('invoice-totals').innerText()).replace(/\s+/g, ' ')).toContain('total $61.20, paid $0.00, due $61.20');
    await screenshotFrame(page, app, 'payments-agency-invoices.png', { published: true });
    await page.setViewportSize({ width: 800, height: 900 });
    await screenshotFrame(page, app, 'payments-agency-invoices-800.png');
    expect(world.pageErrors).toEqual([]);
  });
});
