import { sql } from 'drizzle-orm';
import { raiseAlert } from '../../server/alerts/raise';
import { countAudit, listAudit } from '../../server/audit/audit-log';
import { AUDITED_IN_USE_CASE, NOT_CONFIGURATION, ROUTE_AUDITS } from '../../server/audit/route-audits';
import { routeKey } from '../../server/audit/with-audit';
import { encryptSsoPayload } from '../support/highlevel-sso';
import { connectEnv } from '../support/stripe-connect';
import { attachTestCard } from '../support/stripe/customers';
import { startStripeStub, type StripeStub } from '../support/stripe-stub';
import { startTestService, type TestService } from '../support/test-service';

/**
 * Issue 19, "Every write route produces exactly one audit entry (a test generated from the route table)": every
 * non-GET route of the app's route table is called once, as an agency admin, with a valid body, against the Stripe
 * double; each audited route must have written exactly one new entry, with its action and the admin as the actor,
 * and each route listed as changing no configuration (NOT_CONFIGURATION, with its reason) none.
 *
 * CALLS below is the one table of how to call each write route: a route of the table missing from it (a new write
 * route) fails the first test, as does one without an audit spec in server/audit/route-audits.ts. To add a route:
 * its spec there, and here its body and, when it needs one, a `prepare` that makes what it acts on (what `prepare`
 * writes is not counted). Calls run in the table's order: the Stripe connection first, its removal last.
 */
let t: TestService;
let stripe: StripeStub;
const A = 'companyAuditTable0001';
const KEY = 'sk_test_auditRouteTable0001';
const SHARED_SECRET = 'sso-secret-audit-route-table';
const ADMIN = { userId: 'u-audit-admin', name: 'Dana Admin' };
/** Sub-accounts: LOC is mapped and carded (charges, top-ups), NEW gets its customer from "apply defaults", the rest as named. */
const LOC = 'locAuditTableMain01';
const NEW = 'locAuditTableNew001';
const SHADOW = 'locAuditTableShadow';
const DECLINED = 'locAuditTableDecline';
const SPEC = { billingMode: 'prepaid', currency: 'usd', initialTopUpCents: 5000, thresholdCents: 1000, topUpCents: 2000, maxBalanceCents: 6000, monthlyCapCents: null };

/** What a call's `prepare` found or made, for the path and the body. */
interface Ctx { couponId: string; productId: number; chargeId: number; planId: number; topUpId: number; backfillId: number; batchId: number; keyId: number; apiKey: string; alertId: string; customers: Record<string, string> }
const ctx: Ctx = { couponId: '', productId: 0, chargeId: 0, planId: 0, topUpId: 0, backfillId: 0, batchId: 0, keyId: 0, apiKey: '', alertId: '', customers: {} };

/** How to call one write route. `auth` 'none' sends no token; 'api-key' the agency's API key. */
interface Call { body?: (c: Ctx) => object; prepare?: (c: Ctx) => Promise<void>; auth?: 'admin' | 'none' | 'api-key' }

const hourAgo = (h: number) => new Date(Date.now() - h * 3_600_000).toISOString();
const adminToken = async () => (await t.service.sessionTokens.issue({ userId: ADMIN.userId, companyId: A, type: 'agency', role: 'admin', activeLocation: null, userName: ADMIN.name })).token;
const api = async (method: 'put' | 'post' | 'delete', path: string, body?: object) => {
  const res = await t.http[method](path).set('authorization', `Bearer ${await adminToken()}`).send(body ?? {});
  if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
};
const card = (locationId: string, pm: string) => {
  attachTestCard(stripe.state, pm, ctx.customers[locationId]!);
  stripe.state.customers.get(ctx.customers[locationId]!)!.invoice_settings = { default_payment_method: pm };
};
const mapped = async (locationId: string) => {
  await t.service.accounts.registerSubAccount(locationId, A, `Clinic ${locationId}`);
  ctx.customers[locationId] = (await api('put', `/api/sub-accounts/${locationId}/customer`, { create: true })).stripeCustomerId;
};

const CALLS: Record<string, Call> = {
  'PUT /api/stripe/connection': { body: () => ({ secretKey: KEY }) },
  'PUT /api/stripe/webhook-secret': { body: () => ({ secret: 'whsec_auditRouteTable0001' }) },
  'PUT /api/pricing/:metric': { body: () => ({ threshold: 1, price: { currency: 'usd', interval: 'month', unitAmountDecimal: '2' } }) },
  'PUT /api/defaults': { body: () => ({ autoApply: true }) },
  'PUT /api/sub-accounts/:locationId/customer': { body: () => ({ create: true }) },
  'PUT /api/sub-accounts/:locationId/billing': { body: () => ({ rebillingEnabled: true }), prepare: async () => card(LOC, 'pm_card_visa') },
  'POST /api/defaults/apply': { body: () => ({ locationIds: [NEW] }), prepare: () => t.service.accounts.registerSubAccount(NEW, A, 'New Clinic') },
  'DELETE /api/sub-accounts/:locationId/rules/:metric': {
    prepare: async () => void (await t.service.rules.setRule({ locationId: LOC }, { metric: 'sms', enabled: true, threshold: '5' })),
  },
  'PUT /api/sub-accounts/:locationId/billing-mode': { body: () => ({ mode: 'shadow' }), prepare: () => mapped(SHADOW) },
  'POST /api/sub-accounts/:locationId/would-bill/bill': {},
  'POST /api/catalog/coupons': { body: () => ({ name: 'Welcome', percentOff: 25, duration: 'once' }) },
  'PUT /api/sub-accounts/:locationId/discount': { body: (c) => ({ couponId: c.couponId }) },
  'DELETE /api/sub-accounts/:locationId/discount': {},
  'DELETE /api/catalog/coupons/:couponId': {},
  'POST /api/catalog/one-time-products': { body: () => ({ name: 'Set-up fee', amount: 4990, currency: 'usd' }) },
  'POST /api/sub-accounts/:locationId/one-time-charges': { body: (c) => ({ mode: 'charge_now', productId: c.productId }) },
  'POST /api/sub-accounts/:locationId/one-time-charges/:chargeId/retry': {
    prepare: async (c) => {
      await mapped(DECLINED);
      card(DECLINED, 'pm_card_chargeDeclined');
      c.chargeId = (await api('post', `/api/sub-accounts/${DECLINED}/one-time-charges`, { mode: 'charge_now', productId: c.productId })).id;
    },
  },
  'DELETE /api/catalog/one-time-products/:productId': {},
  'POST /api/catalog/plans': { body: () => ({ name: 'Pro', currency: 'usd', baseFeeAmount: 1500, metrics: [{ metric: 'sms', includedUnits: 100, overageUnitAmountDecimal: '3' }] }) },
  'PUT /api/sub-accounts/:locationId/plan': { body: (c) => ({ planId: c.planId }) },
  'DELETE /api/catalog/plans/:planId': {},
  'POST /api/sub-accounts/:locationId/meter-batches/:batchId/retry': {
    prepare: async (c) => {
      const rows = await t.database.db.execute(sql`insert into meter_batches (company_id, stripe_customer_id, meter_event_name, identifier, value, timestamp, status, last_error)
        values (${A}, ${c.customers[LOC]}, 'meterbridge_sms', 'audit-table-batch-1', 3, ${Math.floor(Date.now() / 1000)}, 'failed', 'Stripe: test') returning id::int as id`);
      c.batchId = (rows as unknown as { rows: Array<{ id: number }> }).rows[0]!.id;
      await t.database.db.execute(sql`insert into meter_reports (company_id, location_id, metric, stripe_customer_id, meter_event_name, units, crossed_at, status, batch_id)
        values (${A}, ${LOC}, 'sms', ${c.customers[LOC]}, 'meterbridge_sms', 3, now(), 'failed', ${c.batchId})`);
    },
  },
  'PUT /api/ai-senders': { body: () => ({ markers: ['provider:auditTableBot'] }) },
  'PUT /api/email-billing': { body: () => ({ source: 'lc_email_stats' }) },
  'POST /api/reconciliation/runs': {},
  'POST /api/sub-accounts/:locationId/reconciliation/runs': {},
  'POST /api/sub-accounts/:locationId/backfills': { body: () => ({ startAt: hourAgo(48), endAt: hourAgo(1) }) },
  'POST /api/sub-accounts/:locationId/backfills/:backfillId/cancel': {},
  'POST /api/sub-accounts/:locationId/backfills/:backfillId/bill': {
    prepare: async (c) => void (c.backfillId = (await t.service.backfills.start(LOC, { startAt: hourAgo(30), endAt: hourAgo(2) })).id),
  },
  'PUT /api/wallets/settings': { body: () => SPEC },
  'PUT /api/sub-accounts/:locationId/wallet/settings': { body: () => SPEC },
  'POST /api/sub-accounts/:locationId/wallet/top-ups': {},
  'POST /api/sub-accounts/:locationId/wallet/top-ups/:topUpId/refund': { body: () => ({ amountCents: 500 }) },
  'POST /api/sub-accounts/:locationId/wallet/checkout': { body: () => ({ amountCents: 1000 }) },
  'PUT /api/sub-accounts/:locationId/nickname': { body: () => ({ nickname: 'Main' }) },
  'PUT /api/pricing/:metric/directions/:direction': { body: () => ({ threshold: 1, price: { currency: 'usd', interval: 'month', unitAmountDecimal: '5' } }) },
  'PUT /api/payments/settings': { body: () => ({ requireCardBeforeSubscription: true }) },
  'PUT /api/suspension/settings': { body: () => ({ policy: 'stop_billing', afterAttempts: 3 }) },
  'POST /api/sub-accounts/:locationId/suspension/resume': {},
  'POST /api/custom-metrics': { body: () => ({ key: 'gpu_seconds', label: 'GPU seconds', unit: 'second' }) },
  'DELETE /api/custom-metrics/:key': {},
  'POST /api/api-keys': { body: () => ({ name: 'Vendor' }) },
  'DELETE /api/api-keys/:keyId': {},
  'PUT /api/alerts/settings': { body: () => ({ webhookUrl: 'https://hooks.agency.example/mb', webhookEnabled: true, webhookEvents: ['payment_failed'] }) },
  'PUT /api/alerts/usage-thresholds': { body: () => ({ locationId: null, metric: 'sms', limit: '100' }) },
  // Changing no configuration (NOT_CONFIGURATION): each must write nothing.
  'POST /api/session': {
    auth: 'none',
    // An installed agency (the OAuth install's row; the access token is sealed in real life, never read here).
    prepare: async () => void (await t.database.db.execute(sql`insert into installations (company_id, user_type, access_token, expires_at, source)
      values (${A}, 'Company', 'unused-in-this-test', now() + interval '1 day', 'oauth')`)),
    body: () => ({ payload: encryptSsoPayload({ userId: ADMIN.userId, companyId: A, role: 'admin', type: 'agency', userName: ADMIN.name }, SHARED_SECRET) }) },
  'POST /api/stripe/connect': {},
  'POST /api/v1/usage': {
    auth: 'api-key',
    body: () => ({ events: [{ locationId: LOC, metric: 'sms', quantity: 1, occurredAt: new Date().toISOString(), idempotencyKey: 'audit-table-usage-1' }] }),
    prepare: async (c) => void (c.apiKey = (await t.service.apiKeys.create(A, 'route table usage')).key),
  },
  'POST /api/sub-accounts/:locationId/payments/card-link': {},
  'POST /api/sub-accounts/:locationId/payments/portal-link': {},
  'POST /api/alerts/:alertId/read': {
    prepare: async (c) => void (c.alertId = (await raiseAlert(t.database.db, { companyId: A, locationId: LOC, kind: 'card_missing', dedupeKey: 'audit-table', title: 'No card', message: 'No card.', data: {} })).id),
  },
  'POST /api/alerts/read-all': {},
  'DELETE /api/stripe/connection': {},
};

/** The route's path with this test's values. */
function pathOf(path: string, c: Ctx): string {
  const values: Record<string, string> = {
    locationId: path.includes('billing-mode') || path.includes('would-bill') ? SHADOW : path.includes('/retry') && path.includes('one-time') ? DECLINED : LOC,
    // A directional metric split into inbound and outbound: calls, so the SMS rule the other calls set stays whole.
    metric: path.includes('/directions/') ? 'call_minutes' : 'sms', direction: 'inbound', topUpId: String(c.topUpId), planId: String(c.planId),
    couponId: c.couponId, productId: String(c.productId), chargeId: String(c.chargeId), batchId: String(c.batchId),
    backfillId: String(c.backfillId), key: 'gpu_seconds', keyId: String(c.keyId), alertId: c.alertId,
  };
  return path.replace(/:([A-Za-z]+)/g, (_m, name: string) => values[name] ?? `:${name}`);
}

/** Ids the next calls act on, from a call's answer. */
function remember(key: string, body: Record<string, any>): void {
  if (key === 'PUT /api/sub-accounts/:locationId/customer') ctx.customers[LOC] = body.stripeCustomerId;
  if (key === 'POST /api/catalog/coupons') ctx.couponId = body.id;
  if (key === 'POST /api/catalog/one-time-products') ctx.productId = body.id;
  if (key === 'POST /api/catalog/plans') ctx.planId = body.id;
  if (key === 'POST /api/sub-accounts/:locationId/wallet/top-ups') ctx.topUpId = body.topUp?.id ?? body.id;
  if (key === 'POST /api/sub-accounts/:locationId/backfills') ctx.backfillId = body.id;
  if (key === 'POST /api/api-keys') ctx.keyId = body.id;
}

beforeAll(async () => {
  stripe = await startStripeStub();
  t = await startTestService({ ...connectEnv(stripe), HIGHLEVEL_SHARED_SECRET: SHARED_SECRET, REPORTER_ENABLED: 'false' });
  await t.service.accounts.registerAgency(A, 'Route Table Agency');
  await t.service.accounts.registerSubAccount(LOC, A, 'Main Clinic');
  stripe.apiKeys.add(KEY);
});
afterAll(async () => {
  await t.close();
  await stripe.close();
});

describe('every write route of the route table writes exactly its audit entry', () => {
  const writeRoutes = () => t.service.apiRoutes.filter((r) => r.method !== 'get').map(routeKey);

  it('every write route has a way to call it here and an audit spec or a reason to write none', () => {
    const routes = writeRoutes();
    expect(routes.filter((k) => !(k in CALLS))).toEqual([]);
    expect(Object.keys(CALLS).filter((k) => !routes.includes(k))).toEqual([]);
    const specs = [ROUTE_AUDITS, AUDITED_IN_USE_CASE, NOT_CONFIGURATION].map((list) => Object.keys(list));
    expect(routes.filter((k) => specs.filter((keys) => keys.includes(k)).length !== 1)).toEqual([]);
    for (const [key, reason] of Object.entries(NOT_CONFIGURATION)) expect(`${key}: ${reason}`).toMatch(/: \S.{15,}/);
  });

  it('each audited write route, called once by an agency admin, writes one entry with its action and the admin; the others none', async () => {
    const failures: string[] = [];
    for (const [key, call] of Object.entries(CALLS)) {
      await call.prepare?.(ctx);
      const [method, path] = key.split(' ') as [string, string];
      const before = await countAudit(t.database.db, A);
      let req = (t.http as any)[method.toLowerCase()](pathOf(path, ctx));
      const auth = call.auth ?? 'admin';
      if (auth === 'admin') req = req.set('authorization', `Bearer ${await adminToken()}`);
      if (auth === 'api-key') req = req.set('authorization', `Bearer ${ctx.apiKey}`);
      const res = await req.send(call.body?.(ctx) ?? {});
      if (res.status >= 300) {
        failures.push(`${key}: ${res.status} ${JSON.stringify(res.body)}`);
        continue;
      }
      remember(key, res.body);
      const written = (await listAudit(t.database.db, A, { limit: 10 })).slice(0, (await countAudit(t.database.db, A)) - before);
      const action = ROUTE_AUDITS[key]?.action ?? AUDITED_IN_USE_CASE[key];
      const want = action ? [{ action, actor: { type: 'user', ...ADMIN } }] : [];
      const got = written.map((e) => ({ action: e.action, actor: e.actor }));
      if (JSON.stringify(got) !== JSON.stringify(want)) failures.push(`${key}: wrote ${JSON.stringify(got)}, want ${JSON.stringify(want)}`);
    }
    expect(failures).toEqual([]);
  }, 120_000);
});
