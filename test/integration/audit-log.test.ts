import { startStripeStub, type StripeStub } from '../support/stripe-stub';
import { startTestService, type TestService } from '../support/test-service';
import { routeKey, unauditedWriteRoutes } from '../../server/audit/with-audit';
import { ROUTE_AUDITS } from '../../server/audit/route-audits';

/**
 * The audit log beyond the Stripe connection (issue 19 item 3): several kinds of change walked through the HTTP API,
 * each one entry naming the HighLevel user with before and after; a refused change writes nothing; no entry holds a
 * secret (Stripe key, API key, webhook secret); the CSV export; and every write route of the table is accounted for.
 */
let t: TestService;
let stripe: StripeStub;
const A = 'companyActivityA';
const LOC = 'locActivityA1';
const KEY = 'sk_test_activityLogKey000001';
const WHSEC = 'whsec_activityLogSecret0001';
let apiKey = '';

const auth = async (role = 'admin') =>
  `Bearer ${(await t.service.sessionTokens.issue({ userId: `u-${role}`, companyId: A, type: 'agency', role, activeLocation: null, userName: '=HYPERLINK(1) Dana' })).token}`;
const send = async (method: 'put' | 'post' | 'delete', path: string, body?: object, role = 'admin') => {
  const req = t.http[method](path).set('authorization', await auth(role));
  return body ? req.send(body) : req;
};
const entries = async (query = '') => (await t.http.get(`/api/audit-log${query}`).set('authorization', await auth('user')).expect(200)).body.entries;

beforeAll(async () => {
  stripe = await startStripeStub();
  t = await startTestService({ STRIPE_API_URL: stripe.url });
  await t.service.accounts.registerAgency(A);
  await t.service.accounts.registerSubAccount(LOC, A);
  stripe.apiKeys.add(KEY);
});
afterAll(async () => {
  await t.close();
  await stripe.close();
});

describe('audit log of billing configuration', () => {
  it('every write route of the table is audited, audited in its use case, or changes no configuration', () => {
    expect(unauditedWriteRoutes(t.service.apiRoutes)).toEqual([]);
    const keys = new Set(t.service.apiRoutes.map(routeKey));
    expect(Object.keys(ROUTE_AUDITS).filter((k) => !keys.has(k))).toEqual([]);
  });

  it('when changes are made through the API, then each is one entry with who, before and after', async () => {
    await send('put', '/api/stripe/connection', { secretKey: KEY }).then((r) => expect(r.status).toBe(200));
    await send('put', '/api/stripe/webhook-secret', { secret: WHSEC }).then((r) => expect(r.status).toBe(200));
    const sms = { threshold: 1, price: { currency: 'usd', interval: 'month', unitAmountDecimal: '2' }, baseCostDecimal: '0.79' };
    await send('put', '/api/pricing/sms', sms).then((r) => expect(r.status).toBe(200));
    await send('put', '/api/pricing/sms', { ...sms, threshold: 5 }).then((r) => expect(r.status).toBe(200));
    await send('put', '/api/defaults', { autoApply: true }).then((r) => expect(r.status).toBe(200));
    const created = await send('post', '/api/api-keys', { name: 'Vendor' });
    expect(created.status).toBe(201);
    apiKey = created.body.key;
    await send('delete', `/api/api-keys/${created.body.id}`).then((r) => expect(r.status).toBe(200));
    await send('put', '/api/ai-senders', { markers: ['provider:activityBot01'] }).then((r) => expect(r.status).toBe(200));
    await send('put', '/api/email-billing', { source: 'lc_email_stats' }).then((r) => expect(r.status).toBe(200));
    await send('put', `/api/sub-accounts/${LOC}/billing-mode`, { mode: 'shadow' }).then((r) => expect(r.status).toBe(200));
    await send('put', '/api/payments/settings', { requireCardBeforeSubscription: true }).then((r) => expect(r.status).toBe(200));
    await send('post', '/api/custom-metrics', { key: 'gpu_seconds', label: 'GPU seconds', unit: 'second' }).then((r) => expect(r.status).toBe(201));

    const log = await entries();
    expect(log.map((e: { action: string }) => e.action)).toEqual([
      'custom_metric.defined',
      'payments.settings_set',
      'sub_account.billing_mode_set',
      'email_billing.set',
      'ai_senders.set',
      'api_key.revoked',
      'api_key.created',
      'defaults.set',
      'pricing.rule_set',
      'pricing.rule_set',
      'stripe.webhook_secret_set',
      'stripe.key_connected',
    ]);
    for (const e of log) expect(e.actor).toEqual({ type: 'user', userId: 'u-admin', name: '=HYPERLINK(1) Dana' });
    const by = (action: string) => log.find((e: { action: string }) => e.action === action);
    expect(log[9]).toMatchObject({ subject: 'pricing_rule', before: null, after: { metric: 'sms', threshold: '1.000000', enabled: true } });
    expect(log[8]).toMatchObject({ before: { threshold: '1.000000' }, after: { threshold: '5.000000' } });
    expect(by('defaults.set')).toMatchObject({ before: { autoApply: false }, after: { autoApply: true } });
    expect(by('api_key.revoked')).toMatchObject({ subject: 'api_key', before: { name: 'Vendor', revoked: false }, after: { revoked: true } });
    expect(by('ai_senders.set')).toMatchObject({ before: { markers: [] }, after: { markers: ['provider:activityBot01'] } });
    expect(by('email_billing.set')).toMatchObject({ after: { source: 'lc_email_stats' } });
    expect(by('sub_account.billing_mode_set')).toMatchObject({ before: { locationId: LOC, billingMode: 'live' }, after: { billingMode: 'shadow' } });
    expect(by('payments.settings_set')).toMatchObject({ before: { requireCardBeforeSubscription: false }, after: { requireCardBeforeSubscription: true } });
    expect(by('custom_metric.defined')).toMatchObject({ before: null, after: { key: 'gpu_seconds', label: 'GPU seconds' } });
  });

  it('when a sub-account is mapped to a new customer and a coupon is created, then each is one entry', async () => {
    await send('put', `/api/sub-accounts/${LOC}/customer`, { create: true }).then((r) => expect(r.status).toBe(200));
    await send('post', '/api/catalog/coupons', { name: 'Welcome', percentOff: 25, duration: 'once' }).then((r) => expect(r.status).toBe(201));
    const [coupon, mapped] = await entries();
    expect(mapped).toMatchObject({
      action: 'sub_account.customer_mapped', subject: 'sub_account_billing',
      before: { locationId: LOC, stripeCustomerId: null }, after: { locationId: LOC, stripeCustomerId: expect.stringMatching(/^cus_/) },
    });
    expect(coupon).toMatchObject({ action: 'coupon.created', subject: 'coupon', before: null, after: { name: 'Welcome', percentOff: 25, duration: 'once' } });
  });

  it('no entry holds a secret: not the Stripe key, the API key, nor the webhook secret', async () => {
    const text = JSON.stringify(await entries('?limit=200'));
    expect(apiKey).toMatch(/^mbk_/);
    for (const secret of [KEY, apiKey, WHSEC, apiKey.slice(12)]) expect(text).not.toContain(secret);
  });

  it('when a change is refused (unknown metric, or a non-admin agency user), then nothing is written', async () => {
    const before = (await entries('?limit=200')).length;
    const bad = await send('put', '/api/pricing/not_a_metric', { threshold: 1, price: { currency: 'usd', interval: 'month', unitAmountDecimal: '2' } });
    expect(bad.status).toBe(400);
    expect((await send('put', '/api/defaults', { autoApply: false }, 'user')).status).toBe(403);
    expect((await send('post', '/api/api-keys', { name: 'Nope' }, 'user')).status).toBe(403);
    expect((await entries('?limit=200')).length).toBe(before);
  });

  it('filters by subject, action, user and day', async () => {
    expect((await entries('?subject=api_key')).map((e: { action: string }) => e.action)).toEqual(['api_key.revoked', 'api_key.created']);
    expect(await entries('?action=defaults.set')).toHaveLength(1);
    expect(await entries('?userId=someone-else')).toEqual([]);
    const today = new Date().toISOString().slice(0, 10);
    expect((await entries(`?from=${today}&to=${today}&userId=u-admin`)).length).toBeGreaterThan(5);
    expect(await entries('?to=2000-01-01')).toEqual([]);
  });

  it('the CSV export has every entry, formula-neutralised, and no secret', async () => {
    const res = await t.http.get('/api/audit-log.csv').set('authorization', await auth('user')).buffer(true).parse((r, cb) => {
      let text = '';
      r.on('data', (c: Buffer) => (text += c.toString()));
      r.on('end', () => cb(null, text));
    });
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/text\/csv/);
    const lines = (res.body as string).trim().split('\n');
    expect(lines[0]).toBe('id,occurred_at,actor_type,actor_user_id,actor_name,action,subject,before,after');
    expect(lines).toHaveLength(1 + (await entries('?limit=200')).length);
    expect(lines[1]).toContain(",'=HYPERLINK(1) Dana,coupon.created,");
    for (const secret of [KEY, apiKey, WHSEC]) expect(res.body).not.toContain(secret);
  });

  it('sub-account users may not read the log or its CSV', async () => {
    const token = `Bearer ${(await t.service.sessionTokens.issue({ userId: 'u-loc', companyId: A, type: 'location', role: 'admin', activeLocation: LOC })).token}`;
    expect((await t.http.get('/api/audit-log').set('authorization', token)).status).toBe(403);
    expect((await t.http.get('/api/audit-log.csv').set('authorization', token)).status).toBe(403);
  });
});
