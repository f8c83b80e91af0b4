import nock from 'nock';
import { drainReporter } from '../support/billing';
import { setUpPaymentsAgency, type PaymentsAgency } from '../support/payments';
import { startStripeStub, type StripeStub } from '../support/stripe-stub';
import { startTestService, type TestService } from '../support/test-service';

/**
 * Money per UTC month against the Stripe double: billed = invoices (draft/open/paid/uncollectible, by the month their
 * period starts, excluding tax) + the upcoming invoice (Stripe's preview); HighLevel's cost = usage × base cost,
 * rounded per (sub-account, month, metric) line to whole cents, halves up (docs.stripe.com/billing/subscriptions/decimal-amounts);
 * margin = billed − cost. And the CSV, and the Overview's needs-attention counts against the filtered list.
 */
const COMPANY = 'companyMoney000001';
const HARBOR = 'locMoneyHarbor00001';
const CEDAR = 'locMoneyCedar000001';

let t: TestService;
let stripe: StripeStub;
let agency: PaymentsAgency;
const customers: Record<string, string> = {};
let apiKey = '';
let sequence = 0;

const get = (path: string, token = agency.agencyToken) => t.http.get(path).set('authorization', `Bearer ${token}`);
const secondsOf = (d: Date) => Math.floor(d.getTime() / 1000);
const nowDate = new Date();
const thisMonthStart = new Date(Date.UTC(nowDate.getUTCFullYear(), nowDate.getUTCMonth(), 1));
const lastMonthStart = new Date(Date.UTC(nowDate.getUTCFullYear(), nowDate.getUTCMonth() - 1, 1));
const month = (d: Date) => d.toISOString().slice(0, 7);
const THIS = month(thisMonthStart);
const LAST = month(lastMonthStart);

async function record(locationId: string, metric: string, quantity: number, occurredAt: Date) {
  await t.http
    .post('/api/v1/usage')
    .set('authorization', `Bearer ${apiKey}`)
    .send({ events: [{ locationId, metric, quantity, occurredAt: occurredAt.toISOString(), idempotencyKey: `money-${sequence++}` }] })
    .expect(200);
}

beforeAll(async () => {
  stripe = await startStripeStub();
  t = await startTestService({ STRIPE_API_URL: stripe.url, REPORTER_RETRY_BASE_SECONDS: '0' });
  agency = await setUpPaymentsAgency(t, stripe, COMPANY, { flatFeeCents: 4900 });
  apiKey = (await t.service.apiKeys.create(COMPANY, 'money tests')).key;
  // HighLevel's cost of an SMS: half a cent (the grid's base cost, cents per message).
  await t.http.put('/api/pricing/sms').set('authorization', `Bearer ${agency.agencyToken}`)
    .send({ threshold: 1, price: { currency: 'usd', interval: 'month', unitAmountDecimal: '2' }, baseCostDecimal: '0.5' }).expect(200);
  customers[HARBOR] = await agency.addSubAccount(HARBOR, 'Harbor Dental');
  customers[CEDAR] = await agency.addSubAccount(CEDAR, 'Cedar Spa');
  // Harbor is billed: a subscription (SMS at 2¢ and the 49.00 fee); Cedar has a customer and no subscription.
  await t.http.put(`/api/sub-accounts/${HARBOR}/billing`).set('authorization', `Bearer ${agency.agencyToken}`).send({ rebillingEnabled: true }).expect(200);
  const midLastMonth = new Date(lastMonthStart.getTime() + 14 * 86_400_000 + 12 * 3_600_000);
  await record(CEDAR, 'sms', 7, midLastMonth); // 7 × 0.5 = 3.5 → 4
  await record(HARBOR, 'sms', 3, new Date()); // 3 × 0.5 = 1.5 → 2
  await record(CEDAR, 'sms', 5, new Date()); // 5 × 0.5 = 2.5 → 3 (half up; banker's rounding would say 2)
  await record(CEDAR, 'email', 4, new Date()); // no base cost for email: counted as 0 and named
  await drainReporter(t.service);

  const seed = (customer: string, status: string, periodStart: Date, extra: object) =>
    stripe.seedInvoice({ customer, status, period_start: secondsOf(periodStart), period_end: secondsOf(periodStart) + 30 * 86_400, created: secondsOf(periodStart) + 3600, due_date: null, attempt_count: 0, ...extra });
  // Last month's renewal, paid, with 500 of tax: billed 5000 (tax is not the agency's revenue), paid 5500.
  seed(customers[HARBOR]!, 'paid', lastMonthStart, { total: 5500, total_taxes: [{ amount: 500 }], amount_paid: 5500, amount_due: 5500 });
  seed(customers[CEDAR]!, 'uncollectible', lastMonthStart, { total: 900, total_excluding_tax: 900, amount_paid: 0, amount_due: 900 });
  seed(customers[CEDAR]!, 'void', lastMonthStart, { total: 7777, amount_paid: 0, amount_due: 0 });
  seed(customers[HARBOR]!, 'open', thisMonthStart, { total: 4900, total_excluding_tax: 4900, amount_paid: 0, amount_due: 4900 });
  seed(customers[HARBOR]!, 'paid', thisMonthStart, { currency: 'eur', total: 1234, amount_paid: 1234, amount_due: 1234 });
  seed('cus_notMeterbridge0002', 'paid', thisMonthStart, { total: 99_999, amount_paid: 99_999, amount_due: 99_999 });
  const longAgo = new Date(Date.UTC(nowDate.getUTCFullYear(), nowDate.getUTCMonth() - 9, 1));
  seed(customers[HARBOR]!, 'paid', longAgo, { total: 3000, amount_paid: 3000, amount_due: 3000 });
}, 240_000); // PGlite on a busy shared machine: the set-up makes many round trips
afterAll(async () => {
  nock.cleanAll();
  await t.close();
  await stripe.close();
});

const figures = (f: Partial<Record<'invoicedCents' | 'paidCents' | 'upcomingCents' | 'costCents', number>>) => {
  const [invoicedCents, paidCents, upcomingCents, costCents] = [f.invoicedCents ?? 0, f.paidCents ?? 0, f.upcomingCents ?? 0, f.costCents ?? 0];
  return { invoicedCents, paidCents, upcomingCents, billedCents: invoicedCents + upcomingCents, costCents, marginCents: invoicedCents + upcomingCents - costCents };
};

describe('money per month', () => {
  it('when the agency asks for six months, then each UTC month has billed (invoices + preview, excluding tax), cost (line-rounded) and margin in cents', async () => {
    const body = (await get('/api/money?months=6').expect(200)).body;
    expect(body.currency).toBe('usd');
    expect(body.months.map((m: { month: string }) => m.month)).toHaveLength(6);
    expect(body.months.at(-1).month).toBe(THIS);
    const byMonth = new Map(body.months.map((m: { month: string }) => [m.month, m]));
    expect(byMonth.get(LAST)).toEqual({ month: LAST, ...figures({ invoicedCents: 5000 + 900, paidCents: 5500, costCents: 4 }) });
    // The preview: 3 SMS at 2¢ + next period's 49.00 fee = 4906, as Stripe previews it; cost 2 + 3 (two lines, each rounded).
    expect(byMonth.get(THIS)).toEqual({ month: THIS, ...figures({ invoicedCents: 4900, upcomingCents: 4906, costCents: 5 }) });
    for (const m of body.months.slice(0, 4)) expect(m).toEqual({ month: m.month, ...figures({}) });
    expect(body.nextInvoice).toEqual({ totalCents: 4906, count: 1, currency: 'usd' });
    expect(body.billing).toEqual({ available: true, reason: null, otherCurrencyInvoices: 1, truncated: false, previewErrors: [] });
    expect(body.metricsWithoutBaseCost).toEqual(['email']);
    expect(body.monthRule).toMatch(/UTC calendar months/);
    const list = stripe.requestLog.filter((r) => r.path === '/v1/invoices' && r.method === 'GET').at(-1)!;
    expect(list.params).toMatchObject({ created: { gte: String(Math.floor(Date.UTC(nowDate.getUTCFullYear(), nowDate.getUTCMonth() - 5, 1) / 1000)) } });
  });

  it('when the agency asks for this month per sub-account, then each sub-account has its figures and the totals add up', async () => {
    const body = (await get(`/api/money/sub-accounts?month=${THIS}`).expect(200)).body;
    expect(body.items).toEqual([
      { locationId: CEDAR, name: 'Cedar Spa', ...figures({ costCents: 3 }) },
      { locationId: HARBOR, name: 'Harbor Dental', ...figures({ invoicedCents: 4900, upcomingCents: 4906, costCents: 2 }) },
    ]);
    expect(body.totals).toEqual(figures({ invoicedCents: 4900, upcomingCents: 4906, costCents: 5 }));
    expect((await get('/api/money/sub-accounts?month=2026-13').expect(400)).body.error.code).toBe('invalid_request');
  });

  it('when the agency downloads the report, then the CSV has one line per sub-account and month with figures, and each month’s total', async () => {
    const res = await get('/api/money/export.csv?months=2').expect(200);
    expect(res.headers['content-type']).toMatch(/text\/csv/);
    expect(res.headers['content-disposition']).toMatch(/attachment; filename="?meterbridge-cost-vs-rebilled-/);
    expect(res.text.trim().split('\n')).toEqual([
      'month,sub_account_id,sub_account_name,currency,invoiced_cents,upcoming_cents,billed_cents,highlevel_cost_cents,margin_cents',
      `${LAST},${CEDAR},Cedar Spa,usd,900,0,900,4,896`,
      `${LAST},${HARBOR},Harbor Dental,usd,5000,0,5000,0,5000`,
      `${LAST},,All sub-accounts,usd,5900,0,5900,4,5896`,
      `${THIS},${CEDAR},Cedar Spa,usd,0,0,0,3,-3`,
      `${THIS},${HARBOR},Harbor Dental,usd,4900,4906,9806,2,9804`,
      `${THIS},,All sub-accounts,usd,4900,4906,9806,5,9801`,
    ]);
  });

  it('when Stripe makes a new invoice, then the figures are cached until the invoice webhook, and fresh right after it', async () => {
    const before = (await get('/api/money?months=1').expect(200)).body.months[0].invoicedCents;
    const created = stripe.seedInvoice({ customer: customers[CEDAR]!, status: 'paid', total: 1500, total_excluding_tax: 1500, amount_paid: 1500, amount_due: 1500, period_start: secondsOf(new Date()), period_end: secondsOf(new Date()) });
    expect((await get('/api/money?months=1').expect(200)).body.months[0].invoicedCents).toBe(before);
    await agency.sendEvent('invoice.paid', { id: created.id, object: 'invoice', customer: customers[CEDAR] });
    expect((await get('/api/money?months=1').expect(200)).body.months[0].invoicedCents).toBe(before + 1500);
  });

  it('when the agency has not connected Stripe, then the cost is still answered and billed says why it is missing', async () => {
    const other = 'companyMoneyNoStripe1';
    await t.service.accounts.registerAgency(other, 'No Stripe');
    const token = (await t.service.sessionTokens.issue({ userId: 'u-nostripe', companyId: other, type: 'agency', role: 'user', activeLocation: null })).token;
    const body = (await get('/api/money?months=1', token).expect(200)).body;
    expect(body.billing).toMatchObject({ available: false, reason: 'Connect your Stripe account first.' });
    expect(body.months[0]).toEqual({ month: THIS, ...figures({}) });
  });
});

describe('usage in money', () => {
  it('when the agency asks for this month’s usage in money, then each metric has its billed amount and cost, buckets add up, and only money is totalled', async () => {
    const today = new Date().toISOString().slice(0, 10);
    const body = (await get(`/api/usage/amounts?from=${THIS}-01&to=${today}&granularity=day`).expect(200)).body;
    // SMS units are billed when their threshold is crossed: Harbor 3 + Cedar 5, and Cedar's 7 of last month, recorded
    // late, cross now: 15 units at 2¢ = 30. Cost follows usage's own day: 1.5 → 2 and 2.5 → 3. Email: used, no base cost.
    expect(body.totals).toEqual([
      { metric: 'email', amountCents: 0, costCents: 0, priced: true, costed: false },
      { metric: 'sms', amountCents: 30, costCents: 5, priced: true, costed: true },
    ]);
    expect(body).toMatchObject({ currency: 'usd', totalAmountCents: 30, totalCostCents: 5 });
    expect(body.series.reduce((sum: number, p: { amountCents: number }) => sum + p.amountCents, 0)).toBe(30);
    expect((await get(`/api/usage/amounts?locationId=${HARBOR}&from=${THIS}-01&to=${today}`).expect(200)).body.totals).toEqual([
      { metric: 'sms', amountCents: 6, costCents: 2, priced: true, costed: true },
    ]);
    expect((await get('/api/usage/amounts?locationId=locSomeoneElse0001').expect(404)).body.error.code).toBe('not_found');
  });
});

describe('needs attention', () => {
  it('when a sub-account is billed without a card and another has no subscription, then each count links to the list filtered to exactly those', async () => {
    const body = (await get('/api/overview/attention').expect(200)).body;
    const count = (kind: string) => body.items.find((i: { kind: string }) => i.kind === kind);
    expect(body.items.map((i: { kind: string }) => i.kind)).toEqual(['not_billing', 'no_card', 'payment_failed', 'rejected', 'drift', 'needs_reinstall']);
    expect(count('not_billing')).toMatchObject({ count: 1, to: '/sub-accounts?status=not_billing' });
    expect(count('no_card')).toMatchObject({ count: 1, to: '/sub-accounts?status=no_card' });
    expect(count('payment_failed').count).toBe(0);
    const ids = async (status: string) => (await get(`/api/sub-accounts?status=${status}`).expect(200)).body.items.map((i: { locationId: string }) => i.locationId);
    expect(await ids('not_billing')).toEqual([CEDAR]);
    expect(await ids('no_card')).toEqual([HARBOR]);
    expect(await ids('drift')).toEqual([]);
    expect(await ids('payment_failed')).toEqual([]);
  });

  it('when a client’s payment fails, then "payment failed" counts it and its link lists exactly that sub-account', async () => {
    const invoice = stripe.seedInvoice({
      customer: customers[HARBOR]!, status: 'open', number: 'INV-MONEY-FAIL', total: 4200, amount_due: 4200, attempt_count: 1,
      period_start: secondsOf(thisMonthStart), period_end: secondsOf(new Date()), next_payment_attempt: secondsOf(new Date()) + 3 * 86_400,
      payments: { data: [{ id: 'inpay_money', object: 'invoice_payment', created: 1, status: 'open', payment: { type: 'payment_intent', payment_intent: {
        id: 'pi_money', object: 'payment_intent', status: 'requires_payment_method', last_payment_error: { code: 'card_declined', decline_code: 'generic_decline', message: 'Your card was declined.' } } } }] },
    });
    await agency.sendEvent('invoice.payment_failed', { id: invoice.id, object: 'invoice', customer: customers[HARBOR] });
    const body = (await get('/api/overview/attention').expect(200)).body;
    expect(body.items.find((i: { kind: string }) => i.kind === 'payment_failed')).toMatchObject({ count: 1, to: '/sub-accounts?status=payment_failed' });
    const listed = (await get('/api/sub-accounts?status=payment_failed').expect(200)).body.items;
    expect(listed.map((i: { locationId: string; billingStatus: string }) => [i.locationId, i.billingStatus])).toEqual([[HARBOR, 'delinquent']]);
  });
});
