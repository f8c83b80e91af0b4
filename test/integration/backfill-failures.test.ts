import { sql } from 'drizzle-orm';
import nock from 'nock';
import { selectRows } from '../../models/database';
import { findLocationInstallation, setInstallationStatus } from '../../server/highlevel/installation-repository';
import { exportedSms, exportQuery, giveLocationToken, serveExport, type ExportScript } from '../support/highlevel-export';
import { HIGHLEVEL_API } from '../support/highlevel-oauth';
import { startTestService, type TestService } from '../support/test-service';

/**
 * A backfill meets failures: HighLevel errors (kept on the job with HighLevel's message, retried from the saved
 * cursor or fatal), a crash while a page is being stored (neither lost nor doubled), a grant that needs
 * reinstalling, a cancel while a page is in flight.
 */
let t: TestService;
let agencyToken: string;
const COMPANY = 'coBackfillFailures';
let seq = 0;

const day = 86_400_000;
const START = new Date(Math.floor(Date.now() / day) * day - 10 * day).toISOString();
const END = new Date(Math.floor(Date.now() / day) * day - day).toISOString();

/** A fresh sub-account with a Location grant, and `pages` × `perPage` SMS for it. */
async function subAccount(pages: number, perPage = 10) {
  seq += 1;
  const locationId = `locBackfillFail${String(seq).padStart(3, '0')}`;
  const token = `at-backfill-fail-${seq}`;
  await t.service.accounts.registerSubAccount(locationId, COMPANY, `Client ${seq}`);
  await giveLocationToken(t.service, COMPANY, locationId, token);
  const messages = Array.from({ length: pages * perPage }, (_, i) =>
    exportedSms(`${locationId}-m${String(i + 1).padStart(3, '0')}`, { locationId, dateAdded: new Date(Date.parse(START) + (i + 1) * 60_000).toISOString() }, `message ${i}`),
  );
  const script = (extra: Partial<ExportScript> = {}): ExportScript => ({
    locationId, channel: 'SMS', startAt: START, endAt: END, token,
    pages: Array.from({ length: pages }, (_, p) => messages.slice(p * perPage, (p + 1) * perPage)),
    ...extra,
  });
  return { locationId, token, messages, script };
}

const api = {
  post: (path: string, body: object = {}) => t.http.post(path).set('authorization', `Bearer ${agencyToken}`).send(body),
  get: (path: string) => t.http.get(path).set('authorization', `Bearer ${agencyToken}`),
};
const start = async (locationId: string) =>
  (await api.post(`/api/sub-accounts/${locationId}/backfills`, { startAt: START, endAt: END, channels: ['SMS'] }).expect(201)).body.id as number;
const job = async (locationId: string, id: number) => (await api.get(`/api/sub-accounts/${locationId}/backfills/${id}`).expect(200)).body;
const expireLease = (id: number) => t.database.db.execute(sql`update backfill_jobs set locked_until = now() - interval '1 second' where id = ${id}`);
async function importedIds(locationId: string): Promise<string[]> {
  const rows = await selectRows<{ id: string }>(
    t.database.db,
    sql`select u.source_id as id from usage_records u where u.location_id = ${locationId} and u.metric = 'sms' order by u.source_id`,
  );
  return rows.map((r) => r.id);
}

beforeAll(async () => {
  t = await startTestService();
  await t.service.accounts.registerAgency(COMPANY, 'Failures agency');
  agencyToken = (await t.service.sessionTokens.issue({ userId: 'u-fail', companyId: COMPANY, type: 'agency', role: 'admin', activeLocation: null })).token;
}, 120_000); // booting the service on PGlite takes long on a busy machine
afterAll(() => t.close());
afterEach(() => {
  const pending = nock.pendingMocks();
  nock.cleanAll();
  expect(pending).toEqual([]);
});

describe('a page HighLevel fails to serve', () => {
  it('when page 2 of 3 answers 500, then the error is kept on the job and a later run resumes from the saved cursor without fetching page 1 again', async () => {
    const s = await subAccount(3);
    const id = await start(s.locationId);
    serveExport(s.script({ failures: { 1: [500, { statusCode: 500, message: 'Internal server error' }] } }));

    expect(await t.service.backfillRunner.runDue()).toMatchObject({ pages: 1, imported: 10, retrying: 1, failed: 0 });
    const waiting = await job(s.locationId, id);
    expect(waiting).toMatchObject({ status: 'running', pages: 1, messagesSeen: 10, messagesImported: 10, attempts: 1, currentChannel: 'SMS' });
    expect(waiting.lastError).toBe('HighLevel answered 500: GET /conversations/messages/export: Internal server error');
    expect(Date.parse(waiting.nextAttemptAt) - Date.now()).toBeGreaterThan(30_000);

    // Waiting out the retry delay: a run now leaves the job alone.
    expect(await t.service.backfillRunner.runDue()).toMatchObject({ jobs: 0, pages: 0 });
    await expireLease(id);
    expect(await t.service.backfillRunner.runDue()).toMatchObject({ pages: 2, imported: 20, completed: 1 });
    expect(await job(s.locationId, id)).toMatchObject({ status: 'completed', pages: 3, messagesSeen: 30, messagesImported: 30, attempts: 0, lastError: null, nextAttemptAt: null });
    expect(await importedIds(s.locationId)).toEqual(s.messages.map((m) => m.id));
  });

  it('when HighLevel keeps answering 500, then the job fails after 5 attempts in a row with HighLevel’s message', async () => {
    const s = await subAccount(1);
    const id = await start(s.locationId);
    const failing = nock(HIGHLEVEL_API).get('/conversations/messages/export').query(exportQuery(s.script(), 0)).times(5).reply(500, { message: 'Upstream unavailable' });
    for (let attempt = 1; attempt <= 5; attempt++) {
      await t.service.backfillRunner.runDue();
      expect(await job(s.locationId, id)).toMatchObject({ attempts: attempt, status: attempt < 5 ? 'running' : 'failed' });
      await expireLease(id);
    }
    failing.done();
    const failed = await job(s.locationId, id);
    expect(failed).toMatchObject({ status: 'failed', lastError: 'HighLevel answered 500: GET /conversations/messages/export: Upstream unavailable', nextAttemptAt: null, currentChannel: null });
    expect(failed.finishedAt).toEqual(expect.any(String));
    expect(await t.service.backfillRunner.runDue()).toMatchObject({ jobs: 0 });
  });

  it('when HighLevel refuses the request (400), then the job fails at once with HighLevel’s message and is not retried', async () => {
    const s = await subAccount(2);
    const id = await start(s.locationId);
    nock(HIGHLEVEL_API).get('/conversations/messages/export').query(exportQuery(s.script(), 0)).reply(200, { messages: s.script().pages[0], nextCursor: 'SMS-cursor-1', total: 20 });
    nock(HIGHLEVEL_API).get('/conversations/messages/export').query(exportQuery(s.script(), 1)).reply(400, { statusCode: 400, message: 'Cursor expired' });
    expect(await t.service.backfillRunner.runDue()).toMatchObject({ pages: 1, failed: 1 });
    expect(await job(s.locationId, id)).toMatchObject({
      status: 'failed', attempts: 1, pages: 1, messagesImported: 10,
      lastError: 'HighLevel answered 400: GET /conversations/messages/export: Cursor expired',
    });
    await expireLease(id);
    expect(await t.service.backfillRunner.runDue()).toMatchObject({ jobs: 0 });
  });

  it('when HighLevel rate-limits a page (429), then the client waits as told and the page is imported in the same run', async () => {
    const s = await subAccount(1);
    const id = await start(s.locationId);
    nock(HIGHLEVEL_API).get('/conversations/messages/export').query(exportQuery(s.script(), 0)).reply(429, { message: 'Too many requests' }, { 'retry-after': '0' });
    serveExport(s.script());
    expect(await t.service.backfillRunner.runDue()).toMatchObject({ pages: 1, imported: 10, completed: 1 });
    expect(await job(s.locationId, id)).toMatchObject({ status: 'completed', attempts: 0, lastError: null });
  });
});

describe('a crash while a page is being stored', () => {
  beforeAll(async () => {
    // A fault the test can switch on: storing a usage record for message "…-m015" fails while the flag row exists.
    await t.database.db.execute(sql`create table test_fault (on_source text primary key)`);
    await t.database.db.execute(sql`
      create function test_fault_check() returns trigger language plpgsql as $$
      begin
        if exists (select 1 from test_fault where on_source = new.source_id) then raise exception 'injected fault'; end if;
        return new;
      end $$`);
    await t.database.db.execute(sql`create trigger test_fault_trigger before insert on usage_records for each row execute function test_fault_check()`);
  });

  it('when storing page 2 fails halfway, then nothing of page 2 is kept, the job stays on page 2, and the rerun stores every message once', async () => {
    const s = await subAccount(2);
    const id = await start(s.locationId);
    const crashOn = s.messages[14]!.id;
    await t.database.db.execute(sql`insert into test_fault values (${crashOn})`);
    serveExport(s.script());

    expect(await t.service.backfillRunner.runDue()).toMatchObject({ pages: 1, imported: 10, retrying: 1 });
    expect(await importedIds(s.locationId)).toEqual(s.messages.slice(0, 10).map((m) => m.id));
    const [{ events }] = (await selectRows<{ events: number }>(
      t.database.db,
      sql`select count(*)::int as events from activity_events where location_id = ${s.locationId} and source = 'backfill'`,
    )) as [{ events: number }];
    expect(events).toBe(10);
    expect(await job(s.locationId, id)).toMatchObject({
      status: 'running', pages: 1, messagesImported: 10, attempts: 1,
      lastError: 'Meterbridge could not store a page of the export; it will be fetched again.',
    });

    await t.database.db.execute(sql`delete from test_fault`);
    await expireLease(id);
    nock(HIGHLEVEL_API).get('/conversations/messages/export').query(exportQuery(s.script(), 1)).reply(200, { messages: s.script().pages[1], nextCursor: null, total: 20 });
    expect(await t.service.backfillRunner.runDue()).toMatchObject({ pages: 1, imported: 10, completed: 1 });
    expect(await importedIds(s.locationId)).toEqual(s.messages.map((m) => m.id));
    expect(await job(s.locationId, id)).toMatchObject({ status: 'completed', pages: 2, messagesSeen: 20, messagesImported: 10 + 10, messagesDuplicate: 0 });
  });
});

describe('access to HighLevel', () => {
  it('when the sub-account’s grant needs reinstalling and its agency has none, then the job fails clearly without calling HighLevel', async () => {
    const s = await subAccount(1);
    const installation = (await findLocationInstallation(t.database.db, s.locationId))!;
    await setInstallationStatus(t.database.db, installation.id, 'needs_reinstall', 'HighLevel refused the refresh token (invalid_grant).');
    const id = await start(s.locationId);
    expect(await t.service.backfillRunner.runDue()).toMatchObject({ failed: 1, pages: 0 });
    const failed = await job(s.locationId, id);
    expect(failed).toMatchObject({ status: 'failed', attempts: 1 });
    expect(failed.lastError).toBe(`Reinstall required: Neither sub-account ${s.locationId} nor its agency has an active installation.`);
  });
});

describe('cancelling', () => {
  it('when a backfill is cancelled while a page is in flight, then that page is discarded and no further page is read', async () => {
    const s = await subAccount(2);
    const id = await start(s.locationId);
    const requested = new Promise<void>((resolve) => {
      nock(HIGHLEVEL_API)
        .get('/conversations/messages/export')
        .query(exportQuery(s.script(), 0))
        .delay(300)
        .reply(200, () => ({ messages: s.script().pages[0], nextCursor: 'SMS-cursor-1', total: 20 }))
        .on('request', () => resolve());
    });
    const run = t.service.backfillRunner.runDue();
    await requested;
    expect((await api.post(`/api/sub-accounts/${s.locationId}/backfills/${id}/cancel`).expect(200)).body).toMatchObject({ status: 'cancelled', currentChannel: null });
    expect(await run).toMatchObject({ jobs: 1, pages: 0, imported: 0 });
    expect(await job(s.locationId, id)).toMatchObject({ status: 'cancelled', pages: 0, messagesSeen: 0 });
    expect(await importedIds(s.locationId)).toEqual([]);

    expect((await api.post(`/api/sub-accounts/${s.locationId}/backfills/${id}/cancel`).expect(200)).body.status).toBe('cancelled');
    await expireLease(id);
    expect(await t.service.backfillRunner.runDue()).toMatchObject({ jobs: 0 });
  });

  it('when a finished backfill is cancelled, then it is refused with 409', async () => {
    const s = await subAccount(1);
    const id = await start(s.locationId);
    serveExport(s.script());
    await t.service.backfillRunner.runDue();
    const res = await api.post(`/api/sub-accounts/${s.locationId}/backfills/${id}/cancel`).expect(409);
    expect(res.body.error).toEqual({ code: 'not_cancellable', message: `Backfill ${id} has already completed.` });
  });
});
