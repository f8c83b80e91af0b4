/**
 * Per-call latency of the Stripe double and the requests it holds open: a real Stripe answer takes a few hundred
 * milliseconds, and how many calls a caller keeps in flight at once only shows when answers take time. Every request
 * (any path, meter events included) is held `latencyMs` before it is handled; `inFlight` counts the requests being
 * held or handled per `METHOD /path`, `peakInFlight` the most there ever were at once (tests reset it).
 */
import type { ServerResponse } from 'node:http';
import type { StripeStub } from './types';

/** Counts the request in flight until its answer is sent, then waits the stub's `latencyMs`. */
export async function holdRequest(stub: StripeStub, key: string, res: ServerResponse): Promise<void> {
  const open = (stub.inFlight.get(key) ?? 0) + 1;
  stub.inFlight.set(key, open);
  stub.peakInFlight.set(key, Math.max(open, stub.peakInFlight.get(key) ?? 0));
  res.once('close', () => stub.inFlight.set(key, (stub.inFlight.get(key) ?? 1) - 1));
  if (stub.latencyMs > 0) await new Promise((resolve) => setTimeout(resolve, stub.latencyMs));
}
