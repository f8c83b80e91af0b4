/**
 * Database faults: the app runs in-process with its `pg` pool going through a TCP proxy (test/reliability/support/
 * tcp-proxy.ts) that cuts every connection at random moments — with FIN or RST, inside open intake transactions,
 * just before or just after a COMMIT reaches the server — and refuses new connections for a while. Signed webhooks
 * keep arriving. Every answer must be 200 or a JSON 503 (never a 500, never a hang), the pool must recover once the
 * proxy heals, no delivery may be half-written, and every delivery (503s retried as HighLevel would) ends up stored
 * exactly once (DESIGN invariant 1).
 *
 * The load test and the stall case need a PostgreSQL server (TEST_DATABASE_URL, as CI gives): they exist only
 * there. The embedded PGlite has no connection to cut — it runs inside the app's process — and
 * @electric-sql/pglite-socket (which adds a wire protocol) cannot be installed next to this project's PGlite (every
 * release pins an exact older PGlite as a peer dependency). Without a server the refused and dropped cases run on a
 * stand-in pg pool: a database that refuses or drops connections must still be answered 503.
 */
import { createServer } from 'node:net';
import { sql } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/node-postgres';
import { Pool } from 'pg';
import pino from 'pino';
import request from 'supertest';
import * as schema from '../../models/schema';
import { openDatabase, selectRows, type Database, type DatabaseHandle } from '../../models/database';
import { loadConfig } from '../../server/config';
import { buildService, type Service } from '../../server/main';
import { setUpBilling } from '../support/billing';
import { fixture, makeSigningKeys, type SigningKeys } from '../support/highlevel-fixtures';
import { openTestDatabase, type TestDatabase } from '../support/test-database';
import { TEST_ENCRYPTION_KEY } from '../support/test-service';
import { recordFigures } from './support/figures';
import { between, byScale, prng, reliabilitySeed, scale, sleep } from './support/scale';
import { startTcpProxy, type ChunkRule, type TcpProxy } from './support/tcp-proxy';

const SEED = reliabilitySeed(20_261_122);
const serverUrl = process.env.TEST_DATABASE_URL;
/** Longest an answer may take, faults or not. */
const BOUND_MS = 10_000;
const DELIVERIES = byScale(300, 3_000);
const MIN_CUTS = byScale(20, 200);
const SENDERS = 8;
const COMPANY = 'FaultsAgency01';
const SUB_ACCOUNTS = 3;
const locationOf = (i: number) => `faultLoc${i}`;

/** An error entry the app logged (it hides the error from the client behind a 500). */
interface LoggedError {
  msg: string;
  err?: Record<string, unknown>;
}

/** An error as class, code, message and cause chain (pino's own serializer drops the cause). */
function errorChain(err: unknown, depth = 0): Record<string, unknown> | undefined {
  if (!err || typeof err !== 'object' || depth > 4) return undefined;
  const e = err as { constructor?: { name?: string }; code?: unknown; message?: unknown; cause?: unknown };
  return { type: e.constructor?.name, code: e.code, message: e.message, cause: e.cause === err ? undefined : errorChain(e.cause, depth + 1) };
}

/** A pino logger that keeps the app's error entries in memory. */
function capturingLogger(into: LoggedError[]) {
  return pino({ level: 'error', serializers: { err: errorChain } }, { write: (line: string) => void into.push(JSON.parse(line) as LoggedError) });
}

/** The errors behind the 500s, reduced to what names them (class, code, message, and each cause's): what to fix. */
function describeErrors(entries: LoggedError[]): string[] {
  const describe = (err: Record<string, unknown> | undefined): string => {
    if (!err) return '(no err)';
    const own = `${String(err.type)}${err.code ? ` code=${String(err.code)}` : ' (no code)'}: ${String(err.message).split('\n')[0]!.slice(0, 160)}`;
    const cause = err.cause as Record<string, unknown> | undefined;
    return cause ? `${own} ← cause ${describe(cause)}` : own;
  };
  const counts = new Map<string, number>();
  for (const entry of entries.filter((e) => e.msg === 'unhandled error')) {
    const key = describe(entry.err);
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return [...counts].map(([key, n]) => `${n}× ${key}`);
}

interface Answer {
  status: number;
  body: unknown;
  ms: number;
}

/** Posts a signed delivery; no answer within BOUND_MS is recorded as status 0 (a hang). */
async function post(target: string, keys: SigningKeys, raw: string): Promise<Answer> {
  const started = Date.now();
  try {
    const res = await request(target)
      .post('/webhooks/highlevel')
      .set('content-type', 'application/json')
      .set('x-ghl-signature', keys.signEd25519(raw))
      .timeout({ deadline: BOUND_MS })
      .send(raw);
    return { status: res.status, body: res.body, ms: Date.now() - started };
  } catch (err) {
    if ((err as { timeout?: number }).timeout) return { status: 0, body: null, ms: Date.now() - started };
    throw err;
  }
}

/** Settles with `work`, or after `ms` at most (the timer does not keep the process alive). */
function atMost(ms: number, work: Promise<unknown>): Promise<unknown> {
  return Promise.race([work, new Promise((resolve) => setTimeout(resolve, ms).unref())]);
}

/** Closes the service, but never waits more than 5 s (a pool with a leaked client would wait forever). */
async function closeWithin(service: Service | undefined): Promise<void> {
  if (service) await atMost(5_000, service.close());
}

const UNAVAILABLE = { error: { code: 'unavailable', message: expect.any(String) }, requestId: expect.any(String) };

describe('database faults (connections cut, refused)', () => {
  // Registered only with a server (see the header): a PGlite run has no connection to cut.
  if (serverUrl) it(
    'when the proxy cuts every connection at random moments and refuses new ones under load, then every answer is 200 or a JSON 503, the pool recovers, nothing is half-written and every delivery ends up stored once',
    async () => {
      const random = prng(SEED);
      console.log(`[reliability] database-faults seed=${SEED} scale=${scale} database=server`);
      const keys = makeSigningKeys();
      const database: TestDatabase = await openTestDatabase();
      const proxy = await startTcpProxy({ host: '127.0.0.1', port: Number(new URL(database.url!).port || 5432) });
      const logged: LoggedError[] = [];
      let service: Service | undefined;
      const cuts = { fin: 0, rst: 0, refusedClosed: 0, refusedDrop: 0, midTransaction: 0 };
      const totalCuts = () => Object.values(cuts).reduce((sum, c) => sum + c, 0);
      const deliveries: Array<{ webhookId: string; raw: string; answers: Answer[] }> = [];
      const allAnswers = () => deliveries.flatMap((d) => d.answers);
      const hangs = () => allAnswers().filter((a) => a.status === 0).length;
      // Filled in as the test goes, and recorded however it ends.
      const figures: Record<string, string | number | boolean> = { mode: 'server', scale, seed: SEED };
      const tally = () =>
        Object.assign(figures, {
          cuts: totalCuts(),
          cutsFin: cuts.fin,
          cutsRst: cuts.rst,
          refusalsClosed: cuts.refusedClosed,
          refusalsDrop: cuts.refusedDrop,
          cutsMidTransaction: cuts.midTransaction,
          connectionsCut: proxy.stats.cutConnections + proxy.stats.ruleCuts,
          connectionsRefused: proxy.stats.refused,
          deliveries: deliveries.length,
          answered200: deliveries.filter((d) => d.answers[0]?.status === 200).length,
          answered503: allAnswers().filter((a) => a.status === 503).length,
          answered500: allAnswers().filter((a) => a.status === 500).length,
          answeredOther: allAnswers().filter((a) => ![200, 500, 503, 0].includes(a.status)).length,
          hangs: hangs(),
          slowestAnswerMs: Math.max(0, ...allAnswers().map((a) => a.ms)),
          errorsBehind500: describeErrors(logged).join(' | ') || 'none',
        });
      try {
        service = await buildService({
          config: loadConfig({
            NODE_ENV: 'test',
            ENCRYPTION_KEY: TEST_ENCRYPTION_KEY,
            HIGHLEVEL_WEBHOOK_PUBLIC_KEY: keys.ed25519PublicPem,
            DATABASE_URL: proxy.urlFor(database.url!),
            REPORTER_ENABLED: 'false',
          }),
          logger: capturingLogger(logged),
        });
        for (let i = 0; i < SUB_ACCOUNTS; i++) {
          await setUpBilling(service, { companyId: COMPANY, locationId: locationOf(i), customer: `cus_Faults${i}`, rules: [{ metric: 'sms', threshold: 1 }], as: 'override' });
        }
        const server = await service.listen(0);
        const target = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
        // The inbox processor runs through the faults too: its batches are cut before, during and after COMMIT.
        service.pipeline.start();

        let n = 0;
        const newDelivery = () => {
          const i = n++;
          const webhookId = `fault-${SEED}-${i}`;
          const raw = JSON.stringify({ ...fixture('sms-outbound'), locationId: locationOf(i % SUB_ACCOUNTS), webhookId, messageId: `msgFault${SEED}x${i}` });
          const delivery = { webhookId, raw, answers: [] as Answer[] };
          deliveries.push(delivery);
          return delivery;
        };

        // Faults, at random moments while the senders run. A "mid-transaction" cut arms a one-shot rule on the
        // intake's own call (one statement, its own transaction) or on a COMMIT of the other work: cut before the
        // server gets it (nothing happens) or just after (committed, but the app never hears so).
        const armOneShot = (match: (chunk: Buffer) => boolean, point: 'before' | 'after', reset: boolean) => {
          const rule: ChunkRule = {
            matches: match,
            point,
            reset,
            onCut: () => {
              proxy.rules.splice(proxy.rules.indexOf(rule), 1);
              cuts.midTransaction += 1;
            },
          };
          proxy.rules.push(rule);
        };
        // A delivery is stored by one insert into the inbox (its own transaction); the processor, lifecycle events
        // and the reporter run BEGIN … COMMIT.
        const intakeCall = (chunk: Buffer) => chunk.includes('insert into activity_events');
        const commit = (chunk: Buffer) => chunk[0] === 0x51 /* Q */ && chunk.includes('commit\0');
        let sending = true;
        const chaos = async () => {
          while (sending) {
            await sleep(between(random, 50, 500));
            if (!sending) break;
            const r = random();
            if (r < 0.25) {
              proxy.cutAll();
              cuts.fin += 1;
            } else if (r < 0.45) {
              proxy.cutAll({ reset: true });
              cuts.rst += 1;
            } else if (r < 0.75) {
              const mode = r < 0.6 ? 'closed' : 'drop';
              await proxy.refuse(mode);
              proxy.cutAll({ reset: random() < 0.5 });
              cuts[mode === 'closed' ? 'refusedClosed' : 'refusedDrop'] += 1;
              await sleep(between(random, 100, 500));
              await proxy.accept();
            } else {
              const which = random();
              if (which < 0.35) armOneShot(intakeCall, 'before', random() < 0.5);
              else if (which < 0.7) armOneShot(intakeCall, 'after', random() < 0.5);
              else armOneShot(commit, random() < 0.5 ? 'before' : 'after', random() < 0.5);
            }
          }
        };
        // Until the deliveries are sent and the faults have happened often enough; a pool that has stopped
        // answering (every sender stuck past the bound) ends the phase early, so the failure is reported in time.
        const sender = async () => {
          while ((n < DELIVERIES || totalCuts() < MIN_CUTS) && hangs() < SENDERS) {
            const delivery = newDelivery();
            delivery.answers.push(await post(target, keys, delivery.raw));
            await sleep(between(random, 0, 10));
          }
        };
        const startedAt = Date.now();
        const chaosRun = chaos();
        await Promise.all(Array.from({ length: SENDERS }, sender)).finally(() => (sending = false));
        await chaosRun;
        figures.faultPhaseMs = Date.now() - startedAt;

        // Heal; the pool must recover by itself: the first 200 within 10 s, then 20 in a row.
        proxy.rules.length = 0;
        await proxy.accept();
        const healedAt = Date.now();
        let recovered = false;
        while (Date.now() - healedAt < BOUND_MS && !recovered) {
          const probe = newDelivery();
          const answer = await post(target, keys, probe.raw);
          probe.answers.push(answer);
          recovered = answer.status === 200;
          if (!recovered) await sleep(100);
        }
        figures.recovered = recovered;
        figures.recoveryMs = Date.now() - healedAt;
        expect({ recoveredAfterHealing: recovered, hangs: hangs(), errorsBehind500: describeErrors(logged) }).toMatchObject({ recoveredAfterHealing: true });
        for (let i = 0; i < 20; i++) {
          const after = newDelivery();
          after.answers.push(await post(target, keys, after.raw));
          expect(after.answers[0]!.status).toBe(200);
        }
        await request(target).get('/readyz').expect(200);

        // HighLevel retries whatever was not answered 2xx, until it is.
        const failedFirst = deliveries.filter((d) => d.answers[0]!.status !== 200);
        for (const delivery of failedFirst) {
          for (let attempt = 0; attempt < 5 && delivery.answers.at(-1)!.status !== 200; attempt++) {
            delivery.answers.push(await post(target, keys, delivery.raw));
          }
        }

        // Every acknowledged delivery is then processed, once.
        await service.pipeline.drain(60_000);
        // The database, read directly (not through the proxy).
        const db = database.db;
        const events = await selectRows<{ webhookId: string; usage: number; reports: number }>(
          db,
          sql`select e.webhook_id as "webhookId",
                     (select count(*)::int from usage_records u where u.activity_event_id = e.id) as usage,
                     (select coalesce(sum(units), 0)::int from meter_reports r where r.activity_event_id = e.id) as reports
              from activity_events e`,
        );
        const stored = new Map(events.map((e) => [e.webhookId, e]));
        // An SMS is two usage rows (sms, sms_segments) and, at "every SMS = 1 unit", one unit in a meter report: all
        // or nothing. Deliveries committed together (group commit) share one report per sub-account, attributed to
        // the last of them; so per event the units are 0 or more, and per sub-account (`counters`, below) they must
        // equal its SMS exactly.
        const halfWritten = events.filter((e) => e.usage !== 2);
        const unitsOnEvents = events.reduce((sum, e) => sum + e.reports, 0);
        const [orphans] = await selectRows<{ usage: number; reports: number }>(
          db,
          sql`select (select count(*)::int from usage_records u where not exists (select 1 from activity_events e where e.id = u.activity_event_id)) as usage,
                     (select count(*)::int from meter_reports r where r.activity_event_id is null
                        or not exists (select 1 from activity_events e where e.id = r.activity_event_id)) as reports`,
        );
        const counters = await selectRows<{ locationId: string; counted: string; used: string; billed: number; reports: number }>(
          db,
          sql`select c.location_id as "locationId", c.total::text as counted,
                     (select coalesce(sum(quantity), 0)::text from usage_records u where u.location_id = c.location_id and u.metric = 'sms') as used,
                     c.billed_units::int as billed,
                     (select coalesce(sum(units), 0)::int from meter_reports r where r.location_id = c.location_id) as reports
              from usage_counters c where c.metric = 'sms' order by c.location_id`,
        );
        const lost = deliveries.filter((d) => d.answers.some((a) => a.status === 200) && !stored.has(d.webhookId)).map((d) => d.webhookId);
        Object.assign(figures, {
          retried: failedFirst.length,
          // A 5xx whose transaction had in fact committed (cut just after COMMIT): its retry was answered "duplicate".
          storedDespite5xx: failedFirst.filter((d) => (d.answers.at(-1)!.body as { status?: string } | null)?.status === 'duplicate').length,
          halfWritten: halfWritten.length + orphans!.usage + orphans!.reports,
          lost: lost.length,
          duplicated: events.length - stored.size,
        });
        tally();

        expect({ halfWritten, orphans }).toEqual({ halfWritten: [], orphans: { usage: 0, reports: 0 } });
        expect(unitsOnEvents).toBe(events.length);
        expect(counters).toEqual(counters.map((c) => ({ ...c, counted: c.used, billed: Math.floor(Number(c.used)), reports: Math.floor(Number(c.used)) })));
        expect(lost).toEqual([]);
        // Every delivery, retried until 200, is stored exactly once.
        expect(deliveries.filter((d) => d.answers.at(-1)!.status !== 200).map((d) => [d.webhookId, d.answers.map((a) => a.status)])).toEqual([]);
        expect({ stored: events.length, distinct: stored.size }).toEqual({ stored: deliveries.length, distinct: deliveries.length });
        // The faults really bit, and were answered as the contract says.
        expect(figures.cuts).toBeGreaterThanOrEqual(MIN_CUTS);
        expect(figures.answered503).toBeGreaterThan(0);
        for (const a of allAnswers().filter((x) => x.status === 503)) expect(a.body).toEqual(UNAVAILABLE);
        expect({ hangs: figures.hangs, withinBound: Number(figures.slowestAnswerMs) <= BOUND_MS }).toEqual({ hangs: 0, withinBound: true });
        expect({ answered500: figures.answered500, answeredOther: figures.answeredOther, errorsBehind500: describeErrors(logged) }).toEqual({
          answered500: 0,
          answeredOther: 0,
          errorsBehind500: [],
        });
      } finally {
        tally();
        recordFigures('database-faults', figures);
        await proxy.close();
        await closeWithin(service);
        await database.close();
      }
    },
    byScale(180_000, 900_000),
  );

  describe('when the database stops answering', () => {
    let proxy: TcpProxy;
    let service: Service;
    let keys: SigningKeys;
    let target: string;
    let cleanup: () => Promise<void> = async () => undefined;
    const logged: LoggedError[] = [];

    beforeAll(async () => {
      keys = makeSigningKeys();
      let handle: DatabaseHandle;
      let url: string;
      if (serverUrl) {
        // The app's own pool (models/database.ts), migrated through the proxy while it still forwards.
        const database = await openTestDatabase();
        proxy = await startTcpProxy({ host: '127.0.0.1', port: Number(new URL(database.url!).port || 5432) });
        url = proxy.urlFor(database.url!);
        handle = await openDatabase({ url });
        cleanup = async () => {
          await atMost(5_000, handle.close());
          await database.close();
        };
      } else {
        // No server to migrate: a pg pool built as models/database.ts builds it (10 clients, idle errors ignored),
        // behind a proxy to a port nothing listens on. Keep it in step with openServer().
        const dead = createServer();
        await new Promise<void>((resolve) => dead.listen(0, '127.0.0.1', resolve));
        const deadPort = (dead.address() as { port: number }).port;
        await new Promise<void>((resolve) => dead.close(() => resolve()));
        proxy = await startTcpProxy({ host: '127.0.0.1', port: deadPort });
        url = proxy.urlFor('postgres://postgres@127.0.0.1/meterbridge');
        const pool = new Pool({ connectionString: url, max: 10 });
        pool.on('error', () => undefined);
        handle = {
          db: drizzle(pool, { schema }) as unknown as Database,
          driver: 'pg',
          ping: async () => void (await pool.query('select 1')),
          migrationsApplied: async () => true,
          tryWithAdvisoryLock: async (_key, fn) => ({ acquired: true, value: await fn() }),
          withAdvisoryLock: async (_key, fn) => fn(),
          close: async () => undefined,
        };
        cleanup = async () => void (await atMost(5_000, pool.end()));
      }
      service = await buildService({
        config: loadConfig({ NODE_ENV: 'test', ENCRYPTION_KEY: TEST_ENCRYPTION_KEY, HIGHLEVEL_WEBHOOK_PUBLIC_KEY: keys.ed25519PublicPem, DATABASE_URL: url, REPORTER_ENABLED: 'false' }),
        database: handle,
        logger: capturingLogger(logged),
      });
      const server = await service.listen(0);
      target = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    });
    afterAll(async () => {
      await proxy?.close(); // also ends stalled connections, so nothing waits on them
      await closeWithin(service);
      await cleanup();
    });
    beforeEach(() => {
      logged.length = 0;
      proxy.cutAll(); // the pool must open a new connection for each case
    });

    const delivery = (name: string) =>
      JSON.stringify({ ...fixture('sms-outbound'), locationId: locationOf(0), webhookId: `unreachable-${name}-${Date.now()}` });

    it('when the database refuses connections (nothing listening), then a webhook and /readyz are answered 503 with the JSON error', async () => {
      await proxy.refuse('closed');
      try {
        const answer = await post(target, keys, delivery('refused'));
        expect({ status: answer.status, body: answer.body, errors: describeErrors(logged) }).toEqual({ status: 503, body: UNAVAILABLE, errors: [] });
        await request(target).get('/readyz').expect(503);
      } finally {
        await proxy.accept();
      }
    });

    it('when each connection is accepted and closed before the database answers, then a webhook is answered 503 with the JSON error, not 500', async () => {
      await proxy.refuse('drop');
      try {
        const answer = await post(target, keys, delivery('dropped'));
        expect({ status: answer.status, body: answer.body, errors: describeErrors(logged) }).toEqual({ status: 503, body: UNAVAILABLE, errors: [] });
        await request(target).get('/readyz').expect(503);
      } finally {
        await proxy.accept();
      }
    });

    // The pool's connect timeout (models/database.ts) bounds a database that accepts but never answers (a partition
    // behind a proxy). Only with the app's own pool, so a server: the stand-in pool would not test that setting.
    if (serverUrl) it('when the database accepts connections but never answers, then a webhook is answered 503 within 10 s', async () => {
      await proxy.refuse('stall');
      try {
        const answer = await post(target, keys, delivery('stalled'));
        expect({ status: answer.status, body: answer.body, withinBound: answer.ms < BOUND_MS }).toEqual({ status: 503, body: UNAVAILABLE, withinBound: true });
      } finally {
        await proxy.accept();
        proxy.cutAll();
      }
    }, 30_000);
  });
});
