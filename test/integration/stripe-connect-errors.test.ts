import { sql } from 'drizzle-orm';
import { agencyAuth, beginConnect, callback, CONNECT_WEBHOOK_SECRET, connectEnv, connectThroughStripe, deliverConnectEvent } from '../support/stripe-connect';
import { startStripeStub, type StripeStub } from '../support/stripe-stub';
import { startTestService, type TestService } from '../support/test-service';

/**
 * Connect with Stripe when things go wrong: the agency declines, a state that is forged, expired, reused or from
 * another browser, a code Stripe refuses, a different account while sub-accounts are mapped, an account another
 * agency holds, a forged Connect webhook — and the move from a pasted key to Connect that keeps the mappings.
 */
let t: TestService;
let stripe: StripeStub;
const A = 'companyConnectErrA';
const B = 'companyConnectErrB';
const KEY = 'sk_test_connectErrorsKey0001';
const json = { accept: 'application/json' };

beforeAll(async () => {
  stripe = await startStripeStub();
  t = await startTestService(connectEnv(stripe));
  for (const [companyId, locationId] of [[A, 'locConnectErrA1'], [B, 'locConnectErrB1']] as const) {
    await t.service.accounts.registerAgency(companyId);
    await t.service.accounts.registerSubAccount(locationId, companyId);
  }
});
afterAll(async () => {
  await t.close();
  await stripe.close();
});

describe('Connect with Stripe: refusals', () => {
  it('when the agency declines on Stripe’s page, then the callback says so (400 stripe_connect_declined), nothing changes, and the state is used up', async () => {
    const { state, cookie } = await beginConnect(t, A);
    const res = await callback(t, { ...stripe.connect.deny(), state }, cookie);
    expect([res.status, res.body.error.code]).toEqual([400, 'stripe_connect_declined']);
    expect(res.body.error.message).toMatch(/declined/);
    const again = await callback(t, { ...stripe.connect.deny(), state }, cookie);
    expect([again.status, again.body.error.code]).toEqual([409, 'stripe_connect_state_used']);
    const status = await t.http.get('/api/stripe/connection').set('authorization', await agencyAuth(t, A)).expect(200);
    expect(status.body.connected).toBe(false);
  });

  it('when a browser asks for a page, then the refusal is a page that says so (no JSON, no echo of the query)', async () => {
    const res = await t.http.get('/stripe/connect/callback?error=access_denied&state=%3Cscript%3E').set('accept', 'text/html');
    expect(res.status).toBe(400);
    expect(res.type).toBe('text/html');
    expect(res.text).toContain('This Stripe connection link is not valid');
    expect(res.text).not.toContain('<script>');
  });

  it('when the state is missing, forged or tampered, then 400 stripe_connect_state_invalid', async () => {
    const { state, cookie } = await beginConnect(t, A);
    const [nonce, sig] = state.split('.');
    const forged = `${nonce}.${sig!.slice(0, -2)}${sig!.endsWith('AA') ? 'BB' : 'AA'}`;
    for (const bad of [undefined, 'nope', forged, `${'x'.repeat(43)}.${sig}`]) {
      const res = await callback(t, { code: 'ac_whatever', ...(bad ? { state: bad } : {}) }, cookie);
      expect([res.status, res.body.error.code]).toEqual([400, 'stripe_connect_state_invalid']);
    }
    const authorize = await t.http.get(`/stripe/connect/authorize?state=${encodeURIComponent(forged)}`).set(json);
    expect([authorize.status, authorize.body.error.code]).toEqual([400, 'stripe_connect_state_invalid']);
  });

  it('when the state has expired, then 400 stripe_connect_state_expired, at the authorize step and at the callback', async () => {
    const { state, cookie } = await beginConnect(t, A);
    const realNow = Date.now();
    const clock = jest.spyOn(Date, 'now').mockReturnValue(realNow + 16 * 60 * 1000); // past the 15 minutes
    try {
      const authorize = await t.http.get(`/stripe/connect/authorize?state=${encodeURIComponent(state)}`).set(json);
      expect([authorize.status, authorize.body.error.code]).toEqual([400, 'stripe_connect_state_expired']);
      const res = await callback(t, { code: stripe.connect.authorize().code, state }, cookie);
      expect([res.status, res.body.error.code]).toEqual([400, 'stripe_connect_state_expired']);
    } finally {
      clock.mockRestore();
    }
    // Moving the stored expiry instead breaks the state's signature: the database alone cannot extend a link.
    await t.database.db.execute(sql`update stripe_connect_states set expires_at = now() + interval '1 day' where nonce = ${state.split('.')[0]!}`);
    const extended = await callback(t, { code: 'ac_whatever', state }, cookie);
    expect([extended.status, extended.body.error.code]).toEqual([400, 'stripe_connect_state_invalid']);
  });

  it('when the same state reaches the callback twice at once, then exactly one completes and the other is told it was used', async () => {
    const { state, cookie } = await beginConnect(t, B);
    const { code } = stripe.connect.authorize();
    const answers = await Promise.all([callback(t, { code, state }, cookie), callback(t, { code, state }, cookie)]);
    expect(answers.map((r) => r.status).sort()).toEqual([200, 409]);
    expect(answers.find((r) => r.status === 409)!.body.error.code).toBe('stripe_connect_state_used');
    await t.http.delete('/api/stripe/connection').set('authorization', await agencyAuth(t, B)).expect(200);
  });

  it('when the callback comes to another browser (no cookie of the authorize step), then 400 stripe_connect_browser_mismatch', async () => {
    const { state } = await beginConnect(t, A);
    const res = await callback(t, { code: stripe.connect.authorize().code, state }, null);
    expect([res.status, res.body.error.code]).toEqual([400, 'stripe_connect_browser_mismatch']);
  });

  it('when Stripe refuses the code (already used: invalid_grant), then 400 stripe_connect_code_invalid with Stripe’s reason', async () => {
    const first = await beginConnect(t, B);
    const { code } = stripe.connect.authorize();
    expect((await callback(t, { code, state: first.state }, first.cookie)).status).toBe(200);
    const second = await beginConnect(t, B);
    const res = await callback(t, { code, state: second.state }, second.cookie);
    expect([res.status, res.body.error.code]).toEqual([400, 'stripe_connect_code_invalid']);
    expect(res.body.error.message).toMatch(/already been used/);
    await t.http.delete('/api/stripe/connection').set('authorization', await agencyAuth(t, B)).expect(200);
  });

  it('when another agency is already connected to the account, then 409 stripe_account_in_use and the new grant is revoked', async () => {
    const { res, accountId } = await connectThroughStripe(t, stripe, B);
    expect(res.status).toBe(200);
    const taken = await connectThroughStripe(t, stripe, A, accountId);
    expect([taken.res.status, taken.res.body.error.code]).toEqual([409, 'stripe_account_in_use']);
    expect(stripe.connect.grants.get(accountId)?.status).toBe('revoked');
    await t.http.delete('/api/stripe/connection').set('authorization', await agencyAuth(t, B)).expect(200);
  });

  it('when the Connect webhook is not signed with the platform endpoint’s secret, then 401 invalid_signature and nothing is applied', async () => {
    const res = await deliverConnectEvent(t, stripe.connect.deauthorizedEvent('acct_whatever'), 'whsec_notTheSecret0001');
    expect([res.status, res.body.error.code]).toEqual([401, 'invalid_signature']);
    expect(CONNECT_WEBHOOK_SECRET).not.toBe('whsec_notTheSecret0001');
  });
});

describe('Connect with Stripe: from a pasted key to Connect', () => {
  beforeAll(async () => {
    stripe.apiKeys.add(KEY);
    stripe.apiKeys.add(stripe.connect.platformKey);
    await t.http.put('/api/stripe/connection').set('authorization', await agencyAuth(t, A)).send({ secretKey: KEY }).expect(200);
    await t.service.accounts.mapCustomer('locConnectErrA1', 'cus_KeyToConnect01');
  });

  it('when the agency connects a DIFFERENT account while sub-accounts are mapped, then 409 stripe_account_mismatch, the key stays, the grant is revoked', async () => {
    const { res, accountId } = await connectThroughStripe(t, stripe, A);
    expect([res.status, res.body.error.code]).toEqual([409, 'stripe_account_mismatch']);
    expect(res.body.error.message).toContain(stripe.account.id);
    expect(stripe.connect.grants.get(accountId)?.status).toBe('revoked');
    const status = await t.http.get('/api/stripe/connection').set('authorization', await agencyAuth(t, A)).expect(200);
    expect(status.body).toMatchObject({ connected: true, keyLast4: KEY.slice(-4), connect: { method: 'key' } });
  });

  it('when the agency connects the SAME account, then it moves to Connect: mappings kept, key forgotten', async () => {
    const { res } = await connectThroughStripe(t, stripe, A, stripe.account.id);
    expect(res.body).toEqual({ connected: true, accountId: stripe.account.id, mode: 'test' });
    const status = await t.http.get('/api/stripe/connection').set('authorization', await agencyAuth(t, A)).expect(200);
    expect(status.body).toMatchObject({ connected: true, keyLast4: null, keyType: null, accountId: stripe.account.id, connect: { method: 'connect' } });
    const sub = await t.http.get('/api/sub-accounts/locConnectErrA1').set('authorization', await agencyAuth(t, A)).expect(200);
    expect(sub.body.stripeCustomerId).toBe('cus_KeyToConnect01');
    expect(await t.service.accounts.revealStripeKey(A)).toBeNull();
  });

  it('when the agency goes back to a pasted key, then the Connect grant is revoked and the key is used again', async () => {
    await t.http.put('/api/stripe/connection').set('authorization', await agencyAuth(t, A)).send({ secretKey: KEY }).expect(200);
    expect(stripe.connect.grants.get(stripe.account.id)?.status).toBe('revoked');
    const status = await t.http.get('/api/stripe/connection').set('authorization', await agencyAuth(t, A)).expect(200);
    expect(status.body).toMatchObject({ connected: true, keyLast4: KEY.slice(-4), connect: { method: 'key', deauthorized: false } });
  });
});
