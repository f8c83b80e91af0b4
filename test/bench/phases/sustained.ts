/**
 * 2 and 5. Does the processor keep up, and does memory stay put? The highest rate the app sustains with intake AND
 * processing together: short paced probes at candidate rates (the backlog sampled every second; bounded = not
 * growing over the probe's last seconds; up by a fifth while bounded, then halving the gap; an unbounded first probe's
 * processing rate proposes the next candidate), then
 * one confirmation run of `sustainedSeconds` at the best rate found, bounded over its last `boundedWindowSeconds`
 * — stepping down once if it is not. The confirmation run is also the memory phase: the app's RSS sampled every
 * 100 ms, and its settled RSS (after a full GC) before and after.
 */
import { measureCpu, type CpuShares } from '../cpu';
import type { Child, MemoryFigures } from '../ipc';
import { paced } from '../load';
import { int, mb, ms, ratio } from '../report';
import { backlogSampler, backlogTrend, sleep, waitForEmptyInbox, waitForEmptyOutbox, type BacklogTrend, type Bench } from './common';

interface SustainedRun {
  rate: number;
  seconds: number;
  /** How long the run took until its last answer (longer than `seconds` when answers fell behind). */
  elapsedSeconds: number;
  trend: BacklogTrend;
  /** Events this process's processor counted per second during the run, and per batch. */
  processedPerSecond: number;
  eventsPerBatch: number;
  answeredRate: number;
  keptUp: boolean;
  ackP99: number;
  failed: number;
  cpu: CpuShares;
  deliveries: number;
}

async function runAt(bench: Bench, app: Child, rate: number, seconds: number, windowSeconds: number): Promise<SustainedRun> {
  const { plan, intake } = bench;
  intake.presign(Math.round(rate * seconds) + 100);
  const before = (await app.call<{ processor: { processed: number; batches: number } }>('pipelineStats')).processor;
  const sampler = backlogSampler(app);
  const meter = measureCpu({ app: app.pid, loadgen: process.pid, stub: bench.stub.pid }, bench.pgDatabases);
  const began = performance.now();
  const load = await paced({ port: app.ready.port, rate, seconds, connections: plan.connections, stream: intake });
  // Deliveries per second as they were answered (below `rate` when the app, or the generator, fell behind).
  const elapsedSeconds = (performance.now() - began) / 1000;
  const answeredRate = Math.round(load.ok / elapsedSeconds);
  const cpu = meter.stop();
  const samples = await sampler.stop();
  const after = (await app.call<{ processor: { processed: number; batches: number } }>('pipelineStats')).processor;
  const processed = after.processed - before.processed;
  const batches = after.batches - before.batches;
  bench.acked.push(...load.records.filter((r) => r.status === 200).map((r) => r.webhookId));
  const trend = backlogTrend(samples, windowSeconds, rate);
  const run = { rate, seconds, elapsedSeconds, trend, processedPerSecond: Math.round(processed / seconds), eventsPerBatch: Math.round((processed / Math.max(1, batches)) * 10) / 10, answeredRate,
    // Kept up: the backlog bounded AND the deliveries answered as fast as they were offered (else the queue is in
    // the sockets, not the inbox).
    keptUp: trend.bounded && answeredRate >= rate * 0.95, ackP99: load.p99, failed: load.non2xx + load.errors, cpu, deliveries: load.ok };
  bench.log(
    `  ${int(rate)} req/s × ${seconds} s: ${run.keptUp ? 'kept up' : 'NOT kept up'}; backlog ${trend.bounded ? 'bounded' : 'GROWING'} (slope ${trend.slopePerSecond}/s over the last ${windowSeconds} s, ` +
      `max ${int(trend.max)}, oldest ${ms(trend.oldestMaxMs)}); processed ${int(run.processedPerSecond)}/s (${run.eventsPerBatch} per batch); answered ${int(answeredRate)}/s; ack p99 ${ms(load.p99)}`,
  );
  return run;
}

/** Candidate rates in steps of 50 req/s (of 5 below 500, on a slow or busy machine). */
const step = (n: number) => (n >= 500 ? 50 : 5);
const roundRate = (n: number) => Math.max(5, Math.round(n / step(n)) * step(n));

export async function sustainedPhase(bench: Bench, app: Child, ackRate: number, baselineRate: number) {
  const { plan } = bench;
  bench.log(`keeps-up search: ${plan.probes} probes of ${plan.probeSeconds} s, then ${plan.sustainedSeconds} s at the best`);
  const probes: SustainedRun[] = [];
  let lo = 0; // highest rate seen bounded
  let hi = Number.POSITIVE_INFINITY; // lowest rate seen growing
  // Intake and processing already ran together in the acknowledgement rounds: start at that rate, go up by a fifth
  // while bounded, then halve the gap.
  let rate = roundRate(ackRate);
  for (let i = 0; i < plan.probes; i++) {
    const probe = await runAt(bench, app, rate, plan.probeSeconds, plan.probeSeconds - 5);
    probes.push(probe);
    await waitForEmptyInbox(app, 30);
    if (probe.keptUp) lo = Math.max(lo, rate);
    else hi = Math.min(hi, rate);
    const next = probe.keptUp
      ? hi === Number.POSITIVE_INFINITY ? rate * 1.2 : (lo + hi) / 2
      : lo > 0 ? (lo + hi) / 2 : Math.min(rate * 0.8, probe.processedPerSecond * 0.95, probe.answeredRate * 0.95);
    if (Math.abs(roundRate(next) - rate) < step(rate)) break;
    rate = roundRate(next);
  }
  let chosen = lo > 0 ? lo : rate;

  // The confirmation run, also the memory phase.
  const runs: SustainedRun[] = [];
  let memory: { before: MemoryFigures; after: MemoryFigures; peakRss: number; heapTotalAtPeak: number } | null = null;
  for (let attempt = 1; attempt <= 2; attempt++) {
    await waitForEmptyOutbox(app, 30);
    await sleep(2_000);
    const before = await app.call<MemoryFigures>('gc');
    await app.call('samplerStart');
    const confirm = await runAt(bench, app, chosen, plan.sustainedSeconds, plan.boundedWindowSeconds);
    const { peakRss, heapTotalAtPeak } = await app.call<{ peakRss: number; heapTotalAtPeak: number }>('samplerStop');
    await waitForEmptyInbox(app, 60);
    await waitForEmptyOutbox(app, 30);
    await sleep(2_000);
    const after = await app.call<MemoryFigures>('gc');
    runs.push(confirm);
    memory ??= { before, after, peakRss, heapTotalAtPeak };
    if (confirm.keptUp || bench.secondsLeft() < plan.sustainedSeconds + 150) break;
    chosen = roundRate(Math.min(chosen * 0.85, confirm.processedPerSecond * 0.95, confirm.answeredRate * 0.95));
    bench.log(`  not kept up: once more at ${int(chosen)} req/s`);
  }
  const confirm = runs.at(-1)!;
  bench.cpu.push({ phase: `2. sustained ${plan.sustainedSeconds} s at ${int(confirm.rate)} req/s`, cpu: confirm.cpu });
  const sustainedRate = confirm.keptUp ? confirm.rate : null;
  const r = confirm.trend;
  bench.raw.sustained = { probes, runs, memory };
  bench.figures.push(
    {
      n: 2,
      name: `Highest rate sustained with intake and processing together, backlog bounded for ${plan.sustainedSeconds} s (paced; probes at ${probes.map((p) => `${int(p.rate)}${p.keptUp ? '' : '✗'}`).join(', ')} req/s; ✗ = backlog growing or answers falling behind)`,
      measured:
        `${sustainedRate ? `${int(sustainedRate)} req/s = ${ratio(sustainedRate / baselineRate)} × baseline` : `none confirmed: at ${int(confirm.rate)} req/s ${confirm.trend.bounded ? 'the answers fell behind' : 'the backlog grew'}`} ` +
        `(backlog over the last ${plan.boundedWindowSeconds} s: slope ${r.slopePerSecond}/s, max ${int(r.max)}, oldest event ${ms(r.oldestMaxMs)}${r.failedMax ? `, ${int(r.failedMax)} failed` : ''}; ` +
        `answered ${int(confirm.answeredRate)}/s, processed ${int(confirm.processedPerSecond)}/s; ack p99 ${ms(confirm.ackP99)}${confirm.failed ? `; ${int(confirm.failed)} failed` : ''})`,
      target: '≥ 0.45 × baseline, bounded',
      met: sustainedRate !== null && sustainedRate / baselineRate >= 0.45,
    },
  );
  if (memory) {
    const growth = (memory.after.rss - memory.before.rss) / memory.before.rss;
    bench.figures.push(
      {
        n: 5,
        name: `Peak RSS of the app over the sustained run (${int(runs[0]!.rate)} req/s for ${plan.sustainedSeconds} s, ${int(runs[0]!.deliveries)} deliveries)`,
        measured: `${mb(memory.peakRss)} (JS heap ${mb(memory.heapTotalAtPeak)} of it; after the run: JS heap ${mb(memory.after.heapUsed)}, outside it ${mb(memory.after.external)}${bench.mode === 'pglite' ? ", PGlite's WebAssembly memory included" : ''})`,
        target: `≤ ${plan.rssLimitMb} MB`,
        met: memory.peakRss <= plan.rssLimitMb * 2 ** 20,
      },
      {
        n: 5,
        name: 'RSS before → after the sustained run (each after a full GC, inbox and outbox empty; heap used in brackets)',
        measured: `${mb(memory.before.rss)} → ${mb(memory.after.rss)} (${growth >= 0 ? '+' : ''}${(growth * 100).toFixed(0)} %; heap ${mb(memory.before.heapUsed)} → ${mb(memory.after.heapUsed)})`,
        target: `no growth (≤ +${plan.rssGrowthTolerance * 100} %)`,
        met: growth <= plan.rssGrowthTolerance,
      },
    );
  }
  return { sustainedRate, confirm };
}
