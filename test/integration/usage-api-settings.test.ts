import { createHash } from 'node:crypto';
import SwaggerParser from '@apidevtools/swagger-parser';
import { sql } from 'drizzle-orm';
import { selectRows } from '../../models/database';
import { startStripeStub, type StripeStub } from '../support/stripe-stub';
import { startTestService, type TestService } from '../support/test-service';

/**
 * The settings side of the usage API: agency API keys (shown once, stored hashed, listed by prefix, revoked),
 * custom metrics (defined, archived, restored), rules and prices that accept a defined custom metric and refuse an
 * undefined one before Stripe is called, the per-key rate limit, and the OpenAPI entry.
 */
const COMPANY = 'companyUsageSettings';
const LOCATION = 'locUsageSettings1';

let t: TestService;
let stripe: StripeStub;
let session = '';

const settings = (method: 'get' | 'put' | 'post' | 'delete', path: string, body?: object) => {
  const req = t.http[method](path).set('authorization', `Bearer ${session}`);
  return body ? req.send(body) : req;
};
const usage = (key: string, body: object) => t.http.post('/api/v1/usage').set('authorization', `Bearer ${key}`).send(body);
const event = (idempotencyKey: string, metric = 'sms', locationId = LOCATION) => ({ locationId, metric, quantity: '1', occurredAt: new Date().toISOString(), idempotencyKey });

beforeAll(async () => {
  stripe = await startStripeStub();
  t = await startTestService({ STRIPE_API_URL: stripe.url });
  await t.service.accounts.registerAgency(COMPANY, 'Settings Agency');
  await t.service.accounts.registerSubAccount(LOCATION, COMPANY, 'Harbor Dental');
  session = (await t.service.sessionTokens.issue({ userId: 'u-settings', companyId: COMPANY, type: 'agency', role: 'admin', activeLocation: null })).token;
  await settings('put', '/api/stripe/connection', { secretKey: 'sk_test_usageSettingsKey01' }).expect(200);
});
afterAll(async () => {
  await t.close();
  await stripe.close();
});

describe('API keys', () => {
  it('when a key is created, then it is shown once, stored only as its SHA-256, and listed by prefix with its last use', async () => {
    const created = await settings('post', '/api/api-keys', { name: '  Voice vendor ' }).expect(201);
    const { key, id, prefix } = created.body;
    expect(key).toMatch(/^mbk_[A-Za-z0-9_-]{43}$/);
    expect(created.body).toEqual({ id: expect.any(Number), name: 'Voice vendor', prefix: key.slice(0, 12), createdAt: expect.any(String), lastUsedAt: null, revokedAt: null, key });

    const [row] = await selectRows<{ json: string; keyHash: string }>(t.database.db, sql`select row_to_json(k)::text as json, key_hash as "keyHash" from api_keys k where id = ${id}`);
    expect(row!.keyHash).toBe(createHash('sha256').update(key).digest('hex'));
    expect(row!.json).not.toContain(key);

    await usage(key, event('first-use')).expect(200);
    const listed = (await settings('get', '/api/api-keys').expect(200)).body.keys;
    const shown = listed.find((k: { id: number }) => k.id === id);
    expect(shown).toEqual({ id, name: 'Voice vendor', prefix, createdAt: expect.any(String), lastUsedAt: expect.any(String), revokedAt: null });
    expect(JSON.stringify(listed)).not.toContain(key);
    expect(JSON.stringify(listed)).not.toContain(row!.keyHash);
  });

  it('when a key is revoked, then it is refused, revoking again changes nothing, and an unknown id is 404', async () => {
    const { key, id } = (await settings('post', '/api/api-keys', { name: 'short-lived' }).expect(201)).body;
    await usage(key, event('before-revoke')).expect(200);
    const first = (await settings('delete', `/api/api-keys/${id}`).expect(200)).body;
    expect(first.revokedAt).toEqual(expect.any(String));
    expect((await settings('delete', `/api/api-keys/${id}`).expect(200)).body.revokedAt).toBe(first.revokedAt);
    expect((await usage(key, event('after-revoke')).expect(401)).body.error.code).toBe('api_key_revoked');
    await settings('delete', '/api/api-keys/999999').expect(404);
  });

  it('when a key is asked for without a usable name, then 400', async () => {
    await settings('post', '/api/api-keys', {}).expect(400);
    await settings('post', '/api/api-keys', { name: '   ' }).expect(400);
    await settings('post', '/api/api-keys', { name: 'x'.repeat(101) }).expect(400);
  });
});

describe('custom metrics', () => {
  it('when metrics are defined, then bad keys, built-in keys and repeats are refused, and the list shows them', async () => {
    const created = await settings('post', '/api/custom-metrics', { key: 'vapi_minutes', label: 'Vapi minutes', unit: 'minute' }).expect(201);
    expect(created.body).toEqual({ key: 'vapi_minutes', label: 'Vapi minutes', unit: 'minute', archivedAt: null, createdAt: expect.any(String) });
    for (const key of ['VapiMinutes', 'vapi__minutes', '_vapi', 'vapi_', '9lives', 'a'.repeat(64)]) {
      expect([key, (await settings('post', '/api/custom-metrics', { key, label: 'x', unit: 'x' })).status]).toEqual([key, 400]);
    }
    expect((await settings('post', '/api/custom-metrics', { key: 'sms', label: 'x', unit: 'x' }).expect(409)).body.error.code).toBe('metric_exists');
    expect((await settings('post', '/api/custom-metrics', { key: 'vapi_minutes', label: 'x', unit: 'x' }).expect(409)).body.error.code).toBe('metric_exists');
    await settings('post', '/api/custom-metrics', { key: 'gpu_seconds', label: 'GPU seconds', unit: 'second' }).expect(201);
    const list = (await settings('get', '/api/custom-metrics').expect(200)).body.metrics.map((m: { key: string }) => m.key);
    expect(list).toEqual(['gpu_seconds', 'vapi_minutes']);
  });

  it('when a metric is archived, then the usage API refuses it, its rule can still be switched off, and defining it again restores it', async () => {
    const { key } = (await settings('post', '/api/api-keys', { name: 'archive test' }).expect(201)).body;
    await settings('post', '/api/custom-metrics', { key: 'old_widgets', label: 'Widgets', unit: 'widget' }).expect(201);
    await usage(key, event('widget-1', 'old_widgets')).expect(200);
    await settings('put', '/api/pricing/old_widgets', { threshold: 10, price: { currency: 'usd', unitAmountDecimal: '5' } }).expect(200);
    expect((await settings('delete', '/api/custom-metrics/old_widgets').expect(200)).body.archivedAt).toEqual(expect.any(String));
    await settings('delete', '/api/custom-metrics/never_defined').expect(404);

    const refused = await usage(key, event('widget-2', 'old_widgets')).expect(422);
    expect(refused.body.error.events).toEqual([{ index: 0, field: 'metric', code: 'unknown_metric', message: expect.stringContaining('old_widgets') }]);
    const off = await settings('put', '/api/pricing/old_widgets', { enabled: false, threshold: 10, price: { currency: 'usd', unitAmountDecimal: '5' } }).expect(200);
    expect(off.body.enabled).toBe(false);
    expect((await settings('get', '/api/custom-metrics')).body.metrics.at(-1)).toMatchObject({ key: 'old_widgets', archivedAt: expect.any(String) });

    const restored = await settings('post', '/api/custom-metrics', { key: 'old_widgets', label: 'Widgets v2', unit: 'widget' }).expect(201);
    expect(restored.body).toMatchObject({ label: 'Widgets v2', archivedAt: null });
    await usage(key, event('widget-2', 'old_widgets')).expect(200);
  });
});

describe('rules and prices for custom metrics', () => {
  it('when a default price names an undefined metric, then 400 unknown_metric before any Stripe call; a defined one gets its own meter and product', async () => {
    const calls = stripe.requestLog.length;
    const res = await settings('put', '/api/pricing/not_defined', { threshold: 1, price: { currency: 'usd', unitAmountDecimal: '1' } }).expect(400);
    expect(res.body.error).toMatchObject({ code: 'unknown_metric', message: expect.stringContaining('POST /api/custom-metrics') });
    expect(stripe.requestLog.length).toBe(calls);

    const priced = await settings('put', '/api/pricing/vapi_minutes', { threshold: '0.5', price: { currency: 'usd', unitAmountDecimal: '12' } }).expect(200);
    expect(priced.body).toMatchObject({ metric: 'vapi_minutes', threshold: '0.5', enabled: true, retailPerMetricUnit: '24' });
    expect([...stripe.state.meters.values()].map((m) => m.event_name)).toContain('meterbridge_vapi_minutes');
    expect([...stripe.state.products.values()].map((p) => p.name)).toContain('Vapi minutes');
  });

  it('when the pricing grid is read, then defined custom metrics appear beside the built-in ones, priced or not', async () => {
    const rows = (await settings('get', '/api/pricing').expect(200)).body.rows;
    const byMetric = new Map(rows.map((r: { metric: string }) => [r.metric, r]));
    expect(byMetric.get('vapi_minutes')).toMatchObject({ enabled: true, stripePriceId: expect.any(String) });
    expect(byMetric.get('gpu_seconds')).toMatchObject({ enabled: false, stripePriceId: null });
    expect(byMetric.has('sms')).toBe(true);
  });

  it('when sub-account overrides name an undefined metric, then 400 and none of the request is applied; a defined one becomes a rule', async () => {
    const rulesBefore = (await settings('get', `/api/sub-accounts/${LOCATION}`).expect(200)).body.rules;
    const bad = await settings('put', `/api/sub-accounts/${LOCATION}/billing`, {
      overrides: [{ metric: 'gpu_seconds', threshold: 60 }, { metric: 'nope_metric', threshold: 1 }],
    }).expect(400);
    expect(bad.body.error.code).toBe('unknown_metric');
    expect((await settings('get', `/api/sub-accounts/${LOCATION}`)).body.rules).toEqual(rulesBefore);

    await settings('put', `/api/sub-accounts/${LOCATION}/billing`, { overrides: [{ metric: 'gpu_seconds', threshold: 60 }] }).expect(200);
    const rules = (await settings('get', `/api/sub-accounts/${LOCATION}`)).body.rules;
    expect(rules.find((r: { metric: string }) => r.metric === 'gpu_seconds')).toMatchObject({ threshold: '60.000000', inherited: false, direction: 'both' });
  });

  it('when a rule is set directly for an undefined metric, then the use case refuses it too', async () => {
    await expect(t.service.rules.setRule({ companyId: COMPANY, locationId: null }, { metric: 'ghost_metric', threshold: 1 })).rejects.toMatchObject({ status: 400, code: 'unknown_metric' });
  });
});

describe('OpenAPI', () => {
  it('when the document is fetched, then POST /api/v1/usage is in it with the API-key scheme, its batch body and its 422', async () => {
    const doc = (await t.http.get('/api/openapi.json').expect(200)).body;
    await SwaggerParser.validate(structuredClone(doc));
    const operation = doc.paths['/api/v1/usage'].post;
    expect(operation.security).toEqual([{ apiKey: [] }]);
    expect(doc.components.securitySchemes.apiKey).toMatchObject({ type: 'http', scheme: 'bearer' });
    expect(JSON.stringify(operation.requestBody)).toContain('"maxItems":1000');
    expect(Object.keys(operation.responses).sort()).toEqual(['200', '400', '401', '413', '415', '422', '429', '500', '503']);
    expect(operation['x-error-codes']).toEqual(expect.arrayContaining(['invalid_events', 'invalid_api_key', 'api_key_revoked', 'rate_limited', 'payload_too_large']));
    expect(doc.paths['/api/api-keys'].post.security).toBeUndefined(); // the session scheme, from the document's default
  });
});

describe('per-key rate limit', () => {
  let limited: TestService;
  beforeAll(async () => {
    limited = await startTestService({ RATE_LIMIT_USAGE_API_PER_MINUTE: '3' });
    await limited.service.accounts.registerAgency(COMPANY);
    await limited.service.accounts.registerSubAccount(LOCATION, COMPANY);
  });
  afterAll(() => limited.close());

  it('when one key goes over its limit, then it gets a JSON 429 with Retry-After and stores nothing, while another key is unaffected', async () => {
    const [one, two] = [(await limited.service.apiKeys.create(COMPANY, 'one')).key, (await limited.service.apiKeys.create(COMPANY, 'two')).key];
    const send = (key: string, id: string) => limited.http.post('/api/v1/usage').set('authorization', `Bearer ${key}`).send(event(id));
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await send(one, `limit-${i}`)).status);
    expect(statuses).toEqual([200, 200, 200]);
    const refused = await send(one, 'limit-3');
    expect(refused.status).toBe(429);
    expect(refused.body).toEqual({ error: { code: 'rate_limited', message: expect.stringContaining('API key') }, requestId: expect.any(String) });
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    const stored = await selectRows<{ webhookId: string }>(limited.database.db, sql`select webhook_id as "webhookId" from activity_events where source = 'usage_api'`);
    expect(stored.map((r) => r.webhookId).sort()).toEqual([0, 1, 2].map((i) => `usage-api:${COMPANY}:limit-${i}`));
    expect((await send(two, 'limit-other')).status).toBe(200);
  });
});
