/**
 * 6. Scale-out (PostgreSQL only): a second app process on the same database. Rounds alternate between all
 * connections to one process and half to each of two; both processes' inbox processors share the inbox through
 * FOR UPDATE SKIP LOCKED, so the rounds also say how the processing split, and each round starts on an empty inbox.
 */
import { measureCpu, type CpuShares } from '../cpu';
import type { Child } from '../ipc';
import { blast, combine, type LoadSummary } from '../load';
import { int, ratio } from '../report';
import { averageShares, waitForEmptyInbox, type Bench } from './common';

type Stats = { processor: { processed: number } };

export async function scaleOutPhase(bench: Bench, appA: Child, appB: Child, ackRate: number) {
  const { plan, intake } = bench;
  intake.presign(Math.round(ackRate * (plan.warmupSeconds + plan.scaleSeconds * 2) * 1.5));
  const processed = async () => [(await appA.call<Stats>('pipelineStats')).processor.processed, (await appB.call<Stats>('pipelineStats')).processor.processed] as const;
  const load = async (port: number, connections: number, seconds: number) => {
    const ids: string[] = [];
    const result = await blast({ port, connections, stream: intake, duration: seconds, onAck: (id) => ids.push(id) });
    bench.acked.push(...ids);
    return result;
  };
  await load(appB.ready.port, plan.connections, plan.warmupSeconds);
  await waitForEmptyInbox(appA, 60);
  const roundSeconds = plan.scaleSeconds / plan.intakeRounds;
  const ones: Array<LoadSummary & { cpu: CpuShares }> = [];
  const twos: Array<{ a: LoadSummary; b: LoadSummary; cpu: CpuShares }> = [];
  const split: Record<'one' | 'two', [number, number]> = { one: [0, 0], two: [0, 0] };
  const backlog = { one: [] as number[], two: [] as number[] };
  const pids = { app: appA.pid, app2: appB.pid, loadgen: process.pid, stub: bench.stub.pid };
  for (let round = 1; round <= plan.intakeRounds; round++) {
    for (const which of ['one', 'two'] as const) {
      const p0 = await processed();
      const meter = measureCpu(pids, bench.pgDatabases);
      if (which === 'one') {
        ones.push(Object.assign(await load(appA.ready.port, plan.connections, roundSeconds), { cpu: meter.stop() }));
      } else {
        const half = plan.connections / 2;
        const [a, b] = await Promise.all([load(appA.ready.port, half, roundSeconds), load(appB.ready.port, plan.connections - half, roundSeconds)]);
        twos.push({ a, b, cpu: meter.stop() });
      }
      backlog[which].push((await appA.call<{ backlog: number }>('backlog')).backlog);
      await waitForEmptyInbox(appA, 60);
      const p1 = await processed();
      split[which][0] += p1[0] - p0[0];
      split[which][1] += p1[1] - p0[1];
    }
  }
  bench.cpu.push({ phase: '6. scale-out: one process', cpu: averageShares(ones.map((r) => r.cpu)) });
  bench.cpu.push({ phase: '6. scale-out: two processes', cpu: averageShares(twos.map((r) => r.cpu)) });
  const one = combine(ones);
  const a = combine(twos.map((r) => r.a));
  const b = combine(twos.map((r) => r.b));
  const twoRps = a.rps + b.rps;
  bench.raw.scaleOut = { one, twoA: a, twoB: b, rounds: plan.intakeRounds, processedBy: split, backlogAfterRounds: backlog };
  bench.log(`scale-out: one ${int(one.rps)} req/s, two ${int(twoRps)} req/s; processed by A/B with two: ${split.two.join('/')}`);
  const share = (s: [number, number]) => `${int(s[0])} / ${int(s[1])}`;
  bench.figures.push(
    {
      n: 6,
      name: `Scale-out, acknowledgements of two app processes / one (same database, ${plan.connections} connections in total, ${plan.intakeRounds} × ${roundSeconds} s each, alternating)`,
      measured: `${ratio(twoRps / one.rps)} (${int(twoRps)} vs ${int(one.rps)} req/s)`,
      target: '≥ 1.6',
      met: twoRps / one.rps >= 1.6,
    },
    {
      n: 6,
      name: 'Scale-out, events processed by process A / B (SKIP LOCKED claims, each round then drained)',
      measured: `with load on A only: ${share(split.one)}; with load on both: ${share(split.two)}; backlog after the rounds: one ${backlog.one.map(int).join(', ')}, two ${backlog.two.map(int).join(', ')}`,
      target: 'both take part',
      met: split.one[1] > 0 && split.two[0] > 0 && split.two[1] > 0,
    },
  );
}
