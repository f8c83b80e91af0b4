import { get } from 'node:http';
import type { AddressInfo } from 'node:net';
import SwaggerParser from '@apidevtools/swagger-parser';
import { sql } from 'drizzle-orm';
import { drainReporter } from '../support/billing';
import { fixture } from '../support/highlevel-fixtures';
import { startStripeStub, type StripeStub } from '../support/stripe-stub';
import { startTestService, type TestService } from '../support/test-service';
import { csvField } from '../../server/reporting/usage-csv';
import { chargeFor, pickGranularity } from '../../server/reporting/usage-queries';

/**
 * The usage API behind the dashboard: usage over any date range (UTC days, agency-wide or one sub-account,
 * never another agency's), the drill-down, this month's units and estimated charges, the meter-report log with
 * retry of a refused meter event, and the CSV export streamed in windows.
 */
const A = 'companyUsageA';
const B = 'companyUsageB';
const BULK = 'companyUsageBulk';
const L1 = 'locUsageA1';
const L2 = 'locUsageA2';
const LB = 'locUsageB1';
const KEY = 'sk_test_usageApiKey000001';

let t: TestService;
let stripe: StripeStub;
const tokens: Record<string, string> = {};

const as = (who: string) => ({
  get: (path: string) => t.http.get(path).set('authorization', `Bearer ${tokens[who]}`),
  put: (path: string, body: object) => t.http.put(path).set('authorization', `Bearer ${tokens[who]}`).send(body),
  post: (path: string) => t.http.post(path).set('authorization', `Bearer ${tokens[who]}`).send({}),
});
const monthStart = () => Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth(), 1);
const justNow = () => new Date(Math.max(Date.now() - 60_000, monthStart())).toISOString();
const sms = (locationId: string, webhookId: string, at: string) => t.postSigned({ ...fixture('sms-outbound'), locationId, webhookId, dateAdded: at, timestamp: at }).expect(200);
const call = (locationId: string, webhookId: string, at: string, seconds: number) =>
  t.postSigned({ ...fixture('call-outbound-completed'), locationId, webhookId, dateAdded: at, timestamp: at, callDuration: seconds }).expect(200);

beforeAll(async () => {
  stripe = await startStripeStub();
  t = await startTestService({ STRIPE_API_URL: stripe.url, REPORTER_RETRY_BASE_SECONDS: '0' });
  const { accounts, sessionTokens } = t.service;
  await accounts.registerAgency(A, 'Agency A');
  await accounts.registerSubAccount(L1, A, 'Alpha Dental');
  await accounts.registerSubAccount(L2, A, '=HYPERLINK("http://x.example","Beta, Physio")');
  await accounts.registerAgency(B, 'Agency B');
  await accounts.registerSubAccount(LB, B, 'Other Agency Client');
  const issue = async (companyId: string, type: 'agency' | 'location', activeLocation: string | null) =>
    (await sessionTokens.issue({ userId: `u-${companyId}-${activeLocation}`, companyId, type, role: 'admin', activeLocation })).token;
  tokens.a = await issue(A, 'agency', null);
  tokens.b = await issue(B, 'agency', null);
  tokens.l1 = await issue(A, 'location', L1);

  await as('a').put('/api/stripe/connection', { secretKey: KEY }).expect(200);
  await as('a').put('/api/pricing/sms', { threshold: 1, price: { currency: 'usd', unitAmountDecimal: '2' } }).expect(200);
  // First 2 call minutes free, then 3.5¢ each plus $1 once that tier is reached.
  await as('a')
    .put('/api/pricing/call_minutes', {
      threshold: 1,
      price: { currency: 'usd', tiers: [{ upTo: 2, unitAmountDecimal: '0' }, { upTo: 'inf', unitAmountDecimal: '3.5', flatAmount: 100 }] },
    })
    .expect(200);
  for (const l of [L1, L2]) await as('a').put(`/api/sub-accounts/${l}/customer`, { create: true }).expect(200);
  // A subscription per client: without one, Meterbridge holds the units instead of sending them (held-usage.ts).
  for (const l of [L1, L2]) await as('a').put(`/api/sub-accounts/${l}/billing`, { rebillingEnabled: true }).expect(200);

  // Around a day boundary, in March: 23:30 on the 1st and 00:30 on the 2nd (UTC).
  await sms(L1, 'u-mar-1', '2026-03-01T23:30:00Z');
  await sms(L1, 'u-mar-2', '2026-03-02T00:30:00Z');
  await sms(L2, 'u-mar-3', '2026-03-03T10:00:00Z');
  await sms(L1, 'u-mar-20', '2026-03-20T12:00:00Z');
  await sms(LB, 'u-mar-b', '2026-03-02T10:00:00Z'); // another agency's sub-account: never in A's numbers
  // This month: 3 SMS and a 5-minute call for L1.
  for (let i = 0; i < 3; i++) await sms(L1, `u-now-${i}`, justNow());
  await call(L1, 'u-now-call', justNow(), 300);
  await drainReporter(t.service);
});
afterAll(async () => {
  await t.close();
  await stripe.close();
});

describe('usage over a date range', () => {
  it('when the agency asks for one day, then it gets that UTC day only, its own sub-accounts only, with units billed and sent', async () => {
    const res = await as('a').get('/api/usage?from=2026-03-02&to=2026-03-02').expect(200);
    expect(res.body).toMatchObject({ from: '2026-03-02', to: '2026-03-02', granularity: 'day' });
    // The 23:30 SMS of the 1st is not in it, nor the other agency's SMS of the same day.
    expect(res.body.totals.find((x: { metric: string }) => x.metric === 'sms')).toEqual({
      metric: 'sms', unit: 'message', quantity: '1', records: 1, unitsBilled: 1, unitsSent: 1, unitsFailed: 0,
    });
    expect(res.body.series.filter((p: { metric: string }) => p.metric === 'sms')).toEqual([{ bucket: '2026-03-02', metric: 'sms', quantity: '1' }]);
    const other = await as('b').get('/api/usage?from=2026-03-02&to=2026-03-02').expect(200);
    expect(other.body.totals.find((x: { metric: string }) => x.metric === 'sms').quantity).toBe('1');
  });

  it('when the range is long, then there is no cap: buckets widen to weeks, then months', async () => {
    expect(pickGranularity({ from: '2026-01-01', to: '2026-03-31' })).toBe('day');
    expect(pickGranularity({ from: '2025-06-01', to: '2026-05-31' })).toBe('week');
    const years = await as('a').get('/api/usage?from=2019-01-01&to=2026-12-31').expect(200);
    expect(years.body.granularity).toBe('month');
    expect(years.body.series.filter((p: { metric: string }) => p.metric === 'sms').map((p: { bucket: string }) => p.bucket)).toContain('2026-03-01');
    const weeks = await as('a').get('/api/usage?from=2026-01-01&to=2026-12-31').expect(200);
    // 2026-03-01 is a Sunday: its week starts on Monday 2026-02-23; the 2nd starts the next week.
    expect(weeks.body.series.filter((p: { metric: string; bucket: string }) => p.metric === 'sms' && p.bucket < '2026-03-15')).toEqual([
      { bucket: '2026-02-23', metric: 'sms', quantity: '1' },
      { bucket: '2026-03-02', metric: 'sms', quantity: '2' },
    ]);
  });

  it('when a range is malformed or backwards, then 400 naming the problem', async () => {
    expect((await as('a').get('/api/usage?from=2026-03-05&to=2026-03-01').expect(400)).body.error.message).toMatch(/after/);
    await as('a').get('/api/usage?from=03/01/2026').expect(400);
  });

  it('when one sub-account is asked for, then only its usage comes back, to the agency and to its own user', async () => {
    const agency = await as('a').get(`/api/sub-accounts/${L1}/usage?from=2026-03-01&to=2026-03-31`).expect(200);
    expect(agency.body.totals.find((x: { metric: string }) => x.metric === 'sms').quantity).toBe('3');
    const own = await as('l1').get(`/api/sub-accounts/${L1}/usage?from=2026-03-01&to=2026-03-31`).expect(200);
    expect(own.body).toEqual(agency.body);
    await as('l1').get(`/api/sub-accounts/${L2}/usage`).expect(403);
    await as('b').get(`/api/sub-accounts/${L1}/usage`).expect(403);
  });

  it('when the drill-down is asked for, then it lists the sub-accounts with usage in the range, searchable', async () => {
    const res = await as('a').get('/api/usage/sub-accounts?from=2026-03-02&to=2026-03-03').expect(200);
    expect(res.body.total).toBe(2);
    // Ordered by name in the database's collation, which may or may not skip the leading "=": not asserted here.
    expect(res.body.items.map((i: { locationId: string }) => i.locationId).sort()).toEqual([L1, L2]);
    const alpha = res.body.items.find((i: { locationId: string }) => i.locationId === L1);
    expect(alpha.metrics.find((m: { metric: string }) => m.metric === 'sms')).toMatchObject({ quantity: '1', unitsBilled: 1 });
    const found = await as('a').get('/api/usage/sub-accounts?from=2026-03-01&to=2026-03-31&search=alpha').expect(200);
    expect(found.body.items.map((i: { locationId: string }) => i.locationId)).toEqual([L1]);
  });
});

describe('this month', () => {
  it('when the sub-accounts table asks for a page of ids, then it gets this month per sub-account, and ids of other agencies are ignored', async () => {
    const res = await as('a').get(`/api/usage/current-period?locationIds=${L1},${L2},${LB}`).expect(200);
    expect(res.body.items.map((i: { locationId: string }) => i.locationId).sort()).toEqual([L1, L2]);
    const l1 = res.body.items.find((i: { locationId: string }) => i.locationId === L1);
    expect(l1.metrics.find((m: { metric: string }) => m.metric === 'sms')).toMatchObject({ quantity: '3', unitsBilled: 3, unitsSent: 3 });
    expect(l1.metrics.find((m: { metric: string }) => m.metric === 'call_minutes')).toMatchObject({ quantity: '5', unitsBilled: 5 });
    expect(res.body.items.find((i: { locationId: string }) => i.locationId === L2).metrics).toEqual([]);
    const tooMany = Array.from({ length: 201 }, (_, i) => `loc${i}`).join(',');
    await as('a').get(`/api/usage/current-period?locationIds=${tooMany}`).expect(400);
  });

  it("when a sub-account's month is asked for, then units are priced at the prices in force (flat and graduated), with the flat fee once subscribed", async () => {
    const before = await as('l1').get(`/api/sub-accounts/${L1}/current-period`).expect(200);
    const line = (body: { lines: Array<{ metric: string }> }, metric: string) => body.lines.find((l) => l.metric === metric);
    expect(line(before.body, 'sms')).toMatchObject({ quantity: '3', unitsBilled: 3, estimatedCents: '6', currency: 'usd' });
    // 5 minutes: 2 free, then 3 × 3.5¢ + $1 = 110.5¢, rounded to 111¢.
    expect(line(before.body, 'call_minutes')).toMatchObject({ unitsBilled: 5, estimatedCents: '111' });
    expect(line(before.body, 'sms_segments')).toMatchObject({ unitsBilled: 0, estimatedCents: null });
    expect(before.body).toMatchObject({ flatFeeCents: null, estimatedTotalCents: '117', currency: 'usd' });
    expect(new Date(before.body.periodStart).getTime()).toBe(monthStart());

    await as('a').put('/api/defaults', { flatFeeAmount: 500 }).expect(200);
    await as('a').put(`/api/sub-accounts/${L1}/billing`, { subscription: {} }).expect(200);
    const after = await as('a').get(`/api/sub-accounts/${L1}/current-period`).expect(200);
    expect(after.body).toMatchObject({ flatFeeCents: 500, estimatedTotalCents: '617' });
    await as('l1').get(`/api/sub-accounts/${L2}/current-period`).expect(403);
  });

  it('when charges are computed, then flat prices multiply and graduated tiers add up per tier', () => {
    expect(chargeFor({ currency: 'usd', interval: 'month', unitAmountDecimal: '0.79' }, 10)).toBe('8');
    const tiers = { currency: 'usd', interval: 'month' as const, tiers: [{ upTo: 100, unitAmountDecimal: '1' }, { upTo: 'inf' as const, unitAmountDecimal: '0.5', flatAmount: 20 }] };
    expect(chargeFor(tiers, 0)).toBe('0');
    expect(chargeFor(tiers, 100)).toBe('100');
    expect(chargeFor(tiers, 101)).toBe('121');
    expect(chargeFor(null, 5)).toBeNull();
  });

  it('when the onboarding overview is asked for, then it counts what the checklist needs', async () => {
    const res = await as('a').get('/api/overview').expect(200);
    expect(res.body).toMatchObject({ installed: false, stripeConnected: true, pricedMetrics: 2, subAccounts: 2, mapped: 2, rebilling: 2, failedReports: 0, unitsSent: 12 });
    expect(res.body.lastUnitSentAt).toMatch(/^\d{4}-\d{2}-\d{2}T/);
    await as('l1').get('/api/overview').expect(403);
  });
});

describe('the meter-report log', () => {
  it('when Stripe refuses a meter event, then the log shows it failed with Stripe’s message; retry sends the same identifier once', async () => {
    stripe.apiKeys.add('sk_test_someOtherValidKey01');
    await sms(L1, 'u-refused', justNow());
    await drainReporter(t.service);
    const failed = (await as('a').get(`/api/sub-accounts/${L1}/meter-reports?status=failed`).expect(200)).body;
    expect(failed).toMatchObject({ total: 1, counts: { failed: 1 } });
    const [report] = failed.items;
    expect(report).toMatchObject({ status: 'failed', metric: 'sms', units: 1, lastError: expect.stringMatching(/Invalid API Key/), identifier: expect.stringMatching(/^mb_/) });

    await as('a').post(`/api/sub-accounts/${L2}/meter-batches/${report.batchId}/retry`).expect(404); // not L2's
    await as('a').post(`/api/sub-accounts/${L1}/meter-batches/not-a-number/retry`).expect(404);
    await as('b').post(`/api/sub-accounts/${L1}/meter-batches/${report.batchId}/retry`).expect(403);
    await as('l1').post(`/api/sub-accounts/${L1}/meter-batches/${report.batchId}/retry`).expect(403);

    stripe.apiKeys.clear();
    expect((await as('a').post(`/api/sub-accounts/${L1}/meter-batches/${report.batchId}/retry`).expect(200)).body).toEqual({ requeued: true, batchId: report.batchId, newIdentifier: false });
    expect((await as('a').post(`/api/sub-accounts/${L1}/meter-batches/${report.batchId}/retry`).expect(409)).body.error.code).toBe('not_retryable');
    await drainReporter(t.service);
    const log = (await as('a').get(`/api/sub-accounts/${L1}/meter-reports`).expect(200)).body;
    expect(log.counts).toMatchObject({ failed: 0, pending: 0, batched: 0 });
    expect(log.items[0]).toMatchObject({ id: report.id, status: 'sent', identifier: report.identifier, lastError: null, sentAt: expect.any(String) });
    expect(stripe.events.filter((e) => e.identifier === report.identifier)).toHaveLength(1);
  });

  it('when a sub-account user asks for the log, then it is refused: Stripe’s messages are the agency’s business', async () => {
    await as('l1').get(`/api/sub-accounts/${L1}/meter-reports`).expect(403);
  });
});

describe('the CSV export', () => {
  it('when a range is exported, then each (day, sub-account, metric) is a line, other agencies are absent and names cannot run as formulas', async () => {
    const res = await as('a').get('/api/usage/export.csv?from=2026-03-01&to=2026-03-31').expect(200);
    expect(res.headers['content-type']).toBe('text/csv; charset=utf-8');
    expect(res.headers['content-disposition']).toBe('attachment; filename=meterbridge-usage-2026-03-01-to-2026-03-31.csv');
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.text.trim().split('\n')).toEqual([
      'date,sub_account_id,sub_account_name,metric,quantity,unit,units_billed',
      `2026-03-01,${L1},Alpha Dental,sms,1,message,1`,
      `2026-03-01,${L1},Alpha Dental,sms_segments,1,segment,0`,
      `2026-03-02,${L1},Alpha Dental,sms,1,message,1`,
      `2026-03-02,${L1},Alpha Dental,sms_segments,1,segment,0`,
      `2026-03-03,${L2},"'=HYPERLINK(""http://x.example"",""Beta, Physio"")",sms,1,message,1`,
      `2026-03-03,${L2},"'=HYPERLINK(""http://x.example"",""Beta, Physio"")",sms_segments,1,segment,0`,
      `2026-03-20,${L1},Alpha Dental,sms,1,message,1`,
      `2026-03-20,${L1},Alpha Dental,sms_segments,1,segment,0`,
    ]);
    const one = await as('a').get(`/api/usage/export.csv?from=2026-03-01&to=2026-03-31&locationId=${L2}`).expect(200);
    expect(one.text.trim().split('\n')).toHaveLength(3);
    expect(one.headers['content-disposition']).toContain(`meterbridge-usage-${L2}-2026-03-01`);
    const empty = await as('b').get(`/api/usage/export.csv?from=2026-03-01&to=2026-03-31&locationId=${L1}`).expect(200);
    expect(empty.text).toBe('date,sub_account_id,sub_account_name,metric,quantity,unit,units_billed\n');
    await as('l1').get('/api/usage/export.csv').expect(403);
  });

  it('when CSV fields need it, then they are quoted, and a leading =, +, - or @ is neutralised', () => {
    expect(csvField('plain')).toBe('plain');
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('=1+1')).toBe("'=1+1");
    expect(csvField('@cmd')).toBe("'@cmd");
    expect(csvField(null)).toBe('');
  });

  it('when 10,800 lines are exported, then they arrive complete, in order, streamed in pieces', async () => {
    const { accounts, database } = t.service;
    await accounts.registerAgency(BULK);
    for (let i = 0; i < 40; i++) await accounts.registerSubAccount(`bulkLoc${String(i).padStart(2, '0')}`, BULK, `Bulk ${String(i).padStart(2, '0')}`);
    // 90 days × 40 sub-accounts, one event a day each, counted in three metrics.
    await database.db.execute(sql`
      with ev as (
        insert into activity_events (webhook_id, event_type, status, company_id, location_id, signature_scheme, payload, occurred_at)
        select 'bulk-' || g, 'OutboundMessage', 'processed', ${BULK}, 'bulkLoc' || lpad((g % 40)::text, 2, '0'), 'ed25519', '{}'::jsonb,
               timestamptz '2025-01-01 12:00:00+00' + (g / 40) * interval '1 day'
        from generate_series(0, 3599) g
        returning id, location_id, occurred_at)
      insert into usage_records (activity_event_id, location_id, metric, quantity, unit, occurred_at, source_type)
      select ev.id, ev.location_id, m.metric, 1, m.unit, ev.occurred_at, 'test'
      from ev cross join (values ('sms', 'message'), ('sms_segments', 'segment'), ('email', 'message')) m(metric, unit)`);
    const bulkToken = (await t.service.sessionTokens.issue({ userId: 'u-bulk', companyId: BULK, type: 'agency', role: 'admin', activeLocation: null })).token;

    const server = await t.service.listen(0);
    const port = (server.address() as AddressInfo).port;
    const started = Date.now();
    const { chunks, text, headers } = await new Promise<{ chunks: number; text: string; headers: Record<string, unknown> }>((resolve, reject) => {
      get({ host: '127.0.0.1', port, path: '/api/usage/export.csv?from=2025-01-01&to=2025-12-31', headers: { authorization: `Bearer ${bulkToken}` } }, (res) => {
        let chunks = 0;
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => ((chunks += 1), (text += d)));
        res.on('end', () => resolve({ chunks, text, headers: res.headers }));
        res.on('error', reject);
      }).on('error', reject);
    });
    console.log(`CSV export of 10,800 lines: ${Date.now() - started} ms, ${chunks} pieces, ${text.length} bytes`);
    expect(headers['transfer-encoding']).toBe('chunked');
    expect(chunks).toBeGreaterThan(1);
    const lines = text.trim().split('\n');
    expect(lines).toHaveLength(1 + 90 * 40 * 3);
    expect(lines[1]).toBe('2025-01-01,bulkLoc00,Bulk 00,email,1,message,0');
    expect(lines.at(-1)).toBe('2025-03-31,bulkLoc39,Bulk 39,sms_segments,1,segment,0');
    const days = lines.slice(1).map((l) => l.slice(0, 10));
    expect([...days].sort()).toEqual(days);
    expect(new Set(lines.slice(1)).size).toBe(90 * 40 * 3);

    // A client that stops reading and then goes away: the server waits (backpressure), then stops producing.
    const gone = await new Promise<number>((resolve, reject) => {
      const req = get({ host: '127.0.0.1', port, path: '/api/usage/export.csv?from=2025-01-01&to=2025-12-31', headers: { authorization: `Bearer ${bulkToken}` } }, (res) => {
        res.pause();
        setTimeout(() => {
          req.destroy();
          resolve(res.statusCode ?? 0);
        }, 300);
      });
      req.on('error', (err) => ((err as NodeJS.ErrnoException).code === 'ECONNRESET' ? undefined : reject(err)));
    });
    expect(gone).toBe(200);
    await t.http.get('/healthz').expect(200);
    const again = await t.http.get('/api/usage/export.csv?from=2025-01-01&to=2025-01-01').set('authorization', `Bearer ${bulkToken}`).expect(200);
    expect(again.text.trim().split('\n')).toHaveLength(1 + 40 * 3);
  });
});

describe('the route table', () => {
  it('when the OpenAPI document is built, then it validates and documents the export as text/csv', async () => {
    const doc = (await t.http.get('/api/openapi.json').expect(200)).body;
    await SwaggerParser.validate(structuredClone(doc));
    expect(doc.paths['/api/usage/export.csv'].get.responses['200'].content['text/csv'].schema).toMatchObject({ type: 'string' });
    expect(doc.paths['/api/sub-accounts/{locationId}/meter-batches/{batchId}/retry'].post.parameters.map((p: { name: string }) => p.name)).toEqual(['locationId', 'batchId']);
  });
});
