/**
 * 9–10. The owner's views at agency scale (issue 22): the sub-accounts list sorted by this period's amount over 500
 * billed clients (test/bench/sub-account-amounts.ts), against pricing them one by one; and the first Overview answer
 * with 300 subscribed clients while Stripe takes 50 ms a call (test/bench/overview.ts), against reading every
 * preview live. Each script runs as its own process (`tsx <script> --json`) on its own fresh database — the bench's
 * PostgreSQL server when it has one, else PGlite — and prints one `BENCH_JSON {…}` line, read here.
 */
import { spawn } from 'node:child_process';
import { int, ms, ratio } from '../report';
import type { Bench } from './common';

/** Runs `script --json` with `tsx` and returns its `BENCH_JSON` figures. @throws when it fails or prints none. */
export async function runJsonScript<T>(script: string, env: NodeJS.ProcessEnv): Promise<T> {
  const child = spawn(process.execPath, ['--import', 'tsx', script, '--json'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  const line = out.split('\n').find((l) => l.startsWith('BENCH_JSON '));
  if (code !== 0 || !line) throw new Error(`${script} exited ${code}: ${err.slice(-500)}`);
  return JSON.parse(line.slice('BENCH_JSON '.length)) as T;
}

/** The figures of test/bench/sub-account-amounts.ts (milliseconds, medians). */
interface AmountFigures {
  subAccounts: number;
  oneByOneMs: number;
  batchedMs: number;
  byNameMs: number;
  byAmountMs: number;
}

/** The figures of test/bench/overview.ts (milliseconds; calls are preview + card calls made on the request). */
interface OverviewFigures {
  clients: number;
  latencyMs: number;
  coldMs: number;
  coldCalls: number;
  restartMs: number;
  restartCalls: number;
  noCardListMs: number;
  livePreviewsMs: number;
  liveCardsMs: number;
}

export async function ownerViewsPhase(bench: Bench, adminUrl: string | undefined): Promise<void> {
  const env: NodeJS.ProcessEnv = { ...process.env, NODE_ENV: 'test', LOG_LEVEL: 'warn', ...(adminUrl ? { TEST_DATABASE_URL: adminUrl } : {}) };
  if (!adminUrl) delete env.TEST_DATABASE_URL;
  bench.log('owner views: sub-accounts sorted by amount…');
  const amounts = await runJsonScript<AmountFigures>('test/bench/sub-account-amounts.ts', env);
  bench.raw.subAccountAmounts = amounts;
  const listRatio = amounts.byAmountMs / amounts.oneByOneMs;
  bench.figures.push(
    {
      n: 9,
      name: `Sub-accounts list sorted by this period's amount, page of 50 of ${int(amounts.subAccounts)} billed clients / the same estimate one client at a time`,
      measured: `${ms(amounts.byAmountMs)} / ${ms(amounts.oneByOneMs)} = ${ratio(listRatio)}`,
      target: '≤ 0.2',
      met: listRatio <= 0.2,
    },
    { n: 9, name: 'Sub-accounts list by name, page of 50 (context)', measured: ms(amounts.byNameMs), target: '', met: null },
  );

  bench.log('owner views: the first Overview answer with Stripe slow…');
  const overview = await runJsonScript<OverviewFigures>('test/bench/overview.ts', env);
  bench.raw.overview = overview;
  const baseline = Math.max(overview.livePreviewsMs, overview.liveCardsMs);
  const firstRatio = overview.restartMs / baseline;
  bench.figures.push(
    {
      n: 10,
      name: `First Overview answer after a restart, ${int(overview.clients)} subscribed clients, Stripe ${overview.latencyMs} ms a call / reading their previews and cards live`,
      measured: `${ms(overview.restartMs)} (${int(overview.restartCalls)} Stripe calls) / ${ms(baseline)} = ${ratio(firstRatio)}`,
      target: '≤ 0.1',
      met: firstRatio <= 0.1,
    },
    { n: 10, name: 'First Overview answer, nothing stored yet (context: it says how many are still being read)', measured: `${ms(overview.coldMs)}, ${int(overview.coldCalls)} Stripe calls`, target: '', met: null },
  );
}
