/**
 * The app under test, as its own Node process: the real service from the composition root (`buildService`),
 * configured from the environment exactly as `npm start` is, listening and running its scheduler. The
 * orchestrator sets up billing through the service's own use cases and reads what it needs over IPC.
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';
import { sql } from 'drizzle-orm';
import { selectRows } from '../../models/database';
import { loadConfig } from '../../server/config';
import { createLogger } from '../../server/logger';
import { buildService } from '../../server/main';
import { outboxState, setUpBilling, type BillingSetup } from '../support/billing';
import { collectGarbage, memoryFigures, rssSampler, serveCalls } from './ipc';

/**
 * With BENCH_COUNT_QUERIES=1 (set by `--profile`), counts the statements the app sends to a PostgreSQL server, to
 * give round trips per delivery. Off by default: it wraps every query the app sends.
 */
let statements = 0;
function countStatements(): void {
  const { Client } = require('pg') as typeof import('pg');
  const query = Client.prototype.query as (...args: unknown[]) => unknown;
  (Client.prototype as { query: unknown }).query = function (this: unknown, ...args: unknown[]) {
    statements += 1;
    return query.apply(this, args);
  };
}

async function main(): Promise<void> {
  if (process.env.BENCH_COUNT_QUERIES === '1') countStatements();
  const config = loadConfig(process.env, (message) => console.error(message));
  const logger = createLogger(config.logLevel);
  const service = await buildService({ config, logger });
  // The scheduler calls `reporter.tick()` on this same object, so wrapping it here records the scheduled ticks too:
  // when each began, how long it took and what it did (to explain the lag figure).
  // loopMaxMs: the longest the event loop was held up during the tick (intake requests wait that long).
  const ticks: Array<{ at: number; ms: number; loopMaxMs: number; batchesFormed: number; claimed: number; sent: number; retried: number; failed: number }> = [];
  const tick = service.reporter.tick.bind(service.reporter);
  const tickLoop = monitorEventLoopDelay({ resolution: 5 });
  service.reporter.tick = async () => {
    const at = Date.now();
    tickLoop.reset();
    tickLoop.enable();
    try {
      const summary = await tick();
      ticks.push({ at, ms: Date.now() - at, loopMaxMs: Math.round(tickLoop.max / 1e5) / 10, ...summary });
      return summary;
    } finally {
      tickLoop.disable();
    }
  };
  const server = await service.listen();
  service.start();
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const sampler = rssSampler();
  const loopDelay = monitorEventLoopDelay({ resolution: 10 });
  loopDelay.enable();
  // The pg pool behind Drizzle (bench diagnostics only): how often a query found no free connection.
  const pool = (service.database.db as unknown as { $client?: { totalCount?: number; idleCount?: number; waitingCount?: number } }).$client;
  let lastBatching = service.groupCommit.stats();
  // Garbage-collection pauses (milliseconds) since the last diagnostics call.
  let gcPauses: number[] = [];
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) gcPauses.push(entry.duration);
  }).observe({ entryTypes: ['gc'] });
  let poolSamples = 0;
  let poolWaiting = 0;
  let poolBusy = 0;
  const poolTimer = setInterval(() => {
    if (typeof pool?.waitingCount !== 'number') return;
    poolSamples += 1;
    poolWaiting += pool.waitingCount;
    poolBusy += (pool.totalCount ?? 0) - (pool.idleCount ?? 0);
  }, 20);
  poolTimer.unref();

  serveCalls({
    async setup(setups: BillingSetup[]) {
      for (const setup of setups) await setUpBilling(service, setup);
      return setups.length;
    },
    memory: () => ({ ...memoryFigures(), maxRss: process.resourceUsage().maxRSS * 1024 }),
    gc: () => {
      collectGarbage();
      return memoryFigures();
    },
    samplerStart: () => sampler.start(),
    samplerStop: () => sampler.stop(),
    /** Statements sent to a PostgreSQL server since the last call (BENCH_COUNT_QUERIES=1 only; else null). */
    statements() {
      const n = statements;
      statements = 0;
      return process.env.BENCH_COUNT_QUERIES === '1' && service.database.driver === 'pg' ? n : null;
    },
    /** Event-loop delay, pg-pool occupancy and group-commit batching since the last call (then reset). */
    diagnostics() {
      const ms = (ns: number) => Math.round(ns / 1e4) / 100;
      const batching = service.groupCommit.stats();
      const result = {
        batches: batching.calls - lastBatching.calls,
        batchedDeliveries: batching.deliveries - lastBatching.deliveries,
        batchFallbacks: batching.fallbacks - lastBatching.fallbacks,
        loopDelayP50Ms: ms(loopDelay.percentile(50)),
        loopDelayP99Ms: ms(loopDelay.percentile(99)),
        loopDelayMaxMs: ms(loopDelay.max),
        gcPauses: gcPauses.length,
        gcPausesOver10Ms: gcPauses.filter((d) => d > 10).length,
        gcLongestMs: Math.round(Math.max(0, ...gcPauses) * 10) / 10,
        poolBusyMean: poolSamples ? Math.round((poolBusy / poolSamples) * 10) / 10 : null,
        poolWaitingMean: poolSamples ? Math.round((poolWaiting / poolSamples) * 10) / 10 : null,
      };
      lastBatching = batching;
      gcPauses = [];
      loopDelay.reset();
      poolSamples = poolWaiting = poolBusy = 0;
      return result;
    },
    /** Counts that prove what was stored: deliveries, and the outbox's state. */
    async counts(args: { webhookPrefix?: string } = {}) {
      const prefix = `${args.webhookPrefix ?? ''}%`;
      const [events] = await selectRows<{ n: number }>(
        service.database.db,
        sql`select count(*)::int as n from activity_events where webhook_id like ${prefix}`,
      );
      return { activityEvents: events!.n, ...(await outboxState(service.database.db)) };
    },
    /** The stored deliveries whose webhookId starts with the prefix. */
    async webhookIds(args: { webhookPrefix: string }) {
      const rows = await selectRows<{ webhookId: string }>(
        service.database.db,
        sql`select webhook_id as "webhookId" from activity_events where webhook_id like ${`${args.webhookPrefix}%`}`,
      );
      return rows.map((r) => r.webhookId);
    },
    /** The inbox: events still to process (received, or failed and to retry) and the oldest one's age. */
    async backlog() {
      const [row] = await selectRows<{ received: number; failed: number; oldestMs: number | null }>(
        service.database.db,
        sql`select count(*) filter (where status = 'received')::int as received, count(*) filter (where status = 'failed')::int as failed,
                   (extract(epoch from now() - min(received_at)) * 1000)::float8 as "oldestMs"
            from activity_events where status in ('received', 'failed')`,
      );
      return { at: Date.now(), backlog: row!.received + row!.failed, failed: row!.failed, oldestMs: row!.oldestMs };
    },
    /** Stops this process's inbox processor (deliveries are still stored and answered) or starts it again. */
    processorStop: () => service.pipeline.stop().then(() => true),
    processorStart: () => (service.pipeline.start(), true),
    /** This process's inbox processor and group commit, totals since start. */
    pipelineStats: () => ({ processor: service.pipeline.stats(), groupCommit: service.groupCommit.stats() }),
    /** How many of these webhookIds are stored (the durability check: every acknowledged one must be). */
    async stored(args: { ids: string[] }) {
      const [row] = await selectRows<{ n: number }>(
        service.database.db,
        sql`select count(*)::int as n from activity_events where webhook_id in (select jsonb_array_elements_text(${JSON.stringify(args.ids)}::jsonb))`,
      );
      return row!.n;
    },
    /**
     * Acknowledgement → counted, from the database, for the events whose webhookId starts with the prefix:
     * processed_at − received_at (received_at is the insert's transaction time, just before the commit and the 200).
     */
    async countedLag(args: { webhookPrefix: string }) {
      const [row] = await selectRows<{ events: number; processed: number; p50: number | null; p99: number | null; max: number | null }>(
        service.database.db,
        sql`select count(*)::int as events, count(processed_at)::int as processed,
                   percentile_cont(0.5) within group (order by extract(epoch from processed_at - received_at) * 1000)::float8 as p50,
                   percentile_cont(0.99) within group (order by extract(epoch from processed_at - received_at) * 1000)::float8 as p99,
                   (max(extract(epoch from processed_at - received_at)) * 1000)::float8 as max
            from activity_events where webhook_id like ${`${args.webhookPrefix}%`}`,
      );
      return row!;
    },
    /** Reporter ticks since the last call. */
    ticks: () => ticks.splice(0),
    /** One reporter pass, as the scheduler would run it. */
    flush: () => service.reporter.tick(),
    /** Per crossing of the deliveries whose webhookId starts with the prefix: the batch identifier that carried it. */
    async crossings(args: { webhookPrefix: string }) {
      return selectRows<{ webhookId: string; units: string; identifier: string | null }>(
        service.database.db,
        sql`select e.webhook_id as "webhookId", r.units::text as units, b.identifier
            from meter_reports r
            join activity_events e on e.id = r.activity_event_id
            left join meter_batches b on b.id = r.batch_id
            where e.webhook_id like ${`${args.webhookPrefix}%`}`,
      );
    },
    /** CPU profile of this process between the two calls (`npm run bench -- --profile`), written to `file`. */
    profileStart: () => profiler.start(),
    profileStop: (args: { file: string }) => profiler.stop(args.file),
    async close() {
      setTimeout(async () => {
        await service.close().catch((err) => console.error(err));
        process.exit(0);
      }, 10);
      return true;
    },
  });
  process.send!({ type: 'ready', port, pid: process.pid, driver: service.database.driver, reporterInterval: config.reporter.intervalSeconds });
}

/** The V8 CPU profiler over the inspector protocol, for one window of the run. */
const profiler = (() => {
  const session = new Session();
  const post = (method: string, params?: object) =>
    new Promise<any>((resolve, reject) => session.post(method, params, (err, result) => (err ? reject(err) : resolve(result))));
  return {
    async start() {
      session.connect();
      await post('Profiler.enable');
      await post('Profiler.setSamplingInterval', { interval: 200 });
      await post('Profiler.start');
      return true;
    },
    async stop(file: string) {
      const { profile } = await post('Profiler.stop');
      session.disconnect();
      writeFileSync(file, JSON.stringify(profile));
      return file;
    },
  };
})();

main().catch((err) => {
  console.error(err);
  process.send?.({ type: 'failed', error: String(err?.stack ?? err) });
  process.exit(1);
});
