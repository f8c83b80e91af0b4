import nock from 'nock';
import { screenshotFrame } from './support/browser';
import { startBrowserWorld, type BrowserWorld } from './support/browser-world';

/**
 * Alerts as the agency sees them (issue 16, item 5): it sets its webhook URL and is shown the signing secret once;
 * a client's payment fails; the unread count appears in the top bar on every page; the Notifications page lists the
 * alert with a link to the sub-account and the default usage threshold it set; the delivery log shows the webhook refused (500) and its next retry; marking
 * it read clears the count. At 1280 and 800 px.
 */
jest.setTimeout(150_000);

const COMPANY = 'companyBrowserAlr001';
const RECEIVER = 'https://hooks.agency.example';
let LOCATION = '';
let world: BrowserWorld;
let customer = '';

/** Stripe tells Meterbridge a payment failed (a hint: the invoice is re-read from the Stripe double). */
async function failPayment() {
  const invoice = world.stripe.seedInvoice({
    customer, status: 'open', number: 'INV-BROWSER-1', amount_due: 4200, attempt_count: 1, next_payment_attempt: Math.floor(Date.now() / 1000) + 3 * 86400,
    payments: { data: [{ id: 'inpay_b', object: 'invoice_payment', created: 1, status: 'open', payment: { type: 'payment_intent', payment_intent: { id: 'pi_b', object: 'payment_intent', status: 'requires_payment_method', last_payment_error: { code: 'card_declined', decline_code: 'insufficient_funds', message: 'Your card has insufficient funds.' } } } }] },
  });
  await world.sendStripeEvent('invoice.payment_failed', { id: invoice.id, object: 'invoice' });
}

beforeAll(async () => {
  world = await startBrowserWorld({ company: COMPANY, locations: ['Harbor Dental'] });
  [LOCATION] = world.locationIds as [string];
  await world.api.put('/api/pricing/sms', { threshold: 1, price: { currency: 'usd', interval: 'month', unitAmountDecimal: '2' } });
  customer = (await world.api.put(`/api/sub-accounts/${LOCATION}/customer`, { create: true })).body.stripeCustomerId as string;
  await world.api.put(`/api/sub-accounts/${LOCATION}/billing`, { rebillingEnabled: true });
});

afterAll(() => world?.close());

describe('alerts on the page', () => {
  it('when the agency sets its webhook and a payment fails, then it sees the unread count, the notification and the delivery log', async () => {
    const { page, app } = await world.openAgencyPage();
    const nav = app.getByRole('navigation', { name: 'Sections' });
    await nav.getByRole('link', { name: /^Notifications/ }).click();
    await app.getByText('No alerts yet.').waitFor();
    await app.getByLabel('Endpoint URL (https)').fill(`${RECEIVER}/meterbridge`);
    await app.getByLabel('Send alerts to this URL').check();
    await app.getByRole('button', { name: 'Save webhook' }).click();
    const secret = await app.getByRole('textbox', { name: /Your signing secret/ }).inputValue();
    expect(secret).toMatch(/^whsec_/);
    await screenshotFrame(page, app, 'alerts-webhook-secret-1280.png');
    await app.getByRole('button', { name: 'I have stored it' }).click();
    // A default usage alert: 100 SMS a month for every sub-account.
    await app.getByLabel('Threshold (units)').fill('100');
    await app.getByRole('button', { name: 'Set threshold' }).click();
    await app.getByTestId('thresholds').locator('tr', { hasText: 'Every sub-account (default)' }).getByText('100').waitFor();

    await failPayment();
    nock(RECEIVER).post('/meterbridge').reply(500, 'down for maintenance');
    expect(await world.t.service.alerts.delivery.deliverDue()).toEqual({ delivered: 0, retrying: 1, failed: 0 });

    // Any page change re-reads the count: the badge shows on the Overview.
    await nav.getByRole('link', { name: 'Overview', exact: true }).click();
    await app.getByTestId('unread-badge').getByText('1').waitFor();
    await screenshotFrame(page, app, 'alerts-badge-overview-1280.png');
    await nav.getByRole('link', { name: /^Notifications/ }).click();
    const item = app.getByTestId('notification');
    await item.getByText('Payment failed: Harbor Dental').waitFor();
    await item.getByText(/Your card has insufficient funds/).waitFor();
    expect(await item.getByRole('link', { name: 'Open Harbor Dental' }).getAttribute('href')).toBe(`/app/sub-accounts/${LOCATION}`);
    const log = app.getByTestId('delivery-log');
    const row = log.locator('tr', { hasText: 'Payment failed: Harbor Dental' });
    await row.getByText('Retrying').waitFor();
    await row.getByRole('cell', { name: '500' }).waitFor();
    await screenshotFrame(page, app, 'alerts-notifications.png', { published: true });

    await page.setViewportSize({ width: 800, height: 900 });
    await screenshotFrame(page, app, 'alerts-notifications-800.png');
    await item.getByRole('button', { name: 'Mark read' }).click();
    await app.getByTestId('unread-badge').waitFor({ state: 'detached' });
    await item.getByText('Unread').waitFor({ state: 'detached' });
    expect(world.pageErrors).toEqual([]);
  });
});
