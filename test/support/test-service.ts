/**
 * Boots the real service through its composition root on a fresh test database, configured like production
 * except for the edges: HighLevel's signing key is the test key, logs are silent.
 */
import type { Logger } from 'pino';
import request from 'supertest';
import { loadConfig } from '../../server/config';
import { buildService, type BuildOptions, type Service } from '../../server/main';
import { makeSigningKeys, type SigningKeys } from './highlevel-fixtures';
import { openTestDatabase, type TestDatabase } from './test-database';

export interface TestService {
  service: Service;
  database: TestDatabase;
  keys: SigningKeys;
  http: ReturnType<typeof request>;
  /**
   * Posts a body to /webhooks/highlevel signed with the test Ed25519 key. Awaiting it also waits until the inbox
   * processor has processed every stored event (`service.pipeline.drain()`), as a quiet production service would a
   * moment after the acknowledgement; use `postSignedOnly` to look at the inbox before that.
   */
  postSigned(body: unknown): request.Test;
  /** `postSigned` without waiting for the processor: only the acknowledgement. */
  postSignedOnly(body: unknown): request.Test;
  /** Waits until the inbox processor has processed every stored event (after the usage API, a job, …). */
  drain(): Promise<void>;
  close(): Promise<void>;
}

/** A fixed test encryption key (32 bytes, base64). */
export const TEST_ENCRYPTION_KEY = Buffer.alloc(32, 7).toString('base64');

/** Starts a service; `env` overrides any variable; `logger` replaces the silent one. Call `close()` in afterAll. */
export async function startTestService(env: Record<string, string> = {}, options: { logger?: Logger; onWalletLow?: BuildOptions['onWalletLow'] } = {}): Promise<TestService> {
  const keys = makeSigningKeys();
  const database = await openTestDatabase();
  const config = loadConfig({
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    ENCRYPTION_KEY: TEST_ENCRYPTION_KEY,
    HIGHLEVEL_WEBHOOK_PUBLIC_KEY: keys.ed25519PublicPem,
    HIGHLEVEL_WEBHOOK_LEGACY_PUBLIC_KEY: keys.rsaPublicPem,
    ...(database.url ? { DATABASE_URL: database.url } : {}),
    ...env,
  });
  const service = await buildService({ config, database, logger: options.logger, onWalletLow: options.onWalletLow });
  const http = request(service.app);
  const postSignedOnly = (body: unknown) => {
    const raw = typeof body === 'string' ? body : JSON.stringify(body);
    return http.post('/webhooks/highlevel').set('content-type', 'application/json').set('x-ghl-signature', keys.signEd25519(raw)).send(raw);
  };
  return {
    service,
    database,
    keys,
    http,
    postSigned(body) {
      return thenDrained(postSignedOnly(body), () => service.pipeline.drain());
    },
    postSignedOnly,
    drain: () => service.pipeline.drain(),
    close: async () => {
      await service.close();
      await database.close();
    },
  };
}

/**
 * The same request, but awaiting it (or its `.expect(...)` chain, which returns the same object) also runs `after`
 * once the response has arrived, before the caller continues.
 */
export function thenDrained(test: request.Test, after: () => Promise<void>): request.Test {
  const then = test.then.bind(test);
  test.then = ((onFulfilled, onRejected) =>
    then(async (res) => {
      await after();
      return res;
    }).then(onFulfilled, onRejected)) as request.Test['then'];
  return test;
}
