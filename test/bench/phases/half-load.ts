/**
 * 3. Half load: open-loop deliveries at half the app's measured acknowledgement rate (latency counted from when each
 * was due), then, per delivery of the phase, acknowledgement → counted (from the database: processed_at −
 * received_at) and, per threshold crossing, acknowledgement → meter event at the Stripe double (the stub's first
 * arrival of the crossing's batch minus the client's acknowledgement).
 */
import { measureCpu } from '../cpu';
import { deliveryStream } from '../deliveries';
import type { Child } from '../ipc';
import { paced, percentile } from '../load';
import { int, ms, sec } from '../report';
import type { StubSnapshot } from '../stripe-stub-server';
import { sleep, waitForEmptyInbox, type Bench } from './common';

export async function halfLoadPhase(bench: Bench, app: Child, ackRate: number, sustainedRate: number | null) {
  const { plan } = bench;
  const rate = Math.max(1, Math.round(ackRate / 2));
  const stream = deliveryStream('half', (i) => ({ fixture: bench.intake.plan(i).fixture, locationId: bench.intake.plan(i).locationId }), bench.privateKey);
  stream.presign(Math.round(rate * plan.halfLoadSeconds));
  const meter = measureCpu({ app: app.pid, loadgen: process.pid, stub: bench.stub.pid }, bench.pgDatabases);
  await app.call('ticks');
  await app.call('diagnostics');
  const half = await paced({ port: app.ready.port, rate, seconds: plan.halfLoadSeconds, connections: plan.connections, stream });
  const ackAt = new Map(half.records.filter((r) => r.status === 200).map((r) => [r.webhookId, r.ackAt]));
  bench.acked.push(...ackAt.keys());
  const lastAck = Math.max(...ackAt.values());

  // Every crossing's batch at the stub (or the wait runs out).
  let lags: number[] = [];
  let crossings = 0;
  let undelivered = 0;
  for (;;) {
    const rows = await app.call<Array<{ webhookId: string; identifier: string | null }>>('crossings', { webhookPrefix: 'half-' });
    const arrived = new Map((await bench.stub.call<StubSnapshot>('snapshot')).events.map((e) => [e.identifier, e.arrivedAt]));
    lags = [];
    undelivered = 0;
    crossings = rows.length;
    for (const row of rows) {
      const at = row.identifier ? arrived.get(row.identifier) : undefined;
      const acked = ackAt.get(row.webhookId);
      if (at === undefined || acked === undefined) undelivered += 1;
      else lags.push(at - acked);
    }
    const inbox = await app.call<{ backlog: number }>('backlog');
    if ((undelivered === 0 && inbox.backlog === 0) || Date.now() - lastAck > plan.meterEventWaitSeconds * 1000) break;
    await sleep(500);
  }
  bench.cpu.push({ phase: `3. half load (${int(rate)} req/s), then its meter events`, cpu: meter.stop() });
  await waitForEmptyInbox(app, 30);
  lags.sort((a, b) => a - b);
  const counted = await app.call<{ events: number; processed: number; p50: number | null; p99: number | null; max: number | null }>('countedLag', { webhookPrefix: 'half-' });
  const ticks = await app.call<Array<{ at: number; ms: number; loopMaxMs: number; claimed: number }>>('ticks');
  const diagnostics = await app.call<Record<string, number>>('diagnostics');
  const meterEvents = { crossings, undelivered, p50: percentile(lags, 50), p99: percentile(lags, 99), max: lags.at(-1) ?? Number.NaN };
  bench.raw.halfLoad = { ...half, records: undefined, counted, meterEvents, ticks, diagnostics, sustainedRate };
  bench.log(`half load ${rate} req/s: ack p99 ${ms(half.p99)}; counted p99 ${ms(counted.p99 ?? Number.NaN)}; meter event p99 ${sec(meterEvents.p99)} (${undelivered} undelivered)`);
  const failed = half.non2xx + half.errors;
  const where = `${int(rate)} req/s, open loop, ${plan.halfLoadSeconds} s`;
  bench.figures.push(
    {
      n: 3,
      name: `p99 acknowledgement at half the app's acknowledgement rate (${where})`,
      measured: `${ms(half.p99)} (p50 ${ms(half.p50)}, max ${ms(half.max)}${failed ? `, ${int(failed)} failed` : ''})`,
      target: '≤ 25 ms',
      met: half.p99 <= 25 && failed === 0,
    },
    {
      n: 3,
      name: 'p99 acknowledgement → counted, same deliveries (database: processed_at − received_at)',
      measured: `${ms(counted.p99 ?? Number.NaN)} (p50 ${ms(counted.p50 ?? Number.NaN)}, max ${ms(counted.max ?? Number.NaN)}; ${int(counted.processed)} of ${int(counted.events)} events processed)`,
      target: '≤ 1 s',
      met: counted.p99 !== null && counted.p99 <= 1000 && counted.processed === counted.events,
    },
    {
      n: 3,
      name: 'p99 acknowledgement → meter event at the Stripe double, per threshold crossing of those deliveries',
      measured:
        `${sec(meterEvents.p99)} (p50 ${sec(meterEvents.p50)}, max ${sec(meterEvents.max)}; ${int(crossings)} crossings` +
        `${undelivered ? `, ${int(undelivered)} NOT delivered within ${plan.meterEventWaitSeconds} s` : ''}; ${ticks.length} reporter passes, ` +
        `longest ${sec(Math.max(0, ...ticks.map((t) => t.ms)))})`,
      target: '≤ 2 s',
      met: undelivered === 0 && meterEvents.p99 <= 2000,
    },
  );
  return { rate };
}
