import { appCommand } from '../support/app-command';
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import { selectRows } from '../../models/database';
import { loadConfig } from '../../server/config';
import { buildService } from '../../server/main';
import { drainReporter, setUpBilling, } from '../support/billing';
import { fixture, makeSigningKeys } from '../support/highlevel-fixtures';
import { startStripeStub } from '../support/stripe-stub';
import { openTestDatabase } from '../support/test-database';
import { TEST_ENCRYPTION_KEY } from '../support/test-service';
import request from 'supertest';

describe('graceful shutdown', () => {
  it('when the service closes while a meter event is in flight, then that batch is settled before the database closes', async () => {
    const stripe = await startStripeStub();
    const keys = makeSigningKeys();
    const database = await openTestDatabase();
    const service = await buildService({
      config: loadConfig({
        NODE_ENV: 'test',
        LOG_LEVEL: 'silent',
        ENCRYPTION_KEY: TEST_ENCRYPTION_KEY,
        HIGHLEVEL_WEBHOOK_PUBLIC_KEY: keys.ed25519PublicPem,
        STRIPE_API_URL: stripe.url,
        REPORTER_INTERVAL_SECONDS: '1',
      }),
      database,
    });
    try {
      await setUpBilling(service, { companyId: 'coShutdown', locationId: 'locShutdown', customer: 'cus_shutdown', rules: [{ metric: 'sms', threshold: 1 }] });
      const raw = JSON.stringify({ ...fixture('sms-outbound'), locationId: 'locShutdown' });
      await request(service.app).post('/webhooks/highlevel').set('x-ghl-signature', keys.signEd25519(raw)).set('content-type', 'application/json').send(raw).expect(200);

      stripe.script = [{ slowMs: 800 }];
      service.start();
      while (stripe.requests.length === 0 && stripe.events.length === 0) await new Promise((resolve) => setTimeout(resolve, 20));
      await service.close(); // the request is still waiting on the slow Stripe answer here

      const [batch] = await selectRows<{ status: string; lockedUntil: Date | null }>(
        database.db,
        sql`select status, locked_until as "lockedUntil" from meter_batches where stripe_customer_id = 'cus_shutdown'`,
      );
      expect(batch).toEqual({ status: 'sent', lockedUntil: null });
      expect(stripe.events.map((e) => [e.customer, e.value])).toEqual([['cus_shutdown', '1']]);
    } finally {
      await database.close();
      await stripe.close();
    }
  });

  it('when the process gets SIGTERM, then it stops listening, shuts down and exits 0', async () => {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'meterbridge-shutdown-'));
    const child = spawn(appCommand().command, appCommand().args, {
      cwd: path.join(__dirname, '..', '..'),
      env: { ...process.env, NODE_OPTIONS: '', PORT: '0', DATA_DIR: dataDir, LOG_LEVEL: 'info', DATABASE_URL: '', ENCRYPTION_KEY: TEST_ENCRYPTION_KEY },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    const port = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`service did not start:\n${output}`)), 75_000);
      child.stdout.on('data', () => {
        const match = /listening on http:\/\/localhost:(\d+)/.exec(output);
        if (match) {
          clearTimeout(timer);
          resolve(Number(match[1]));
        }
      });
    });
    await request(`http://127.0.0.1:${port}`).get('/readyz').expect(200);
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(output).toContain('shutting down');
    void drainReporter; // the in-process test above covers the in-flight batch; this one the signal wiring
  }, 120_000); // a cold start on a busy shared machine (PGlite's first open, the page build check) can take a while
});
