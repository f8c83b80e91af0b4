import { sql } from 'drizzle-orm';
import nock from 'nock';
import { buildService } from '../../server/main';
import { PREVIEW_NUDGE_MS, PREVIEW_REFRESH_JOB } from '../../server/jobs/scheduled-jobs';
import { PREVIEW_REFRESH } from '../../server/payments/preview-refresh';
import { drainReporter } from '../support/billing';
import { startPaymentsWorld, type PaymentsAgency, type PaymentsWorld } from '../support/payments';
import type { StripeStub } from '../support/stripe-stub';
import type { TestService } from '../support/test-service';

/**
 * The Overview's next invoices with many clients: Stripe's previews are stored (server/payments/stored-previews.ts)
 * and read again in the background by the `invoice-previews` job (preview-refresh.ts), so GET /api/money answers
 * from the store — no preview call on the request — and says how fresh it is; an invoice webhook has the client's
 * preview read again; a preview Stripe refuses is shown with Stripe's message; the sub-account page's live read is
 * stored too; the job keeps at most PREVIEW_REFRESH.perAgency calls in flight. Ten clients: more than the few a request would read itself.
 */
const COMPANY = 'companyMoneyPreviews1';
const CLIENTS = Array.from({ length: 10 }, (_, i) => `locMoneyPreview${String(i).padStart(4, '0')}`);
const PREVIEW = 'POST /v1/invoices/create_preview';
const FEE = 4900;

let t: TestService;
let stripe: StripeStub;
let agency: PaymentsAgency;
let customers: Record<string, string> = {};

const previewCalls = () => stripe.requestLog.filter((r) => `${r.method} ${r.path}` === PREVIEW);
const overview = async () => (await t.http.get('/api/money?months=1').set('authorization', `Bearer ${agency.agencyToken}`).expect(200)).body;
/** Posts an invoice webhook about the client's customer, for an invoice of its own. */
const invoiceChanged = (locationId: string) => {
  const now = Math.floor(Date.now() / 1000);
  const invoice = stripe.seedInvoice({ customer: customers[locationId]!, status: 'draft', period_start: now, period_end: now });
  return agency.sendEvent('invoice.updated', { id: invoice.id, object: 'invoice', customer: customers[locationId] });
};

let world: PaymentsWorld;
beforeAll(async () => {
  world = await startPaymentsWorld(COMPANY, CLIENTS, { flatFeeCents: FEE });
  ({ t, stripe, agency, customers } = world);
}, 240_000);
afterAll(async () => {
  nock.cleanAll();
  await world.close();
});

describe('the Overview’s next invoices from stored previews', () => {
  it('when no preview is stored yet, then the Overview answers at once saying they are being fetched; once the job stored them, from the store, after a restart too', async () => {
    const before = previewCalls().length;
    const cold = await overview();
    expect(previewCalls().length).toBe(before);
    expect(cold.nextInvoice).toEqual({ totalCents: 0, count: 0, currency: 'usd' });
    expect(cold.previews).toEqual({ asOf: null, fetching: CLIENTS.length, refreshing: 0 });

    expect(await t.service.scheduler.runNow(PREVIEW_REFRESH_JOB)).toBe(true);
    expect(previewCalls().length).toBe(before + CLIENTS.length);
    const stored = await overview();
    expect(previewCalls().length).toBe(before + CLIENTS.length);
    expect(stored.nextInvoice).toEqual({ totalCents: FEE * CLIENTS.length, count: CLIENTS.length, currency: 'usd' });
    expect(stored.previews).toMatchObject({ fetching: 0, refreshing: 0 });
    expect(Date.parse(stored.previews.asOf)).toBeGreaterThan(Date.now() - 600_000);
    expect(stored.months[0].upcomingCents).toBe(FEE * CLIENTS.length);

    // A new process on the same database: its read cache is empty, the stored previews are not.
    const restarted = await buildService({ config: t.service.config, database: t.database });
    try {
      const token = agency.agencyToken;
      const { default: request } = await import('supertest');
      const body = (await request(restarted.app).get('/api/money?months=1').set('authorization', `Bearer ${token}`).expect(200)).body;
      expect(body.nextInvoice).toEqual(stored.nextInvoice);
      expect(previewCalls().length).toBe(before + CLIENTS.length);
    } finally {
      await restarted.close();
    }
  });

  it('when an invoice webhook says a client’s invoice changed, then the job reads that client’s preview alone again and the Overview shows it', async () => {
    const [client] = CLIENTS;
    await agency.recordSms(client!, 25); // 25 SMS at 2¢: the client's next invoice grows by 50 cents
    await drainReporter(t.service);
    const before = previewCalls().length;
    expect((await overview()).nextInvoice.totalCents).toBe(FEE * CLIENTS.length); // stored: not read again on the request
    expect(previewCalls().length).toBe(before);

    const nudge = jest.spyOn(t.service.scheduler, 'nudge');
    await invoiceChanged(client!);
    expect(nudge.mock.calls).toEqual([[PREVIEW_REFRESH_JOB, PREVIEW_NUDGE_MS]]);
    nudge.mockRestore();
    await t.service.scheduler.runNow(PREVIEW_REFRESH_JOB);
    expect(previewCalls().slice(before).map((c) => c.params.customer)).toEqual([customers[client!]]);
    const body = await overview();
    expect(body.nextInvoice).toEqual({ totalCents: FEE * CLIENTS.length + 50, count: CLIENTS.length, currency: 'usd' });
    expect(previewCalls().length).toBe(before + 1);
  });

  it('when Stripe refuses a client’s preview, then the Overview leaves it out and shows Stripe’s message, from the store', async () => {
    const client = CLIENTS[1]!;
    stripe.apiFaults.push({ method: 'POST', path: '/v1/invoices/create_preview', status: 400, error: { type: 'invalid_request_error', message: 'The price specified is inactive. This field only accepts active prices.' } });
    await invoiceChanged(client);
    await t.service.scheduler.runNow(PREVIEW_REFRESH_JOB);
    const before = previewCalls().length;
    const body = await overview();
    expect(previewCalls().length).toBe(before);
    expect(body.billing.previewErrors).toEqual([{ locationId: client, message: 'Stripe: The price specified is inactive. This field only accepts active prices.' }]);
    expect(body.nextInvoice).toEqual({ totalCents: FEE * (CLIENTS.length - 1) + 50, count: CLIENTS.length - 1, currency: 'usd' });
  });

  it('when the sub-account page reads its next invoice live, then what it read is stored and the Overview shows it without reading Stripe again', async () => {
    const client = CLIENTS[2]!;
    await agency.recordSms(client, 10); // 20 cents more
    await drainReporter(t.service);
    const before = previewCalls().length;
    const page = (await t.http.get(`/api/sub-accounts/${client}/next-invoice`).set('authorization', `Bearer ${agency.agencyToken}`).expect(200)).body;
    expect(page.invoice.totalCents).toBe(FEE + 20);
    expect(previewCalls().length).toBe(before + 1);
    const body = await overview();
    expect(previewCalls().length).toBe(before + 1);
    expect(body.nextInvoice).toEqual({ totalCents: FEE * (CLIENTS.length - 1) + 50 + 20, count: CLIENTS.length - 1, currency: 'usd' });
  });

  it('when the job reads many previews and Stripe answers slowly, then it never has more than its bound in flight', async () => {
    for (const id of CLIENTS) await invoiceChanged(id);
    stripe.latencyMs = 600; // at 10 starts a second, an unbounded job would hold about 6 calls open at once
    stripe.peakInFlight.clear();
    const before = previewCalls().length;
    try {
      await t.service.scheduler.runNow(PREVIEW_REFRESH_JOB);
    } finally {
      stripe.latencyMs = 0;
    }
    expect(previewCalls().length).toBe(before + CLIENTS.length);
    expect(stripe.peakInFlight.get(PREVIEW)).toBeLessThanOrEqual(PREVIEW_REFRESH.perAgency);
    const body = await overview();
    expect(body.billing.previewErrors).toEqual([]);
    expect(body.nextInvoice.count).toBe(CLIENTS.length);
  });

  it('when the stored previews grow older than five minutes, then the Overview still answers from them, says they are being refreshed and nudges the job', async () => {
    const fresh = await overview();
    await t.database.db.execute(sql`update invoice_previews set fetched_at = fetched_at - interval '6 minutes', attempted_at = attempted_at - interval '6 minutes'`);
    const nudge = jest.spyOn(t.service.scheduler, 'nudge');
    const before = previewCalls().length;
    const body = await overview();
    expect(nudge.mock.calls).toEqual([[PREVIEW_REFRESH_JOB, PREVIEW_NUDGE_MS]]);
    nudge.mockRestore();
    expect(previewCalls().length).toBe(before);
    expect(body.nextInvoice).toEqual(fresh.nextInvoice);
    expect(body.previews).toMatchObject({ fetching: 0, refreshing: CLIENTS.length });
    expect(Date.parse(body.previews.asOf)).toBe(Date.parse(fresh.previews.asOf) - 360_000);
  });
});
