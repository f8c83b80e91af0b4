import { randomBytes } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { selectRows } from '../../models/database';
import { loadConfig } from '../../server/config';
import { createSecretBox, SecretDecryptionError } from '../../server/crypto/secret-box';
import { reencryptSecrets } from '../../server/crypto/reencrypt-secrets';
import { buildService } from '../../server/main';
import { OAUTH_ENV, tokenResponse } from '../support/highlevel-oauth';
import { openTestDatabase, type TestDatabase } from '../support/test-database';
import { startTestService, TEST_ENCRYPTION_KEY, type TestService } from '../support/test-service';
import { recordFigures } from './support/figures';

describe('hardening', () => {
  let t: TestService;
  beforeAll(async () => {
    t = await startTestService({ ...OAUTH_ENV, HIGHLEVEL_SHARED_SECRET: 'hardening-secret', RATE_LIMIT_SESSION_PER_MINUTE: '5', RATE_LIMIT_OAUTH_PER_MINUTE: '3' });
  });
  afterAll(() => t.close());

  it('when one address keeps calling /api/session, then it is limited with a JSON 429', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 7; i++) statuses.push((await t.http.post('/api/session').send({ payload: 'x' })).status);
    expect(statuses.slice(0, 5)).toEqual([401, 401, 401, 401, 401]);
    const limited = await t.http.post('/api/session').send({ payload: 'x' });
    expect(limited.status).toBe(429);
    expect(limited.body.error.code).toBe('rate_limited');
    expect(limited.headers['retry-after']).toBeDefined();
    recordFigures('rate limits', { sessionLimitPerMinute: 5, allowedBefore429: statuses.filter((s) => s !== 429).length });
  });

  it('when one address keeps starting OAuth, then it is limited too', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await t.http.get('/oauth/install')).status);
    expect(statuses).toEqual([302, 302, 302, 429]);
  });

  it('when any response goes out, then it carries the security headers', async () => {
    const res = await t.http.get('/healthz').expect(200);
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['strict-transport-security']).toMatch(/max-age=/);
    expect(res.headers['content-security-policy']).toMatch(/default-src 'self'/);
    expect(res.headers['x-powered-by']).toBeUndefined();
  });

  it('when a JSON body is over 100 kB, then 413 and nothing is read', async () => {
    const { token } = await t.service.sessionTokens.issue({ userId: 'u', companyId: 'c', type: 'agency', role: 'admin', activeLocation: null });
    const res = await t.http.put('/api/stripe/connection').set('authorization', `Bearer ${token}`).send({ secretKey: 'x'.repeat(150_000) });
    expect(res.status).toBe(413);
    expect(res.body.error.code).toBe('payload_too_large');
  });
});

describe('ENCRYPTION_KEY rotation', () => {
  let database: TestDatabase;
  const oldKey = TEST_ENCRYPTION_KEY;
  const newKey = randomBytes(32).toString('base64');
  const serviceWith = async (env: Record<string, string>) =>
    buildService({
      config: loadConfig({ NODE_ENV: 'test', LOG_LEVEL: 'silent', ...OAUTH_ENV, ...(database.url ? { DATABASE_URL: database.url } : {}), ...env }),
      database,
    });
  beforeAll(async () => {
    database = await openTestDatabase();
  });
  afterAll(() => database.close());

  it('when the key is rotated, then old secrets stay readable, the re-encryption re-seals them all, and the old key can go', async () => {
    const before = await serviceWith({ ENCRYPTION_KEY: oldKey });
    await before.accounts.registerAgency('coRotate');
    await before.accounts.storeStripeKey('coRotate', 'sk_test_rotateMe12345678');
    await before.install.completeOAuth(tokenResponse({ userType: 'Location', companyId: 'coRotate', locationId: 'locRotate', accessToken: 'at-rotate', refreshToken: 'rt-rotate' }));

    const unreadable = await serviceWith({ ENCRYPTION_KEY: newKey });
    await expect(unreadable.accounts.revealStripeKey('coRotate')).rejects.toBeInstanceOf(SecretDecryptionError);

    const during = await serviceWith({ ENCRYPTION_KEY: newKey, ENCRYPTION_KEY_PREVIOUS: oldKey });
    expect(await during.accounts.revealStripeKey('coRotate')).toBe('sk_test_rotateMe12345678');
    const box = createSecretBox(Buffer.from(newKey, 'base64'), [Buffer.from(oldKey, 'base64')]);
    const counts = await reencryptSecrets(database.db, box);
    expect(counts).toMatchObject({ 'agencies.stripe_secret_key': 1, 'installations.access_token': 1, 'installations.refresh_token': 1 });
    expect(Object.values(await reencryptSecrets(database.db, box)).every((n) => n === 0)).toBe(true);

    const after = await serviceWith({ ENCRYPTION_KEY: newKey });
    expect(await after.accounts.revealStripeKey('coRotate')).toBe('sk_test_rotateMe12345678');
    expect(await after.highLevelTokens.accessToken({ locationId: 'locRotate' })).toBe('at-rotate');
    const sealed = await selectRows<{ v: string }>(database.db, sql`select access_token as v from installations union all select stripe_secret_key from agencies where stripe_secret_key is not null`);
    const newId = createSecretBox(Buffer.from(newKey, 'base64')).seal('x').split('.')[1];
    expect(sealed.every((r) => r.v.startsWith(`v1.${newId}.`))).toBe(true);
    recordFigures('key rotation', { resealed: Object.values(counts).reduce((a, b) => a + b, 0), readableAfter: 1 });
  });
});
