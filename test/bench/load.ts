/**
 * Load generation. Saturating load (how much can it take) is autocannon, closed-loop: `connections` connections,
 * one request in flight each, every request a different pre-signed delivery. Paced load (how fast does it answer
 * at a given rate) is open-loop: autocannon's rate limit lets each connection send its per-second quota
 * back-to-back and then idle, so "half the rate" would still be full concurrency for part of each second; here
 * deliveries leave at evenly spaced times and latency is measured from the time each was DUE, so a stall is not
 * hidden by the sender waiting for it (coordinated omission).
 */
import autocannon from 'autocannon';
import http from 'node:http';
import type { DeliveryStream } from './deliveries';

export const WEBHOOK_PATH = '/webhooks/highlevel';

/** What one load run measured. Latencies in milliseconds. */
export interface LoadSummary {
  seconds: number;
  /** Responses 2xx per second over the run. */
  rps: number;
  sent: number;
  ok: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  /** Every 2xx/non-2xx response time, ms (dropped before results are written). */
  latencies?: number[];
}

export interface BlastOptions {
  port: number;
  connections: number;
  stream: DeliveryStream;
  /** Seconds to run, or: */
  duration?: number;
  /** exactly this many requests. */
  amount?: number;
  /** Called with each 2xx answer's webhookId (parses the body; only when asked, it costs the generator). */
  onAck?: (webhookId: string) => void;
  /** Stop after this many milliseconds even if `amount` is not reached (the benchmark's time budget). */
  deadlineMs?: number;
}

/** Saturating load with autocannon against 127.0.0.1:port. */
export async function blast(options: BlastOptions): Promise<LoadSummary> {
  const { stream } = options;
  const request: autocannon.Request = {
    method: 'POST',
    path: WEBHOOK_PATH,
    headers: { 'content-type': 'application/json' },
    setupRequest: (req) => {
      const d = stream.take();
      return { ...req, body: d.body, headers: { ...req.headers, 'x-ghl-signature': d.signature } };
    },
    ...(options.onAck
      ? {
          onResponse: (status: number, body: string) => {
            if (status >= 200 && status < 300) options.onAck!(JSON.parse(body).webhookId);
          },
        }
      : {}),
  };
  // The typings omit it, but what autocannon returns is also the running instance, with stop().
  const running = autocannon({
    url: `http://127.0.0.1:${options.port}`,
    connections: options.connections,
    pipelining: 1,
    timeout: 30,
    ...(options.amount ? { amount: options.amount } : { duration: options.duration ?? 10 }),
    requests: [request],
  }) as Promise<autocannon.Result> & { stop(): void };
  const deadline = options.deadlineMs ? setTimeout(() => running.stop(), options.deadlineMs) : undefined;
  // The same response times autocannon's histogram gets, kept so that rounds can be merged exactly.
  const latencies: number[] = [];
  (running as unknown as NodeJS.EventEmitter).on('response', (_client: unknown, _status: number, _bytes: number, time: number) => latencies.push(time));
  const result = await running;
  clearTimeout(deadline);
  const ok = result['2xx'];
  const sorted = [...latencies].sort((a, b) => a - b);
  return {
    latencies,
    seconds: result.duration,
    rps: ok / result.duration,
    sent: result.requests.sent,
    ok,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    p50: percentile(sorted, 50),
    p90: percentile(sorted, 90),
    p99: percentile(sorted, 99),
    max: sorted.at(-1) ?? Number.NaN,
  };
}

/** One paced delivery: when it was due, when its answer came (wall clock, for the lag), and the status. */
export interface PacedRecord {
  webhookId: string;
  latencyMs: number;
  ackAt: number;
  status: number;
}

export interface PacedSummary extends LoadSummary {
  rate: number;
  /** Largest delay between a delivery's due time and its leaving (the sender's own lateness). */
  maxSendDelayMs: number;
  records: PacedRecord[];
}

/**
 * Open-loop load: `rate` deliveries per second for `seconds`, over at most `connections` keep-alive sockets
 * (a delivery finding none free waits, and that wait counts in its latency).
 */
export async function paced(options: { port: number; rate: number; seconds: number; connections: number; stream: DeliveryStream }): Promise<PacedSummary> {
  const { port, rate, seconds, connections, stream } = options;
  const total = Math.round(rate * seconds);
  stream.presign(total);
  const agent = new http.Agent({ keepAlive: true, maxSockets: connections });
  const records: PacedRecord[] = [];
  let errors = 0;
  let maxSendDelayMs = 0;
  let done = 0;
  const start = performance.now() + 20;
  await new Promise<void>((resolve) => {
    let next = 0;
    const finish = () => {
      done += 1;
      if (done === total) resolve();
    };
    const pump = () => {
      const now = performance.now();
      while (next < total && start + (next * 1000) / rate <= now) {
        const due = start + (next * 1000) / rate;
        maxSendDelayMs = Math.max(maxSendDelayMs, now - due);
        const d = stream.take();
        const req = http.request(
          {
            host: '127.0.0.1',
            port,
            method: 'POST',
            path: WEBHOOK_PATH,
            agent,
            headers: { 'content-type': 'application/json', 'content-length': d.body.length, 'x-ghl-signature': d.signature },
          },
          (res) => {
            res.resume();
            res.on('end', () => {
              records.push({ webhookId: d.webhookId, latencyMs: performance.now() - due, ackAt: Date.now(), status: res.statusCode ?? 0 });
              finish();
            });
          },
        );
        req.on('error', () => {
          errors += 1;
          finish();
        });
        req.end(d.body);
        next += 1;
      }
      if (next < total) setTimeout(pump, 1);
    };
    setTimeout(pump, 20);
  });
  agent.destroy();
  const latencies = records.map((r) => r.latencyMs).sort((a, b) => a - b);
  const ok = records.filter((r) => r.status >= 200 && r.status < 300).length;
  return {
    rate,
    seconds,
    rps: ok / seconds,
    sent: total,
    ok,
    non2xx: records.length - ok,
    errors,
    timeouts: 0,
    p50: percentile(latencies, 50),
    p90: percentile(latencies, 90),
    p99: percentile(latencies, 99),
    max: latencies.at(-1) ?? Number.NaN,
    maxSendDelayMs,
    records,
  };
}

/** Several runs as one: counts and seconds added, percentiles over all their response times. */
export function combine(runs: LoadSummary[]): LoadSummary {
  const seconds = runs.reduce((a, r) => a + r.seconds, 0);
  const add = (k: 'sent' | 'ok' | 'non2xx' | 'errors' | 'timeouts') => runs.reduce((a, r) => a + r[k], 0);
  const all = runs.flatMap((r) => r.latencies ?? []).sort((a, b) => a - b);
  return {
    seconds,
    rps: add('ok') / seconds,
    sent: add('sent'),
    ok: add('ok'),
    non2xx: add('non2xx'),
    errors: add('errors'),
    timeouts: add('timeouts'),
    p50: percentile(all, 50),
    p90: percentile(all, 90),
    p99: percentile(all, 99),
    max: all.at(-1) ?? Number.NaN,
  };
}

/** A summary without its raw response times, for the JSON. */
export const withoutLatencies = (r: LoadSummary): LoadSummary => ({ ...r, latencies: undefined });

/** The p-th percentile (nearest rank) of sorted values. */
export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}
