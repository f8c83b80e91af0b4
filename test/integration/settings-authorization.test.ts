import { SignJWT } from 'jose';
import { createSessionTokens, deriveSessionKey, type SessionClaims } from '../../server/settings/session-token';
import { TEST_ENCRYPTION_KEY, startTestService, type TestService } from '../support/test-service';

/**
 * The authorization matrix, generated from the route table itself: every settings route × every kind of caller.
 * A new route is covered the moment it is declared.
 */
let t: TestService;
const A = 'companyMatrixA';
const B = 'companyMatrixB';
const L1 = 'locMatrixA1';
const L2 = 'locMatrixA2';
const LB = 'locMatrixB1';

const agency = (companyId: string): SessionClaims => ({ userId: `u-${companyId}`, companyId, type: 'agency', role: 'admin', activeLocation: null });
const locationUser = (companyId: string, locationId: string): SessionClaims => ({ userId: `u-${locationId}`, companyId, type: 'location', role: 'user', activeLocation: locationId });

beforeAll(async () => {
  t = await startTestService();
  for (const [companyId, locations] of [[A, [L1, L2]], [B, [LB]]] as const) {
    await t.service.accounts.registerAgency(companyId);
    for (const locationId of locations) await t.service.accounts.registerSubAccount(locationId, companyId);
  }
});
afterAll(() => t.close());

type Caller = 'own agency' | 'other agency' | 'own sub-account user' | 'other sub-account user' | 'no token' | 'expired token' | 'tampered token' | 'forged key';
const CALLERS: Caller[] = ['own agency', 'other agency', 'own sub-account user', 'other sub-account user', 'no token', 'expired token', 'tampered token', 'forged key'];

async function authorizationFor(caller: Caller): Promise<string | null> {
  const tokens = t.service.sessionTokens;
  switch (caller) {
    case 'own agency':
      return `Bearer ${(await tokens.issue(agency(A))).token}`;
    case 'other agency':
      return `Bearer ${(await tokens.issue(agency(B))).token}`;
    case 'own sub-account user':
      return `Bearer ${(await tokens.issue(locationUser(A, L1))).token}`;
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
  }
}

/** What each caller must get: 'allowed' means the gate let it through (any status but 401/403). */
function expected(access: string, caller: Caller): 'allowed' | 401 | 403 {
  if (['no token', 'expired token', 'tampered token', 'forged key'].includes(caller)) return 401;
  if (access === 'agency') return caller === 'own agency' || caller === 'other agency' ? 'allowed' : 403;
  if (access === 'sub-account:read') return caller === 'own agency' || caller === 'own sub-account user' ? 'allowed' : 403;
  return caller === 'own agency' ? 'allowed' : 403; // sub-account:write
}

describe('authorization matrix of the settings API', () => {
  const cases = () =>
    t.service.apiRoutes
      .filter((r) => r.access !== 'public')
      .flatMap((route) => CALLERS.map((caller) => ({ route, caller })));

  it('when the route table is read, then it has protected routes of every access level', () => {
    const levels = new Set(t.service.apiRoutes.map((r) => r.access));
    expect(levels).toEqual(new Set(['public', 'agency', 'sub-account:read', 'sub-account:write']));
    expect(cases().length).toBeGreaterThanOrEqual(8 * 14);
  });

  it('when every protected route is called by every kind of caller, then each gets exactly what the policy says', async () => {
    const failures: string[] = [];
    for (const { route, caller } of cases()) {
      const path = route.path.replace(':locationId', L1).replace(':metric', 'sms');
      const auth = await authorizationFor(caller);
      let req = (t.http as any)[route.method](path);
      if (auth) req = req.set('authorization', auth);
      if (route.method !== 'get' && route.method !== 'delete') req = req.send({});
      const res = await req;
      const want = expected(route.access, caller);
      const okay = want === 'allowed' ? res.status !== 401 && res.status !== 403 : res.status === want;
      if (!okay) failures.push(`${route.method.toUpperCase()} ${route.path} as ${caller}: got ${res.status} ${JSON.stringify(res.body)}, want ${want}`);
      if (res.status === 401 || res.status === 403) {
        expect(res.body).toEqual({ error: { code: expect.any(String), message: expect.any(String) }, requestId: expect.any(String) });
      }
    }
    expect(failures).toEqual([]);
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
});
