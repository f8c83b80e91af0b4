import { sql } from 'drizzle-orm';
import nock from 'nock';
import { Client } from 'pg';
import { selectRows } from '../../models/database';
import { backfillDeliveryKey } from '../../server/metering/backfilled-usage';
import { drainReporter, setUpBilling, TEST_STRIPE_KEY } from '../support/billing';
import { exportedCall, exportedSms, giveLocationToken, serveExport, webhookFor, type ExportedMessage } from '../support/highlevel-export';
import { startStripeStub, type StripeStub } from '../support/stripe-stub';
import { fixture } from '../support/highlevel-fixtures';
import { usingServer } from '../support/test-database';
import { startTestService, type TestService } from '../support/test-service';

/**
 * Done-when of issue #9 part 3: a 3-page export backfill (HighLevel faked with nock) whose messages were 20%
 * already delivered by webhook counts each message once; imported usage is held until the agency bills it, then
 * bills exactly the reference; rerunning the range imports nothing new.
 */
let t: TestService;
let stripe: StripeStub;
let agencyToken: string;
const COMPANY = 'coBackfillExport01';
const LOCATION = 'locBackfillExport01';
const LOCATION_BILLED = 'locBackfillExport02';
const LOCATION_MID = 'locBackfillExport03';
const CUSTOMER_MID = 'cus_BackfillExport03';
const TOKEN_MID = 'at-location-backfill-export-3';
const CUSTOMER = 'cus_BackfillExport01';
const CUSTOMER_BILLED = 'cus_BackfillExport02';
const TOKEN = 'at-location-backfill-export';
const TOKEN_BILLED = 'at-location-backfill-export-2';
const THRESHOLDS: Record<string, number> = { sms: 1, sms_segments: 2, mms: 1, call_minutes: 1 };

const day = 86_400_000;
const START = new Date(Math.floor(Date.now() / day) * day - 20 * day).toISOString();
const END = new Date(Math.floor(Date.now() / day) * day - 2 * day).toISOString();
const at = (i: number, locationId = LOCATION) => ({ locationId, dateAdded: new Date(Date.parse(START) + (i + 1) * 3_600_000).toISOString() });

/**
 * The reference, written by hand rather than computed by the code under test: each message's usage per metric.
 * GSM-7 bodies: 160 characters fit one segment, then 153 per segment; UCS-2 ('Ж'): 70, then 67. Calls: started
 * minutes, 0 when nobody answered. An SMS with attachments: one MMS.
 */
type Expected = Record<string, number>;
const SMS_CASES: Array<[body: string, direction: 'inbound' | 'outbound', attachments: string[], expected: Expected]> = [
  ['a'.repeat(10), 'outbound', [], { sms: 1, sms_segments: 1 }],
  ['a'.repeat(160), 'outbound', [], { sms: 1, sms_segments: 1 }],
  ['a'.repeat(161), 'outbound', [], { sms: 1, sms_segments: 2 }],
  ['a'.repeat(306), 'inbound', [], { sms: 1, sms_segments: 2 }],
  ['a'.repeat(307), 'outbound', [], { sms: 1, sms_segments: 3 }],
  ['Ж'.repeat(70), 'outbound', [], { sms: 1, sms_segments: 1 }],
  ['Ж'.repeat(71), 'inbound', [], { sms: 1, sms_segments: 2 }],
  ['Ж'.repeat(135), 'outbound', [], { sms: 1, sms_segments: 3 }],
  // An SMS with attachments is an MMS: LC Phone charges it as one MMS, not as SMS too.
  ['see the photo', 'outbound', ['https://storage.example/p/1.jpg'], { mms: 1 }],
  ['', 'inbound', ['https://storage.example/p/2.jpg', 'https://storage.example/p/3.jpg'], { mms: 1 }],
];
const CALL_CASES: Array<[seconds: number, status: string, direction: 'inbound' | 'outbound', minutes: number]> = [
  [0, 'no-answer', 'outbound', 0],
  [31, 'voicemail', 'inbound', 1],
  [59, 'completed', 'outbound', 1],
  [60, 'completed', 'outbound', 1],
  [61, 'completed', 'inbound', 2],
  [125, 'completed', 'outbound', 3],
  [600, 'completed', 'outbound', 10],
  [3601, 'answered', 'outbound', 61],
  [45, 'busy', 'outbound', 0],
  [200, 'completed', 'inbound', 4],
];

interface Case {
  message: ExportedMessage;
  expected: Expected;
}
const smsCases = (prefix: string, locationId: string, count: number, offset = 0): Case[] =>
  Array.from({ length: count }, (_, i) => {
    const [body, direction, attachments, expected] = SMS_CASES[i % SMS_CASES.length]!;
    return { message: exportedSms(`${prefix}${String(i + 1).padStart(3, '0')}`, at(offset + i, locationId), body, direction, attachments), expected };
  });
const callCases = (prefix: string, locationId: string, offset: number): Case[] =>
  CALL_CASES.map(([seconds, status, direction, minutes], i) => ({
    message: exportedCall(`${prefix}${String(i + 1).padStart(3, '0')}`, at(offset + i, locationId), seconds, status, direction, i % 2 === 0 ? 'live' : 'documented'),
    expected: { call_minutes: minutes },
  }));

const SMS = smsCases('bfSms', LOCATION, 20);
const CALLS = callCases('bfCall', LOCATION, 20);
const ALL = [...SMS, ...CALLS];
/** 20%: two messages of each page were delivered by webhook before the backfill. */
const BY_WEBHOOK = new Set(['bfSms003', 'bfSms008', 'bfSms014', 'bfSms019', 'bfCall002', 'bfCall007']);

function totals(cases: Case[]): Record<string, number> {
  const sum: Record<string, number> = {};
  for (const c of cases) for (const [metric, q] of Object.entries(c.expected)) sum[metric] = (sum[metric] ?? 0) + q;
  return sum;
}
const unitsFor = (sum: Record<string, number>) => Object.fromEntries(Object.entries(sum).map(([m, q]) => [`meterbridge_${m}`, Math.floor(q / THRESHOLDS[m]!)]).filter(([, u]) => (u as number) > 0));
function stripeUnits(customer: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const e of stripe.events.filter((e) => e.customer === customer)) out[e.eventName] = (out[e.eventName] ?? 0) + Number(e.value);
  return out;
}

const api = {
  post: (path: string, body: object = {}) => t.http.post(path).set('authorization', `Bearer ${agencyToken}`).send(body),
  get: (path: string) => t.http.get(path).set('authorization', `Bearer ${agencyToken}`),
};
const script = (locationId: string, token: string, channel: 'SMS' | 'Call', pages: Case[][]) =>
  serveExport({ locationId, channel, startAt: START, endAt: END, token, pages: pages.map((p) => p.map((c) => c.message)) });

async function ledgerBySource(locationId: string) {
  return selectRows<{ sourceId: string; metric: string; quantity: string; counted: boolean; source: string }>(
    t.database.db,
    sql`select u.source_id as "sourceId", u.metric, u.quantity::text as quantity, u.counted, e.source
        from usage_records u join activity_events e on e.id = u.activity_event_id
        where u.location_id = ${locationId} order by u.source_id, u.metric`,
  );
}

beforeAll(async () => {
  stripe = await startStripeStub();
  stripe.apiKeys.add(TEST_STRIPE_KEY);
  stripe.customers.add(CUSTOMER);
  stripe.customers.add(CUSTOMER_BILLED);
  stripe.customers.add(CUSTOMER_MID);
  t = await startTestService({ STRIPE_API_URL: stripe.url, REPORTER_RETRY_BASE_SECONDS: '0' });
  const rules = Object.entries(THRESHOLDS).map(([metric, threshold]) => ({ metric, threshold, direction: 'both' as const }));
  await setUpBilling(t.service, { companyId: COMPANY, locationId: LOCATION, customer: CUSTOMER, rules });
  await t.service.accounts.registerSubAccount(LOCATION_BILLED, COMPANY, 'Billed as imported');
  await t.service.accounts.mapCustomer(LOCATION_BILLED, CUSTOMER_BILLED);
  await giveLocationToken(t.service, COMPANY, LOCATION, TOKEN);
  await giveLocationToken(t.service, COMPANY, LOCATION_BILLED, TOKEN_BILLED);
  await t.service.accounts.registerSubAccount(LOCATION_MID, COMPANY, 'Billed halfway');
  await t.service.accounts.mapCustomer(LOCATION_MID, CUSTOMER_MID);
  await giveLocationToken(t.service, COMPANY, LOCATION_MID, TOKEN_MID);
  agencyToken = (await t.service.sessionTokens.issue({ userId: 'u-agency', companyId: COMPANY, type: 'agency', role: 'admin', activeLocation: null })).token;
}, 120_000); // booting the service on PGlite takes long on a busy machine
afterAll(async () => {
  await t.close();
  await stripe.close();
});
afterEach(() => {
  const pending = nock.pendingMocks();
  nock.cleanAll();
  expect(pending).toEqual([]);
});

describe('backfill of a 3-page export with 20% of its messages already delivered by webhook', () => {
  let backfillId: number;

  it('when 20% of the messages arrive by webhook first, then they are billed live as usual', async () => {
    for (const c of ALL.filter((c) => BY_WEBHOOK.has(c.message.id))) await t.postSigned(webhookFor(c.message, `wh-${c.message.id}`)).expect(200);
    await drainReporter(t.service);
    expect(stripeUnits(CUSTOMER)).toEqual(unitsFor(totals(ALL.filter((c) => BY_WEBHOOK.has(c.message.id)))));
  });

  it('when the backfill runs over SMS (2 pages) and calls (1 page), then every message is in the ledger exactly once with the reference usage', async () => {
    const created = await api.post(`/api/sub-accounts/${LOCATION}/backfills`, { startAt: START, endAt: END, channels: ['Call', 'SMS'] }).expect(201);
    expect(created.body).toMatchObject({ status: 'queued', channels: ['SMS', 'Call'], currentChannel: 'SMS', bill: false, pages: 0, messagesSeen: 0 });
    backfillId = created.body.id;
    script(LOCATION, TOKEN, 'SMS', [SMS.slice(0, 10), SMS.slice(10)]);
    script(LOCATION, TOKEN, 'Call', [CALLS]);

    expect(await t.service.scheduler.runNow('backfill')).toBe(true);

    const job = (await api.get(`/api/sub-accounts/${LOCATION}/backfills/${backfillId}`).expect(200)).body;
    expect(job).toMatchObject({
      status: 'completed', currentChannel: null, pages: 3, messagesSeen: 30, messagesImported: 24, messagesDuplicate: 6, messagesSkipped: 0,
      attempts: 0, lastError: null, billedAt: null,
    });
    expect(job.finishedAt).toEqual(expect.any(String));

    const rows = await ledgerBySource(LOCATION);
    const reference = ALL.flatMap((c) => Object.entries(c.expected).map(([metric, q]) => ({ sourceId: c.message.id, metric, quantity: q })));
    expect(rows.map((r) => ({ sourceId: r.sourceId, metric: r.metric, quantity: Number(r.quantity) })).sort(bySourceMetric)).toEqual(reference.sort(bySourceMetric));
    for (const r of rows) expect(r.source).toBe(BY_WEBHOOK.has(r.sourceId) ? 'webhook' : 'backfill');
    expect(rows.filter((r) => !r.counted).map((r) => r.sourceId)).toEqual(rows.filter((r) => r.source === 'backfill').map((r) => r.sourceId));

    const imported = totals(ALL.filter((c) => !BY_WEBHOOK.has(c.message.id)));
    expect(Object.fromEntries(job.usage.map((u: { metric: string; quantity: string; heldQuantity: string }) => [u.metric, [Number(u.quantity), Number(u.heldQuantity)]]))).toEqual(
      Object.fromEntries(Object.entries(imported).map(([m, q]) => [m, [q, q]])),
    );
  });

  it('when the imported usage is held, then nothing more reaches Stripe and the counters hold only the webhook usage', async () => {
    await drainReporter(t.service);
    expect(stripeUnits(CUSTOMER)).toEqual(unitsFor(totals(ALL.filter((c) => BY_WEBHOOK.has(c.message.id)))));
    const detail = (await api.get(`/api/sub-accounts/${LOCATION}`).expect(200)).body;
    const counters = Object.fromEntries(detail.counters.map((c: { metric: string; total: string }) => [c.metric, Number(c.total)]));
    expect(counters).toEqual(totals(ALL.filter((c) => BY_WEBHOOK.has(c.message.id))));
  });

  it('when the agency bills the imported usage (twice at once), then Stripe receives exactly the reference units for all 30 messages, once, dated when billed', async () => {
    const eventsBefore = stripe.events.length;
    const askedAt = Math.floor(Date.now() / 1000);
    const both = await Promise.all([0, 1].map(() => api.post(`/api/sub-accounts/${LOCATION}/backfills/${backfillId}/bill`).expect(200)));
    const importedRecords = ALL.filter((c) => !BY_WEBHOOK.has(c.message.id)).reduce((n, c) => n + Object.keys(c.expected).length, 0);
    expect(both.map((r) => r.body.recordsOffered).sort((a, b) => a - b)).toEqual([0, importedRecords]);
    const billed = both.find((r) => r.body.recordsOffered > 0)!.body;
    expect(billed.unitsDue.length).toBeGreaterThan(0);
    expect(billed.backfill.billedAt).toEqual(expect.any(String));
    expect(billed.backfill.bill).toBe(true);
    for (const u of billed.backfill.usage) expect(u.heldQuantity).toBe('0');
    await drainReporter(t.service);
    expect(stripeUnits(CUSTOMER)).toEqual(unitsFor(totals(ALL)));
    expect((await ledgerBySource(LOCATION)).every((r) => r.counted)).toBe(true);
    // History of 2 to 20 days ago, billed now: dated now, so it goes on the open period's invoice (Stripe invoices a
    // meter event in the period its timestamp falls in, and a past period's invoice is finalized an hour after it ends:
    // docs.stripe.com/billing/subscriptions/usage-based/configure-grace-period).
    const billedEvents = stripe.events.slice(eventsBefore).filter((e) => e.customer === CUSTOMER);
    expect(billedEvents.length).toBeGreaterThan(0);
    expect(billedEvents.filter((e) => e.timestamp < askedAt)).toEqual([]);

    const before = stripe.requests.length;
    const again = (await api.post(`/api/sub-accounts/${LOCATION}/backfills/${backfillId}/bill`).expect(200)).body;
    expect(again).toMatchObject({ recordsOffered: 0, unitsDue: [] });
    expect(again.backfill.billedAt).toBe(billed.backfill.billedAt);
    await drainReporter(t.service);
    expect(stripe.requests.length).toBe(before);
  });

  it('when the same range is backfilled again, then nothing new is imported and nothing more is billed', async () => {
    const before = { rows: (await ledgerBySource(LOCATION)).length, stripe: stripe.requests.length };
    const again = (await api.post(`/api/sub-accounts/${LOCATION}/backfills`, { startAt: START, endAt: END, channels: ['SMS', 'Call'], bill: true }).expect(201)).body;
    script(LOCATION, TOKEN, 'SMS', [SMS.slice(0, 10), SMS.slice(10)]);
    script(LOCATION, TOKEN, 'Call', [CALLS]);
    expect(await t.service.backfillRunner.runDue()).toMatchObject({ jobs: 1, pages: 3, imported: 0, duplicate: 30, completed: 1 });
    const job = (await api.get(`/api/sub-accounts/${LOCATION}/backfills/${again.id}`).expect(200)).body;
    expect(job).toMatchObject({ status: 'completed', pages: 3, messagesSeen: 30, messagesImported: 0, messagesDuplicate: 30, usage: [] });
    await drainReporter(t.service);
    expect((await ledgerBySource(LOCATION)).length).toBe(before.rows);
    expect(stripe.requests.length).toBe(before.stripe);
    const list = (await api.get(`/api/sub-accounts/${LOCATION}/backfills`).expect(200)).body.items;
    expect(list.map((j: { id: number }) => j.id)).toEqual([again.id, backfillId]);
  });

  it('when HighLevel later delivers by webhook a message the backfill imported, then it is kept as an event but not counted again', async () => {
    const before = { rows: (await ledgerBySource(LOCATION)).length, stripe: stripe.requests.length };
    const late = ALL.find((c) => c.message.id === 'bfSms005')!;
    const res = await t.postSigned(webhookFor(late.message, 'wh-late-bfSms005')).expect(200);
    expect(res.body).toMatchObject({ status: 'accepted' });
    await drainReporter(t.service);
    expect((await ledgerBySource(LOCATION)).length).toBe(before.rows);
    expect(stripe.requests.length).toBe(before.stripe);
    expect(stripeUnits(CUSTOMER)).toEqual(unitsFor(totals(ALL)));
  });
});

describe('backfill that bills as it imports', () => {
  it('when a backfill is started with bill: true, then its usage goes through the thresholds page by page and reaches Stripe without a bill request', async () => {
    const cases = [...smsCases('bfBilled', LOCATION_BILLED, 10), ...callCases('bfBilledCall', LOCATION_BILLED, 10)];
    await api.post(`/api/sub-accounts/${LOCATION_BILLED}/backfills`, { startAt: START, endAt: END, channels: ['SMS', 'Call'], bill: true }).expect(201);
    script(LOCATION_BILLED, TOKEN_BILLED, 'SMS', [cases.slice(0, 10)]);
    script(LOCATION_BILLED, TOKEN_BILLED, 'Call', [cases.slice(10)]);
    expect(await t.service.backfillRunner.runDue()).toMatchObject({ pages: 2, imported: 20, duplicate: 0, completed: 1 });
    expect((await ledgerBySource(LOCATION_BILLED)).every((r) => r.counted)).toBe(true);
    await drainReporter(t.service);
    expect(stripeUnits(CUSTOMER_BILLED)).toEqual(unitsFor(totals(cases)));
    expect(stripe.events.filter((e) => e.customer === CUSTOMER_BILLED && e.timestamp < Date.parse(END) / 1000 + 86_400)).toEqual([]); // dated when imported, not 2–20 days ago
  });
});

describe('billing a backfill halfway through', () => {
  it('when the agency bills while pages remain, then what was imported is billed at once and the rest as it is imported; entries without usage are skipped', async () => {
    const cases = smsCases('bfMid', LOCATION_MID, 20);
    const noise = [
      { ...exportedSms('bfMidActivity', at(30, LOCATION_MID), 'Contact created'), type: 26, messageType: 'TYPE_ACTIVITY_CONTACT' },
      { ...exportedSms('bfMidInstagram', at(31, LOCATION_MID), 'hi'), type: 18, messageType: 'TYPE_INSTAGRAM' },
      exportedSms('bfMidTooLate', { locationId: LOCATION_MID, dateAdded: END }, 'after the range'),
    ];
    const id = (await api.post(`/api/sub-accounts/${LOCATION_MID}/backfills`, { startAt: START, endAt: END, channels: ['SMS'] }).expect(201)).body.id;
    const pages = { locationId: LOCATION_MID, channel: 'SMS' as const, startAt: START, endAt: END, token: TOKEN_MID, pages: [[...cases.slice(0, 10).map((c) => c.message), ...noise], cases.slice(10).map((c) => c.message)] };
    serveExport({ ...pages, failures: { 1: [500, { message: 'Internal server error' }] } });
    await t.service.backfillRunner.runDue();
    expect((await api.get(`/api/sub-accounts/${LOCATION_MID}/backfills/${id}`).expect(200)).body).toMatchObject({
      status: 'running', pages: 1, messagesSeen: 13, messagesImported: 10, messagesDuplicate: 0, messagesSkipped: 3, attempts: 1,
    });

    const billed = (await api.post(`/api/sub-accounts/${LOCATION_MID}/backfills/${id}/bill`).expect(200)).body;
    expect(billed.recordsOffered).toBe(cases.slice(0, 10).reduce((n, c) => n + Object.keys(c.expected).length, 0));
    await drainReporter(t.service);
    expect(stripeUnits(CUSTOMER_MID)).toEqual(unitsFor(totals(cases.slice(0, 10))));

    await t.database.db.execute(sql`update backfill_jobs set locked_until = now() - interval '1 second' where id = ${id}`);
    expect(await t.service.backfillRunner.runDue()).toMatchObject({ pages: 1, imported: 10, completed: 1 });
    expect((await ledgerBySource(LOCATION_MID)).every((r) => r.counted)).toBe(true);
    await drainReporter(t.service);
    expect(stripeUnits(CUSTOMER_MID)).toEqual(unitsFor(totals(cases)));
  });
});

function bySourceMetric(a: { sourceId: string; metric: string }, b: { sourceId: string; metric: string }): number {
  return a.sourceId === b.sourceId ? a.metric.localeCompare(b.metric) : a.sourceId.localeCompare(b.sourceId);
}

// A webhook and a backfill page carrying the same message at the same moment: each takes the message's lock before
// looking for the other (migration 0007; `lockMessages` in server/metering/backfilled-usage.ts), so it counts once.
// The backfill side runs on a second connection holding the lock while the webhook arrives, as import-page.ts does.
// It needs two sessions at once, so a PostgreSQL server: on PGlite one connection serialises every transaction and
// the race cannot happen, and the block is registered only with a server.
if (usingServer) describe('a webhook and a backfill page with the same message, at once', () => {
  const LOCATION = 'raceLoc000000000001';
  const MESSAGE = 'raceMessage0000000001';
  beforeAll(() => setUpBilling(t.service, { companyId: 'raceAgency01', locationId: LOCATION, customer: 'cus_Race01', rules: [{ metric: 'sms', threshold: 1 }] }));

  it('when a backfill page holds the message while its webhook arrives, then the webhook waits, sees the import, and the message counts once', async () => {
    const backfill = new Client({ connectionString: t.database.url });
    await backfill.connect();
    try {
      await backfill.query('begin');
      // What import-page does first: lock the page's messages, then look, then store.
      await backfill.query(`select pg_advisory_xact_lock(7310002, hashtext($1 || ':' || $2))`, [LOCATION, MESSAGE]);
      const delivery = t.postSigned({ ...fixture('sms-outbound'), locationId: LOCATION, messageId: MESSAGE, webhookId: 'race-webhook-1' }).then((r) => r);
      await new Promise((resolve) => setTimeout(resolve, 300)); // the webhook is now waiting on the lock
      const { rows } = await backfill.query(
        `insert into activity_events (webhook_id, event_type, status, source, company_id, location_id, payload)
         values ($1, 'OutboundMessage', 'processed', 'backfill', 'raceAgency01', $2, '{}'::jsonb) returning id`,
        [backfillDeliveryKey(LOCATION, MESSAGE), LOCATION],
      );
      await backfill.query(
        `insert into usage_records (activity_event_id, location_id, metric, quantity, unit, direction, occurred_at, source_type, source_id, counted)
         values ($1, $2, 'sms', 1, 'message', 'outbound', now(), 'backfill', $3, false)`,
        [rows[0].id, LOCATION, MESSAGE],
      );
      await backfill.query('commit');
      const answer = await delivery;
      expect(answer.status).toBe(200);
    } finally {
      await backfill.end();
    }
    const usage = await selectRows<{ source: string; records: number }>(
      t.database.db,
      sql`select e.source, count(*)::int as records from usage_records u join activity_events e on e.id = u.activity_event_id
          where u.location_id = ${LOCATION} and u.source_id = ${MESSAGE} and u.metric = 'sms' group by e.source order by 1`,
    );
    // The backfill's held record only: the webhook's event is stored, its usage is not counted again.
    expect(usage).toEqual([{ source: 'backfill', records: 1 }]);
    const [counter] = await selectRows<{ n: number }>(t.database.db, sql`select count(*)::int as n from meter_reports where location_id = ${LOCATION}`);
    expect(counter!.n).toBe(0);
  });
});
