import { readFileSync } from 'node:fs';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import nock from 'nock';
import { selectRows } from '../../models/database';
import { drainReporter, setUpBilling, TEST_STRIPE_KEY } from '../support/billing';
import { fixture } from '../support/highlevel-fixtures';
import { giveLocationToken } from '../support/highlevel-export';
import { HIGHLEVEL_API } from '../support/highlevel-oauth';
import { startStripeStub, type StripeStub } from '../support/stripe-stub';
import { startTestService, type TestService } from '../support/test-service';

/**
 * Issue #14 part 4c: a Voice AI backfill (channel VoiceAI) reads HighLevel's `GET /voice-ai/dashboard/call-logs`
 * (faked with nock in its documented shape, test/fixtures/highlevel/api/voice-ai-call-logs.json), LIVE calls only,
 * and bills each call's started minutes exactly once, also when its VoiceAiCallEnd webhook came before or after.
 */
const DOCUMENTED = JSON.parse(readFileSync(path.join(__dirname, '../fixtures/highlevel/api/voice-ai-call-logs.json'), 'utf8'));
const DOCUMENTED_CALL = DOCUMENTED.callLogs[0];
const COMPANY = 'coVoiceAiBackfill01';
const LOCATION = 'locVoiceAiBackfill01';
const CUSTOMER = 'cus_VoiceAiBackfill01';
const TOKEN = 'at-location-voice-ai-backfill';
const METER = 'meterbridge_ai_call_minutes';

const day = 86_400_000;
const START = new Date(Math.floor(Date.now() / day) * day - 20 * day).toISOString();
const END = new Date(Math.floor(Date.now() / day) * day - 2 * day).toISOString();

/** Durations (seconds) and their started minutes, written by hand: ceil(seconds / 60). */
const DURATIONS: Array<[seconds: number, minutes: number]> = [[0, 0], [1, 1], [59, 1], [60, 1], [61, 2], [180, 3], [3601, 61]];
interface Call {
  log: Record<string, unknown>;
  minutes: number;
}
/** 53 LIVE calls, HighLevel's documented call with its own ids, times and durations. */
const CALLS: Call[] = Array.from({ length: 53 }, (_, i) => {
  const [seconds, minutes] = DURATIONS[i % DURATIONS.length]!;
  const n = String(i + 1).padStart(3, '0');
  const log = { ...DOCUMENTED_CALL, id: `vaiCall${n}`, messageId: `vaiMsg${n}`, duration: seconds, createdAt: new Date(Date.parse(START) + (i + 1) * 3_600_000).toISOString() };
  return { log, minutes };
});
/** A test call from the agent builder, should HighLevel return one: never billed. */
const TRIAL = { ...DOCUMENTED_CALL, id: 'vaiTrial001', messageId: 'vaiTrialMsg001', trialCall: true, duration: 600, createdAt: new Date(Date.parse(START) + 3_600_000).toISOString() };
const sumMinutes = (calls: Call[]) => calls.reduce((s, c) => s + c.minutes, 0);

let t: TestService;
let stripe: StripeStub;
let agencyToken: string;
const api = {
  post: (p: string, body: object = {}) => t.http.post(p).set('authorization', `Bearer ${agencyToken}`).send(body),
  get: (p: string) => t.http.get(p).set('authorization', `Bearer ${agencyToken}`),
};

/** HighLevel's VoiceAiCallEnd for a call (our fixture's fields), with or without the call's `messageId`. */
function webhookFor(call: Call, webhookId: string, withMessageId = true) {
  const body: Record<string, unknown> = { ...fixture('voice-ai-call-end'), locationId: LOCATION, id: call.log.id, duration: call.log.duration, createdAt: call.log.createdAt, webhookId };
  if (withMessageId) body.messageId = call.log.messageId;
  else delete body.messageId;
  return body;
}

/** Serves the call-log pages once each, requiring the documented path, Version, token and query (LIVE only). */
function serveCallLogs(pages: unknown[][], total: number) {
  pages.forEach((callLogs, i) => {
    nock(HIGHLEVEL_API, { reqheaders: { version: '2021-04-15', authorization: `Bearer ${TOKEN}` } })
      .get('/voice-ai/dashboard/call-logs')
      .query({
        locationId: LOCATION,
        callType: 'LIVE',
        startDate: String(Date.parse(START)),
        endDate: String(Date.parse(END)),
        sortBy: 'createdAt',
        sort: 'ascend',
        page: String(i + 1),
        pageSize: '50',
      })
      .reply(200, { ...DOCUMENTED, total, page: i + 1, pageSize: 50, callLogs });
  });
}
const PAGES = [CALLS.slice(0, 50).map((c) => c.log), [...CALLS.slice(50).map((c) => c.log), TRIAL]];

const unitsAtStripe = () => stripe.events.filter((e) => e.customer === CUSTOMER && e.eventName === METER).reduce((s, e) => s + Number(e.value), 0);
async function voiceAiUsage() {
  return selectRows<{ sourceId: string; quantity: string; counted: boolean; source: string }>(
    t.database.db,
    sql`select u.source_id as "sourceId", u.quantity::int::text as quantity, u.counted, e.source
        from usage_records u join activity_events e on e.id = u.activity_event_id
        where u.location_id = ${LOCATION} and u.metric = 'ai_call_minutes' order by u.id`,
  );
}

/** Delivered by webhook before the backfill: one with its messageId, one with only the call id. */
const EARLY = [CALLS[2]!, CALLS[4]!];

beforeAll(async () => {
  stripe = await startStripeStub();
  stripe.apiKeys.add(TEST_STRIPE_KEY);
  stripe.customers.add(CUSTOMER);
  t = await startTestService({ STRIPE_API_URL: stripe.url, REPORTER_RETRY_BASE_SECONDS: '0' });
  await setUpBilling(t.service, { companyId: COMPANY, locationId: LOCATION, customer: CUSTOMER, rules: [{ metric: 'ai_call_minutes', threshold: 1, direction: 'both' }] });
  await giveLocationToken(t.service, COMPANY, LOCATION, TOKEN, 'voice-ai-dashboard.readonly conversations/message.readonly');
  agencyToken = (await t.service.sessionTokens.issue({ userId: 'u-agency', companyId: COMPANY, type: 'agency', role: 'admin', activeLocation: null })).token;
}, 120_000);
afterAll(async () => {
  await t.close();
  await stripe.close();
});
afterEach(() => {
  const pending = nock.pendingMocks();
  nock.cleanAll();
  expect(pending).toEqual([]);
});

describe('Voice AI backfill from the call logs', () => {
  it('when two calls arrive by webhook first (one without messageId), then they are billed live', async () => {
    await t.postSigned(webhookFor(EARLY[0]!, 'wh-vai-early-1')).expect(200);
    await t.postSigned(webhookFor(EARLY[1]!, 'wh-vai-early-2', false)).expect(200);
    await drainReporter(t.service);
    expect(unitsAtStripe()).toBe(sumMinutes(EARLY));
  });

  it('when a billed VoiceAI backfill reads two pages of LIVE calls, then every call is billed exactly once and the trial call never', async () => {
    const created = await api.post(`/api/sub-accounts/${LOCATION}/backfills`, { startAt: START, endAt: END, channels: ['VoiceAI'], bill: true }).expect(201);
    expect(created.body).toMatchObject({ status: 'queued', channels: ['VoiceAI'], currentChannel: 'VoiceAI', bill: true });
    serveCallLogs(PAGES, 54);
    expect(await t.service.scheduler.runNow('backfill')).toBe(true);
    const job = (await api.get(`/api/sub-accounts/${LOCATION}/backfills/${created.body.id}`).expect(200)).body;
    expect(job).toMatchObject({ status: 'completed', pages: 2, messagesSeen: 54, messagesImported: 51, messagesDuplicate: 2, lastError: null });

    await drainReporter(t.service);
    expect(unitsAtStripe()).toBe(sumMinutes(CALLS));
    const rows = await voiceAiUsage();
    expect(rows).toHaveLength(CALLS.length);
    expect(rows.some((r) => r.sourceId === TRIAL.messageId || r.sourceId === TRIAL.id)).toBe(false);
    const imported = rows.filter((r) => r.source === 'backfill');
    expect(imported.map((r) => r.sourceId).sort()).toEqual(CALLS.filter((c) => !EARLY.includes(c)).map((c) => c.log.messageId).sort());
    expect(imported.every((r) => r.counted)).toBe(true);
  });

  it('when HighLevel delivers the webhook of an imported call afterwards, then it is stored but not counted again', async () => {
    const before = { rows: (await voiceAiUsage()).length, units: unitsAtStripe() };
    await t.postSigned(webhookFor(CALLS[10]!, 'wh-vai-late-11')).expect(200);
    await drainReporter(t.service);
    expect(unitsAtStripe()).toBe(before.units);
    expect((await voiceAiUsage()).length).toBe(before.rows);
  });

  it('when the same range is backfilled again, then nothing new is imported and nothing more is billed', async () => {
    const again = (await api.post(`/api/sub-accounts/${LOCATION}/backfills`, { startAt: START, endAt: END, channels: ['VoiceAI'], bill: true }).expect(201)).body;
    serveCallLogs(PAGES, 54);
    expect(await t.service.backfillRunner.runDue()).toMatchObject({ jobs: 1, pages: 2, imported: 0, duplicate: 53, completed: 1 });
    const job = (await api.get(`/api/sub-accounts/${LOCATION}/backfills/${again.id}`).expect(200)).body;
    expect(job).toMatchObject({ status: 'completed', messagesImported: 0, messagesDuplicate: 53 });
    await drainReporter(t.service);
    expect(unitsAtStripe()).toBe(sumMinutes(CALLS));
  });

  it('when a backfill names no channel, then it reads the four message channels and not the Voice AI call logs', async () => {
    const created = (await api.post(`/api/sub-accounts/${LOCATION}/backfills`, { startAt: START, endAt: END }).expect(201)).body;
    expect(created.channels).toEqual(['SMS', 'Call', 'Email', 'WhatsApp']);
    await api.post(`/api/sub-accounts/${LOCATION}/backfills/${created.id}/cancel`).expect(200);
  });
});
