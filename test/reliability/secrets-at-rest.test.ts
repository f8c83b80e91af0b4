import { Writable } from 'node:stream';
import { sql } from 'drizzle-orm';
import nock from 'nock';
import pino from 'pino';
import { selectRows } from '../../models/database';
import { drainReporter } from '../support/billing';
import { fixture } from '../support/highlevel-fixtures';
import { installedLocations, OAUTH_ENV, serveInstalledLocations, tokenResponse } from '../support/highlevel-oauth';
import { encryptSsoPayload } from '../support/highlevel-sso';
import { startStripeStub, type StripeStub } from '../support/stripe-stub';
import { startTestService, TEST_ENCRYPTION_KEY, type TestService } from '../support/test-service';
import { recordFigures } from './support/figures';

/**
 * After a full run — install (OAuth, tokens), SSO, Stripe connected with its webhook secret, pricing, a customer
 * and subscription, webhooks billed, an API key made, a webhook secret entered by hand — a dump of every table (the
 * audit log with an entry per change among them) and every log line must hold no secret in clear.
 */
const SECRETS = {
  stripeKey: 'sk_test_secretsAtRestKey0001',
  accessToken: 'at-secrets-at-rest-ACCESS-0001',
  refreshToken: 'rt-secrets-at-rest-REFRESH-0001',
  sharedSecret: 'sso-shared-secret-at-rest-0001',
  clientSecret: OAUTH_ENV.HIGHLEVEL_CLIENT_SECRET,
  encryptionKey: TEST_ENCRYPTION_KEY,
};
const COMPANY = 'companySecrets000001';
let t: TestService;
let stripe: StripeStub;
const logLines: string[] = [];
const responses: string[] = [];

beforeAll(async () => {
  stripe = await startStripeStub();
  const sink = new Writable({ write: (chunk, _enc, done) => (logLines.push(String(chunk)), done()) });
  t = await startTestService(
    { ...OAUTH_ENV, HIGHLEVEL_SHARED_SECRET: SECRETS.sharedSecret, STRIPE_API_URL: stripe.url, REPORTER_RETRY_BASE_SECONDS: '0' },
    { logger: pino({ level: 'trace' }, sink) },
  );
});
afterAll(async () => {
  nock.cleanAll();
  await t.close();
  await stripe.close();
});

it('when a full install-to-billing run is done, then no table and no log line holds a token, key or secret in clear', async () => {
  const locations = installedLocations('locSecrets', 1);
  serveInstalledLocations(COMPANY, locations, 100);
  nock('https://services.leadconnectorhq.com')
    .post('/oauth/token')
    .reply(200, tokenResponse({ userType: 'Company', companyId: COMPANY, accessToken: SECRETS.accessToken, refreshToken: SECRETS.refreshToken }));
  responses.push((await t.http.get('/oauth/callback?code=abc').expect(200)).text);

  const payload = encryptSsoPayload({ userId: 'u1', companyId: COMPANY, role: 'admin', type: 'agency' }, SECRETS.sharedSecret);
  const session = await t.http.post('/api/session').send({ payload }).expect(200);
  const auth = `Bearer ${session.body.token}`;
  const call = async (method: 'put' | 'get', path: string, body?: object) => {
    const res = await (body ? t.http[method](path).set('authorization', auth).send(body) : t.http[method](path).set('authorization', auth));
    responses.push(JSON.stringify(res.body));
    expect(res.status).toBeLessThan(300);
    return res.body;
  };
  await call('put', '/api/stripe/connection', { secretKey: SECRETS.stripeKey });
  await call('put', '/api/pricing/sms', { threshold: 1, price: { currency: 'usd', unitAmountDecimal: '2' } });
  const locationId = locations[0]!._id;
  await call('put', `/api/sub-accounts/${locationId}/customer`, { create: true });
  await call('put', `/api/sub-accounts/${locationId}/billing`, { rebillingEnabled: true });
  await t.postSigned({ ...fixture('sms-outbound'), locationId, webhookId: 'secrets-1' }).expect(200);
  await drainReporter(t.service);
  expect(stripe.events).toHaveLength(1);
  const webhookSecret = [...stripe.state.webhookEndpoints.values()][0]!.secret as string;
  // The event destination's signing secret (meter-event error reports), made on connect.
  const eventDestinationSecret = [...stripe.state.eventDestinations.values()][0]!.webhook_endpoint.signing_secret as string;
  expect(eventDestinationSecret).toMatch(/^whsec_/);
  // Audited changes that carry a secret: an API key made (its one answer holds the key, so that answer is not kept
  // for the responses check), a webhook signing secret entered by hand, and one of each kind without a secret.
  const apiKey = (await t.http.post('/api/api-keys').set('authorization', auth).send({ name: 'At rest' }).expect(201)).body.key as string;
  const handSecret = 'whsec_handMadeSecretAtRest0001';
  await call('put', '/api/stripe/webhook-secret', { secret: handSecret });
  await call('put', '/api/defaults', { autoApply: true });

  // Dump every table of the schema, every column, as text.
  const tables = await selectRows<{ name: string }>(t.database.db, sql`select tablename as name from pg_tables where schemaname = 'public' order by 1`);
  let cells = 0;
  let dump = '';
  for (const { name } of tables) {
    const rows = await selectRows<Record<string, unknown>>(t.database.db, sql`select * from ${sql.identifier(name)}`);
    for (const row of rows) {
      for (const value of Object.values(row)) {
        cells += 1;
        dump += `${typeof value === 'string' ? value : JSON.stringify(value)}\n`;
      }
    }
  }
  const everything = { tables: dump, logs: logLines.join(''), responses: responses.join('\n') };
  const secrets = { ...SECRETS, webhookSecret, eventDestinationSecret, apiKey, apiKeyAfterPrefix: apiKey.slice(12), handSecret };
  const leaks: string[] = [];
  for (const [where, text] of Object.entries(everything)) {
    for (const [what, secret] of Object.entries(secrets)) if (text.includes(secret)) leaks.push(`${what} in ${where}`);
  }
  expect(leaks).toEqual([]);
  expect(apiKey).toMatch(/^mbk_/);
  expect(tables.length).toBeGreaterThanOrEqual(9);
  // The audit log is in the dump, with an entry per change above, those that carried a secret included.
  const audit = await selectRows<{ action: string }>(t.database.db, sql`select action from audit_entries order by id`);
  expect(audit.map((e) => e.action)).toEqual([
    'stripe.key_connected', 'pricing.rule_set', 'sub_account.customer_mapped', 'sub_account.billing_set', 'api_key.created', 'stripe.webhook_secret_set', 'defaults.set',
  ]);
  expect(logLines.length).toBeGreaterThan(5); // the capture works: requests, install, Stripe, reporter lines
  recordFigures('secrets at rest', { tables: tables.length, cellsScanned: cells, logLines: logLines.length, responses: responses.length, secretsLooked: Object.keys(secrets).length, leaks: leaks.length });
});
