/**
 * Two app instances drain one outbox while Stripe fails about one call in five: every batch reaches Stripe exactly
 * once, every customer gets exactly its units, and one customer and meter never has two batches in flight.
 * On a PostgreSQL server (TEST_DATABASE_URL) each instance has its own connection pool to the same database, as two
 * replicas would; on PGlite both share the one in-process connection, which still interleaves their ticks.
 *
 * `tick()` is called directly: in production the scheduler's per-job advisory lock lets one replica tick at a time,
 * but the outbox itself (SKIP LOCKED claims, leases, the one-in-flight index) is meant to be safe for any number of
 * reporters, and that is what this checks. A backlog is drained while more deliveries arrive, so each customer gets
 * several batches in turn and the one-in-flight rule has something to hold against.
 */
import { sql } from 'drizzle-orm';
import { openDatabase, selectRows, type DatabaseHandle } from '../../models/database';
import { loadConfig } from '../../server/config';
import { buildService, type Service } from '../../server/main';
import { storeBatch } from '../../server/pipeline/inbox';
import { outboxState, setUpBilling, TEST_STRIPE_KEY } from '../support/billing';
import { startStripeStub, type Fault, type StripeStub } from '../support/stripe-stub';
import { openTestDatabase, type TestDatabase } from '../support/test-database';
import { TEST_ENCRYPTION_KEY } from '../support/test-service';

const COMPANY = 'TwoInstancesAgency1';
const SUB_ACCOUNTS = 30;
/** Deliveries recorded before either reporter runs, then while both run (so pairs get several batches in turn). */
const BACKLOG = 400;
const LIVE = 200;

let stripe: StripeStub;
let database: TestDatabase;
const pools: DatabaseHandle[] = [];
let a: Service;
let b: Service;

/** A small seeded PRNG (mulberry32), so the usage and the faults are reproducible from SEED. */
function prng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let x = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4_294_967_296;
  };
}
const SEED = Number(process.env.SEED ?? 20_260_611);
const random = prng(SEED);

const locationOf = (i: number) => `twoLoc${String(i).padStart(2, '0')}`;
const customerOf = (i: number) => `cus_TwoInstances${String(i).padStart(2, '0')}`;

async function serviceOn(handle: DatabaseHandle): Promise<Service> {
  const config = loadConfig({
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    ENCRYPTION_KEY: TEST_ENCRYPTION_KEY,
    STRIPE_API_URL: stripe.url,
    // Short, so 'accept-then-hang' ends in a timeout. On PGlite the in-process database sometimes delays answers past
    // it too: those resends are refused as repeats, and the batch is left unconfirmed (never counted twice).
    STRIPE_TIMEOUT_SECONDS: '0.3',
    REPORTER_RETRY_BASE_SECONDS: '0',
    REPORTER_ENABLED: 'false',
    ...(database.url ? { DATABASE_URL: database.url } : {}),
  });
  return buildService({ config, database: handle });
}

beforeAll(async () => {
  stripe = await startStripeStub();
  stripe.apiKeys.add(TEST_STRIPE_KEY);
  // Live mode's 1,000/s (docs.stripe.com/rate-limits): this test is about two instances, not test mode's 25/s.
  stripe.meterEventsPerSecond = 1000;
  database = await openTestDatabase(); // creates and migrates the schema once
  if (database.url) {
    pools.push(await openDatabase({ url: database.url }), await openDatabase({ url: database.url }));
    a = await serviceOn(pools[0]!);
    b = await serviceOn(pools[1]!);
  } else {
    a = await serviceOn(database);
    b = await serviceOn(database);
  }
  for (let i = 0; i < SUB_ACCOUNTS; i++) {
    await setUpBilling(a, { companyId: COMPANY, locationId: locationOf(i), customer: customerOf(i), rules: [{ metric: 'sms', threshold: 1 }], as: 'override' });
  }
}, 60_000);
afterAll(async () => {
  await a?.close();
  await b?.close();
  for (const pool of pools) await pool.close();
  await database?.close();
  await stripe?.close();
});

/** One outbound SMS delivery of 1 or 2 messages (an MMS fan-out counts 2) for sub-account `sub`. */
function deliver(service: Service, n: number, sub: number, messages: number) {
  const webhookId = `two_${n}`;
  const locationId = locationOf(sub);
  const occurredAt = new Date();
  return storeBatch(service.database.db, [
    {
      webhookId,
      eventType: 'OutboundMessage',
      source: 'usage_api',
      companyId: COMPANY,
      locationId,
      payload: { webhookId, locationId, messages },
      occurredAt,
      usage: [
        {
          locationId,
          metric: 'sms',
          quantity: String(messages),
          unit: 'message',
          direction: 'outbound',
          occurredAt,
          sourceType: 'OutboundMessage',
          sourceId: webhookId,
          attributes: {},
        },
      ],
    },
  ]);
}

/**
 * Deliveries [from, to), spread over both instances in concurrent groups of 10, `pauseMs` apart; tallies units per
 * sub-account.
 */
async function feed(from: number, to: number, expected: number[], pauseMs = 0): Promise<void> {
  for (let start = from; start < to; start += 10) {
    const group = [];
    for (let n = start; n < Math.min(to, start + 10); n++) {
      // Every sub-account gets several deliveries; the rest land at random.
      const sub = n < SUB_ACCOUNTS * 5 ? n % SUB_ACCOUNTS : Math.floor(random() * SUB_ACCOUNTS);
      const messages = random() < 0.15 ? 2 : 1;
      expected[sub]! += messages;
      group.push(deliver(n % 2 === 0 ? a : b, n, sub, messages));
    }
    const results = await Promise.all(group);
    expect(results.every(([r]) => r?.status === 'recorded')).toBe(true);
    // Both instances' inbox processors drain at once: each row is claimed by one of them (SKIP LOCKED).
    await Promise.all([a.pipeline.drain(), b.pipeline.drain()]);
    if (pauseMs > 0) await new Promise((resolve) => setTimeout(resolve, pauseMs));
  }
}

describe('two reporter instances draining one outbox', () => {
  it('when both tick concurrently against a faulty Stripe, then every batch is sent exactly once, each customer gets its units and no pair ever has two batches in flight', async () => {
    const expected = Array.from({ length: SUB_ACCOUNTS }, () => 0);
    await feed(0, BACKLOG, expected);
    // Each processor batch writes one report per crossed counter, so a backlog of 400 deliveries is 400 or fewer.
    const backlog = await outboxState(a.database.db);
    expect(backlog.sending).toBe(0);
    expect(backlog.pending).toBeGreaterThan(SUB_ACCOUNTS);
    expect(backlog.pending).toBeLessThanOrEqual(BACKLOG);

    // About one call in five fails: 500, 429, or accepted by Stripe with the answer lost (the client times out).
    stripe.faultFor = (): Fault => {
      const r = random();
      return r < 0.08 ? 500 : r < 0.14 ? 429 : r < 0.2 ? 'accept-then-hang' : 'ok';
    };

    const sent = { a: 0, b: 0 };
    const ticks = { a: 0, b: 0 };
    let feeding = true;
    let stop = false;
    const drain = async (service: Service, name: 'a' | 'b') => {
      const deadline = Date.now() + 60_000;
      while (!stop) {
        if (Date.now() > deadline) throw new Error(`instance ${name} did not drain: ${JSON.stringify(await outboxState(service.database.db))}`);
        // Both reporters tick at once, outside the scheduler's advisory lock: any error (a deadlock among them) fails.
        const summary = await service.reporter.tick();
        sent[name] += summary.sent;
        ticks[name] += 1;
        expect(summary.failed).toBe(0);
        if (!feeding) {
          const state = await outboxState(service.database.db);
          if (state.pending === 0 && state.sending === 0) return;
        }
        await new Promise((resolve) => setTimeout(resolve, Math.floor(random() * 4)));
      }
    };
    // The first failure stops the others, and all have ended before the assertions (or afterAll) run.
    const stopOnFailure = (run: Promise<unknown>) =>
      run.catch((err) => {
        stop = true;
        throw err;
      });
    const outcomes = await Promise.allSettled([
      stopOnFailure(feed(BACKLOG, BACKLOG + LIVE, expected, 15).finally(() => (feeding = false))),
      stopOnFailure(drain(a, 'a')),
      stopOnFailure(drain(b, 'b')),
    ]);
    for (const outcome of outcomes) if (outcome.status === 'rejected') throw outcome.reason;

    // Exactly once: each accepted identifier is distinct, and is one batch, 'sent' — or 'unconfirmed' when its answer
    // was lost and the resend was refused as a repeat (Stripe does not document that answer, so it is not read as
    // proof of delivery; reconciliation settles those). Nothing else is left.
    const identifiers = stripe.events.map((e) => e.identifier);
    expect(new Set(identifiers).size).toBe(identifiers.length);
    const batches = await selectRows<{ identifier: string; customer: string; status: string; value: string }>(
      a.database.db,
      sql`select identifier, stripe_customer_id as customer, status, value::text as value from meter_batches order by id`,
    );
    expect(batches.filter((x) => x.status !== 'sent' && x.status !== 'unconfirmed')).toEqual([]);
    expect(stripe.events.length).toBe(batches.length);
    const asStored = (x: { identifier: string; customer: string; value: string }) => `${x.identifier} ${x.customer} ${x.value}`;
    expect(stripe.events.map(asStored).sort()).toEqual(batches.map(asStored).sort());
    // Each batch was settled 'sent' by one instance only, once.
    expect(sent.a + sent.b).toBe(batches.filter((x) => x.status === 'sent').length);
    const [reports] = await selectRows<{ total: number; unsettled: number }>(
      a.database.db,
      sql`select count(*)::int as total, count(*) filter (where status not in ('sent', 'unconfirmed'))::int as unsettled from meter_reports`,
    );
    expect(reports!.unsettled).toBe(0);
    expect(reports!.total).toBeLessThanOrEqual(BACKLOG + LIVE);

    // Per customer, Stripe got exactly the units of its sub-account's crossings.
    const received = stripe.totals();
    for (let i = 0; i < SUB_ACCOUNTS; i++) expect([customerOf(i), received.get(`${customerOf(i)}|meterbridge_sms`)]).toEqual([customerOf(i), expected[i]]);
    expect([...received.values()].reduce((s, v) => s + v, 0)).toBe(expected.reduce((s, v) => s + v, 0));

    // One batch in flight per customer and meter: in the order Stripe saw requests, a customer's identifiers come in
    // unbroken runs, each ending with the answer that settled it (200, or the 400 refusing a repeat after a lost answer).
    // A second batch opened while the first was unsettled would interleave with it or follow an unsettled run.
    const customerOfIdentifier = new Map(stripe.events.map((e) => [e.identifier, e.customer]));
    const runs = new Map<string, Array<{ identifier: string; statuses: number[] }>>();
    for (const request of stripe.requests) {
      const customer = customerOfIdentifier.get(request.identifier)!;
      const list = runs.get(customer) ?? [];
      if (list.at(-1)?.identifier !== request.identifier) list.push({ identifier: request.identifier, statuses: [] });
      list.at(-1)!.statuses.push(request.status);
      runs.set(customer, list);
    }
    let pairsWithSeveralBatches = 0;
    for (const [customer, list] of runs) {
      const ids = list.map((r) => r.identifier);
      expect([customer, new Set(ids).size]).toEqual([customer, ids.length]);
      expect(list.filter((run) => ![200, 400].includes(run.statuses.at(-1)!))).toEqual([]);
      if (list.length > 1) pairsWithSeveralBatches += 1;
    }
    // The live phase must have given pairs batches in turn, or the ordering check above proves nothing.
    expect(pairsWithSeveralBatches).toBeGreaterThanOrEqual(5);
    // Faults really happened and were recovered from.
    expect(stripe.requests.filter((r) => r.status !== 200).length).toBeGreaterThan(0);

    // Both instances did some of the work. On PGlite both share one connection and their queries run one at a
    // time, but each tick awaits Stripe between queries, so the other instance's ticks claim batches meanwhile.
    expect({ a: sent.a > 0, b: sent.b > 0 }).toEqual({ a: true, b: true });
  });
});
