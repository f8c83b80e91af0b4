import { screenshotFrame } from './support/browser';
import { startBrowserWorld, type BrowserWorld } from './support/browser-world';

/**
 * A failed payment as people see it: the agency sees the sub-account flagged with Stripe's decline and the invoice
 * link to send; the client (sub-account user) sees "Payment required" with the amount due and a button to Stripe's
 * hosted invoice page.
 */
jest.setTimeout(120_000);

const COMPANY = 'companyBrowserDun001';
const INVOICE_URL = 'https://invoice.stripe.com/i/acct_test/dunning';
let world: BrowserWorld;

beforeAll(async () => {
  world = await startBrowserWorld({ company: COMPANY, locations: ['Harbor Dental'], users: { client: { userName: 'Dana Dental', location: 0 } } });
  const [locationId] = world.locationIds as [string];
  await world.api.put('/api/pricing/sms', { threshold: 1, price: { currency: 'usd', interval: 'month', unitAmountDecimal: '2' } });
  const customer = (await world.api.put(`/api/sub-accounts/${locationId}/customer`, { create: true })).body.stripeCustomerId;
  const invoice = world.stripe.seedInvoice({
    customer,
    status: 'open',
    number: 'HD-0042',
    amount_due: 4250,
    attempt_count: 1,
    next_payment_attempt: Math.floor(Date.now() / 1000) + 3 * 86_400,
    hosted_invoice_url: INVOICE_URL,
    payments: { data: [{ id: 'inpay_1', object: 'invoice_payment', created: 1, status: 'open', payment: { type: 'payment_intent', payment_intent: { id: 'pi_1', object: 'payment_intent', status: 'requires_payment_method', last_payment_error: { code: 'card_declined', decline_code: 'insufficient_funds', message: 'Your card has insufficient funds.' } } } }] },
  });
  await world.sendStripeEvent('invoice.payment_failed', { id: invoice.id, object: 'invoice' });
});

afterAll(() => world?.close());

describe('a failed payment on the page', () => {
  it('when the agency opens the sub-account, then it is flagged with Stripe’s decline and the invoice link to send', async () => {
    const { page, app } = await world.openAgencyPage();
    await app.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name: 'Sub-accounts', exact: true }).click();
    const row = app.locator('tr', { hasText: 'Harbor Dental' });
    await row.getByText('Delinquent').waitFor();
    await row.getByRole('link', { name: 'Harbor Dental' }).click();
    await app.getByText('Your card has insufficient funds. (insufficient_funds)').first().waitFor();
    expect(await app.getByRole('link', { name: 'invoice HD-0042' }).getAttribute('href')).toBe(INVOICE_URL);
    await screenshotFrame(page, app, 'dunning-agency.png');
  });

  it('when the client opens its own view, then it sees the payment required, the amount and a button to pay', async () => {
    const { page, app } = await world.openPage('client', 800);
    const alert = app.getByRole('alert').filter({ hasText: 'Payment required' });
    await alert.waitFor();
    expect((await alert.innerText()).replace(/\s+/g, ' ')).toContain('Invoice HD-0042: $42.50 due — Your card has insufficient funds.');
    expect(await app.getByRole('link', { name: 'Pay the invoice' }).getAttribute('href')).toBe(INVOICE_URL);
    await screenshotFrame(page, app, 'dunning-client-800.png');
    expect(world.pageErrors).toEqual([]);
  });
});
