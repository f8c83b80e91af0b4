import { sql } from 'drizzle-orm';
import { startTestService, type TestService } from '../support/test-service';

/**
 * The backfill routes of the settings API: input checked before anything is stored, one active backfill per
 * sub-account, agency users of the sub-account's agency only, ids of other sub-accounts not found.
 */
let t: TestService;
const A = 'coBackfillApiA';
const B = 'coBackfillApiB';
const L1 = 'locBackfillApiA1';
const L2 = 'locBackfillApiA2';
const GONE = 'locBackfillApiGone';
const tokens: Record<string, string> = {};

const day = 86_400_000;
const ago = (days: number) => new Date(Date.now() - days * day).toISOString();
const as = (who: string) => ({
  post: (path: string, body: unknown = {}) => t.http.post(path).set('authorization', `Bearer ${tokens[who]}`).send(body as object),
  get: (path: string) => t.http.get(path).set('authorization', `Bearer ${tokens[who]}`),
});
const backfills = (locationId: string) => `/api/sub-accounts/${locationId}/backfills`;

beforeAll(async () => {
  t = await startTestService();
  const { accounts, sessionTokens } = t.service;
  await accounts.registerAgency(A);
  await accounts.registerAgency(B);
  for (const l of [L1, L2, GONE]) await accounts.registerSubAccount(l, A);
  await t.database.db.execute(sql`update sub_accounts set status = 'uninstalled' where location_id = ${GONE}`);
  tokens.a = (await sessionTokens.issue({ userId: 'ua', companyId: A, type: 'agency', role: 'admin', activeLocation: null })).token;
  tokens.b = (await sessionTokens.issue({ userId: 'ub', companyId: B, type: 'agency', role: 'admin', activeLocation: null })).token;
  tokens.l1 = (await sessionTokens.issue({ userId: 'ul1', companyId: A, type: 'location', role: 'admin', activeLocation: L1 })).token;
}, 120_000); // booting the service on PGlite takes long on a busy machine
afterAll(() => t.close());

describe('starting a backfill', () => {
  it.each([
    ['no body fields', {}, 'invalid_request'],
    ['a start that is not a date', { startAt: 'yesterday', endAt: ago(1) }, 'invalid_request'],
    ['a time without a zone', { startAt: '2026-10-01T00:00:00', endAt: ago(1) }, 'invalid_request'],
    ['an empty channel list', { startAt: ago(5), endAt: ago(1), channels: [] }, 'invalid_request'],
    ['a channel HighLevel exports but Meterbridge does not bill', { startAt: ago(5), endAt: ago(1), channels: ['Instagram'] }, 'invalid_request'],
    ['bill as text', { startAt: ago(5), endAt: ago(1), bill: 'yes' }, 'invalid_request'],
    ['a start after the end', { startAt: ago(1), endAt: ago(5) }, 'invalid_range'],
    ['a start equal to the end', { startAt: ago(3), endAt: ago(3) }, 'invalid_range'],
    ['an end in the future', { startAt: ago(5), endAt: new Date(Date.now() + day).toISOString() }, 'invalid_range'],
    ['a range of 367 days', { startAt: ago(368), endAt: ago(1) }, 'invalid_range'],
  ])('when the request has %s, then it is refused with 400 and nothing is stored', async (_name, body, code) => {
    const res = await as('a').post(backfills(L1), body).expect(400);
    expect(res.body.error.code).toBe(code);
    expect((await as('a').get(backfills(L1)).expect(200)).body.items).toEqual([]);
  });

  it('when a channel is named twice, then it is read once, channels in HighLevel’s order', async () => {
    const res = await as('a').post(backfills(L2), { startAt: ago(365), endAt: ago(0), channels: ['WhatsApp', 'SMS', 'WhatsApp'] }).expect(201);
    expect(res.body).toMatchObject({ channels: ['SMS', 'WhatsApp'], status: 'queued', bill: false, currentChannel: 'SMS', messagesSkipped: 0, nextAttemptAt: null });
    await as('a').post(`${backfills(L2)}/${res.body.id}/cancel`).expect(200);
  });

  it('when a backfill is queued for the sub-account, then a second one is refused with 409 until the first is cancelled', async () => {
    const first = (await as('a').post(backfills(L1), { startAt: ago(30), endAt: ago(1) }).expect(201)).body;
    expect(first.channels).toEqual(['SMS', 'Call', 'Email', 'WhatsApp']);
    const refused = await as('a').post(backfills(L1), { startAt: ago(60), endAt: ago(31) }).expect(409);
    expect(refused.body.error).toEqual({ code: 'backfill_active', message: `Backfill ${first.id} is still queued for this sub-account; wait for it or cancel it.` });
    await as('a').post(`${backfills(L1)}/${first.id}/cancel`).expect(200);
    const second = (await as('a').post(backfills(L1), { startAt: ago(60), endAt: ago(31) }).expect(201)).body;
    await as('a').post(`${backfills(L1)}/${second.id}/cancel`).expect(200);
  });

  it('when two starts for the same sub-account race, then exactly one is queued', async () => {
    const results = await Promise.all([0, 1, 2, 3].map(() => as('a').post(backfills(L2), { startAt: ago(10), endAt: ago(1) })));
    expect(results.map((r) => r.status).sort()).toEqual([201, 409, 409, 409]);
    const active = (await as('a').get(backfills(L2)).expect(200)).body.items.filter((j: { status: string }) => j.status === 'queued');
    expect(active).toHaveLength(1);
    await as('a').post(`${backfills(L2)}/${active[0].id}/cancel`).expect(200);
  });

  it('when the sub-account has uninstalled the app, then its history cannot be backfilled (409)', async () => {
    const res = await as('a').post(backfills(GONE), { startAt: ago(10), endAt: ago(1) }).expect(409);
    expect(res.body.error.code).toBe('not_installed');
  });
});

describe('reading and acting on a backfill', () => {
  let id: number;
  beforeAll(async () => {
    id = (await as('a').post(backfills(L1), { startAt: ago(20), endAt: ago(2), channels: ['Email'] }).expect(201)).body.id;
  });

  it('when the agency reads it, then progress and imported usage are shown, and only the listed fields', async () => {
    const res = await as('a').get(`${backfills(L1)}/${id}`).expect(200);
    expect(Object.keys(res.body).sort()).toEqual(
      ['attempts', 'bill', 'billedAt', 'channels', 'createdAt', 'currentChannel', 'endAt', 'finishedAt', 'id', 'lastError', 'locationId', 'messagesDuplicate',
        'messagesImported', 'messagesSeen', 'messagesSkipped', 'nextAttemptAt', 'pages', 'startAt', 'startedAt', 'status', 'updatedAt', 'usage'].sort(),
    );
    expect(res.body).toMatchObject({ id, locationId: L1, channels: ['Email'], status: 'queued', usage: [] });
  });

  it.each([
    ['an unknown id', () => '999999'],
    ['an id that is not a number', () => 'abc'],
    ['the id of another sub-account’s backfill', () => String(id)],
  ])('when a route names %s, then it answers 404', async (_name, idOf) => {
    const location = idOf() === String(id) ? L2 : L1;
    for (const path of ['', '/cancel', '/bill']) {
      const res = path === '' ? await as('a').get(`${backfills(location)}/${idOf()}${path}`) : await as('a').post(`${backfills(location)}/${idOf()}${path}`);
      expect(res.status).toBe(404);
    }
  });

  it('when a sub-account user or another agency asks, then it is refused (403) whatever the route', async () => {
    for (const who of ['l1', 'b']) {
      expect((await as(who).get(backfills(L1))).status).toBe(403);
      expect((await as(who).get(`${backfills(L1)}/${id}`)).status).toBe(403);
      expect((await as(who).post(backfills(L1), { startAt: ago(5), endAt: ago(1) })).status).toBe(403);
      expect((await as(who).post(`${backfills(L1)}/${id}/bill`)).status).toBe(403);
      expect((await as(who).post(`${backfills(L1)}/${id}/cancel`)).status).toBe(403);
    }
    expect((await as('a').get(`${backfills(L1)}/${id}`).expect(200)).body.status).toBe('queued');
  });

  it('when the agency bills a backfill that imported nothing yet, then nothing is offered and its later pages will bill as imported', async () => {
    const res = await as('a').post(`${backfills(L1)}/${id}/bill`).expect(200);
    expect(res.body).toMatchObject({ recordsOffered: 0, unitsDue: [], backfill: { id, bill: true, billedAt: expect.any(String) } });
  });

  it('when the route table is read, then every backfill route is in it (so the authorization matrix covers it) for agency users only', () => {
    const routes = t.service.apiRoutes.filter((r) => r.path.includes('/backfills'));
    expect(routes.map((r) => `${r.method} ${r.path} ${r.access}`)).toEqual([
      'post /api/sub-accounts/:locationId/backfills sub-account:write',
      'get /api/sub-accounts/:locationId/backfills sub-account:write',
      'get /api/sub-accounts/:locationId/backfills/:backfillId sub-account:write',
      'post /api/sub-accounts/:locationId/backfills/:backfillId/cancel sub-account:write',
      'post /api/sub-accounts/:locationId/backfills/:backfillId/bill sub-account:write',
    ]);
  });

  it('when the OpenAPI document is read, then it describes every backfill route', async () => {
    const doc = (await t.http.get('/api/openapi.json').expect(200)).body;
    expect(Object.keys(doc.paths).filter((p) => p.includes('backfills')).sort()).toEqual([
      '/api/sub-accounts/{locationId}/backfills',
      '/api/sub-accounts/{locationId}/backfills/{backfillId}',
      '/api/sub-accounts/{locationId}/backfills/{backfillId}/bill',
      '/api/sub-accounts/{locationId}/backfills/{backfillId}/cancel',
    ]);
    expect(Object.keys(doc.paths['/api/sub-accounts/{locationId}/backfills'])).toEqual(['post', 'get']);
  });
});
