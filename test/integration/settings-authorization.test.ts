import { sql } from 'drizzle-orm';
import { SignJWT } from 'jose';
import { selectRows } from '../../models/database';
import { createSessionTokens, deriveSessionKey, type SessionClaims } from '../../server/access/session-token';
import { TEST_ENCRYPTION_KEY, startTestService, type TestService } from '../support/test-service';

/**
 * The authorization matrix, generated from the route table itself: every settings route × every kind of caller.
 * A new route is covered the moment it is declared. Callers with an agency API key are in it too: a key opens the
 * usage API and nothing else, and a session token never opens the usage API.
 */
let t: TestService;
const A = 'companyMatrixA';
const B = 'companyMatrixB';
const L1 = 'locMatrixA1';
const L2 = 'locMatrixA2';
const LB = 'locMatrixB1';
const keys = { own: '', other: '', revoked: '' };
/** A key of agency A the matrix may revoke (the callers' own keys must keep working). */
let spareKeyId = 0;

const agency = (companyId: string, role = 'admin'): SessionClaims => ({ userId: `u-${companyId}-${role}`, companyId, type: 'agency', role, activeLocation: null });
const locationUser = (companyId: string, locationId: string, role = 'user'): SessionClaims => ({ userId: `u-${locationId}-${role}`, companyId, type: 'location', role, activeLocation: locationId });

beforeAll(async () => {
  t = await startTestService();
  for (const [companyId, locations] of [[A, [L1, L2]], [B, [LB]]] as const) {
    await t.service.accounts.registerAgency(companyId);
    for (const locationId of locations) await t.service.accounts.registerSubAccount(locationId, companyId);
  }
  keys.own = (await t.service.apiKeys.create(A, 'matrix own')).key;
  spareKeyId = (await t.service.apiKeys.create(A, 'matrix spare')).id;
  keys.other = (await t.service.apiKeys.create(B, 'matrix other')).key;
  const revoked = await t.service.apiKeys.create(A, 'matrix revoked');
  await t.service.apiKeys.revoke(A, revoked.id);
  keys.revoked = revoked.key;
});
afterAll(() => t.close());

type Caller =
  | 'own agency' | 'other agency' | 'own agency user (not admin)' | 'own sub-account user' | 'own sub-account admin' | 'other sub-account user'
  | 'no token' | 'expired token' | 'tampered token' | 'forged key'
  | 'own API key' | 'other agency API key' | 'revoked API key' | 'unknown API key';
const CALLERS: Caller[] = [
  'own agency', 'other agency', 'own agency user (not admin)', 'own sub-account user', 'own sub-account admin', 'other sub-account user',
  'no token', 'expired token', 'tampered token', 'forged key',
  'own API key', 'other agency API key', 'revoked API key', 'unknown API key',
];
const API_KEY_CALLERS: Caller[] = ['own API key', 'other agency API key', 'revoked API key', 'unknown API key'];

async function authorizationFor(caller: Caller): Promise<string | null> {
  const tokens = t.service.sessionTokens;
  switch (caller) {
    case 'own agency':
      return `Bearer ${(await tokens.issue(agency(A))).token}`;
    case 'other agency':
      return `Bearer ${(await tokens.issue(agency(B))).token}`;
    case 'own agency user (not admin)':
      return `Bearer ${(await tokens.issue(agency(A, 'user'))).token}`;
    case 'own sub-account user':
      return `Bearer ${(await tokens.issue(locationUser(A, L1))).token}`;
    case 'own sub-account admin':
      return `Bearer ${(await tokens.issue(locationUser(A, L1, 'admin'))).token}`;
    case 'other sub-account user':
      return `Bearer ${(await tokens.issue(locationUser(A, L2))).token}`;
    case 'no token':
      return null;
    case 'expired token': {
      const past = createSessionTokens({ key: deriveSessionKey(Buffer.from(TEST_ENCRYPTION_KEY, 'base64')), ttlSeconds: 60, now: () => new Date(Date.now() - 3600_000) });
      return `Bearer ${(await past.issue(agency(A))).token}`;
    }
    case 'tampered token': {
      const [h, p, sig] = (await tokens.issue(locationUser(A, L2))).token.split('.');
      const claims = JSON.parse(Buffer.from(p!, 'base64url').toString());
      const forged = Buffer.from(JSON.stringify({ ...claims, type: 'agency', companyId: A })).toString('base64url');
      return `Bearer ${h}.${forged}.${sig}`;
    }
    case 'forged key': {
      const token = await new SignJWT({ ...agency(A) }).setProtectedHeader({ alg: 'HS256' }).setIssuer('meterbridge').setSubject('x').setExpirationTime('1h').sign(new Uint8Array(32).fill(1));
      return `Bearer ${token}`;
    }
    case 'own API key':
      return `Bearer ${keys.own}`;
    case 'other agency API key':
      return `Bearer ${keys.other}`;
    case 'revoked API key':
      return `Bearer ${keys.revoked}`;
    case 'unknown API key':
      return `Bearer mbk_${'A'.repeat(43)}`;
  }
}

/**
 * What each caller must get: 'allowed' means the gate let it through (any status but 401/403). Agency admins change
 * things; other agency users read (GET) only; sub-account users, admins included, read their own sub-account only —
 * except on its own billing pages (`sub-account:client`), where its admins may also open Stripe's card and portal pages.
 */
function expected(access: string, method: string, caller: Caller): 'allowed' | 401 | 403 {
  // The usage API takes a valid API key, whichever agency's (which sub-accounts it may name is the use case's check).
  if (access === 'api-key') return caller === 'own API key' || caller === 'other agency API key' ? 'allowed' : 401;
  if (['no token', 'expired token', 'tampered token', 'forged key', ...API_KEY_CALLERS].includes(caller)) return 401;
  const reads = method === 'get';
  if (caller === 'own agency user (not admin)') return reads ? 'allowed' : 403;
  if (access === 'agency') return caller === 'own agency' || caller === 'other agency' ? 'allowed' : 403;
  if (access === 'sub-account:read') return caller === 'own agency' || ((caller === 'own sub-account user' || caller === 'own sub-account admin') && reads) ? 'allowed' : 403;
  // The client's own billing pages: its users read them, its admins also open the card and portal pages.
  if (access === 'sub-account:client') return caller === 'own agency' || caller === 'own sub-account admin' || (caller === 'own sub-account user' && reads) ? 'allowed' : 403;
  return caller === 'own agency' ? 'allowed' : 403; // sub-account:write
}

describe('authorization matrix of the settings API', () => {
  const cases = () =>
    t.service.apiRoutes
      .filter((r) => r.access !== 'public')
      .flatMap((route) => CALLERS.map((caller) => ({ route, caller })));

  it('when the route table is read, then it has protected routes of every access level', () => {
    const levels = new Set(t.service.apiRoutes.map((r) => r.access));
    expect(levels).toEqual(new Set(['public', 'agency', 'sub-account:read', 'sub-account:write', 'sub-account:client', 'api-key']));
    expect(cases().length).toBeGreaterThanOrEqual(14 * 21);
  });

  it('when every protected route is called by every kind of caller, then each gets exactly what the policy says', async () => {
    const failures: string[] = [];
    for (const { route, caller } of cases()) {
      const path = route.path.replace(':locationId', L1).replace(':metric', 'sms').replace(':keyId', String(spareKeyId)).replace(':key', 'matrix_metric')
        .replace(':couponId', 'matrix_coupon').replace(':productId', '1').replace(':chargeId', '1').replace(':direction', 'inbound').replace(':planId', '1')
        .replace(':topUpId', '1');
      const auth = await authorizationFor(caller);
      let req = (t.http as any)[route.method](path);
      if (auth) req = req.set('authorization', auth);
      if (route.method !== 'get' && route.method !== 'delete') req = req.send({});
      const res = await req;
      const want = expected(route.access, route.method, caller);
      const okay = want === 'allowed' ? res.status !== 401 && res.status !== 403 : res.status === want;
      if (!okay) failures.push(`${route.method.toUpperCase()} ${route.path} as ${caller}: got ${res.status} ${JSON.stringify(res.body)}, want ${want}`);
      if (res.status === 401 || res.status === 403) {
        expect(res.body).toEqual({ error: { code: expect.any(String), message: expect.any(String) }, requestId: expect.any(String) });
      }
      // Every write refused to an agency user who is not an admin says why, the same way (issue 19).
      if (caller === 'own agency user (not admin)' && want === 403 && !String(res.body?.error?.message).startsWith('Only an agency admin can change billing settings')) {
        failures.push(`${route.method.toUpperCase()} ${route.path} as ${caller}: ${JSON.stringify(res.body?.error)}, want admin_required's message`);
      }
    }
    expect(failures).toEqual([]);
    // Every route × every caller, one request after another: the matrix grows with each route, and on a loaded 2-core
    // machine (load 15 during a full run) it passed 30 s once the email-billing routes joined it.
  }, 120_000);

  it('when an agency user who is not an admin changes a price, then 403 admin_required says only an admin can, and reading still works', async () => {
    const asUser = (await authorizationFor('own agency user (not admin)'))!;
    const res = await t.http.put('/api/pricing/sms').set('authorization', asUser).send({ threshold: 1, price: { currency: 'usd', unitAmountDecimal: '2' } });
    expect(res.status).toBe(403);
    expect(res.body.error).toEqual({ code: 'admin_required', message: expect.stringContaining('Only an agency admin can change billing settings') });
    await t.http.get('/api/pricing').set('authorization', asUser).expect(200);
  });

  it('when an expired token is used, then the error says the session expired', async () => {
    const res = await t.http.get('/api/pricing').set('authorization', (await authorizationFor('expired token'))!);
    expect(res.status).toBe(401);
    expect(res.body.error.code).toBe('session_expired');
  });

  it("when an agency user names another agency's sub-account, then it is refused", async () => {
    const res = await t.http.get(`/api/sub-accounts/${LB}`).set('authorization', (await authorizationFor('own agency'))!);
    expect(res.status).toBe(403);
  });

  it("when an agency lists sub-accounts, then only its own appear", async () => {
    const res = await t.http.get('/api/sub-accounts').set('authorization', (await authorizationFor('own agency'))!).expect(200);
    expect(res.body.items.map((s: { locationId: string }) => s.locationId).sort()).toEqual([L1, L2]);
  });

  it("when another agency's API key names our sub-account, then 422 names the event's index and nothing is stored", async () => {
    const event = (locationId: string, idempotencyKey: string) => ({ locationId, metric: 'sms', quantity: 1, occurredAt: new Date().toISOString(), idempotencyKey });
    const res = await t.http
      .post('/api/v1/usage')
      .set('authorization', (await authorizationFor('other agency API key'))!)
      .send({ events: [event(LB, 'matrix-cross-0'), event(L1, 'matrix-cross-1')] });
    expect(res.status).toBe(422);
    expect(res.body.error.events).toEqual([{ index: 1, field: 'locationId', code: 'unknown_location', message: expect.stringContaining(L1) }]);
    const stored = await selectRows<{ n: number }>(t.database.db, sql`select count(*)::int as n from activity_events where webhook_id like 'usage-api:%matrix-cross%'`);
    expect(stored[0]!.n).toBe(0);
  });

  it('when a revoked or unknown API key is used, then 401 says which, and a session token is refused by the usage API', async () => {
    const post = async (caller: Caller) => t.http.post('/api/v1/usage').set('authorization', (await authorizationFor(caller))!).send({});
    expect((await post('revoked API key')).body.error.code).toBe('api_key_revoked');
    expect((await post('unknown API key')).body.error.code).toBe('invalid_api_key');
    expect((await post('own agency')).body.error.code).toBe('invalid_api_key');
    const none = await t.http.post('/api/v1/usage').send({});
    expect([none.status, none.body.error.code]).toEqual([401, 'unauthenticated']);
  });

  it("when an agency lists or revokes API keys and custom metrics, then it sees and touches only its own", async () => {
    await t.service.customMetrics.define(A, { key: 'matrix_minutes', label: 'Matrix minutes', unit: 'minute' });
    const asB = (await authorizationFor('other agency'))!;
    const listed = await t.http.get('/api/api-keys').set('authorization', asB).expect(200);
    expect(listed.body.keys.map((k: { name: string }) => k.name)).toEqual(['matrix other']);
    expect((await t.http.get('/api/custom-metrics').set('authorization', asB).expect(200)).body.metrics).toEqual([]);
    const aKeys = await t.service.apiKeys.list(A);
    await t.http.delete(`/api/api-keys/${aKeys.find((k) => k.name === 'matrix own')!.id}`).set('authorization', asB).expect(404);
    await t.http.delete('/api/custom-metrics/matrix_minutes').set('authorization', asB).expect(404);
    expect((await t.service.apiKeys.list(A)).find((k) => k.name === 'matrix own')!.revokedAt).toBeNull();
    expect((await t.service.customMetrics.list(A))[0]!.archivedAt).toBeNull();
  });
});
