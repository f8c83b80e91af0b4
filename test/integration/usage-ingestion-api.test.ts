import { Writable } from 'node:stream';
import { sql } from 'drizzle-orm';
import pino from 'pino';
import { selectRows } from '../../models/database';
import { recordFigures } from '../reliability/support/figures';
import { drainReporter, markSubscribed } from '../support/billing';
import { startStripeStub, type StripeStub } from '../support/stripe-stub';
import { startTestService, type TestService } from '../support/test-service';

/**
 * POST /api/v1/usage end to end: an agency API key, a batch of usage events through the same counters as webhooks,
 * meter events at the Stripe stub. Units are checked against a reference computed here, independently of the
 * server: exact sums in millionths (BigInt), floor(total / threshold) per sub-account and metric.
 */
const COMPANY = 'companyIngest01';
const LOCATIONS = ['locIngest1', 'locIngest2', 'locIngest3', 'locIngest4', 'locIngest5'];
const customerOf = (locationId: string) => `cus_${locationId}`;
/** Thresholds of the agency defaults, as decimal strings ("every N = 1 unit"). */
const THRESHOLDS: Record<string, string> = { ai_tokens: '1000', vapi_minutes: '2.5', ai_call_minutes: '1' };
const EVENT_NAME = (metric: string) => `meterbridge_${metric}`;

let t: TestService;
let stripe: StripeStub;
let session = '';
let apiKey = '';
const logLines: string[] = [];
const bodies: string[] = [];

interface UsageEvent {
  locationId: string;
  metric: string;
  quantity: string | number;
  occurredAt: string;
  idempotencyKey: string;
}

const post = (body: unknown, key = apiKey) =>
  t.http
    .post('/api/v1/usage')
    .set('authorization', `Bearer ${key}`)
    .send(body as object)
    // The usage API answers once the events are in the inbox; the processor counts them a moment later.
    .then(async (res) => {
      await t.drain();
      bodies.push(JSON.stringify(res.body));
      return res;
    });
const settings = (method: 'get' | 'put' | 'post' | 'delete', path: string, body?: object) => {
  const req = t.http[method](path).set('authorization', `Bearer ${session}`);
  return (body ? req.send(body) : req).then((res) => (bodies.push(JSON.stringify(res.body)), res));
};
const count = async (query: ReturnType<typeof sql>) => Number((await selectRows<{ n: number | string }>(t.database.db, query))[0]!.n);
const ledgerSize = () => count(sql`select (select count(*) from activity_events) + (select count(*) from usage_records) + (select count(*) from meter_reports) as n`);

/** Millionths of a decimal string or number, exactly (the test's own arithmetic). */
function micros(quantity: string | number): bigint {
  const [whole, fraction = ''] = String(quantity).split('.');
  return BigInt(whole!) * 1_000_000n + BigInt(fraction.padEnd(6, '0'));
}

/** A deterministic mix of metrics, sub-accounts and quantities (numbers and decimal strings). */
function makeEvents(n: number, prefix: string, seed = 42): UsageEvent[] {
  let state = seed;
  const next = () => (state = (state * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
  const now = Date.now();
  return Array.from({ length: n }, (_, i) => {
    const metric = ['ai_tokens', 'vapi_minutes', 'ai_call_minutes'][Math.floor(next() * 3)]!;
    const quantity =
      metric === 'ai_tokens' ? Math.floor(next() * 4000) : metric === 'vapi_minutes' ? `${Math.floor(next() * 9)}.${String(Math.floor(next() * 1e6)).padStart(6, '0')}` : String(Math.floor(next() * 12));
    return { locationId: LOCATIONS[Math.floor(next() * LOCATIONS.length)]!, metric, quantity, occurredAt: new Date(now - Math.floor(next() * 3_600_000)).toISOString(), idempotencyKey: `${prefix}-${i}` };
  });
}

/** Units each (customer, meter event name) must have received, from everything accepted so far. */
function referenceUnits(accepted: UsageEvent[]): Map<string, bigint> {
  const totals = new Map<string, bigint>();
  for (const e of accepted) totals.set(`${e.locationId}|${e.metric}`, (totals.get(`${e.locationId}|${e.metric}`) ?? 0n) + micros(e.quantity));
  const units = new Map<string, bigint>();
  for (const [key, total] of totals) {
    const [locationId, metric] = key.split('|') as [string, string];
    const due = total / micros(THRESHOLDS[metric]!);
    if (due > 0n) units.set(`${customerOf(locationId)}|${EVENT_NAME(metric)}`, due);
  }
  return units;
}

const stubUnits = () => new Map([...stripe.totals()].map(([key, value]) => [key, BigInt(value)]));
const accepted: UsageEvent[] = [];

beforeAll(async () => {
  stripe = await startStripeStub();
  const sink = new Writable({ write: (chunk, _enc, done) => (logLines.push(String(chunk)), done()) });
  t = await startTestService({ STRIPE_API_URL: stripe.url, REPORTER_RETRY_BASE_SECONDS: '0' }, { logger: pino({ level: 'debug' }, sink) });
  await t.service.accounts.registerAgency(COMPANY, 'Ingest Agency');
  session = (await t.service.sessionTokens.issue({ userId: 'u-ingest', companyId: COMPANY, type: 'agency', role: 'admin', activeLocation: null })).token;
  await settings('put', '/api/stripe/connection', { secretKey: 'sk_test_ingestAgencyKey0001' }).then((r) => expect(r.status).toBe(200));
  await settings('post', '/api/custom-metrics', { key: 'vapi_minutes', label: 'Vapi minutes', unit: 'minute' }).then((r) => expect(r.status).toBe(201));
  for (const [metric, threshold] of Object.entries(THRESHOLDS)) {
    const res = await settings('put', `/api/pricing/${metric}`, { threshold, direction: 'both', price: { currency: 'usd', unitAmountDecimal: '1' } });
    expect(res.status).toBe(200);
  }
  for (const locationId of LOCATIONS) {
    await t.service.accounts.registerSubAccount(locationId, COMPANY, locationId);
    stripe.customers.add(customerOf(locationId));
    await t.service.accounts.mapCustomer(locationId, customerOf(locationId));
    await markSubscribed(t.database.db, locationId); // else its priced usage is held, not sent
  }
  const created = await settings('post', '/api/api-keys', { name: 'AI agent' });
  expect(created.status).toBe(201);
  apiKey = created.body.key;
});
afterAll(async () => {
  await t.close();
  await stripe.close();
});

describe('POST /api/v1/usage', () => {
  it('when a 1,000-event batch is posted twice, then the second stores nothing and Stripe receives exactly the reference units once', async () => {
    const events = makeEvents(1000, 'big');
    const started = performance.now();
    const first = await post({ events });
    const firstMs = performance.now() - started;
    expect(first.status).toBe(200);
    expect(first.body.totals).toEqual({ received: 1000, accepted: 1000, duplicate: 0, conflict: 0 });
    expect(first.body.results[999]).toEqual({ index: 999, idempotencyKey: 'big-999', status: 'accepted' });
    accepted.push(...events);

    const size = await ledgerSize();
    const againStarted = performance.now();
    const second = await post({ events });
    const secondMs = performance.now() - againStarted;
    expect(second.body.totals).toEqual({ received: 1000, accepted: 0, duplicate: 1000, conflict: 0 });
    expect(await ledgerSize()).toBe(size);

    await drainReporter(t.service);
    const reference = referenceUnits(accepted);
    expect([...reference.values()].reduce((a, b) => a + b, 0n)).toBeGreaterThan(1000n);
    expect(stubUnits()).toEqual(reference);
    expect(new Set(stripe.events.map((e) => e.identifier)).size).toBe(stripe.events.length);
    const [counter] = await selectRows<{ total: string }>(t.database.db, sql`select total::text as total from usage_counters where location_id = ${LOCATIONS[0]} and metric = 'vapi_minutes'`);
    const exact = events.filter((e) => e.locationId === LOCATIONS[0] && e.metric === 'vapi_minutes').reduce((sum, e) => sum + micros(e.quantity), 0n);
    expect(micros(counter!.total.replace(/0+$/, '').replace(/\.$/, ''))).toBe(exact);
    // One transaction per batch takes about a second here even on a busy machine; one per event took 10–15 s.
    expect(firstMs).toBeLessThan(15_000);
    recordFigures('usage API', { driver: t.database.driver, batchOf1000FirstMs: Math.round(firstMs), batchOf1000ReplayMs: Math.round(secondMs), meterEvents: stripe.events.length });
  });

  it('when the same batch arrives three times at once, then each event is recorded and billed exactly once', async () => {
    const events = makeEvents(300, 'burst', 7);
    const answers = await Promise.all([post({ events }), post({ events }), post({ events })]);
    for (const res of answers) expect(res.status).toBe(200);
    const acceptedCounts = answers.map((res) => res.body.totals.accepted as number);
    expect(acceptedCounts.reduce((a, b) => a + b, 0)).toBe(300);
    expect(answers.reduce((n, res) => n + res.body.totals.duplicate, 0)).toBe(600);
    accepted.push(...events);
    await drainReporter(t.service);
    expect(stubUnits()).toEqual(referenceUnits(accepted));
  });

  it('when a batch partly repeats earlier events and itself, then only the new events are stored and billed', async () => {
    const earlier = makeEvents(4, 'partial', 11);
    expect((await post({ events: earlier })).body.totals.accepted).toBe(4);
    accepted.push(...earlier);
    const fresh = makeEvents(6, 'partial-new', 12);
    const res = await post({ events: [earlier[0], ...fresh.slice(0, 3), earlier[1], earlier[2], ...fresh.slice(3), earlier[3], fresh[0]] });
    expect(res.status).toBe(200);
    expect(res.body.results.map((r: { status: string }) => r.status)).toEqual([
      'duplicate', 'accepted', 'accepted', 'accepted', 'duplicate', 'duplicate', 'accepted', 'accepted', 'accepted', 'duplicate', 'duplicate',
    ]);
    expect(res.body.totals).toEqual({ received: 11, accepted: 6, duplicate: 5, conflict: 0 });
    accepted.push(...fresh);
    await drainReporter(t.service);
    expect(stubUnits()).toEqual(referenceUnits(accepted));
  });

  it('when an idempotency key is reused for a different event, then it is a conflict and nothing changes; the same event in another form is a duplicate', async () => {
    const original: UsageEvent = { locationId: LOCATIONS[1]!, metric: 'vapi_minutes', quantity: '1.5', occurredAt: '2026-01-02T03:04:05Z', idempotencyKey: 'call-8812' };
    expect((await post(original)).body.results[0].status).toBe('accepted');
    accepted.push(original);
    const size = await ledgerSize();
    const res = await post({
      events: [
        { ...original, quantity: '1.6' },
        { ...original, quantity: 1.5, occurredAt: '2026-01-02T05:04:05+02:00' },
        { ...original, idempotencyKey: 'call-8813', metric: 'ai_tokens', quantity: 0 },
        { ...original, idempotencyKey: 'call-8813', metric: 'ai_tokens', quantity: 1 },
      ],
    });
    expect(res.body.results.map((r: { status: string }) => r.status)).toEqual(['conflict', 'duplicate', 'accepted', 'conflict']);
    accepted.push({ ...original, idempotencyKey: 'call-8813', metric: 'ai_tokens', quantity: 0 });
    expect(await ledgerSize()).toBe(size + 2); // the one accepted event and its usage record (0 tokens cross nothing)
  });

  it('when a custom metric with a rule gets fractional usage, then whole thresholds are billed and the remainder carries', async () => {
    const location = LOCATIONS[4]!;
    const before = stubUnits().get(`${customerOf(location)}|meterbridge_vapi_minutes`) ?? 0n;
    const events = ['0.8', '0.9', '0.9', '2.4'].map((quantity, i) => ({ locationId: location, metric: 'vapi_minutes', quantity, occurredAt: new Date().toISOString(), idempotencyKey: `frac-${i}` }));
    expect((await post({ events })).body.totals.accepted).toBe(4);
    accepted.push(...events);
    await drainReporter(t.service);
    const reference = referenceUnits(accepted);
    expect(stubUnits()).toEqual(reference);
    expect(reference.get(`${customerOf(location)}|meterbridge_vapi_minutes`)! - before).toBe(2n); // 5.0 more minutes, every 2.5 = 1 unit
    const [record] = await selectRows<{ unit: string; source: string; signatureScheme: string | null }>(
      t.database.db,
      sql`select u.unit, e.source, e.signature_scheme as "signatureScheme" from usage_records u join activity_events e on e.id = u.activity_event_id
          where e.webhook_id = ${`usage-api:${COMPANY}:frac-3`}`,
    );
    expect(record).toEqual({ unit: 'minute', source: 'usage_api', signatureScheme: null });
  });

  it('when any event of a batch is invalid, then 422 lists every problem by index and nothing is stored', async () => {
    const good = makeEvents(5, 'bad-batch', 99);
    const size = await ledgerSize();
    const res = await post({
      events: [
        good[0],
        { ...good[1], quantity: '-1' },
        { ...good[2], metric: 'unknown_metric' },
        { ...good[3], locationId: 'locNotOurs', occurredAt: new Date(Date.now() + 3_600_000).toISOString() },
        { ...good[4], quantity: 0.1 + 0.2, extra: true },
        { ...good[0], locationId: 'loc\u0000\ud800', idempotencyKey: 'nul-in-location' },
      ],
    });
    expect(res.status).toBe(422);
    expect(res.body.error.code).toBe('invalid_events');
    expect(res.body.error.message).toMatch(/^5 of 6 events are invalid; nothing was stored/);
    expect(res.body.error.events.map((p: { index: number; field: string | null; code: string }) => [p.index, p.field, p.code])).toEqual([
      [1, 'quantity', 'invalid_field'],
      [2, 'metric', 'unknown_metric'],
      [3, 'locationId', 'unknown_location'],
      [3, 'occurredAt', 'occurred_in_future'],
      [4, null, 'invalid_field'],
      [4, 'quantity', 'invalid_field'],
      [5, 'locationId', 'invalid_field'],
    ]);
    expect(await ledgerSize()).toBe(size);
    expect((await post({ events: [good[0]] })).body.totals.accepted).toBe(1); // the good one was not taken
    accepted.push(good[0]!);
  });

  it('when the body is not a usage request, then 400 or 413 and nothing is stored', async () => {
    const size = await ledgerSize();
    const one = makeEvents(1, 'shape')[0]!;
    expect((await post({ events: [] })).status).toBe(400);
    expect((await post({ events: Array.from({ length: 1001 }, (_, i) => ({ ...one, idempotencyKey: `shape-${i}` })) })).body.error.code).toBe('invalid_request');
    expect((await post({ events: [one], dryRun: true })).status).toBe(400);
    expect((await post([one])).status).toBe(400);
    const notJson = await t.http.post('/api/v1/usage').set('authorization', `Bearer ${apiKey}`).set('content-type', 'application/json').send('{"events": [');
    expect([notJson.status, notJson.body.error.code]).toEqual([400, 'invalid_json']);
    const huge = await post({ events: [{ ...one, locationId: 'x'.repeat(1_100_000) }] });
    expect([huge.status, huge.body.error.code]).toEqual([413, 'payload_too_large']);
    expect(await ledgerSize()).toBe(size);
  });

  it('when the key is revoked, then the next request is refused with 401 and stores nothing', async () => {
    const spare = (await settings('post', '/api/api-keys', { name: 'to revoke' })).body;
    const event = makeEvents(1, 'revoked')[0]!;
    expect((await post(event, spare.key)).status).toBe(200);
    expect((await settings('delete', `/api/api-keys/${spare.id}`)).body.revokedAt).toEqual(expect.any(String));
    const size = await ledgerSize();
    const res = await post({ ...event, idempotencyKey: 'revoked-after' }, spare.key);
    expect([res.status, res.body.error.code]).toEqual([401, 'api_key_revoked']);
    expect(await ledgerSize()).toBe(size);
    accepted.push(event);
  });

  it('when everything above was logged, answered and stored, then no API key appears in clear anywhere', async () => {
    const keys = [apiKey];
    const dump = await selectRows<{ row: string }>(t.database.db, sql`select row_to_json(k)::text as row from api_keys k union all select payload::text from activity_events`);
    const everything = logLines.join('') + dump.map((r) => r.row).join('\n') + bodies.filter((b) => !b.includes('"key":"mbk_')).join('\n');
    expect(logLines.length).toBeGreaterThan(20);
    for (const key of keys) expect(everything).not.toContain(key);
    expect(everything).not.toMatch(/mbk_[A-Za-z0-9_-]{43}/);
  });
});
