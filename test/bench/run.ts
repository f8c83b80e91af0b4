/**
 * `npm run bench`: the pipeline's speed (issue 20, item 8), every figure beside its target, each measured in this
 * run together with its baseline: webhook acknowledgements against a bare Express endpoint in alternating rounds
 * (phases/intake.ts), the highest rate the processor keeps up with together with intake, and memory over it
 * (phases/sustained.ts), latencies at half load (phases/half-load.ts), a 50,000-delivery burst and its drain
 * (phases/burst.ts), two processes on one database (phases/scale-out.ts) and Stripe calls per flush
 * (phases/stripe-calls.ts), the wall: intake alone and processing alone (phases/wall.ts), and the owner's views at
 * agency scale (phases/owner-views.ts: the list sorted by amount, the first Overview answer); every acknowledged
 * delivery must be stored. Prints a Markdown table and writes
 * bench-results/latest.json (and latest.md).
 *
 * The app runs as its own process(es) exactly as `npm start` would run it (composition root, env config, scheduler
 * and inbox processor on), on a fresh database on the PostgreSQL server named by BENCH_DATABASE_URL,
 * TEST_DATABASE_URL or DATABASE_URL (the first set), else on a fresh PGlite data directory. Load only ever targets
 * 127.0.0.1. Flags: --profile (CPU profile of the app's intake run, statements per delivery), --quick (short runs,
 * for trying the benchmark out; its figures are not the ones to quote).
 * Benchmarks are not tests: nothing here fails on a missed target.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { forkChild, type Child } from './ipc';
import { createBenchDatabase, serverFacts, serverUrl } from './database';
import { deliveryStream, INTAKE_MIX, intakeTenancy, makeWebhookKey } from './deliveries';
import { halfLoadLine, intakeLines, sustainedLine } from './lines';
import { burstPhase } from './phases/burst';
import { makePlan, waitForEmptyInbox, waitForEmptyOutbox, type Bench } from './phases/common';
import { halfLoadPhase } from './phases/half-load';
import { intakePhase } from './phases/intake';
import { ownerViewsPhase } from './phases/owner-views';
import { scaleOutPhase } from './phases/scale-out';
import { stripeCallsPhase } from './phases/stripe-calls';
import { sustainedPhase } from './phases/sustained';
import { wallPhase } from './phases/wall';
import { cpuTable, figuresTable, int, type Figure } from './report';

const args = new Set(process.argv.slice(2));
const QUICK = args.has('--quick');
const PROFILE = args.has('--profile');
const PLAN = makePlan(QUICK);
const RESULTS = path.resolve('bench-results');
/** The whole run should finish within this; the open-ended steps (keeps-up retry, Stripe events) are cut to fit. */
const BUDGET_SECONDS = QUICK ? 240 : 480;
const started = Date.now();
const log = (message: string) => process.stderr.write(`[${((Date.now() - started) / 1000).toFixed(0).padStart(3)} s] ${message}\n`);

async function main(): Promise<void> {
  mkdirSync(RESULTS, { recursive: true });
  const server = serverUrl();
  const adminUrl = server?.url;
  const mode = adminUrl ? 'postgresql' : 'pglite';
  const machine = await describeMachine(adminUrl);
  log(`mode ${mode}; ${machine.cpus} cores, ${machine.memory}, Node ${machine.node}${adminUrl ? `, PostgreSQL ${machine.postgres}` : ''}; load average ${machine.loadAverage}`);

  const cleanups: Array<() => Promise<unknown>> = [];
  const cleanUp = async () => {
    for (const fn of cleanups.reverse()) await fn().catch((err) => log(`clean-up: ${(err as Error).message}`));
    cleanups.length = 0;
  };
  // Interrupted: stop the processes and drop the databases this run made, then exit as the signal would.
  for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) process.once(signal, () => void cleanUp().then(() => process.exit(code)));

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
    const raw: Record<string, unknown> = {};
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
    intake.presign(QUICK ? 20_000 : 60_000);
    log(`signed ${int(intake.available)} deliveries in ${Date.now() - t} ms (mix: ${INTAKE_MIX.join(', ')})`);
    const figures: Figure[] = [];
    const bench: Bench = {
      plan: PLAN, mode, log, stub, cpu: [], figures, raw, acked: [], privateKey: key.privateKey, locations: tenancy.locations, intake,
      pgDatabases: adminUrl ? [dbA.label] : [],
      secondsLeft: () => BUDGET_SECONDS - (Date.now() - started) / 1000,
    };

    const { bareResult, appResult, diagnostics } = await intakePhase(bench, bare, appA, { pgUrl: dbA.env.DATABASE_URL, dbLabel: dbA.label, profile: PROFILE, resultsDir: RESULTS });
    await bare.stop();
    const settle = async () => {
      const inbox = await waitForEmptyInbox(appA, 60);
      const outbox = await waitForEmptyOutbox(appA, 60);
      log(`settled: inbox ${inbox.seconds.toFixed(1)} s, outbox ${outbox.seconds.toFixed(1)} s${inbox.empty && outbox.empty ? '' : ' (NOT empty)'}`);
    };
    await settle();
    await halfLoadPhase(bench, appA, appResult.rps, null);
    await settle();
    const sustained = await sustainedPhase(bench, appA, appResult.rps, bareResult.rps);
    await burstPhase(bench, appA);
    await wallPhase(bench, appA, bareResult.rps);
    if (adminUrl) {
      const appB = await startApp('app2', appEnv, childLog);
      cleanups.push(() => appB.stop());
      await scaleOutPhase(bench, appA, appB, appResult.rps);
      await appB.stop();
    } else {
      figures.push({ n: 6, name: 'Scale-out, two app processes / one', measured: 'n/a (embedded database)', target: '≥ 1.6', met: 'n/a' });
    }
    figures.push(await durabilityFigure(appA, bench.acked, machine));
    await appA.stop();
    await stripeCallsPhase(bench, adminUrl, baseEnv, childLog, cleanups, startApp);
    await ownerViewsPhase(bench, adminUrl);

    await cleanUp();
    figures.sort((a, b) => a.n - b.n);
    const command = `npm run bench${[...args].length ? ` -- ${[...args].join(' ')}` : ''}`;
    const envShown = server ? `${server.variable}=${redact(server.url)} ` : '';
    const seconds = (Date.now() - started) / 1000;
    const markdown = [
      `Command: \`${envShown}${command}\` — ${new Date(started).toISOString()}, ${seconds.toFixed(0)} s; load average at the start ${machine.loadAverage}, at the end ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`,
      '',
      `Machine: ${machine.cpus} cores (${machine.cpuModel}), ${machine.memory} RAM, Node ${machine.node}, ${adminUrl ? `PostgreSQL ${machine.postgres} (fsync=${machine.pg?.fsync}, synchronous_commit=${machine.pg?.synchronous_commit}, autovacuum=${machine.pg?.autovacuum})` : `PGlite ${machine.pglite}`}`,
      '',
      figuresTable(figures),
      '',
      'Where the CPU went (% of one core; "other" = the rest of the machine):',
      '',
      cpuTable([...bench.cpu].sort((a, b) => Number.parseInt(a.phase, 10) - Number.parseInt(b.phase, 10))),
      '',
      ...[
        ...intakeLines(diagnostics, appResult),
        sustainedLine(sustained.confirm, adminUrl !== undefined),
        halfLoadLine((raw.halfLoad as { diagnostics: Record<string, number> }).diagnostics),
        ...(skippedTicks(childLog) ? [`node-cron skipped ${skippedTicks(childLog)} scheduled job runs because the previous run was still going (bench-results/processes.log).`] : []),
        ...(intake.signedOnTheFly ? [`Note: ${int(intake.signedOnTheFly)} deliveries were signed during a run (pre-signing fell short); the generator did that work.`] : []),
      ].map((line) => `- ${line}`),
    ].join('\n');
    process.stdout.write(`\n${markdown}\n`);
    raw.signedDuringRuns = intake.signedOnTheFly;
    const json = { command, mode, startedAt: new Date(started).toISOString(), seconds, machine, plan: PLAN, figures, cpu: bench.cpu, raw };
    writeFileSync(path.join(RESULTS, 'latest.json'), JSON.stringify(json, null, 2));
    writeFileSync(path.join(RESULTS, 'latest.md'), `${markdown}\n`);
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
  const appSettings = /^(PORT|APP_URL|DATABASE_URL|TEST_DATABASE_URL|BENCH_DATABASE_URL|DATA_DIR|ENCRYPTION_KEY|NODE_ENV|NODE_OPTIONS|LOG_LEVEL|HIGHLEVEL_.*|STRIPE_.*|REPORTER_.*|INTAKE_.*)$/;
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

/**
 * Every 2xx must be a stored delivery: after all the phases on the main database, how many of the acknowledged
 * webhookIds the inbox holds (asked in chunks).
 */
async function durabilityFigure(app: Child, acked: string[], machine: Awaited<ReturnType<typeof describeMachine>>): Promise<Figure> {
  let stored = 0;
  for (let i = 0; i < acked.length; i += 20_000) stored += await app.call<number>('stored', { ids: acked.slice(i, i + 20_000) });
  const durable = machine.pg ? machine.pg.fsync === 'on' && machine.pg.synchronous_commit !== 'off' : true;
  return {
    n: 1,
    name: `Every acknowledged delivery stored, all phases (${machine.pg ? `PostgreSQL fsync=${machine.pg.fsync}, synchronous_commit=${machine.pg.synchronous_commit}` : 'PGlite, data directory on disk'})`,
    measured: `${int(stored)} of ${int(acked.length)} acknowledged webhookIds found in activity_events`,
    target: 'all',
    met: stored === acked.length && durable,
  };
}

/** How many times node-cron refused to start a job because its previous run had not finished. */
function skippedTicks(logFile: string): number {
  return (readFileSync(logFile, 'utf8').match(/blocked by overlap prevention/g) ?? []).length;
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
    loadAverage: os.loadavg().map((l) => l.toFixed(2)).join(' '),
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

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
