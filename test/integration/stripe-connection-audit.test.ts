import { CONNECT_WEBHOOK_SECRET, connectEnv, connectThroughStripe, deliverConnectEvent } from '../support/stripe-connect';
import { startStripeStub, type StripeStub } from '../support/stripe-stub';
import { startTestService, type TestService } from '../support/test-service';

/**
 * The audit log, for the Stripe connection (issue 19 item 3): every change — key connected, webhook secret, moved to
 * Connect, revoked by the agency in Stripe, disconnected — is one entry with who, when, what, before and after; a
 * refused change records nothing; no entry holds a secret; an agency reads only its own.
 */
let t: TestService;
let stripe: StripeStub;
const A = 'companyAuditA';
const B = 'companyAuditB';
const KEY = 'sk_test_auditTrailKey00001';
const WHSEC = 'whsec_auditHandMadeSecret01';

const auth = async (companyId: string, role = 'admin') =>
  `Bearer ${(await t.service.sessionTokens.issue({ userId: `u-${companyId}`, companyId, type: 'agency', role, activeLocation: null, userName: 'Dana Admin' })).token}`;
const entries = async (companyId = A, query = '') => (await t.http.get(`/api/audit-log${query}`).set('authorization', await auth(companyId, 'user')).expect(200)).body.entries;

beforeAll(async () => {
  stripe = await startStripeStub();
  t = await startTestService(connectEnv(stripe));
  for (const companyId of [A, B]) await t.service.accounts.registerAgency(companyId);
  await t.service.accounts.registerSubAccount('locAuditA1', A);
  stripe.apiKeys.add(KEY);
  stripe.apiKeys.add(stripe.connect.platformKey);
});
afterAll(async () => {
  await t.close();
  await stripe.close();
});

describe('audit log of the Stripe connection', () => {
  it('when a change is refused (a malformed key), then nothing is recorded', async () => {
    await t.http.put('/api/stripe/connection').set('authorization', await auth(A)).send({ secretKey: 'sk_test_x' }).expect(400);
    expect(await entries()).toEqual([]);
  });

  it('when an admin connects a key, then one entry names them, with no connection before and the key’s description after', async () => {
    await t.http.put('/api/stripe/connection').set('authorization', await auth(A)).send({ secretKey: KEY }).expect(200);
    const [entry, ...rest] = await entries();
    expect(rest).toEqual([]);
    expect(entry).toEqual({
      id: expect.any(Number),
      occurredAt: expect.any(String),
      actor: { type: 'user', userId: `u-${A}`, name: 'Dana Admin' },
      action: 'stripe.key_connected',
      subject: 'stripe_connection',
      before: null,
      after: expect.objectContaining({ method: 'key', mode: 'test', keyType: 'secret', keyLast4: KEY.slice(-4), accountId: stripe.account.id }),
    });
  });

  it('when a webhook signing secret is stored, then one entry says so without the secret', async () => {
    await t.http.put('/api/stripe/webhook-secret').set('authorization', await auth(A)).send({ secret: WHSEC }).expect(200);
    const [entry] = await entries();
    expect(entry).toMatchObject({ action: 'stripe.webhook_secret_set', after: { webhookConfigured: true } });
  });

  it('when the agency moves to Connect (same account), is revoked in Stripe, reconnects and disconnects, then each is one entry in order', async () => {
    await t.service.accounts.mapCustomer('locAuditA1', 'cus_Audit01');
    expect((await connectThroughStripe(t, stripe, A, stripe.account.id)).res.status).toBe(200);
    stripe.connect.revoke(stripe.account.id);
    await deliverConnectEvent(t, stripe.connect.deauthorizedEvent(stripe.account.id)).expect(200);
    expect((await connectThroughStripe(t, stripe, A, stripe.account.id)).res.status).toBe(200);
    await t.http.delete('/api/stripe/connection').set('authorization', await auth(A)).expect(200);

    const log = await entries();
    expect(log.map((e: { action: string }) => e.action)).toEqual([
      'stripe.disconnected',
      'stripe.connect_connected',
      'stripe.deauthorized',
      'stripe.connect_connected',
      'stripe.webhook_secret_set',
      'stripe.key_connected',
    ]);
    const [disconnected, reconnected, revoked, moved] = log;
    // The user of the SSO session that started the authorization (bound to its state), as the helper signs in.
    expect(moved).toMatchObject({ actor: { type: 'user', userId: `u-${A}-admin`, name: null }, before: { method: 'key' }, after: { method: 'connect', keyLast4: null } });
    expect(revoked).toMatchObject({ actor: { type: 'stripe' }, before: { deauthorizedAt: null }, after: { method: 'connect', deauthorizedAt: expect.any(String) } });
    expect(reconnected).toMatchObject({ before: { deauthorizedAt: expect.any(String) }, after: { deauthorizedAt: null } });
    expect(disconnected).toMatchObject({ before: { method: 'connect' }, after: null });
  });

  it('when a Connect change is refused (another account while mapped), then nothing is recorded', async () => {
    await t.http.put('/api/stripe/connection').set('authorization', await auth(A)).send({ secretKey: KEY }).expect(200);
    const before = (await entries()).length;
    const { res } = await connectThroughStripe(t, stripe, A);
    expect(res.body.error.code).toBe('stripe_account_mismatch');
    expect((await entries()).length).toBe(before);
  });

  it('when the log is read, then no entry holds a key, token or signing secret, filters work, and another agency sees none', async () => {
    const all = JSON.stringify(await entries());
    for (const secret of [KEY, WHSEC, stripe.connect.platformKey, CONNECT_WEBHOOK_SECRET]) expect(all).not.toContain(secret);
    expect(all).not.toMatch(/sk_(test|live)_|rk_(test|live)_|whsec_|rt_/);
    const revoked = await entries(A, '?action=stripe.deauthorized');
    expect(revoked).toHaveLength(1);
    expect(await entries(A, `?limit=1&beforeId=${revoked[0].id}`)).toEqual([expect.objectContaining({ action: 'stripe.connect_connected' })]);
    expect(await entries(B)).toEqual([]);
  });
});
