import { Writable } from 'node:stream';
import { sql } from 'drizzle-orm';
import nock from 'nock';
import pino from 'pino';
import { selectRows } from '../../models/database';
import { createSecretBox } from '../../server/crypto/secret-box';
import { fixture } from '../support/highlevel-fixtures';
import { APP_ID, form, HIGHLEVEL_API, installedLocations, OAUTH_ENV, serveCodeExchange, serveInstalledLocations, tokenResponse } from '../support/highlevel-oauth';
import { startTestService, TEST_ENCRYPTION_KEY, type TestService } from '../support/test-service';

let t: TestService;
const logLines: string[] = [];
let seq = 0;
const next = (prefix: string) => `${prefix}${String(++seq).padStart(8, '0')}`;
const secretBox = createSecretBox(Buffer.from(TEST_ENCRYPTION_KEY, 'base64'));

beforeAll(async () => {
  const sink = new Writable({ write: (chunk, _enc, done) => (logLines.push(String(chunk)), done()) });
  t = await startTestService(OAUTH_ENV, { logger: pino({ level: 'debug' }, sink) });
});
afterAll(() => t.close());
afterEach(() => {
  const pending = nock.pendingMocks();
  nock.cleanAll();
  expect(pending).toEqual([]);
});

/**
 * Expects HighLevel's token endpoint to be asked once for an authorization-code exchange of an install of `reply`'s
 * kind (the fake answers each user_type as HighLevel documents it: serveCodeExchange), with exactly these fields:
 * no user_type, so HighLevel issues the install's own token type.
 */
function expectCodeExchange(code: string, reply: Record<string, unknown>, status = 200, delayMs = 0) {
  const kind = reply.userType === 'Company' ? 'Company' : 'Location';
  const check = (sent: Record<string, string>) =>
    expect(sent).toEqual({
      client_id: OAUTH_ENV.HIGHLEVEL_CLIENT_ID,
      client_secret: OAUTH_ENV.HIGHLEVEL_CLIENT_SECRET,
      grant_type: 'authorization_code',
      code,
      redirect_uri: 'https://meterbridge.example/oauth/callback',
    });
  return serveCodeExchange(code, kind, reply, { status, delayMs, check });
}

async function installationRows(companyId: string) {
  return selectRows<{ userType: string; locationId: string | null; accessToken: string; refreshToken: string; status: string; source: string; statusReason: string | null }>(
    t.database.db,
    sql`select user_type as "userType", location_id as "locationId", access_token as "accessToken", refresh_token as "refreshToken",
               status, source, status_reason as "statusReason"
        from installations where company_id = ${companyId} order by id`,
  );
}

async function subAccountsOf(companyId: string) {
  return selectRows<{ locationId: string; status: string; name: string | null }>(
    t.database.db,
    sql`select location_id as "locationId", status, name from sub_accounts where company_id = ${companyId} order by location_id`,
  );
}

async function expireTokens(companyId: string) {
  await t.database.db.execute(sql`update installations set expires_at = now() - interval '1 minute' where company_id = ${companyId}`);
}

describe('GET /oauth/install', () => {
  it('when an agency starts the install here, then it is redirected to HighLevel with exactly the manifest scopes', async () => {
    const res = await t.http.get('/oauth/install').expect(302);
    const url = new URL(res.headers.location!);
    expect(`${url.origin}${url.pathname}`).toBe('https://marketplace.gohighlevel.com/v2/oauth/chooselocation');
    expect(Object.fromEntries(url.searchParams)).toEqual({
      response_type: 'code',
      client_id: OAUTH_ENV.HIGHLEVEL_CLIENT_ID,
      redirect_uri: 'https://meterbridge.example/oauth/callback',
      scope: t.service.manifest.scopes.join(' '),
    });
    expect(t.service.manifest.scopes).toEqual(
      expect.arrayContaining(['conversations/message.readonly', 'locations.readonly', 'oauth.readonly', 'oauth.write', 'voice-ai-dashboard.readonly']),
    );
  });
});

describe('GET /oauth/callback', () => {
  it('when a sub-account install comes back with a code, then the Location grant is stored sealed and the sub-account is active', async () => {
    const companyId = next('coLoc');
    const locationId = next('locLoc');
    expectCodeExchange('code-loc-1', tokenResponse({ userType: 'Location', companyId, locationId, accessToken: 'at-loc-SECRET-1', refreshToken: 'rt-loc-SECRET-1' }));
    const res = await t.http.get('/oauth/callback?code=code-loc-1').expect(200);
    expect(res.text).toContain('Meterbridge is installed');
    expect(res.text).toContain('https://meterbridge.example/app');
    expect(res.text).not.toContain('SECRET');

    const [row] = await installationRows(companyId);
    expect(row).toMatchObject({ userType: 'Location', locationId, status: 'active', source: 'oauth' });
    expect(row!.accessToken).not.toContain('at-loc-SECRET-1');
    expect(secretBox.open(row!.accessToken)).toBe('at-loc-SECRET-1');
    expect(secretBox.open(row!.refreshToken)).toBe('rt-loc-SECRET-1');
    expect(await subAccountsOf(companyId)).toEqual([{ locationId, status: 'active', name: null }]);
  });

  it('when an agency bulk-installs, then every installed sub-account is fetched over two pages and a location token can be minted', async () => {
    const companyId = next('coBulk');
    const locations = installedLocations(`${companyId}L`, 150);
    expectCodeExchange('code-bulk-1', tokenResponse({ userType: 'Company', companyId, accessToken: 'at-co-SECRET-2', refreshToken: 'rt-co-SECRET-2', isBulkInstallation: true }));
    serveInstalledLocations(companyId, locations, 100, 'at-co-SECRET-2');
    const res = await t.http.get('/oauth/callback?code=code-bulk-1').expect(200);
    expect(res.text).toContain('150 sub-accounts found');

    const subs = await subAccountsOf(companyId);
    expect(subs).toHaveLength(150);
    expect(subs[149]).toEqual({ locationId: locations[149]!._id, status: 'active', name: 'Client 149' });
    expect(await installationRows(companyId)).toEqual([expect.objectContaining({ userType: 'Company', locationId: null, status: 'active' })]);

    const target = locations[7]!._id;
    nock(HIGHLEVEL_API, { reqheaders: { authorization: 'Bearer at-co-SECRET-2', version: '2021-07-28' } })
      .post('/oauth/locationToken', (body) => (expect(form(body)).toEqual({ companyId, locationId: target }), true))
      .reply(200, tokenResponse({ userType: 'Location', companyId, locationId: target, accessToken: 'at-minted-SECRET-3', refreshToken: 'rt-minted-SECRET-3' }));
    expect(await t.service.highLevelTokens.accessToken({ locationId: target })).toBe('at-minted-SECRET-3');
    // Stored: the second ask needs no HighLevel call.
    expect(await t.service.highLevelTokens.accessToken({ locationId: target })).toBe('at-minted-SECRET-3');
    expect((await installationRows(companyId)).map((r) => [r.userType, r.locationId, r.source])).toEqual([
      ['Company', null, 'oauth'],
      ['Location', target, 'location_token'],
    ]);
  });

  it('when the agency denies access, then a clear page and nothing stored', async () => {
    const before = await selectRows<{ n: number }>(t.database.db, sql`select count(*)::int as n from installations`);
    const res = await t.http.get('/oauth/callback?error=access_denied&error_description=The+user+denied').expect(400);
    expect(res.text).toContain('Installation cancelled');
    expect(res.text).toContain('The user denied');
    expect(await selectRows<{ n: number }>(t.database.db, sql`select count(*)::int as n from installations`)).toEqual(before);
  });

  it('when the callback carries no code, then a clear page and nothing stored', async () => {
    const res = await t.http.get('/oauth/callback').expect(400);
    expect(res.text).toContain('no authorization code');
  });

  it("when HighLevel's token endpoint refuses the code, then its message is shown and nothing is stored", async () => {
    const companyId = next('coRefused');
    expectCodeExchange('code-bad', { error: 'invalid_grant', error_description: 'Invalid authorization code' }, 400);
    const res = await t.http.get('/oauth/callback?code=code-bad').expect(502);
    expect(res.text).toContain('Invalid authorization code');
    expect(await installationRows(companyId)).toEqual([]);
  });
});

describe('token lifecycle', () => {
  async function installCompany(companyId: string, accessToken: string, refreshToken: string) {
    expectCodeExchange(`code-${companyId}`, tokenResponse({ userType: 'Company', companyId, accessToken, refreshToken }));
    serveInstalledLocations(companyId, installedLocations(`${companyId}L`, 2), 100);
    await t.http.get(`/oauth/callback?code=code-${companyId}`).expect(200);
  }

  it('when 20 calls need a token that has expired, then exactly one refresh is made and the rotated pair is saved', async () => {
    const companyId = next('coRefresh');
    await installCompany(companyId, 'at-old-SECRET-4', 'rt-old-SECRET-4');
    await expireTokens(companyId);
    let refreshes = 0;
    nock(HIGHLEVEL_API)
      .post('/oauth/token', (body) => {
        refreshes += 1;
        expect(form(body)).toEqual({
          client_id: OAUTH_ENV.HIGHLEVEL_CLIENT_ID,
          client_secret: OAUTH_ENV.HIGHLEVEL_CLIENT_SECRET,
          grant_type: 'refresh_token',
          refresh_token: 'rt-old-SECRET-4',
          user_type: 'Company',
        });
        return true;
      })
      .delay(100)
      .reply(200, tokenResponse({ userType: 'Company', companyId, accessToken: 'at-new-SECRET-5', refreshToken: 'rt-new-SECRET-5' }));

    const tokens = await Promise.all(Array.from({ length: 20 }, () => t.service.highLevelTokens.accessToken({ companyId })));
    expect(new Set(tokens)).toEqual(new Set(['at-new-SECRET-5']));
    expect(refreshes).toBe(1);
    const [row] = await installationRows(companyId);
    expect(secretBox.open(row!.refreshToken)).toBe('rt-new-SECRET-5');
  });

  it('when a grant expires within the hour, then the scheduled refresh renews it ahead of time', async () => {
    const companyId = next('coAhead');
    await installCompany(companyId, 'at-ahead-SECRET-9', 'rt-ahead-SECRET-9');
    await t.database.db.execute(sql`update installations set expires_at = now() + interval '30 minutes' where company_id = ${companyId}`);
    await t.database.db.execute(sql`update installations set expires_at = now() + interval '1 day' where company_id <> ${companyId}`);
    nock(HIGHLEVEL_API)
      .post('/oauth/token', (body) => form(body).refresh_token === 'rt-ahead-SECRET-9')
      .reply(200, tokenResponse({ userType: 'Company', companyId, accessToken: 'at-ahead-new-SECRET', refreshToken: 'rt-ahead-new-SECRET' }));
    expect(await t.service.highLevelTokens.refreshExpiring(3600)).toEqual({ refreshed: 1, failed: 0 });
    const [row] = await installationRows(companyId);
    expect(secretBox.open(row!.accessToken)).toBe('at-ahead-new-SECRET');
    expect(await t.service.highLevelTokens.accessToken({ companyId })).toBe('at-ahead-new-SECRET');
  });

  it('when HighLevel answers 401 to an API call, then the token is refreshed once and the call retried with the new one', async () => {
    const companyId = next('co401');
    await installCompany(companyId, 'at-revoked-SECRET-6', 'rt-6-SECRET');
    nock(HIGHLEVEL_API, { reqheaders: { authorization: 'Bearer at-revoked-SECRET-6' } })
      .get('/oauth/installedLocations')
      .query(true)
      .reply(401, { statusCode: 401, message: 'Invalid JWT' });
    nock(HIGHLEVEL_API).post('/oauth/token').reply(200, tokenResponse({ userType: 'Company', companyId, accessToken: 'at-fresh-SECRET-7', refreshToken: 'rt-7-SECRET' }));
    serveInstalledLocations(companyId, installedLocations(`${companyId}L`, 3), 100, 'at-fresh-SECRET-7');
    expect(await t.service.installedLocations.syncAgency(companyId)).toBe(3);
  });

  it.each([
    ['invalid_grant', { error: 'invalid_grant', error_description: 'Invalid refresh token' }, 'Invalid refresh token'],
    ['an inactive location', { statusCode: 400, message: 'Location is not active' }, 'Location is not active'],
  ])('when a refresh is refused with %s, then the installation needs a reinstall and no retry loop follows', async (_label, body, reason) => {
    const companyId = next('coDead');
    await installCompany(companyId, 'at-dead-SECRET-8', 'rt-dead-SECRET-8');
    await expireTokens(companyId);
    nock(HIGHLEVEL_API).post('/oauth/token').once().reply(400, body);
    await expect(t.service.highLevelTokens.accessToken({ companyId })).rejects.toMatchObject({ status: 409, code: 'reinstall_required' });
    const [row] = await installationRows(companyId);
    expect(row).toMatchObject({ status: 'needs_reinstall', statusReason: expect.stringContaining(reason) });
    // No interceptor is left: a second refresh attempt would fail with a network error, not this one.
    await expect(t.service.highLevelTokens.accessToken({ companyId })).rejects.toMatchObject({ status: 409, code: 'reinstall_required' });
    expect(await t.service.highLevelTokens.refreshExpiring()).toMatchObject({ failed: 0 });
  });
});

describe('install races and uninstall', () => {
  const installWebhook = (companyId: string, locationId: string | undefined, webhookId: string, timestamp: string) => ({
    ...fixture(locationId ? 'install-location' : 'install-agency-bulk'),
    companyId,
    ...(locationId ? { locationId } : {}),
    webhookId,
    timestamp,
  });

  it.each(['before', 'during', 'after', 'both before and after'])('when the INSTALL webhook arrives %s the OAuth exchange, then one installation and no lost sub-account', async (when) => {
    const companyId = next('coRace');
    const locations = installedLocations(`${companyId}L`, 5);
    const webhook = installWebhook(companyId, undefined, `install-${companyId}`, new Date().toISOString());
    if (when === 'before' || when === 'both before and after') {
      await t.postSigned(webhook).expect(200);
      await t.service.installedLocations.syncRequested(); // no grant yet: this agency waits
      expect(await subAccountsOf(companyId)).toEqual([]);
    }
    expectCodeExchange(`code-${companyId}`, tokenResponse({ userType: 'Company', companyId, accessToken: `at-${companyId}`, refreshToken: `rt-${companyId}` }), 200, when === 'during' ? 300 : 0);
    serveInstalledLocations(companyId, locations, 100);
    const callback = t.http.get(`/oauth/callback?code=code-${companyId}`).then((r) => r);
    if (when === 'during') {
      await new Promise((resolve) => setTimeout(resolve, 100));
      await t.postSigned(webhook).expect(200);
    }
    expect((await callback).status).toBe(200);
    if (when === 'after' || when === 'both before and after') {
      await t.postSigned({ ...webhook, webhookId: `install-again-${companyId}` }).expect(200);
    }
    // Whatever is still requested is served by the job, with HighLevel's same answer.
    const [pending] = await selectRows<{ requested: boolean }>(t.database.db, sql`select install_sync_requested_at is not null as requested from agencies where company_id = ${companyId}`);
    if (pending!.requested) {
      serveInstalledLocations(companyId, locations, 100);
      await t.service.installedLocations.syncRequested();
    }
    const [after] = await selectRows<{ requested: boolean; error: string | null }>(
      t.database.db,
      sql`select install_sync_requested_at is not null as requested, install_sync_error as error from agencies where company_id = ${companyId}`,
    );
    expect(after).toEqual({ requested: false, error: null });
    expect(await installationRows(companyId)).toHaveLength(1);
    expect((await subAccountsOf(companyId)).map((s) => [s.locationId, s.status])).toEqual(locations.map((l) => [l._id, 'active']));
  });

  it('when a sub-account uninstalls, then its grant goes inactive and it bills nothing new; a later reinstall revives both', async () => {
    const companyId = next('coUninstall');
    const locationId = next('locUninstall');
    expectCodeExchange('code-u1', tokenResponse({ userType: 'Location', companyId, locationId, accessToken: 'at-u1', refreshToken: 'rt-u1' }));
    await t.http.get('/oauth/callback?code=code-u1').expect(200);

    await t.postSigned({ ...fixture('uninstall-location'), locationId, webhookId: `un-${locationId}`, timestamp: new Date(Date.now() + 1000).toISOString() }).expect(200);
    expect((await subAccountsOf(companyId))[0]!.status).toBe('uninstalled');
    expect((await installationRows(companyId))[0]).toMatchObject({ status: 'uninstalled' });
    await expect(t.service.highLevelTokens.accessToken({ locationId })).rejects.toMatchObject({ code: 'reinstall_required' });

    // An INSTALL older than the uninstall (a late retry) changes nothing.
    await t.postSigned(installWebhook(companyId, locationId, `late-${locationId}`, new Date(Date.now() - 60_000).toISOString())).expect(200);
    expect((await subAccountsOf(companyId))[0]!.status).toBe('uninstalled');

    // The reinstall: a newer INSTALL webhook and a new OAuth exchange.
    await t.postSigned(installWebhook(companyId, locationId, `re-${locationId}`, new Date(Date.now() + 2000).toISOString())).expect(200);
    expectCodeExchange('code-u2', tokenResponse({ userType: 'Location', companyId, locationId, accessToken: 'at-u2', refreshToken: 'rt-u2' }));
    await t.http.get('/oauth/callback?code=code-u2').expect(200);
    expect((await subAccountsOf(companyId))[0]!.status).toBe('active');
    expect(await installationRows(companyId)).toEqual([expect.objectContaining({ status: 'active', statusReason: null })]);
    expect(await t.service.highLevelTokens.accessToken({ locationId })).toBe('at-u2');
  });

  it('when LocationCreate arrives, then the new sub-account is added under its agency with its name', async () => {
    const companyId = next('coCreate');
    await t.postSigned({ ...fixture('location-create'), companyId, id: `${companyId}New`, webhookId: `lc-${companyId}` }).expect(200);
    expect(await subAccountsOf(companyId)).toEqual([{ locationId: `${companyId}New`, status: 'active', name: 'Harbor Dental' }]);
  });
});

describe('secrets', () => {
  it('when the install suite has run, then no token or client secret appears in any log line', () => {
    const log = logLines.join('');
    expect(log.length).toBeGreaterThan(0);
    expect(log).not.toMatch(/SECRET|at-u1|at-u2|rt-u1|rt-u2/);
    expect(log).not.toContain(OAUTH_ENV.HIGHLEVEL_CLIENT_SECRET);
  });

  it('when the database is read directly, then no installation holds a token in clear', async () => {
    const rows = await selectRows<{ accessToken: string; refreshToken: string | null }>(
      t.database.db,
      sql`select access_token as "accessToken", refresh_token as "refreshToken" from installations`,
    );
    expect(rows.length).toBeGreaterThan(5);
    for (const row of rows) {
      expect(row.accessToken).toMatch(/^v1\./);
      if (row.refreshToken) expect(row.refreshToken).toMatch(/^v1\./);
    }
    void APP_ID;
  });
});
