/**
 * 4. A burst: `burstDeliveries` deliveries (a bulk SMS campaign) at the generator's full concurrency
 * (`burstConnections` connections, closed loop), each unique and pre-signed; every answer must be a 2xx, none may
 * time out (autocannon's timeout: 30 s). Then how long the inbox takes to drain, and the outbox (every crossing
 * sent to the Stripe double), both counted from the burst's last answer. The app's peak RSS during it, for context.
 */
import { measureCpu } from '../cpu';
import { deliveryStream } from '../deliveries';
import type { Child } from '../ipc';
import { blast, withoutLatencies } from '../load';
import { int, mb, ms } from '../report';
import { waitForEmptyInbox, waitForEmptyOutbox, type Bench } from './common';

export async function burstPhase(bench: Bench, app: Child) {
  const { plan } = bench;
  const total = plan.burstDeliveries;
  // SMS, outbound and inbound, over every sub-account.
  const campaign = ['sms-outbound', 'sms-outbound-unicode-long', 'sms-inbound'];
  const stream = deliveryStream('burst', (i) => ({ fixture: campaign[i % campaign.length]!, locationId: bench.locations[i % bench.locations.length]! }), bench.privateKey);
  let t = Date.now();
  stream.presign(total);
  bench.log(`burst: signed ${int(total)} deliveries in ${Date.now() - t} ms`);
  await waitForEmptyInbox(app, 30);
  await waitForEmptyOutbox(app, 30);
  const meter = measureCpu({ app: app.pid, loadgen: process.pid, stub: bench.stub.pid }, bench.pgDatabases);
  await app.call('samplerStart');
  const ids: string[] = [];
  // The run's time budget: on a slow or busy machine the burst is cut (and says so) to leave time for what follows.
  const deadlineMs = Math.max(60_000, (bench.secondsLeft() - 120) * 1000);
  const result = await blast({ port: app.ready.port, connections: plan.burstConnections, stream, amount: total, deadlineMs, onAck: (id) => ids.push(id) });
  const cut = result.sent < total;
  bench.acked.push(...ids);
  t = Date.now();
  const backlogAtEnd = (await app.call<{ backlog: number }>('backlog')).backlog;
  const inbox = await waitForEmptyInbox(app, 180);
  const inboxSeconds = (Date.now() - t) / 1000;
  const outbox = await waitForEmptyOutbox(app, 120);
  const outboxSeconds = (Date.now() - t) / 1000;
  const { peakRss } = await app.call<{ peakRss: number }>('samplerStop');
  bench.cpu.push({ phase: `4. burst of ${int(total)} (${plan.burstConnections} connections), then drain`, cpu: meter.stop() });
  // With no intake left, the drain shows the processor's own rate (when there was enough backlog to time).
  const drainRate = inbox.empty && backlogAtEnd >= 1_000 ? backlogAtEnd / inboxSeconds : null;
  const failed = result.non2xx + result.errors + result.timeouts;
  bench.raw.burst = { load: withoutLatencies(result), backlogAtEnd, drainRate, inbox, inboxSeconds, outbox, outboxSeconds, peakRss };
  bench.log(`burst: ${int(result.ok)} acknowledged at ${int(result.rps)} req/s, ${failed} failed; inbox drained ${inboxSeconds.toFixed(1)} s, outbox ${outboxSeconds.toFixed(1)} s after`);
  bench.figures.push(
    {
      n: 4,
      name: `Burst of ${int(total)} SMS deliveries, ${plan.burstConnections} connections, closed loop${cut ? ` — CUT by the time budget after ${int(result.sent)} sent` : ''}`,
      measured:
        `${int(result.ok)} acknowledged in ${result.seconds.toFixed(0)} s (${int(result.rps)} req/s, p99 ${ms(result.p99)}, max ${ms(result.max)}); ` +
        `${int(result.non2xx)} non-2xx, ${int(result.errors)} errors, ${int(result.timeouts)} timeouts`,
      target: 'all 2xx, no timeout',
      met: cut ? (failed === 0 ? 'n/a' : false) : failed === 0 && result.ok === total,
    },
    {
      n: 4,
      name: 'Burst drained: inbox, then outbox (every crossing at the Stripe double), from the last acknowledgement',
      measured:
        `inbox ${inbox.empty ? `${inboxSeconds.toFixed(1)} s` : `NOT empty after ${inboxSeconds.toFixed(0)} s (${int(inbox.left)} left)`} ` +
        `(backlog at the last answer ${int(backlogAtEnd)}${drainRate ? `: the processor alone took ${int(drainRate)} events/s` : ''}); ` +
        `outbox ${outbox.empty ? `${outboxSeconds.toFixed(1)} s` : `NOT empty after ${outboxSeconds.toFixed(0)} s`}; peak RSS during the burst ${mb(peakRss)}`,
      target: 'drained',
      met: inbox.empty && outbox.empty,
    },
  );
}
