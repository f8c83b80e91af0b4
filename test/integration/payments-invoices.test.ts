import nock from 'nock';
import { drainReporter } from '../support/billing';
import { setUpPaymentsAgency, type PaymentsAgency } from '../support/payments';
import { startStripeStub, type StripeStub } from '../support/stripe-stub';
import { startTestService, type TestService } from '../support/test-service';

/**
 * Invoices read from Stripe: per sub-account (paginated with Stripe's cursor), agency-wide by status with totals in
 * cents, cached for 30 s and cleared by an invoice webhook; the next invoice as Stripe previews it.
 */
const COMPANY = 'companyPayInvoices01';
const HARBOR = 'locPayInvHarbor00001';
const CEDAR = 'locPayInvCedar000001';
const DAY = 86_400;

let t: TestService;
let stripe: StripeStub;
let agency: PaymentsAgency;
const customers: Record<string, string> = {};

const get = (path: string, token = agency.agencyToken) => t.http.get(path).set('authorization', `Bearer ${token}`);
const now = () => Math.floor(Date.now() / 1000);

beforeAll(async () => {
  stripe = await startStripeStub();
  t = await startTestService({ STRIPE_API_URL: stripe.url, REPORTER_RETRY_BASE_SECONDS: '0' });
  agency = await setUpPaymentsAgency(t, stripe, COMPANY, { flatFeeCents: 4900 });
  customers[HARBOR] = await agency.addSubAccount(HARBOR, 'Harbor Dental');
  customers[CEDAR] = await agency.addSubAccount(CEDAR, 'Cedar Spa');
  const seed = (customer: string, status: string, extra: object) =>
    stripe.seedInvoice({ customer, status, number: `INV-${status}-${Math.random().toString(36).slice(2, 7)}`, period_start: now() - 30 * DAY, period_end: now(), hosted_invoice_url: 'https://invoice.stripe.com/i/x', invoice_pdf: 'https://pay.stripe.com/invoice/x/pdf', due_date: null, attempt_count: 0, ...extra });
  seed(customers[HARBOR]!, 'paid', { total: 5100, amount_paid: 5100, amount_due: 5100 });
  seed(customers[HARBOR]!, 'open', { total: 7300, amount_paid: 0, amount_due: 7300, attempt_count: 2 }); // charged automatically, failed: past due
  seed(customers[HARBOR]!, 'open', { total: 1000, amount_paid: 0, amount_due: 1000, due_date: now() + 5 * DAY }); // sent, not due yet
  seed(customers[CEDAR]!, 'open', { total: 2500, amount_paid: 0, amount_due: 2500, due_date: now() - DAY }); // sent, overdue
  seed(customers[CEDAR]!, 'uncollectible', { total: 900, amount_paid: 0, amount_due: 900 });
  seed('cus_notMeterbridge0001', 'open', { total: 99_999, amount_paid: 0, amount_due: 99_999, due_date: now() - DAY }); // another business of the account
});
afterAll(async () => {
  nock.cleanAll();
  await t.close();
  await stripe.close();
});

describe('invoices', () => {
  it('when the client lists its invoices two at a time, then each page follows Stripe’s cursor, newest first, with amounts in cents and links', async () => {
    const client = await agency.clientToken(HARBOR, false);
    const first = (await get(`/api/sub-accounts/${HARBOR}/invoices?limit=2`, client).expect(200)).body;
    expect(first.invoices.map((i: { totalCents: number }) => i.totalCents)).toEqual([1000, 7300]);
    expect(first.hasMore).toBe(true);
    expect(first.invoices[1]).toMatchObject({ status: 'open', pastDue: true, amountPaidCents: 0, amountDueCents: 7300, locationId: HARBOR, hostedInvoiceUrl: expect.any(String), invoicePdf: expect.any(String) });
    expect(first.invoices[0].pastDue).toBe(false);
    const second = (await get(`/api/sub-accounts/${HARBOR}/invoices?limit=2&startingAfter=${first.nextCursor}`, client).expect(200)).body;
    expect(second).toMatchObject({ hasMore: false, nextCursor: null, totals: [{ currency: 'usd', totalCents: 5100, amountPaidCents: 5100, amountDueCents: 5100, count: 1 }] });
    const other = await get(`/api/sub-accounts/${CEDAR}/invoices`, client);
    expect(other.status).toBe(403);
  });

  it('when the agency filters by status, then past due means open and overdue (or attempted), only its own customers count, and totals add up in cents', async () => {
    const pastDue = (await get('/api/invoices?status=past_due').expect(200)).body;
    expect(pastDue.invoices.map((i: { locationId: string; totalCents: number }) => [i.locationId, i.totalCents]).sort()).toEqual([[CEDAR, 2500], [HARBOR, 7300]].sort());
    expect(pastDue.totals).toEqual([{ currency: 'usd', totalCents: 9800, amountPaidCents: 0, amountDueCents: 9800, count: 2 }]);
    const open = (await get('/api/invoices?status=open').expect(200)).body;
    expect(open.totals[0]).toMatchObject({ totalCents: 10_800, count: 3 });
    expect((await get('/api/invoices?status=uncollectible').expect(200)).body.invoices).toEqual([expect.objectContaining({ locationId: CEDAR, totalCents: 900 })]);
    expect((await get('/api/invoices?status=paid').expect(200)).body.totals[0]).toMatchObject({ totalCents: 5100 });
    expect((await get('/api/invoices?status=late').expect(400)).body.error.code).toBe('invalid_request');
  });

  it('when Stripe makes a new invoice, then the list is served from the cache until the invoice webhook arrives, and fresh right after it', async () => {
    const before = (await get(`/api/sub-accounts/${CEDAR}/invoices`).expect(200)).body.invoices.length;
    const created = stripe.seedInvoice({ customer: customers[CEDAR]!, status: 'paid', total: 4200, amount_paid: 4200, amount_due: 4200, period_start: now(), period_end: now() });
    expect((await get(`/api/sub-accounts/${CEDAR}/invoices`).expect(200)).body.invoices).toHaveLength(before);
    await agency.sendEvent('invoice.paid', { id: created.id, object: 'invoice', customer: customers[CEDAR] });
    const after = (await get(`/api/sub-accounts/${CEDAR}/invoices`).expect(200)).body.invoices;
    expect(after).toHaveLength(before + 1);
    expect(after[0]).toMatchObject({ id: created.id, totalCents: 4200 });
    expect((await get('/api/invoices?status=paid').expect(200)).body.totals[0]).toMatchObject({ totalCents: 9300, count: 2 });
  });

  it('when the client has used SMS this period, then the next invoice shows the metered usage so far and next period’s flat fee, as Stripe previews it', async () => {
    const none = (await get(`/api/sub-accounts/${HARBOR}/next-invoice`).expect(200)).body;
    expect(none).toEqual({ available: false, reason: expect.stringContaining('No subscription yet'), invoice: null });
    await t.http.put(`/api/sub-accounts/${HARBOR}/billing`).set('authorization', `Bearer ${agency.agencyToken}`).send({ rebillingEnabled: true }).expect(200);
    await agency.recordSms(HARBOR, 150);
    await drainReporter(t.service);
    const next = (await get(`/api/sub-accounts/${HARBOR}/next-invoice`, await agency.clientToken(HARBOR)).expect(200)).body;
    expect(next.available).toBe(true);
    expect(next.invoice).toMatchObject({ currency: 'usd', subtotalCents: 300 + 4900, discountCents: 0, taxCents: 0, totalCents: 5200, amountDueCents: 5200 });
    expect(next.invoice.lines).toEqual([
      expect.objectContaining({ metered: true, quantity: 150, amountCents: 300 }),
      expect.objectContaining({ metered: false, quantity: 1, amountCents: 4900 }),
    ]);
    const preview = stripe.requestLog.filter((r) => r.path === '/v1/invoices/create_preview').at(-1)!;
    expect(preview.params).toEqual({ customer: customers[HARBOR], subscription: expect.stringMatching(/^sub_/) });
  });
});
