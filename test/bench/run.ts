/**
 * `npm run bench`: intake speed against a bare Express baseline, latency at half load, Stripe calls per flush,
 * acknowledgement-to-Stripe lag, memory over a sustained run and scale-out — each figure beside its target, every
 * figure measured in this run together with its baseline. Prints a Markdown table and writes
 * bench-results/latest.json (and latest.md).
 *
 * The app runs as its own process(es) exactly as `npm start` would run it (composition root, env config, scheduler
 * on), on a fresh database on the PostgreSQL server named by BENCH_DATABASE_URL, TEST_DATABASE_URL or
 * DATABASE_URL (the first set), else on a fresh PGlite data directory. Load only ever targets 127.0.0.1.
 * Flags: --profile (CPU profile of the app's intake run, statements per delivery), --quick (short runs, for
 * trying the benchmark out; its figures are not the ones to quote).
 * Benchmarks are not tests: nothing here fails on a missed target.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { forkChild, type Child, type MemoryFigures } from './ipc';
import { measureCpu, type CpuShares } from './cpu';
import { createBenchDatabase, serverFacts, serverUrl, type BenchDatabase } from './database';
import {
  deliveryStream,
  INTAKE_MIX,
  intakeTenancy,
  makeWebhookKey,
  referenceUnits,
  STRIPE_MIX,
  stripeTenancy,
  type DeliveryStream,
} from './deliveries';
import { blast, combine, paced, percentile, withoutLatencies, type LoadSummary } from './load';
import { sampleWaits, type WaitProfile } from './pg-waits';
import { summariseProfile } from './profile-summary';
import { cpuTable, figuresTable, int, mb, ms, ratio, sec, type Figure } from './report';
import type { StubSnapshot } from './stripe-stub-server';

const args = new Set(process.argv.slice(2));
const QUICK = args.has('--quick');
const PROFILE = args.has('--profile');

/** Every duration and count of the run; --quick shrinks them. */
const PLAN = {
  connections: 16,
  warmupSeconds: QUICK ? 1 : 3,
  /** Seconds of measured intake for each of the app and the baseline, split over `intakeRounds` alternating rounds. */
  intakeSeconds: QUICK ? 4 : 10,
  intakeRounds: 2,
  halfLoadSeconds: QUICK ? 4 : 10,
  lagRate: 100,
  lagSeconds: QUICK ? 5 : 10,
  /** How long after the last acknowledgement the lag phase waits for meter events. */
  lagWaitSeconds: 20,
  sustainedSeconds: QUICK ? 15 : 60,
  scaleSeconds: QUICK ? 4 : 10,
  stripeEvents: QUICK ? 2_000 : 10_000,
  stripeCustomers: 5,
  rssLimitMb: 250,
  rssGrowthTolerance: 0.1,
};

const RESULTS = path.resolve('bench-results');
/** The whole run must finish within this; the one open-ended step (the Stripe figure's events) is cut to fit. */
const BUDGET_SECONDS = 280;
const started = Date.now();
const log = (message: string) => process.stderr.write(`[${((Date.now() - started) / 1000).toFixed(0).padStart(3)} s] ${message}\n`);

async function main(): Promise<void> {
  mkdirSync(RESULTS, { recursive: true });
  const server = serverUrl();
  const adminUrl = server?.url;
  const mode = adminUrl ? 'postgresql' : 'pglite';
  const machine = await describeMachine(adminUrl);
  log(`mode ${mode}; ${machine.cpus} cores, ${machine.memory}, Node ${machine.node}${adminUrl ? `, PostgreSQL ${machine.postgres}` : ''}`);

  const cleanups: Array<() => Promise<unknown>> = [];
  const cleanUp = async () => {
    for (const fn of cleanups.reverse()) await fn().catch((err) => log(`clean-up: ${(err as Error).message}`));
    cleanups.length = 0;
  };
  // Interrupted: stop the processes and drop the databases this run made, then exit as the signal would.
  for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) process.once(signal, () => void cleanUp().then(() => process.exit(code)));

  const figures: Figure[] = [];
  const cpu: Array<{ phase: string; cpu: CpuShares }> = [];
  const raw: Record<string, unknown> = {};
  try {
    const key = makeWebhookKey();
    const childLog = path.join(RESULTS, 'processes.log');
    writeFileSync(childLog, '');
    const baseEnv = benchEnv(key.publicPem);

    // The processes: Stripe stub, bare Express baseline, the app on a fresh database.
    const stub = await forkChild('stripe-stub', 'test/bench/stripe-stub-server.ts', baseEnv, childLog);
    cleanups.push(() => stub.stop());
    const bare = await forkChild('bare-express', 'test/bench/bare-express.ts', baseEnv, childLog);
    cleanups.push(() => bare.stop());
    const dbA = await createBenchDatabase(adminUrl);
    cleanups.push(() => dbA.drop());
    const appEnv = { ...baseEnv, ...dbA.env, STRIPE_API_URL: String(stub.ready.url) };
    const pgDatabases = adminUrl ? [dbA.label] : [];
    if (!adminUrl) {
      // A PGlite data directory is created (initdb, inside WebAssembly) once, at an install's first start; that
      // start's memory high-water mark stays with the process. Measure the app as it runs from then on: started
      // on an existing data directory.
      const first = await startApp('app-first-start', appEnv, childLog);
      raw.firstStartMemory = await first.call('memory');
      await first.stop();
    }
    const appA = await startApp('app', appEnv, childLog);
    cleanups.push(() => appA.stop());
    raw.bootMemory = await appA.call('memory');
    const tenancy = intakeTenancy();
    let t = Date.now();
    await appA.call('setup', tenancy.setups);
    log(`app up on ${dbA.label} (:${appA.ready.port}); ${tenancy.setups.length} sub-accounts set up in ${Date.now() - t} ms`);

    // Deliveries: the fixture mix over the 50 sub-accounts, each a unique, pre-signed delivery.
    const spread = (i: number) => tenancy.locations[(i * 7919 + 13) % tenancy.locations.length]!;
    const intake = deliveryStream('intake', (i) => ({ fixture: INTAKE_MIX[i % INTAKE_MIX.length]!, locationId: spread(i) }), key.privateKey);
    t = Date.now();
    intake.presign(20_000);
    log(`signed 20,000 deliveries in ${Date.now() - t} ms (mix: ${INTAKE_MIX.join(', ')})`);
    const baseline = cyclingStream(intake, 5_000);
    let acked = 0;
    /** One saturating run; its CPU shares are returned, and recorded under `phase` when one is given. */
    const run = async (phase: string, target: Child, stream: DeliveryStream, seconds: number, pids: Record<string, number>) => {
      const meter = measureCpu({ ...pids, loadgen: process.pid, stub: stub.pid }, pgDatabases);
      const result = await blast({ port: target.ready.port, connections: PLAN.connections, stream, duration: seconds });
      const shares = meter.stop();
      if (stream === intake) acked += result.ok;
      if (phase) cpu.push({ phase, cpu: shares });
      return Object.assign(result, { cpu: shares });
    };

    // 1. Intake against the bare Express baseline, same load, same kind of process. The two alternate in rounds,
    // so that a noisy neighbour's burst falls on both rather than on one.
    await run('', bare, baseline, PLAN.warmupSeconds, {});
    await run('', appA, intake, PLAN.warmupSeconds, {});
    const bareRuns: Array<LoadSummary & { cpu: CpuShares }> = [];
    const appRuns: Array<LoadSummary & { cpu: CpuShares }> = [];
    let waits: Awaited<ReturnType<typeof sampleWaits>> | null = null;
    const profileFile = path.join(RESULTS, 'app-intake.cpuprofile');
    for (let round = 1; round <= PLAN.intakeRounds; round++) {
      const last = round === PLAN.intakeRounds;
      bareRuns.push(await run('', bare, baseline, PLAN.intakeSeconds / PLAN.intakeRounds, { bare: bare.pid }));
      if (last) {
        // Diagnostics come from the last app round only (between rounds the app is idle).
        await appA.call('diagnostics');
        await appA.call('statements');
        waits = adminUrl ? await sampleWaits(dbA.env.DATABASE_URL!, dbA.label) : null;
        if (PROFILE) await appA.call('profileStart');
      }
      appRuns.push(await run('', appA, intake, PLAN.intakeSeconds / PLAN.intakeRounds, { app: appA.pid }));
    }
    if (PROFILE) await appA.call('profileStop', { file: profileFile });
    const bareResult = combine(bareRuns);
    const appResult = combine(appRuns);
    cpu.push({ phase: '1. intake: bare Express', cpu: averageShares(bareRuns.map((r) => r.cpu)) });
    cpu.push({ phase: `1. intake: app (${mode})`, cpu: averageShares(appRuns.map((r) => r.cpu)) });
    // CPU time per request is steadier than throughput on a shared machine: a neighbour slows both the app and the
    // baseline, but barely changes how much CPU each request takes.
    const cpuMsPer = (runs: Array<LoadSummary & { cpu: CpuShares }>, key: string) =>
      runs.reduce((sum, r) => sum + ((r.cpu[key] ?? Number.NaN) / 100) * r.seconds * 1000, 0) / runs.reduce((sum, r) => sum + r.ok, 0);
    const intakeDiagnostics = {
      cpuMsPerRequest: { bare: cpuMsPer(bareRuns, 'bare'), app: cpuMsPer(appRuns, 'app'), postgres: adminUrl ? cpuMsPer(appRuns, 'postgres') : null },
      app: await appA.call<Record<string, unknown>>('diagnostics'),
      statementsPerDelivery: ((await appA.call<number | null>('statements')) ?? Number.NaN) / Math.max(1, appRuns.at(-1)!.sent),
      waits: waits ? await waits.stop() : null,
      profile: PROFILE ? summariseProfile(profileFile) : null,
    };
    raw.intake = { bare: bareRuns.map(withoutLatencies), app: appRuns.map(withoutLatencies), diagnostics: intakeDiagnostics };
    log(`bare Express: ${int(bareResult.rps)} req/s, p50 ${ms(bareResult.p50)}, p99 ${ms(bareResult.p99)}`);
    log(`app: ${int(appResult.rps)} req/s, p50 ${ms(appResult.p50)}, p99 ${ms(appResult.p99)}`);
    const intakeRatio = appResult.rps / bareResult.rps;
    const rounds = `${PLAN.intakeRounds} × ${PLAN.intakeSeconds / PLAN.intakeRounds} s, alternating`;
    figures.push(
      { n: 1, name: `Intake, bare Express baseline (${PLAN.connections} connections, ${rounds})`, measured: loadLine(bareResult), target: 'baseline', met: null },
      { n: 1, name: `Intake, the app on ${mode === 'postgresql' ? 'PostgreSQL' : 'PGlite'} (same load)`, measured: loadLine(appResult), target: '', met: null },
      { n: 1, name: 'Intake ratio, app / baseline', measured: ratio(intakeRatio), target: '≥ 0.5', met: intakeRatio >= 0.5 },
    );

    // 2. Latency at half the measured maximum, open loop.
    const halfRate = Math.max(1, Math.round(appResult.rps / 2));
    const meter = measureCpu({ app: appA.pid, loadgen: process.pid, stub: stub.pid }, pgDatabases);
    await appA.call('ticks');
    await appA.call('diagnostics');
    const half = await paced({ port: appA.ready.port, rate: halfRate, seconds: PLAN.halfLoadSeconds, connections: PLAN.connections, stream: intake });
    cpu.push({ phase: `2. half load (${halfRate} req/s)`, cpu: meter.stop() });
    acked += half.ok;
    // Which deliveries were in flight while a reporter tick ran in the same process (and event loop)?
    const halfTicks = await appA.call<Array<{ at: number; ms: number; loopMaxMs: number; claimed: number }>>('ticks');
    const duringTick = (r: { ackAt: number; latencyMs: number }) => halfTicks.some((t) => r.ackAt - r.latencyMs <= t.at + t.ms && r.ackAt >= t.at);
    const p99Of = (list: Array<{ latencyMs: number }>) => percentile(list.map((r) => r.latencyMs).sort((a, b) => a - b), 99);
    const halfSplit = {
      ticks: halfTicks.length,
      tickMs: halfTicks.map((t) => t.ms),
      tickLoopMaxMs: halfTicks.map((t) => t.loopMaxMs),
      tickBatches: halfTicks.map((t) => t.claimed),
      overlapping: { deliveries: half.records.filter(duringTick).length, p99: p99Of(half.records.filter(duringTick)) },
      clear: { deliveries: half.records.filter((r) => !duringTick(r)).length, p99: p99Of(half.records.filter((r) => !duringTick(r))) },
    };
    const halfDiagnostics = await appA.call<Record<string, number>>('diagnostics');
    raw.halfLoad = { ...half, records: undefined, byReporterTick: halfSplit, diagnostics: halfDiagnostics };
    log(`half load ${halfRate} req/s: p50 ${ms(half.p50)}, p99 ${ms(half.p99)} (p99 ${ms(halfSplit.clear.p99)} away from reporter ticks, ${ms(halfSplit.overlapping.p99)} during them)`);
    figures.push({
      n: 2,
      name: `p99 acknowledgement latency at half the maximum (${halfRate} req/s, open loop, ${PLAN.halfLoadSeconds} s)`,
      measured:
        `${ms(half.p99)} (p50 ${ms(half.p50)}, max ${ms(half.max)}${half.non2xx + half.errors ? `, ${half.non2xx + half.errors} failed` : ''}; ` +
        `p99 ${ms(halfSplit.clear.p99)} for the ${int(halfSplit.clear.deliveries)} deliveries away from a reporter tick, ${ms(halfSplit.overlapping.p99)} for the ${int(halfSplit.overlapping.deliveries)} during one)`,
      target: '≤ 25 ms',
      met: half.p99 <= 25 && half.non2xx + half.errors === 0,
    });

    // 4. Lag, once the outbox has drained: SMS (every one a crossing), paced below capacity, default interval.
    const drained = await waitForEmptyOutbox(appA, 60);
    log(`outbox after intake runs drained in ${drained.seconds.toFixed(0)} s${drained.empty ? '' : ' (NOT empty: lag measured on a backlog)'}`);
    const lagRate = Math.min(PLAN.lagRate, halfRate);
    const lag = await measureLag(appA, stub, key.privateKey, tenancy.locations, lagRate, cpu, pgDatabases);
    raw.lag = { ...lag, outboxDrainBefore: drained };
    figures.push({
      n: 4,
      name: `Lag, acknowledgement → meter event at the stub (${lagRate} SMS/s for ${PLAN.lagSeconds} s over ${tenancy.locations.length} sub-accounts, reporter every ${appA.ready.reporterInterval} s)`,
      measured:
        `p50 ${sec(lag.p50)} · p99 ${sec(lag.p99)} · max ${sec(lag.max)} (${int(lag.crossings)} crossings${lag.undelivered ? `, ${int(lag.undelivered)} not delivered within ${PLAN.lagWaitSeconds} s` : ''}; ` +
        `${lag.ticks.length} reporter ticks, longest ${sec(Math.max(0, ...lag.ticks.map((t) => t.ms)))})`,
      target: 'p99 ≤ 5 s',
      met: lag.undelivered === 0 && lag.p99 <= 5000,
    });

    // 5. Memory over a sustained run at full load.
    intake.presign(Math.min(250_000, Math.ceil(appResult.rps * (PLAN.sustainedSeconds + PLAN.warmupSeconds) * 1.5) + 2_000));
    // Growth is measured from the process as the load leaves it after a short warm-up (JIT code, V8's young
    // generation sized for the allocation rate, pools filled), so only what piles up DURING the run counts.
    await run('', appA, intake, PLAN.warmupSeconds, {});
    const before = await settledMemory(appA);
    await appA.call('samplerStart');
    const sustained = await run(`5. sustained ${PLAN.sustainedSeconds} s`, appA, intake, PLAN.sustainedSeconds, { app: appA.pid });
    const { peakRss, heapTotalAtPeak, samples } = await appA.call<{ peakRss: number; heapTotalAtPeak: number; samples: Array<[number, number]> }>('samplerStop');
    const after = await settledMemory(appA);
    const growth = (after.rss - before.rss) / before.rss;
    raw.memory = { before, after, peakRss, heapTotalAtPeak, sustained: withoutLatencies(sustained), rssSamples: samples };
    log(`sustained: ${int(sustained.rps)} req/s; peak RSS ${mb(peakRss)}; RSS ${mb(before.rss)} → ${mb(after.rss)}`);
    figures.push(
      {
        n: 5,
        name: `Peak RSS of the app, ${PLAN.sustainedSeconds} s sustained at full load (${int(sustained.rps)} req/s, ${int(sustained.ok)} deliveries)`,
        measured: `${mb(peakRss)} (JS heap ${mb(heapTotalAtPeak)} of it; at boot ${mb((raw.bootMemory as MemoryFigures).rss)}; after the run: JS heap ${mb(after.heapUsed)}, outside it ${mb(after.external)}${mode === 'pglite' ? ', PGlite\'s WebAssembly memory included' : ''})`,
        target: `≤ ${PLAN.rssLimitMb} MB`,
        met: peakRss <= PLAN.rssLimitMb * 2 ** 20,
      },
      {
        n: 5,
        name: `RSS before → after the sustained run (before: after ${PLAN.warmupSeconds} s of the same load; each after a full GC; heap used in brackets)`,
        measured: `${mb(before.rss)} → ${mb(after.rss)} (${growth >= 0 ? '+' : ''}${(growth * 100).toFixed(0)} %; heap ${mb(before.heapUsed)} → ${mb(after.heapUsed)})`,
        target: `no growth (≤ +${PLAN.rssGrowthTolerance * 100} %)`,
        met: growth <= PLAN.rssGrowthTolerance,
      },
    );

    // 6. Scale-out: a second app process on the same database.
    if (adminUrl) {
      const appB = await startApp('app2', appEnv, childLog);
      cleanups.push(() => appB.stop());
      await run('', appB, intake, PLAN.warmupSeconds, {});
      intake.presign(Math.ceil(appResult.rps * PLAN.scaleSeconds * 4) + 2_000);
      const ones: Array<LoadSummary & { cpu: CpuShares }> = [];
      const twos: Array<{ a: LoadSummary; b: LoadSummary; cpu: CpuShares }> = [];
      const roundSeconds = PLAN.scaleSeconds / PLAN.intakeRounds;
      for (let round = 1; round <= PLAN.intakeRounds; round++) {
        ones.push(await run('', appA, intake, roundSeconds, { app: appA.pid, app2: appB.pid }));
        const meter2 = measureCpu({ app: appA.pid, app2: appB.pid, loadgen: process.pid, stub: stub.pid }, pgDatabases);
        const halfConnections = PLAN.connections / 2;
        const [a, b] = await Promise.all([
          blast({ port: appA.ready.port, connections: halfConnections, stream: intake, duration: roundSeconds }),
          blast({ port: appB.ready.port, connections: PLAN.connections - halfConnections, stream: intake, duration: roundSeconds }),
        ]);
        twos.push({ a, b, cpu: meter2.stop() });
        acked += a.ok + b.ok;
      }
      cpu.push({ phase: '6. scale-out: one process', cpu: averageShares(ones.map((r) => r.cpu)) });
      cpu.push({ phase: '6. scale-out: two processes', cpu: averageShares(twos.map((r) => r.cpu)) });
      const one = combine(ones);
      const a = combine(twos.map((r) => r.a));
      const b = combine(twos.map((r) => r.b));
      const twoRps = a.rps + b.rps;
      raw.scaleOut = { one, twoA: a, twoB: b, rounds: PLAN.intakeRounds };
      log(`scale-out: one ${int(one.rps)} req/s, two ${int(twoRps)} req/s`);
      figures.push({
        n: 6,
        name: `Scale-out, two app processes / one (same database, ${PLAN.connections} connections in total, ${PLAN.intakeRounds} × ${roundSeconds} s each, alternating)`,
        measured: `${ratio(twoRps / one.rps)} (${int(twoRps)} vs ${int(one.rps)} req/s)`,
        target: '≥ 1.6',
        met: twoRps / one.rps >= 1.6,
      });
      await appB.stop();
    } else {
      figures.push({ n: 6, name: 'Scale-out, two app processes / one', measured: 'n/a (embedded database)', target: '≥ 1.6', met: 'n/a' });
    }
    figures.push(await durabilityFigure(appA, acked + lag.acknowledged, machine));
    await appA.stop();
    await bare.stop();

    // 3. Stripe calls: 10,000 events over 10 (customer, meter) pairs, then one reporter flush.
    const stripe = await measureStripeCalls(adminUrl, baseEnv, childLog, key.privateKey, cleanups, cpu);
    raw.stripe = stripe;
    figures.push(
      {
        n: 3,
        name: `Stripe meter-event calls in one reporter flush after ${int(stripe.events)} events${stripe.cutByBudget ? ` (of ${int(PLAN.stripeEvents)}: cut by the ${BUDGET_SECONDS} s budget, intake too slow)` : ''} over ${stripe.pairs} (customer, meter) pairs${stripe.ackedNotStored ? ` — ${int(stripe.ackedNotStored)} ACKNOWLEDGED BUT NOT STORED` : ''}`,
        measured: `${int(stripe.firstFlush.calls)} calls (${stripe.firstFlush.pairsWithUnits} pairs with new units)`,
        target: '≤ pairs with new units',
        met: stripe.firstFlush.calls <= stripe.firstFlush.pairsWithUnits,
      },
      {
        n: 3,
        name: 'Units that flush carried vs the reference computed from what was sent',
        measured:
          `${int(stripe.firstFlush.units)} of ${int(stripe.referenceUnits)} units${stripe.firstFlush.equal ? ', every pair equal' : ''} (flush took ${ms(stripe.firstFlush.ms)})` +
          (stripe.cutByBudget && stripe.firstFlush.equal ? ` — with ${int(stripe.events)} events, not the ${int(PLAN.stripeEvents)} the figure is defined for` : ''),
        target: 'equal',
        // Equal after a budget cut proves less than the figure asks (fewer events, fewer reports): not a pass.
        met: stripe.firstFlush.equal ? (stripe.cutByBudget ? 'n/a' : true) : false,
      },
      {
        n: 3,
        name: 'Flushes until the outbox was empty',
        measured: `${stripe.drain.flushes} flush${stripe.drain.flushes === 1 ? '' : 'es'}, ${int(stripe.drain.calls)} calls in all, totals ${stripe.drain.equal ? '= reference' : '≠ reference'}`,
        target: '',
        met: null,
      },
    );
    log(`stripe: first flush ${stripe.firstFlush.calls} calls, ${stripe.firstFlush.units}/${stripe.referenceUnits} units`);

    await cleanUp();
    const order = (f: Figure) => f.n;
    figures.sort((a, b) => order(a) - order(b));
    const command = `npm run bench${[...args].length ? ` -- ${[...args].join(' ')}` : ''}`;
    const envShown = server ? `${server.variable}=${redact(server.url)} ` : '';
    const markdown = [
      `Command: \`${envShown}${command}\` — ${new Date(started).toISOString()}, ${((Date.now() - started) / 1000).toFixed(0)} s`,
      '',
      `Machine: ${machine.cpus} cores (${machine.cpuModel}), ${machine.memory} RAM, Node ${machine.node}, ${adminUrl ? `PostgreSQL ${machine.postgres} (fsync=${machine.pg?.fsync}, synchronous_commit=${machine.pg?.synchronous_commit}, autovacuum=${machine.pg?.autovacuum})` : `PGlite ${machine.pglite}`}`,
      '',
      figuresTable(figures),
      '',
      'Where the CPU went (% of one core; "other" = the rest of the machine):',
      '',
      cpuTable(cpu),
      '',
      diagnosticsLines(intakeDiagnostics, appResult),
      halfLoadLine(raw.halfLoad as HalfLoadRaw),
      ...(skippedTicks(childLog) ? [`- node-cron skipped ${skippedTicks(childLog)} scheduled job runs because the previous run was still going (bench-results/processes.log).`] : []),
      ...(intake.signedOnTheFly ? [`- Note: ${int(intake.signedOnTheFly)} deliveries were signed during a run (pre-signing fell short); the generator did that work.`] : []),
    ].join('\n');
    process.stdout.write(`\n${markdown}\n`);
    raw.signedDuringRuns = intake.signedOnTheFly;
    const json = { command, mode, startedAt: new Date(started).toISOString(), seconds: (Date.now() - started) / 1000, machine, plan: PLAN, figures, cpu, raw };
    writeFileSync(path.join(RESULTS, 'latest.json'), JSON.stringify(json, null, 2));
    writeFileSync(path.join(RESULTS, 'latest.md'), markdown + '\n');
    log(`wrote ${path.relative(process.cwd(), path.join(RESULTS, 'latest.json'))} and latest.md`);
  } finally {
    await cleanUp();
  }
}

/**
 * Environment shared by every child: production-like, quiet logs, our webhook key, no database yet — and none of the
 * app's own settings inherited from the caller's shell, so that what is measured is the default configuration.
 */
function benchEnv(publicPem: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  const appSettings = /^(PORT|APP_URL|DATABASE_URL|TEST_DATABASE_URL|BENCH_DATABASE_URL|DATA_DIR|ENCRYPTION_KEY|NODE_ENV|NODE_OPTIONS|LOG_LEVEL|HIGHLEVEL_.*|STRIPE_.*|REPORTER_.*)$/;
  for (const name of Object.keys(env)) if (appSettings.test(name)) delete env[name];
  return {
    ...env,
    NODE_ENV: 'production',
    LOG_LEVEL: 'warn',
    PORT: '0',
    ENCRYPTION_KEY: Buffer.alloc(32, 11).toString('base64'),
    HIGHLEVEL_WEBHOOK_PUBLIC_KEY: publicPem,
    ...(PROFILE ? { BENCH_COUNT_QUERIES: '1' } : {}),
  };
}

/** Starts an app process with the heap budget `npm start` gives it (package.json: HEAP_LIMIT_MB, default 192). */
async function startApp(name: string, env: NodeJS.ProcessEnv, logFile: string): Promise<Child> {
  return forkChild(name, 'test/bench/app-process.ts', env, logFile, { execArgv: [`--max-old-space-size=${env.HEAP_LIMIT_MB ?? 192}`] });
}

/** Mean of several phases' CPU shares (rounds of equal length). */
function averageShares(list: CpuShares[]): CpuShares {
  const keys = [...new Set(list.flatMap((c) => Object.keys(c)))];
  return Object.fromEntries(
    keys.map((k) => {
      const values = list.map((c) => c[k]).filter((v): v is number => typeof v === 'number');
      return [k, values.length ? Math.round(values.reduce((x, y) => x + y, 0) / values.length) : null];
    }),
  );
}

/** A stream that hands out the same pre-signed deliveries in turn: the baseline's load, at the generator's same cost. */
function cyclingStream(source: DeliveryStream, size: number): DeliveryStream {
  source.presign(size);
  const pool = Array.from({ length: size }, () => source.take());
  let i = 0;
  return { ...source, take: () => pool[i++ % size]!, presign: () => undefined };
}

function loadLine(r: LoadSummary): string {
  const failed = r.non2xx + r.errors + r.timeouts;
  return `${int(r.rps)} req/s · p50 ${ms(r.p50)} · p99 ${ms(r.p99)}${failed ? ` · ${int(failed)} failed` : ''}`;
}

/**
 * Every 2xx must be a stored delivery: after all the runs against the app, compares the acknowledged count with the
 * activity events the database holds (a delivery that timed out on the client may be stored too, never the reverse).
 */
async function durabilityFigure(app: Child, acked: number, machine: Awaited<ReturnType<typeof describeMachine>>): Promise<Figure> {
  const counts = await app.call<{ activityEvents: number }>('counts', {});
  const durable = machine.pg ? machine.pg.fsync === 'on' && machine.pg.synchronous_commit !== 'off' : true;
  return {
    n: 1,
    name: `Every acknowledged delivery stored, all runs (${machine.pg ? `PostgreSQL fsync=${machine.pg.fsync}, synchronous_commit=${machine.pg.synchronous_commit}` : 'PGlite, data directory on disk'})`,
    measured: `${int(acked)} acknowledged, ${int(counts.activityEvents)} stored`,
    target: 'stored ≥ acknowledged',
    met: counts.activityEvents >= acked && durable,
  };
}

/** How many times node-cron refused to start a job because its previous run had not finished. */
function skippedTicks(logFile: string): number {
  return (readFileSync(logFile, 'utf8').match(/blocked by overlap prevention/g) ?? []).length;
}

/** Waits (up to `maxSeconds`) until no meter report is pending and no batch in flight. */
async function waitForEmptyOutbox(app: Child, maxSeconds: number): Promise<{ seconds: number; empty: boolean }> {
  const t = Date.now();
  for (;;) {
    const state = await app.call<{ pending: number; sending: number }>('counts', {});
    const empty = state.pending === 0 && state.sending === 0;
    if (empty || Date.now() - t > maxSeconds * 1000) return { seconds: (Date.now() - t) / 1000, empty };
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

/** RSS and heap after two full GCs and a moment to settle. */
async function settledMemory(app: Child): Promise<MemoryFigures> {
  await new Promise((resolve) => setTimeout(resolve, 2_000));
  return app.call<MemoryFigures>('gc');
}

/**
 * Lag: paced SMS deliveries, each a threshold crossing; then waits until every crossing's batch has reached the
 * stub. A crossing's lag is its batch's first arrival at the stub minus its delivery's acknowledgement.
 */
async function measureLag(
  app: Child,
  stub: Child,
  privateKey: import('node:crypto').KeyObject,
  locations: string[],
  rate: number,
  cpu: Array<{ phase: string; cpu: CpuShares }>,
  pgDatabases: string[],
) {
  const stream = deliveryStream('lag', (i) => ({ fixture: 'sms-outbound', locationId: locations[i % locations.length]! }), privateKey);
  const meter = measureCpu({ app: app.pid, loadgen: process.pid, stub: stub.pid }, pgDatabases);
  await app.call('ticks');
  const sent = await paced({ port: app.ready.port, rate, seconds: PLAN.lagSeconds, connections: PLAN.connections, stream });
  const ackAt = new Map(sent.records.filter((r) => r.status === 200).map((r) => [r.webhookId, r.ackAt]));
  const lastAck = Math.max(...ackAt.values());
  let lags: number[] = [];
  let crossings = 0;
  let undelivered = 0;
  for (;;) {
    const rows = await app.call<Array<{ webhookId: string; identifier: string | null }>>('crossings', { webhookPrefix: 'lag-' });
    const arrived = new Map((await stub.call<StubSnapshot>('snapshot')).events.map((e) => [e.identifier, e.arrivedAt]));
    lags = [];
    undelivered = 0;
    crossings = rows.length;
    for (const row of rows) {
      const at = row.identifier ? arrived.get(row.identifier) : undefined;
      const acked = ackAt.get(row.webhookId);
      if (at === undefined || acked === undefined) undelivered += 1;
      else lags.push(at - acked);
    }
    if (undelivered === 0 || Date.now() - lastAck > PLAN.lagWaitSeconds * 1000) break;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  cpu.push({ phase: `4. lag (${rate} SMS/s, then drain)`, cpu: meter.stop() });
  lags.sort((a, b) => a - b);
  const ticks = await app.call<Array<{ at: number; ms: number; batchesFormed: number; claimed: number; sent: number }>>('ticks');
  const result = {
    deliveries: sent.sent,
    acknowledged: ackAt.size,
    crossings,
    undelivered,
    p50: percentile(lags, 50),
    p90: percentile(lags, 90),
    p99: percentile(lags, 99),
    max: lags.at(-1) ?? Number.NaN,
    ackLatencyP99Ms: sent.p99,
    rate,
    /** The reporter's ticks during the phase: start (ms after the first acknowledgement), duration, batches. */
    ticks: ticks.map((t) => ({ ...t, at: t.at - Math.min(...ackAt.values()) })),
  };
  log(`lag: ${crossings} crossings, p50 ${sec(result.p50)}, p99 ${sec(result.p99)}, ${undelivered} undelivered`);
  return result;
}

/**
 * Stripe calls: a fresh app (reporter not scheduled) on a fresh database and a fresh stub; `stripeEvents` deliveries
 * over `stripeCustomers` customers × 2 meters; one reporter flush; then flushes until the outbox is empty.
 */
async function measureStripeCalls(
  adminUrl: string | undefined,
  baseEnv: NodeJS.ProcessEnv,
  logFile: string,
  privateKey: import('node:crypto').KeyObject,
  cleanups: Array<() => Promise<unknown>>,
  cpu: Array<{ phase: string; cpu: CpuShares }>,
) {
  const stub = await forkChild('stripe-stub-2', 'test/bench/stripe-stub-server.ts', baseEnv, logFile);
  cleanups.push(() => stub.stop());
  const db: BenchDatabase = await createBenchDatabase(adminUrl);
  cleanups.push(() => db.drop());
  const app = await startApp('app-stripe', { ...baseEnv, ...db.env, STRIPE_API_URL: String(stub.ready.url), REPORTER_ENABLED: 'false' }, logFile);
  cleanups.push(() => app.stop());
  const tenancy = stripeTenancy(PLAN.stripeCustomers);
  await app.call('setup', tenancy.setups);
  const planOf = (i: number) => ({ fixture: STRIPE_MIX[i % STRIPE_MIX.length]!, locationId: tenancy.locations[Math.floor(i / STRIPE_MIX.length) % tenancy.locations.length]! });
  const stream = deliveryStream('stripe', planOf, privateKey);
  stream.presign(PLAN.stripeEvents);
  const ackedIds: string[] = [];
  const meter = measureCpu({ app: app.pid, loadgen: process.pid, stub: stub.pid }, adminUrl ? [db.label] : []);
  // The time budget: the whole run stays under five minutes even when intake is slow; the figure says if it was cut.
  const deadlineMs = Math.max(30_000, BUDGET_SECONDS * 1000 - (Date.now() - started) - 15_000);
  const ingest = await blast({ port: app.ready.port, connections: PLAN.connections, stream, amount: PLAN.stripeEvents, deadlineMs, onAck: (id) => ackedIds.push(id) });
  cpu.push({ phase: `3. ${int(ingest.ok)} events for the Stripe figure`, cpu: meter.stop() });
  log(`stripe: ${ingest.ok} of ${PLAN.stripeEvents} events acknowledged (${int(ingest.rps)} req/s)`);

  // The reference, from what was sent, for every delivery the app stored (each acknowledged one must be among them;
  // one in flight when a budget cut stopped the generator may be stored unacknowledged): units per "customer|meter".
  // A delivery in flight when a budget cut stopped the generator may still commit: wait until the count has not
  // moved for two seconds.
  let stored = await app.call<string[]>('webhookIds', { webhookPrefix: 'stripe-' });
  for (let unchanged = 0; unchanged < 4; ) {
    await new Promise((resolve) => setTimeout(resolve, 500));
    const again = await app.call<string[]>('webhookIds', { webhookPrefix: 'stripe-' });
    unchanged = again.length === stored.length ? unchanged + 1 : 0;
    stored = again;
  }
  const storedSet = new Set(stored);
  const ackedNotStored = ackedIds.filter((id) => !storedSet.has(id)).length;
  const reference = new Map<string, number>();
  for (const id of stored) {
    const { fixture, locationId } = planOf(Number(id.slice('stripe-'.length)));
    const { meter: name, units } = referenceUnits(fixture);
    if (units === 0) continue;
    const k = `${tenancy.customerOf.get(locationId)}|${name}`;
    reference.set(k, (reference.get(k) ?? 0) + units);
  }
  const totals = (s: StubSnapshot) => {
    const m = new Map<string, number>();
    for (const e of s.events) m.set(`${e.customer}|${e.eventName}`, (m.get(`${e.customer}|${e.eventName}`) ?? 0) + e.value);
    return m;
  };
  const sameAs = (m: Map<string, number>) => reference.size === m.size && [...reference].every(([k, v]) => m.get(k) === v);
  const sum = (m: Map<string, number>) => [...m.values()].reduce((a, b) => a + b, 0);

  const t = performance.now();
  const tick = await app.call<Record<string, number>>('flush');
  const flushMs = performance.now() - t;
  const afterFirst = await stub.call<StubSnapshot>('snapshot');
  const firstTotals = totals(afterFirst);
  const firstFlush = { calls: afterFirst.calls, refused: afterFirst.refused, pairsWithUnits: reference.size, units: sum(firstTotals), equal: sameAs(firstTotals), ms: flushMs, tick };

  let flushes = 1;
  for (; flushes < 20; flushes++) {
    const state = await app.call<{ pending: number; sending: number }>('counts', { webhookPrefix: 'stripe-' });
    if (state.pending === 0 && state.sending === 0) break;
    await app.call('flush');
  }
  const final = await stub.call<StubSnapshot>('snapshot');
  const drain = { flushes, calls: final.calls, units: sum(totals(final)), equal: sameAs(totals(final)) };
  await app.stop();
  await stub.stop();
  await db.drop();
  return {
    events: stored.length,
    cutByBudget: stored.length < PLAN.stripeEvents,
    acknowledged: ingest.ok,
    ackedNotStored,
    pairs: reference.size,
    referenceUnits: sum(reference),
    reference: Object.fromEntries(reference),
    firstFlush: { ...firstFlush, totals: Object.fromEntries(firstTotals) },
    drain,
    ingest: withoutLatencies(ingest),
  };
}

async function describeMachine(adminUrl: string | undefined) {
  const pg = adminUrl ? await serverFacts(adminUrl) : undefined;
  let pglite = 'n/a';
  try {
    pglite = (JSON.parse(readFileSync(path.resolve('node_modules/@electric-sql/pglite/package.json'), 'utf8')) as { version: string }).version;
  } catch {
    /* not installed where expected */
  }
  return {
    cpus: os.availableParallelism(),
    cpuModel: os.cpus()[0]?.model.trim() ?? 'unknown',
    memory: `${(os.totalmem() / 2 ** 30).toFixed(1)} GiB`,
    node: process.versions.node,
    platform: `${os.platform()} ${os.release()}`,
    postgres: pg?.server_version,
    pg,
    pglite,
  };
}

function redact(url: string): string {
  const u = new URL(url);
  if (u.password) u.password = '***';
  return u.toString();
}

type HalfLoadRaw = {
  byReporterTick: { tickMs: number[]; tickLoopMaxMs: number[]; tickBatches: number[] };
  diagnostics: Record<string, number>;
};

/** What held acknowledgements up at half load: the event loop, garbage collection, the reporter's passes. */
function halfLoadLine({ byReporterTick: t, diagnostics: d }: HalfLoadRaw): string {
  const range = (values: number[]) => (values.length ? `${Math.min(...values)}–${Math.max(...values)}` : 'none');
  return (
    `- Half load (app): event-loop delay p99 ${d.loopDelayP99Ms} ms, max ${d.loopDelayMaxMs} ms; ${int(d.gcPauses ?? 0)} GC pauses, ` +
    `${d.gcPausesOver10Ms} over 10 ms, longest ${d.gcLongestMs} ms; reporter passes took ${range(t.tickMs)} ms for ${range(t.tickBatches)} batches ` +
    `and held the event loop at most ${range(t.tickLoopMaxMs)} ms each.`
  );
}

function diagnosticsLines(
  d: {
    cpuMsPerRequest: { bare: number; app: number; postgres: number | null };
    app: Record<string, unknown>;
    statementsPerDelivery: number;
    waits: WaitProfile | null;
    profile: ReturnType<typeof summariseProfile> | null;
  },
  app: LoadSummary,
): string {
  const c = d.cpuMsPerRequest;
  const lines = [
    `CPU time per request during intake: app ${c.app.toFixed(2)} ms per delivery` +
      (c.postgres !== null ? ` (+ PostgreSQL ${c.postgres.toFixed(2)} ms)` : '') +
      `, bare Express ${c.bare.toFixed(2)} ms per request.`,
    `Intake diagnostics (app, during the measured intake run): event-loop delay p50 ${d.app.loopDelayP50Ms} ms, p99 ${d.app.loopDelayP99Ms} ms` +
      (d.app.poolBusyMean !== null ? `; pg pool: ${d.app.poolBusyMean} of 10 connections busy, ${d.app.poolWaitingMean} queries waiting for one (means)` : '') +
      (Number.isFinite(d.statementsPerDelivery) ? `; ${d.statementsPerDelivery.toFixed(1)} statements per delivery` : '') +
      `; group commit: ${int(Number(d.app.batchedDeliveries))} deliveries in ${int(Number(d.app.batches))} batches of 2 or more` +
      ` (${d.app.batchFallbacks} retried one by one), the rest alone` +
      `; ${int(app.sent)} requests.`,
  ];
  if (d.waits) {
    const states = Object.entries(d.waits.meanSessions)
      .slice(0, 5)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ');
    lines.push(`Database sessions (mean per sample, pg_stat_activity): ${states}.`);
  }
  if (d.profile) {
    lines.push(
      `App CPU profile (bench-results/app-intake.cpuprofile), self time: ${d.profile.selfByPackage.map((p) => `${p.where} ${p.share} %`).join(', ')}.`,
      `Inclusive: ${d.profile.inclusive.map((p) => `${p.frame} ${p.share} %`).join(', ')}.`,
    );
  }
  return lines.map((line) => `- ${line}`).join('\n');
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
