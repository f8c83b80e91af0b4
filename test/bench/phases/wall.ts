/**
 * The wall, for the figures a machine like this one cannot meet: the app's two jobs measured apart. Intake alone —
 * the processor stopped, `wallDeliveries` deliveries at full load (16 connections): acknowledgements per second
 * and CPU per delivery of the app and PostgreSQL; then processing alone — the processor started on that backlog
 * with no intake: events per second until the inbox is empty and CPU per event (the reporter's sends included).
 */
import { measureCpu, type CpuShares } from '../cpu';
import type { Child } from '../ipc';
import { blast, withoutLatencies } from '../load';
import { int, ratio } from '../report';
import { waitForEmptyInbox, waitForEmptyOutbox, type Bench } from './common';

export async function wallPhase(bench: Bench, app: Child, baselineRate: number) {
  const { plan, intake } = bench;
  const total = plan.wallDeliveries;
  intake.presign(total);
  await waitForEmptyInbox(app, 60);
  await waitForEmptyOutbox(app, 60);
  await app.call('processorStop');
  const pids = { app: app.pid, loadgen: process.pid, stub: bench.stub.pid };
  let meter = measureCpu(pids, bench.pgDatabases);
  const ids: string[] = [];
  const alone = await blast({ port: app.ready.port, connections: plan.connections, stream: intake, amount: total, onAck: (id) => ids.push(id) });
  const intakeCpu = meter.stop();
  bench.acked.push(...ids);
  const backlog = (await app.call<{ backlog: number }>('backlog')).backlog;
  meter = measureCpu(pids, bench.pgDatabases);
  const t = Date.now();
  await app.call('processorStart');
  const drained = await waitForEmptyInbox(app, 120);
  const seconds = (Date.now() - t) / 1000;
  const processingCpu = meter.stop();
  const per = (cpu: CpuShares, key: string, secs: number, n: number) => (((cpu[key] ?? Number.NaN) / 100) * secs * 1000) / Math.max(1, n);
  const intakeMs = { app: per(intakeCpu, 'app', alone.seconds, alone.ok), postgres: per(intakeCpu, 'postgres', alone.seconds, alone.ok) };
  const processingMs = { app: per(processingCpu, 'app', seconds, backlog), postgres: per(processingCpu, 'postgres', seconds, backlog) };
  const rate = backlog / seconds;
  bench.cpu.push({ phase: `8. the wall: intake alone (processor stopped), ${int(alone.ok)} deliveries`, cpu: intakeCpu });
  bench.cpu.push({ phase: `8. the wall: processing alone, ${int(backlog)} events`, cpu: processingCpu });
  bench.raw.wall = { intake: withoutLatencies(alone), intakeCpu, intakeMs, backlog, seconds, drained, processingCpu, processingMs, rate };
  const pg = bench.mode === 'postgresql';
  const cpuLine = (m: { app: number; postgres: number }) => `app ${m.app.toFixed(2)} ms${pg ? ` + PostgreSQL ${m.postgres.toFixed(2)} ms` : ''}`;
  bench.log(`wall: intake alone ${int(alone.rps)} req/s (${cpuLine(intakeMs)}); processing alone ${int(rate)} events/s (${cpuLine(processingMs)})`);
  bench.figures.push(
    {
      n: 8,
      name: `The wall: intake alone, processor stopped (${int(total)} deliveries, ${plan.connections} connections)`,
      measured: `${int(alone.rps)} req/s = ${ratio(alone.rps / baselineRate)} × baseline; CPU per delivery ${cpuLine(intakeMs)}`,
      target: '',
      met: null,
    },
    {
      n: 8,
      name: 'The wall: processing alone, that backlog with no intake (reporter running)',
      measured: `${drained.empty ? '' : 'NOT drained: '}${int(rate)} events/s; CPU per event ${cpuLine(processingMs)}`,
      target: '',
      met: null,
    },
  );
}
