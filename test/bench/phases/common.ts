/**
 * What every phase of `npm run bench` shares: the plan (durations and sizes; --quick shrinks them), the run's
 * context (processes, CPU table, figures, raw figures, every acknowledged webhookId) and small helpers to wait for
 * the inbox and the outbox to empty and to sample the inbox's backlog.
 */
import type { KeyObject } from 'node:crypto';
import type { CpuShares } from '../cpu';
import type { DeliveryStream } from '../deliveries';
import type { Child } from '../ipc';
import { int, ms, type Figure } from '../report';
import type { LoadSummary } from '../load';

export function makePlan(quick: boolean) {
  return {
    connections: 16,
    warmupSeconds: quick ? 1 : 3,
    /** Seconds of measured intake for each of the app and the baseline, split over `intakeRounds` alternating rounds. */
    intakeSeconds: quick ? 4 : 10,
    intakeRounds: 2,
    halfLoadSeconds: quick ? 4 : 10,
    /** How long after the last acknowledgement the half-load phase waits for its meter events. */
    meterEventWaitSeconds: 20,
    /** Probes of the keeps-up search: how many, how long each; then the confirmation run at the best rate. */
    probes: quick ? 2 : 3,
    probeSeconds: quick ? 8 : 15,
    sustainedSeconds: quick ? 20 : 60,
    /** "Bounded": not growing over the last `boundedWindowSeconds` of a run. */
    boundedWindowSeconds: quick ? 10 : 30,
    burstDeliveries: quick ? 5_000 : 50_000,
    burstConnections: 64,
    scaleSeconds: quick ? 4 : 10,
    /** Deliveries for the wall: intake alone, then processing alone. */
    wallDeliveries: quick ? 3_000 : 15_000,
    stripeEvents: quick ? 2_000 : 10_000,
    stripeCustomers: 5,
    rssLimitMb: 250,
    rssGrowthTolerance: 0.1,
  };
}
export type Plan = ReturnType<typeof makePlan>;

/** The run so far, handed to every phase. */
export interface Bench {
  plan: Plan;
  mode: 'postgresql' | 'pglite';
  log(message: string): void;
  stub: Child;
  /** The databases whose PostgreSQL backends count as "postgres" in the CPU table (none on PGlite). */
  pgDatabases: string[];
  cpu: Array<{ phase: string; cpu: CpuShares }>;
  figures: Figure[];
  raw: Record<string, unknown>;
  /** Every webhookId the app(s) on the main database answered 2xx, all phases: each must be stored. */
  acked: string[];
  privateKey: KeyObject;
  locations: string[];
  /** The main stream of fixture-mix deliveries (unique, pre-signed). */
  intake: DeliveryStream;
  /** Seconds left of the run's budget. */
  secondsLeft(): number;
}

export const sleep = (msToWait: number) => new Promise((resolve) => setTimeout(resolve, msToWait));

/** One sample of the inbox: events received or failed and not yet processed, and the oldest one's age. */
export interface BacklogSample {
  at: number;
  backlog: number;
  failed: number;
  oldestMs: number | null;
}

/** Waits (up to `maxSeconds`) until the inbox holds nothing to process. */
export async function waitForEmptyInbox(app: Child, maxSeconds: number): Promise<{ seconds: number; empty: boolean; left: number }> {
  const t = Date.now();
  for (;;) {
    const { backlog } = await app.call<BacklogSample>('backlog');
    if (backlog === 0 || Date.now() - t > maxSeconds * 1000) return { seconds: (Date.now() - t) / 1000, empty: backlog === 0, left: backlog };
    await sleep(100);
  }
}

/** Waits (up to `maxSeconds`) until no meter report is pending and no batch in flight. */
export async function waitForEmptyOutbox(app: Child, maxSeconds: number): Promise<{ seconds: number; empty: boolean }> {
  const t = Date.now();
  for (;;) {
    const state = await app.call<{ pending: number; sending: number }>('counts', {});
    const empty = state.pending === 0 && state.sending === 0;
    if (empty || Date.now() - t > maxSeconds * 1000) return { seconds: (Date.now() - t) / 1000, empty };
    await sleep(200);
  }
}

/** Samples the inbox backlog about every `intervalMs` (through the app: PGlite is embedded in it) until stopped. */
export function backlogSampler(app: Child, intervalMs = 1000) {
  const samples: BacklogSample[] = [];
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      const next = Date.now() + intervalMs;
      samples.push(await app.call<BacklogSample>('backlog'));
      await sleep(Math.max(0, next - Date.now()));
    }
  })();
  return {
    async stop(): Promise<BacklogSample[]> {
      stopped = true;
      await loop.catch(() => undefined);
      return samples;
    },
  };
}

/**
 * Is the backlog bounded over the last `windowSeconds` of `samples`? Its least-squares slope (events per second)
 * times the window must stay under max(500 events: one processor batch, half a second of `rate`).
 */
export function backlogTrend(samples: BacklogSample[], windowSeconds: number, rate: number) {
  const end = samples.at(-1)?.at ?? 0;
  const window = samples.filter((s) => s.at >= end - windowSeconds * 1000);
  const n = window.length;
  const xs = window.map((s) => (s.at - end) / 1000);
  const mx = xs.reduce((a, b) => a + b, 0) / Math.max(1, n);
  const my = window.reduce((a, s) => a + s.backlog, 0) / Math.max(1, n);
  const sxx = xs.reduce((a, x) => a + (x - mx) ** 2, 0);
  const slope = n >= 3 && sxx > 0 ? window.reduce((a, s, i) => a + (xs[i]! - mx) * (s.backlog - my), 0) / sxx : Number.NaN;
  const tolerance = Math.max(500, rate / 2);
  return {
    samples: n,
    slopePerSecond: Math.round(slope),
    max: Math.max(0, ...window.map((s) => s.backlog)),
    last: window.at(-1)?.backlog ?? Number.NaN,
    oldestMaxMs: Math.max(0, ...window.map((s) => s.oldestMs ?? 0)),
    failedMax: Math.max(0, ...window.map((s) => s.failed)),
    bounded: Number.isFinite(slope) && slope * windowSeconds <= tolerance,
  };
}
export type BacklogTrend = ReturnType<typeof backlogTrend>;

/** Mean of several phases' CPU shares (rounds of equal length). */
export function averageShares(list: CpuShares[]): CpuShares {
  const keys = [...new Set(list.flatMap((c) => Object.keys(c)))];
  return Object.fromEntries(
    keys.map((k) => {
      const values = list.map((c) => c[k]).filter((v): v is number => typeof v === 'number');
      return [k, values.length ? Math.round(values.reduce((x, y) => x + y, 0) / values.length) : null];
    }),
  );
}

/** Milliseconds of CPU per delivery of process `key` over runs of `seconds` that handled `deliveries`. */
export function cpuMsPerDelivery(runs: Array<{ cpu: CpuShares; seconds: number; deliveries: number }>, key: string): number {
  const cpuMs = runs.reduce((sum, r) => sum + ((r.cpu[key] ?? Number.NaN) / 100) * r.seconds * 1000, 0);
  return cpuMs / runs.reduce((sum, r) => sum + r.deliveries, 0);
}

/** A stream that hands out the same pre-signed deliveries in turn: the baseline's load, at the generator's same cost. */
export function cyclingStream(source: DeliveryStream, size: number): DeliveryStream {
  source.presign(size);
  const pool = Array.from({ length: size }, () => source.take());
  let i = 0;
  return { ...source, take: () => pool[i++ % size]!, presign: () => undefined };
}

export function loadLine(r: LoadSummary): string {
  const failed = r.non2xx + r.errors + r.timeouts;
  return `${int(r.rps)} req/s · p50 ${ms(r.p50)} · p99 ${ms(r.p99)}${failed ? ` · ${int(failed)} failed` : ''}`;
}
