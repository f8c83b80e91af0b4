/**
 * 1. Webhook acknowledgement throughput: the app against the bare Express baseline, same load (16 connections,
 * every delivery unique and pre-signed), alternating rounds so that a noisy neighbour's burst falls on both. The
 * app runs as deployed: its inbox processor works in the same process while the deliveries come in. Every 2xx's
 * webhookId is kept (for both, so the generator does the same work) for the durability check.
 */
import path from 'node:path';
import { measureCpu, type CpuShares } from '../cpu';
import type { Child } from '../ipc';
import { blast, combine, withoutLatencies, type LoadSummary } from '../load';
import { sampleWaits } from '../pg-waits';
import { summariseProfile } from '../profile-summary';
import { int, ms, ratio } from '../report';
import { averageShares, cpuMsPerDelivery, cyclingStream, loadLine, type BacklogSample, type Bench } from './common';

type Round = LoadSummary & { cpu: CpuShares };

export async function intakePhase(bench: Bench, bare: Child, app: Child, options: { pgUrl?: string; dbLabel: string; profile: boolean; resultsDir: string }) {
  const { plan, intake } = bench;
  const baseline = cyclingStream(intake, 5_000);
  const run = async (target: Child, seconds: number, pids: Record<string, number>): Promise<Round> => {
    const meter = measureCpu({ ...pids, loadgen: process.pid, stub: bench.stub.pid }, bench.pgDatabases);
    const ids: string[] = [];
    const result = await blast({ port: target.ready.port, connections: plan.connections, stream: target === app ? intake : baseline, duration: seconds, onAck: (id) => ids.push(id) });
    if (target === app) bench.acked.push(...ids);
    return Object.assign(result, { cpu: meter.stop() });
  };
  await run(bare, plan.warmupSeconds, {});
  await run(app, plan.warmupSeconds, {});
  const bareRuns: Round[] = [];
  const appRuns: Round[] = [];
  const processorBefore = (await app.call<{ processor: { processed: number; batches: number } }>('pipelineStats')).processor;
  const backlogAfterRounds: number[] = [];
  let waits: Awaited<ReturnType<typeof sampleWaits>> | null = null;
  const profileFile = path.join(options.resultsDir, 'app-intake.cpuprofile');
  const roundSeconds = plan.intakeSeconds / plan.intakeRounds;
  for (let round = 1; round <= plan.intakeRounds; round++) {
    const last = round === plan.intakeRounds;
    bareRuns.push(await run(bare, roundSeconds, { bare: bare.pid }));
    if (last) {
      // Diagnostics come from the last app round only (between rounds the app is idle).
      await app.call('diagnostics');
      await app.call('statements');
      waits = options.pgUrl ? await sampleWaits(options.pgUrl, options.dbLabel) : null;
      if (options.profile) await app.call('profileStart');
    }
    appRuns.push(await run(app, roundSeconds, { app: app.pid }));
    backlogAfterRounds.push((await app.call<BacklogSample>('backlog')).backlog);
  }
  if (options.profile) await app.call('profileStop', { file: profileFile });
  const processorAfter = (await app.call<{ processor: { processed: number; batches: number } }>('pipelineStats')).processor;
  const processed = processorAfter.processed - processorBefore.processed;
  const batches = processorAfter.batches - processorBefore.batches;
  const bareResult = combine(bareRuns);
  const appResult = combine(appRuns);
  bench.cpu.push({ phase: '1. intake: bare Express', cpu: averageShares(bareRuns.map((r) => r.cpu)) });
  bench.cpu.push({ phase: `1. intake: app (${bench.mode})`, cpu: averageShares(appRuns.map((r) => r.cpu)) });
  // CPU time per request is steadier than throughput on a shared machine: a neighbour slows both the app and the
  // baseline, but barely changes how much CPU each request takes.
  const perDelivery = (runs: Round[], key: string) => cpuMsPerDelivery(runs.map((r) => ({ cpu: r.cpu, seconds: r.seconds, deliveries: r.ok })), key);
  const diagnostics = {
    cpuMsPerRequest: { bare: perDelivery(bareRuns, 'bare'), app: perDelivery(appRuns, 'app'), postgres: options.pgUrl ? perDelivery(appRuns, 'postgres') : null },
    app: await app.call<Record<string, unknown>>('diagnostics'),
    statementsPerDelivery: ((await app.call<number | null>('statements')) ?? Number.NaN) / Math.max(1, appRuns.at(-1)!.sent),
    waits: waits ? await waits.stop() : null,
    profile: options.profile ? summariseProfile(profileFile) : null,
    /** Events the processor counted while the rounds ran (it shares the process), and the backlog after each round. */
    processedDuringRounds: processed,
    processorBatches: batches,
    backlogAfterRounds,
  };
  bench.raw.intake = { bare: bareRuns.map(withoutLatencies), app: appRuns.map(withoutLatencies), diagnostics };
  bench.log(`bare Express: ${int(bareResult.rps)} req/s, p50 ${ms(bareResult.p50)}, p99 ${ms(bareResult.p99)}`);
  bench.log(`app: ${int(appResult.rps)} req/s, p50 ${ms(appResult.p50)}, p99 ${ms(appResult.p99)}; backlog after rounds ${backlogAfterRounds.join(', ')}`);
  const intakeRatio = appResult.rps / bareResult.rps;
  const rounds = `${plan.intakeRounds} × ${roundSeconds} s, alternating`;
  bench.figures.push(
    { n: 1, name: `Acknowledgements, bare Express baseline (${plan.connections} connections, ${rounds})`, measured: loadLine(bareResult), target: 'baseline', met: null },
    {
      n: 1,
      name: `Acknowledgements, the app on ${bench.mode === 'postgresql' ? 'PostgreSQL' : 'PGlite'} (same load; its processor running in the same process)`,
      measured: `${loadLine(appResult)} (processor counted ${int(processed)} events meanwhile; backlog after each round: ${backlogAfterRounds.map(int).join(', ')})`,
      target: '',
      met: null,
    },
    { n: 1, name: 'Acknowledgement ratio, app / baseline', measured: ratio(intakeRatio), target: '≥ 0.5', met: intakeRatio >= 0.5 },
  );
  return { bareResult, appResult, diagnostics };
}
export type IntakeDiagnostics = Awaited<ReturnType<typeof intakePhase>>['diagnostics'];
