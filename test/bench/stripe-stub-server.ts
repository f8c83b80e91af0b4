/**
 * The local Stripe double (test/support/stripe-stub.ts) as its own process, answering at once, that also records
 * when each meter event first arrived — the far end of the lag figure — on the same machine clock as the
 * orchestrator's acknowledgement times.
 */
import { startStripeStub } from '../support/stripe-stub';
import { memoryFigures, serveCalls } from './ipc';

/** What the orchestrator reads back. */
export interface StubSnapshot {
  /** Every meter-event HTTP call, whatever its answer. */
  calls: number;
  /** Calls answered other than 200. */
  refused: number;
  events: Array<{ identifier: string; customer: string; eventName: string; value: number; arrivedAt: number }>;
}

async function main(): Promise<void> {
  const stub = await startStripeStub();
  // Live mode's 1,000 meter events/s (docs.stripe.com/rate-limits), not test mode's 25/s: the benchmarks measure
  // Meterbridge against the throughput an agency's live account allows.
  stub.meterEventsPerSecond = 1000;
  const arrivals = new Map<string, number>();
  stub.faultFor = ({ identifier }) => {
    if (!arrivals.has(identifier)) arrivals.set(identifier, Date.now());
    return 'ok';
  };
  serveCalls({
    snapshot: (): StubSnapshot => ({
      calls: stub.requests.length,
      refused: stub.requests.filter((r) => r.status !== 200).length,
      events: stub.events.map((e) => ({
        identifier: e.identifier,
        customer: e.customer,
        eventName: e.eventName,
        value: Number(e.value),
        arrivedAt: arrivals.get(e.identifier) ?? Number.NaN,
      })),
    }),
    memory: () => memoryFigures(),
    close: async () => {
      setTimeout(() => stub.close().then(() => process.exit(0)), 10);
      return true;
    },
  });
  process.send!({ type: 'ready', port: Number(new URL(stub.url).port), pid: process.pid, url: stub.url });
}

main().catch((err) => {
  console.error(err);
  process.send?.({ type: 'failed', error: String(err?.stack ?? err) });
  process.exit(1);
});
