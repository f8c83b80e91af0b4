import { attachTestCard } from '../support/stripe/customers';
import { screenshotFrame } from './support/browser';
import { startBrowserWorld, type BrowserWorld } from './support/browser-world';

/**
 * The prepaid wallet as people see it (issue 17): the client (a sub-account admin, 800 px and 1280 px wide) sees an
 * empty wallet flagged low, tops it up on Stripe Checkout (the hosted page is a stand-in; the test completes the
 * session and Stripe's event arrives) and sees the credit; the agency sees the balances of its wallets with the
 * negative and low ones flagged, opens one, and refunds the unused part of the client's top-up, the rule explained.
 */
jest.setTimeout(180_000);

const COMPANY = 'companyBrowserWal001';
let HARBOR = '';
let CEDAR = '';
let world: BrowserWorld;
const customers: Record<string, string> = {};

beforeAll(async () => {
  world = await startBrowserWorld({ company: COMPANY, locations: ['Harbor Dental', 'Cedar Spa'], users: { client: { userName: 'Dana Dental', location: 0 } } });
  [HARBOR, CEDAR] = world.locationIds as [string, string];
  await world.api.put('/api/pricing/sms', { threshold: 1, price: { currency: 'usd', interval: 'month', unitAmountDecimal: '2' } });
  for (const [location, card] of [[HARBOR, 'pm_card_visa'], [CEDAR, 'pm_card_chargeDeclined']] as const) {
    const customer = (await world.api.put(`/api/sub-accounts/${location}/customer`, { create: true })).body.stripeCustomerId as string;
    customers[location] = customer;
    attachTestCard(world.stripe.state, card, customer);
    world.stripe.state.customers.get(customer)!.invoice_settings = { default_payment_method: card };
    await world.api.put(`/api/sub-accounts/${location}/billing`, { rebillingEnabled: true });
  }
  await world.api.put('/api/wallets/settings', { billingMode: 'prepaid', currency: 'usd', initialTopUpCents: 5000, thresholdCents: 1000, topUpCents: 2000, maxBalanceCents: 10000, monthlyCapCents: null });
  // Cedar Spa sends 150 SMS (3.00) with no credit; its card declines the automatic top-up: a negative balance.
  const apiKey = (await world.t.service.apiKeys.create(COMPANY, 'browser wallets')).key;
  await world.t.http.post('/api/v1/usage').set('authorization', `Bearer ${apiKey}`)
    .send({ events: [{ locationId: CEDAR, metric: 'sms', quantity: 150, occurredAt: new Date().toISOString(), idempotencyKey: 'wal-cedar-1' }] }).expect(200);
  await world.t.drain();
  await world.t.service.wallets.idle();
});

afterAll(() => world?.close());

describe('the prepaid wallet on the page', () => {
  it('when the client tops up its empty wallet on Stripe Checkout, then the credit shows once Stripe confirms the payment', async () => {
    const { context, page, app } = await world.openPage('client', 800);
    // Stripe's hosted page is out of reach here: the new tab gets a stand-in, and the test completes the session.
    await context.route('https://checkout.stripe.com/**', (route) => route.fulfill({ contentType: 'text/html', body: '<h1>Stripe Checkout (stand-in)</h1>' }));
    const wallet = app.getByTestId('wallet');
    await wallet.getByText('Low balance').waitFor();
    await wallet.getByTestId('wallet-balance').getByText('$0.00').waitFor();
    await wallet.getByLabel('Amount').fill('50');
    const [tab] = await Promise.all([context.waitForEvent('page'), wallet.getByRole('button', { name: 'Top up now' }).click()]);
    await tab.waitForURL(/^https:\/\/checkout\.stripe\.com\/c\/pay\/cs_test_/);
    const sessionId = new URL(tab.url()).pathname.split('/').at(-1)!;
    expect(world.stripe.state.checkoutSessions.get(sessionId)).toMatchObject({ mode: 'payment', amount_total: 5000, currency: 'usd' });
    await wallet.getByText(/Pay \$50\.00 on Stripe’s page/).waitFor();
    await screenshotFrame(page, app, 'wallet-client-checkout-800.png');
    world.stripe.completeCheckoutSession(sessionId);
    await world.sendStripeEvent('checkout.session.completed', { id: sessionId, object: 'checkout.session', customer: customers[HARBOR] });
    await tab.close();

    await wallet.getByRole('button', { name: 'Refresh' }).click();
    await wallet.getByTestId('wallet-balance').getByText('$50.00').waitFor();
    await wallet.locator('tr', { hasText: 'Paid on Stripe' }).getByText('Credited').waitFor();
    expect([...world.stripe.state.creditGrants.values()].map((g) => g.amount.monetary.value)).toEqual([5000]);
    await screenshotFrame(page, app, 'wallet-client-800.png');
    await page.setViewportSize({ width: 1280, height: 900 });
    await screenshotFrame(page, app, 'wallet-client-1280.png');
    expect(world.pageErrors).toEqual([]);
  });

  it('when the agency opens Wallets, then negative and low wallets come first and flagged, and it refunds the unused part of a top-up', async () => {
    const { page, app } = await world.openAgencyPage();
    await app.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name: 'Wallets', exact: true }).click();
    const table = app.getByTestId('wallet-balances');
    await table.locator('tr', { hasText: 'Cedar Spa' }).getByText('Negative').waitFor();
    expect((await table.locator('tbody tr').first().innerText()).replace(/\s+/g, ' ')).toContain('Cedar Spa -$3.00 $10.00 Negative');
    expect((await table.locator('tr', { hasText: 'Cedar Spa' }).innerText()).replace(/\s+/g, ' ')).toContain('declined');
    await app.getByTestId('wallet-counts').getByText('1 negative').waitFor();
    await screenshotFrame(page, app, 'wallet-agency-balances-1280.png');

    // Harbor Dental: 50.00 of credit; 5.00 of SMS since → 45.00 refundable of the 50.00 top-up.
    const apiKey = (await world.t.service.apiKeys.create(COMPANY, 'browser wallets 2')).key;
    await world.t.http.post('/api/v1/usage').set('authorization', `Bearer ${apiKey}`)
      .send({ events: [{ locationId: HARBOR, metric: 'sms', quantity: 250, occurredAt: new Date().toISOString(), idempotencyKey: 'wal-harbor-1' }] }).expect(200);
    await world.t.drain();
    await world.t.service.wallets.idle();
    await table.locator('tr', { hasText: 'Harbor Dental' }).getByRole('button', { name: 'Top up or refund' }).click();
    const details = app.getByTestId('wallet-details');
    await details.getByTestId('wallet-balance').getByText('$45.00').waitFor();
    await details.getByRole('button', { name: 'Refund the top-up of $50.00' }).click();
    const refund = details.getByTestId('refund-top-up');
    await refund.getByTestId('refundable').getByText('$45.00').waitFor();
    await refund.getByText(/the wallet’s balance after the usage not yet invoiced \(\$45\.00/).waitFor();
    await screenshotFrame(page, app, 'wallet-agency-refund.png', { published: true });
    await refund.getByLabel('Amount').fill('20');
    await refund.getByRole('button', { name: 'Refund to the card' }).click();
    await refund.getByText('$20.00 refunded to the card.').waitFor();
    await details.getByTestId('wallet-refunds').getByText(/\$20\.00 of top-up #\d+ — refunded to the card/).waitFor();
    await details.getByTestId('wallet-balance').getByText('$25.00').waitFor();
    expect([...world.stripe.state.refunds.values()].map((r) => r.amount)).toEqual([2000]);
    await page.setViewportSize({ width: 800, height: 900 });
    await screenshotFrame(page, app, 'wallet-agency-refund-800.png');
    expect(world.pageErrors).toEqual([]);
  });
});
