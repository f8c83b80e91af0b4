import { readFileSync } from 'node:fs';
import path from 'node:path';
import nock from 'nock';
import { createSecretBox } from '../../server/crypto/secret-box';
import { upsertInstallation } from '../../server/highlevel/installation-repository';
import { HIGHLEVEL_API } from '../support/highlevel-oauth';
import { startTestService, TEST_ENCRYPTION_KEY, type TestService } from '../support/test-service';

/**
 * Issue #14 part 4d: the double-rebilling guard. HighLevel's rebilling settings cannot be read by an app (the SaaS API
 * only updates them), so Meterbridge reads what it can — which sub-accounts are in SaaS mode, `GET
 * /saas/get-saas-subscription/{locationId}` with the agency's Company token and `saas/company.read` (faked with nock,
 * HighLevel's documented answer in test/fixtures/highlevel/api/saas-subscription.json) — and the pricing grid warns
 * on every metric HighLevel also rebills.
 */
const DOCUMENTED = JSON.parse(readFileSync(path.join(__dirname, '../fixtures/highlevel/api/saas-subscription.json'), 'utf8'));
const AGENCY = 'coSaasGuard01';
const IN_SAAS = 'locSaasGuard01';
const NOT_SAAS = 'locSaasGuard02';
const COMPANY_TOKEN = 'at-company-saas-guard';
const AGENCY_NO_SCOPE = 'coSaasGuard02';
const SCOPES = 'locations.readonly oauth.readonly saas/company.read';

let t: TestService;
const box = createSecretBox(Buffer.from(TEST_ENCRYPTION_KEY, 'base64'));

async function giveCompanyGrant(companyId: string, token: string, scopes: string) {
  await upsertInstallation(t.database.db, {
    companyId, locationId: null, userType: 'Company', userId: null, accessToken: box.seal(token), refreshToken: box.seal(`refresh-${token}`),
    scopes, expiresAt: new Date(Date.now() + 86_400_000), isBulkInstallation: true, source: 'oauth',
  });
}
/** Answers the SaaS read for one sub-account, requiring the documented path, Version, company token and query. */
const serveSaas = (locationId: string, status: number, body: nock.Body) =>
  nock(HIGHLEVEL_API, { reqheaders: { version: '2021-04-15', authorization: `Bearer ${COMPANY_TOKEN}` } })
    .get(`/saas/get-saas-subscription/${locationId}`)
    .query({ companyId: AGENCY })
    .reply(status, body);

async function pricing(companyId: string) {
  const token = (await t.service.sessionTokens.issue({ userId: 'u1', companyId, type: 'agency', role: 'admin', activeLocation: null })).token;
  const res = await t.http.get('/api/pricing').set('authorization', `Bearer ${token}`).expect(200);
  const warnings = Object.fromEntries(res.body.rows.map((r: { metric: string; doubleBillingWarning: string | null }) => [r.metric, r.doubleBillingWarning]));
  return { summary: res.body.highLevelRebilling, warnings };
}

beforeAll(async () => {
  t = await startTestService();
  for (const [companyId, locations] of [[AGENCY, [IN_SAAS, NOT_SAAS]], [AGENCY_NO_SCOPE, ['locSaasGuard03']]] as const) {
    await t.service.accounts.registerAgency(companyId, companyId);
    for (const locationId of locations) await t.service.accounts.registerSubAccount(locationId, companyId, locationId);
  }
  await giveCompanyGrant(AGENCY, COMPANY_TOKEN, SCOPES);
  await giveCompanyGrant(AGENCY_NO_SCOPE, 'at-company-no-saas-scope', 'locations.readonly oauth.readonly');
}, 120_000);
afterAll(() => t.close());
afterEach(() => {
  const pending = nock.pendingMocks();
  nock.cleanAll();
  expect(pending).toEqual([]);
});

describe('double-rebilling guard', () => {
  it('when nothing has been read yet, then the grid says the SaaS mode is readable and warns about nothing', async () => {
    const { summary, warnings } = await pricing(AGENCY);
    expect(summary).toEqual({ readable: true, checkedSubAccounts: 0, saasSubAccounts: 0, lastCheckedAt: null });
    expect(Object.values(warnings).every((w) => w === null)).toBe(true);
  });

  it('when HighLevel shows one sub-account in SaaS mode, then every metric HighLevel also rebills carries the warning, and no other', async () => {
    serveSaas(IN_SAAS, 200, { ...DOCUMENTED, locationId: IN_SAAS, companyId: AGENCY });
    serveSaas(NOT_SAAS, 200, { locationId: NOT_SAAS, companyId: AGENCY, isSaaSV2: false });
    expect(await t.service.scheduler.runNow('highlevel-saas-mode')).toBe(true);
    const { summary, warnings } = await pricing(AGENCY);
    expect(summary).toMatchObject({ readable: true, checkedSubAccounts: 2, saasSubAccounts: 1, lastCheckedAt: expect.any(String) });
    for (const metric of ['sms', 'sms_segments', 'mms', 'call_minutes', 'phone_numbers']) expect(warnings[metric]).toMatch(/^1 sub-account is in HighLevel SaaS mode.*"Phone".*pay twice/);
    expect(warnings.email).toMatch(/"Email"/);
    expect(warnings.whatsapp).toMatch(/"whatsApp"/);
    expect(warnings.ai_messages).toMatch(/"conversationAI"/);
    expect(warnings.ai_call_minutes).toBeNull();
  });

  it('when HighLevel refuses the read (403, no Agency Pro), then the agency is not asked further and the last reading stands', async () => {
    serveSaas(IN_SAAS, 403, { statusCode: 403, message: 'The SaaS API is available on the Agency Pro plan' });
    expect(await t.service.saasModeCheck.runOnce()).toEqual({ agencies: 1, checked: 0, inSaasMode: 0, failed: 1 });
    const { summary, warnings } = await pricing(AGENCY);
    expect(summary).toMatchObject({ saasSubAccounts: 1 });
    expect(warnings.sms).not.toBeNull();
  });

  it('when the agency grant lacks saas/company.read, then nothing is asked and the grid says it cannot be read', async () => {
    const { summary, warnings } = await pricing(AGENCY_NO_SCOPE);
    expect(summary).toEqual({ readable: false, checkedSubAccounts: 0, saasSubAccounts: 0, lastCheckedAt: null });
    expect(warnings.sms).toBeNull();
  });
});
