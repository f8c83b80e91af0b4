/**
 * Per-call latency of the Stripe double and the requests it holds open: a real Stripe answer takes a few hundred
 * milliseconds, and how many calls a caller keeps in flight at once only shows when answers take time. Every request
 * (any path, meter events included) is held `latencyMs` before it is handled; `inFlight` counts the requests being
 * held or handled per `METHOD /path`, and all together under ALL_REQUESTS; `peakInFlight` the most there ever were at
 * once (tests reset it).
 */
import type { ServerResponse } from 'node:http';
import type { StripeStub } from './types';

/** The key of `inFlight` / `peakInFlight` counting every request, whatever its path (one card read per customer path). */
export const ALL_REQUESTS = '*';

/** Counts the request in flight until its answer is sent, then waits the stub's `latencyMs`. */
export async function holdRequest(stub: StripeStub, key: string, res: ServerResponse): Promise<void> {
  for (const counted of [key, ALL_REQUESTS]) {
    const open = (stub.inFlight.get(counted) ?? 0) + 1;
    stub.inFlight.set(counted, open);
    stub.peakInFlight.set(counted, Math.max(open, stub.peakInFlight.get(counted) ?? 0));
    res.once('close', () => stub.inFlight.set(counted, (stub.inFlight.get(counted) ?? 1) - 1));
  }
  if (stub.latencyMs > 0) await new Promise((resolve) => setTimeout(resolve, stub.latencyMs));
}
