/**
 * Both install kinds end to end against a HighLevel fake (nock) that answers the code exchange as HighLevel documents
 * it (test/support/highlevel-oauth.ts `serveCodeExchange`): the exchange asks for no `user_type`, so a sub-account
 * install ends with its Location grant and an agency (bulk) install with a Company grant, from which the sub-accounts
 * are synced and — when HighLevel's per-location INSTALL webhooks arrive, in their documented shape without
 * `installType` (docs/webhook events/AppInstall.md) — each sub-account's Location token is minted at once, as
 * HighLevel's SDK does (@gohighlevel/api-client lib/webhook/webhook-manager.ts).
 */
import { sql } from 'drizzle-orm';
import nock from 'nock';
import { selectRows } from '../../models/database';
import { officialExample } from '../support/highlevel-fixtures';
import { form, HIGHLEVEL_API, installedLocations, OAUTH_ENV, serveCodeExchange, serveInstalledLocations, tokenResponse } from '../support/highlevel-oauth';
import { startTestService, type TestService } from '../support/test-service';

let t: TestService;
beforeAll(async () => {
  t = await startTestService(OAUTH_ENV);
});
afterAll(() => t.close());
afterEach(() => {
  const pending = nock.pendingMocks();
  nock.cleanAll();
  expect(pending).toEqual([]);
});

const noUserType = (sent: Record<string, string>) => expect(sent).not.toHaveProperty('user_type');
async function installations(companyId: string) {
  return selectRows<{ userType: string; locationId: string | null; source: string; status: string }>(
    t.database.db,
    sql`select user_type as "userType", location_id as "locationId", source, status from installations where company_id = ${companyId} order by id`,
  );
}
async function subAccounts(companyId: string) {
  return selectRows<{ locationId: string; status: string }>(
    t.database.db,
    sql`select location_id as "locationId", status from sub_accounts where company_id = ${companyId} order by location_id`,
  );
}
/** HighLevel's documented per-location INSTALL example, for this agency and sub-account. */
const locationInstall = (companyId: string, locationId: string, webhookId: string) => ({
  ...officialExample('install-location-non-whitelabel'),
  companyId,
  locationId,
  webhookId,
});

describe('install kinds', () => {
  it('when a sub-account installs, then the exchange asks for no user_type and ends with that sub-account’s Location grant', async () => {
    const companyId = 'kindsCompanyLoc01';
    const locationId = 'kindsLocation0001';
    serveCodeExchange('code-kinds-loc', 'Location', tokenResponse({ userType: 'Location', companyId, locationId, accessToken: 'at-kinds-loc', refreshToken: 'rt-kinds-loc' }), { check: noUserType });
    const res = await t.http.get('/oauth/callback?code=code-kinds-loc').expect(200);
    expect(res.text).toContain('Meterbridge is installed');
    expect(await installations(companyId)).toEqual([{ userType: 'Location', locationId, source: 'oauth', status: 'active' }]);
    expect(await subAccounts(companyId)).toEqual([{ locationId, status: 'active' }]);
  });

  it('when an agency bulk-installs, then the exchange asks for no user_type and ends with a Company grant from which the sub-accounts are synced', async () => {
    const companyId = 'kindsCompanyBulk1';
    const locations = installedLocations('kindsBulkLoc', 3);
    serveCodeExchange('code-kinds-bulk', 'Company', tokenResponse({ userType: 'Company', companyId, accessToken: 'at-kinds-co', refreshToken: 'rt-kinds-co', isBulkInstallation: true }), { check: noUserType });
    serveInstalledLocations(companyId, locations, 100, 'at-kinds-co');
    const res = await t.http.get('/oauth/callback?code=code-kinds-bulk').expect(200);
    expect(res.text).toContain('3 sub-accounts found');
    expect(await installations(companyId)).toEqual([{ userType: 'Company', locationId: null, source: 'oauth', status: 'active' }]);
    expect(await subAccounts(companyId)).toEqual(locations.map((l) => ({ locationId: l._id, status: 'active' })));
  });

  it('when the bulk install’s per-location INSTALL arrives (no installType), then that sub-account’s Location token is minted from the Company grant at once, and a replay mints nothing more', async () => {
    const companyId = 'kindsCompanyBulk1';
    const locationId = installedLocations('kindsBulkLoc', 3)[1]!._id;
    nock(HIGHLEVEL_API, { reqheaders: { authorization: 'Bearer at-kinds-co', version: '2021-07-28' } })
      .post('/oauth/locationToken', (body) => (expect(form(body)).toEqual({ companyId, locationId }), true))
      .once()
      .reply(200, tokenResponse({ userType: 'Location', companyId, locationId, accessToken: 'at-kinds-minted', refreshToken: 'rt-kinds-minted' }));
    const install = locationInstall(companyId, locationId, 'kinds-install-1');
    expect(install).not.toHaveProperty('installType');
    await t.postSigned(install).expect(200);
    expect(await installations(companyId)).toEqual([
      { userType: 'Company', locationId: null, source: 'oauth', status: 'active' },
      { userType: 'Location', locationId, source: 'location_token', status: 'active' },
    ]);
    expect(await t.service.highLevelTokens.accessToken({ locationId })).toBe('at-kinds-minted');
    await t.postSigned(install).expect(200);
    await t.postSigned({ ...install, webhookId: 'kinds-install-2' }).expect(200);
    expect(await installations(companyId)).toHaveLength(2);
  });

  it('when a per-location INSTALL arrives for an agency without a Company grant, then it is installed and nothing is minted', async () => {
    const companyId = 'kindsCompanyNone1';
    const locationId = 'kindsLonely000001';
    const res = await t.postSigned(locationInstall(companyId, locationId, 'kinds-install-3')).expect(200);
    expect(res.body.status).toBe('accepted');
    expect(await installations(companyId)).toEqual([]);
    expect(await subAccounts(companyId)).toEqual([{ locationId, status: 'active' }]);
  });

  it('when the documented agency INSTALL (no installType, no locationId) arrives, then the agency’s sub-account sync is requested', async () => {
    const companyId = 'kindsCompanyHook1';
    await t.postSigned({ ...officialExample('install-agency'), companyId, webhookId: 'kinds-install-4' }).expect(200);
    const [row] = await selectRows<{ requested: boolean }>(t.database.db, sql`select install_sync_requested_at is not null as requested from agencies where company_id = ${companyId}`);
    expect(row).toEqual({ requested: true });
    expect(await subAccounts(companyId)).toEqual([]);
  });
});
