import { startStripeStub, type StripeStub } from '../support/stripe-stub';
import { startTestService, type TestService } from '../support/test-service';

/**
 * What the page builds its Stripe Dashboard links from (ui/src/stripe-dashboard.ts): `GET /api/stripe/connection`
 * reports the mode of the key the agency connected (`sk_test_`/`rk_test_` → test, `sk_live_`/`rk_live_` → live) and
 * the account the key belongs to — for a key stored without its mode too, from the key's prefix; after a disconnect it
 * reports no mode, so the page links nowhere.
 */
let t: TestService;
let stripe: StripeStub;
const TEST_AGENCY = 'companyDashModeTest';
const LIVE_AGENCY = 'companyDashModeLive';
const OLD_TEST_AGENCY = 'companyDashModeOldTest';
const OLD_LIVE_AGENCY = 'companyDashModeOldLive';
const TEST_KEY = 'sk_test_dashboardModeKey0001';
const LIVE_KEY = ['sk', 'live', 'dashboardModeKey0001'].join('_'); // built, so no committed text looks like a live key

const auth = async (companyId: string) =>
  `Bearer ${(await t.service.sessionTokens.issue({ userId: `u-${companyId}`, companyId, type: 'agency', role: 'admin', activeLocation: null, userName: 'Dana Admin' })).token}`;
const connection = async (companyId: string) => (await t.http.get('/api/stripe/connection').set('authorization', await auth(companyId)).expect(200)).body;

beforeAll(async () => {
  stripe = await startStripeStub();
  t = await startTestService({ STRIPE_API_URL: stripe.url });
  for (const companyId of [TEST_AGENCY, LIVE_AGENCY]) await t.service.accounts.registerAgency(companyId);
  stripe.apiKeys.add(TEST_KEY);
  stripe.apiKeys.add(LIVE_KEY);
});
afterAll(async () => {
  await t.close();
  await stripe.close();
});

describe('the Stripe mode the page links with', () => {
  it('when an agency connected a test key, then the connection reports test mode and its account', async () => {
    await t.http.put('/api/stripe/connection').set('authorization', await auth(TEST_AGENCY)).send({ secretKey: TEST_KEY }).expect(200);
    expect(await connection(TEST_AGENCY)).toMatchObject({ connected: true, mode: 'test', accountId: stripe.account.id });
  });

  it('when an agency connected a live key, then the connection reports live mode and its account', async () => {
    await t.http.put('/api/stripe/connection').set('authorization', await auth(LIVE_AGENCY)).send({ secretKey: LIVE_KEY }).expect(200);
    expect(await connection(LIVE_AGENCY)).toMatchObject({ connected: true, mode: 'live', accountId: stripe.account.id });
  });

  it('when a key was stored without its mode (an older version stored none), then the mode comes from the key’s prefix', async () => {
    await t.service.accounts.registerAgency(OLD_TEST_AGENCY);
    await t.service.accounts.registerAgency(OLD_LIVE_AGENCY);
    await t.service.accounts.storeStripeKey(OLD_TEST_AGENCY, 'rk_test_dashboardModeOld0001', stripe.account.id);
    await t.service.accounts.storeStripeKey(OLD_LIVE_AGENCY, ['rk', 'live', 'dashboardModeOld0001'].join('_'));
    expect(await connection(OLD_TEST_AGENCY)).toMatchObject({ connected: true, mode: 'test', accountId: stripe.account.id });
    expect(await connection(OLD_LIVE_AGENCY)).toMatchObject({ connected: true, mode: 'live', accountId: null });
  });

  it('when the agency disconnects, then no mode is reported (the page shows names without links)', async () => {
    await t.http.delete('/api/stripe/connection').set('authorization', await auth(LIVE_AGENCY)).expect(200);
    expect(await connection(LIVE_AGENCY)).toMatchObject({ connected: false, mode: null, accountId: null });
  });
});
