import nock from 'nock';
import { HIGHLEVEL_API } from '../support/highlevel-oauth';
import { screenshotFrame } from './support/browser';
import { startBrowserWorld, type BrowserWorld } from './support/browser-world';

/**
 * The suspension policy as people see it: the agency sets it on the Invoices page; after the third failed attempt
 * one sub-account is suspended and paused in HighLevel, another suspended with HighLevel's refusal shown; the list
 * and the sub-account's page say so; the client's own view shows the payment required with the link to pay.
 * Screenshots at 1280 and 800 px.
 */
jest.setTimeout(180_000);

const COMPANY = 'companyBrowserSusp01';
const COMPANY_TOKEN = 'at-susp';
const INVOICE_URL = 'https://invoice.stripe.com/i/acct_test/suspension';
let PAUSED = '';
let REFUSED = '';
let world: BrowserWorld;

beforeAll(async () => {
  world = await startBrowserWorld({
    company: COMPANY,
    locations: ['Harbor Dental', 'Pine Realty'],
    accessToken: COMPANY_TOKEN,
    extraScopes: ['saas/company.read', 'saas/company.write'],
    users: { client: { userName: 'Dana Dental', role: 'user', location: 0 } },
  });
  [PAUSED, REFUSED] = world.locationIds as [string, string];
  await world.api.put('/api/pricing/sms', { threshold: 1, price: { currency: 'usd', interval: 'month', unitAmountDecimal: '2' } });
  await world.api.put('/api/suspension/settings', { policy: 'stop_billing_and_pause', afterAttempts: 3 });
  for (const [locationId, number, answer] of [
    [PAUSED, 'HD-0042', { status: 201, body: {} }],
    [REFUSED, 'PR-0007', { status: 403, body: { statusCode: 403, message: 'The SaaS API is available on the Agency Pro plan' } }],
  ] as const) {
    const customer = (await world.api.put(`/api/sub-accounts/${locationId}/customer`, { create: true })).body.stripeCustomerId;
    await world.api.put(`/api/sub-accounts/${locationId}/billing`, { subscription: {} });
    const invoice = world.stripe.seedInvoice({
      customer, status: 'open', number, amount_due: 4250, total: 4250, period_start: Math.floor(Date.now() / 1000) - 30 * 86_400, period_end: Math.floor(Date.now() / 1000), attempt_count: 3, next_payment_attempt: Math.floor(Date.now() / 1000) + 3 * 86_400, hosted_invoice_url: INVOICE_URL,
      payments: { data: [{ id: `inpay_${number}`, object: 'invoice_payment', created: 1, status: 'open', payment: { type: 'payment_intent', payment_intent: { id: `pi_${number}`, object: 'payment_intent', status: 'requires_payment_method', last_payment_error: { code: 'card_declined', decline_code: 'insufficient_funds', message: 'Your card has insufficient funds.' } } } }] },
    });
    const pause = nock(HIGHLEVEL_API, { reqheaders: { version: '2021-04-15', authorization: `Bearer ${COMPANY_TOKEN}` } })
      .post(`/saas/pause/${locationId}`, { paused: true, companyId: COMPANY })
      .reply(answer.status, answer.body);
    await world.sendStripeEvent('invoice.payment_failed', { id: invoice.id, object: 'invoice' });
    expect(pause.isDone()).toBe(true);
  }
});

afterAll(() => world?.close());

describe('suspension for non-payment on the page', () => {
  it('when the agency opens the Invoices page, then the policy it set shows, and an admin can change it', async () => {
    const { page, app } = await world.openAgencyPage();
    await app.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name: 'Invoices', exact: true }).click();
    const card = app.locator('section', { has: app.getByRole('heading', { name: 'Suspension for non-payment' }) });
    await card.waitFor();
    expect(await card.getByRole('radio', { name: /Stop billing and pause the sub-account in HighLevel/ }).isChecked()).toBe(true);
    expect(await card.getByLabel(/Suspend after this many failed payment attempts/).inputValue()).toBe('3');
    await card.scrollIntoViewIfNeeded();
    await screenshotFrame(page, app, 'suspension-settings-1280.png');

    await card.getByRole('radio', { name: /Stop billing new usage/ }).check();
    await card.getByLabel(/Suspend after this many failed payment attempts/).fill('2');
    await card.getByRole('button', { name: 'Save the policy' }).click();
    await card.getByText('Suspension policy saved.').waitFor();
    expect((await world.api.get('/api/suspension/settings')).body).toMatchObject({ policy: 'stop_billing', afterAttempts: 2 });
  });

  it('when the agency opens the list and the sub-accounts, then it sees who is suspended, paused in HighLevel, or refused by HighLevel with its message', async () => {
    for (const width of [1280, 800]) {
      const { page, app } = await world.openPage('agency', width);
      await app.getByRole('heading', { name: 'Usage billing' }).waitFor();
      await app.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name: 'Sub-accounts', exact: true }).click();
      const paused = app.locator('tr', { hasText: 'Harbor Dental' });
      await paused.getByTestId('suspended-badge').waitFor();
      expect(await paused.getByTestId('highlevel-pause-badge').innerText()).toBe('Paused in HighLevel');
      const refused = app.locator('tr', { hasText: 'Pine Realty' });
      expect(await refused.getByTestId('highlevel-pause-badge').innerText()).toBe('HighLevel error');
      expect(await refused.getByTestId('highlevel-pause-badge').getAttribute('title')).toContain('The SaaS API is available on the Agency Pro plan');
      await screenshotFrame(page, app, `suspension-list-${width}.png`, { published: width === 1280 });

      await refused.getByRole('link', { name: 'Pine Realty' }).click();
      const card = app.getByTestId('suspension-card');
      await card.waitFor();
      expect(await card.getByTestId('suspension-summary').innerText()).toMatch(/^Suspended for non-payment since .* UTC \(3 failed payment attempts\)/);
      expect(await card.getByTestId('suspension-highlevel').innerText()).toBe(`HighLevel refused the pause: POST /saas/pause/${REFUSED}: The SaaS API is available on the Agency Pro plan`);
      expect(await app.getByRole('link', { name: 'invoice PR-0007' }).getAttribute('href')).toBe(INVOICE_URL);
      await card.getByText('Paying the unpaid invoice (link above) resumes it by itself.').waitFor();
      await card.getByRole('button', { name: 'Resume this sub-account now' }).waitFor();
      await screenshotFrame(page, app, `suspension-sub-account-${width}.png`);
    }
  });

  it('when the client opens its own view, then it sees the payment required and the link to pay', async () => {
    for (const width of [1280, 800]) {
      const { page, app } = await world.openPage('client', width);
      const alert = app.getByTestId('payment-required');
      await alert.waitFor();
      const text = (await alert.innerText()).replace(/\s+/g, ' ');
      expect(text).toContain('Payment required: your account is suspended');
      expect(text).toContain('the account is paused until the invoice is paid');
      expect(text).toContain('Invoice HD-0042: $42.50 due — Your card has insufficient funds.');
      expect(await app.getByTestId('pay-link').getAttribute('href')).toBe(INVOICE_URL);
      await screenshotFrame(page, app, `suspension-client-${width}.png`, { published: width === 800 });
    }
    expect(world.pageErrors).toEqual([]);
  });
});
