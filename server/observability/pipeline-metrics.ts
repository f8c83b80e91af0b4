/**
 * What the pipeline tells the metrics as it works (Prometheus counters and histograms, served by GET /metrics):
 * events processed and failed, ack → counted and ack → meter event lag, and Stripe meter-event call outcomes.
 * Callers (the inbox processor, the meter reporter) hold a `PipelineMetrics`; `NO_PIPELINE_METRICS` is the one to
 * pass where nothing is measured (tests, tools). Every method ignores values that are not finite non-negative
 * numbers and never throws, so measuring can never break processing.
 */
import { Counter, Histogram, type Registry } from 'prom-client';
import type { MeterEventOutcome } from '../stripe/meter-event-outcome';

/** A Stripe meter-event call's outcome, as the reporter classifies it (server/stripe/meter-event-outcome.ts). */
export type StripeCallOutcome = MeterEventOutcome['kind'];

/** The outcomes, in the order they are listed (each is exported at 0 before its first call). */
export const STRIPE_CALL_OUTCOMES: readonly StripeCallOutcome[] = ['sent', 'retry', 'failed', 'unconfirmed'];

/**
 * The pipeline's measurements. Times are in seconds.
 * - `processed(count, ackToCountedSeconds)`: the processor turned `count` stored events into usage and counters in one
 *   batch; `ackToCountedSeconds` holds, per event, the time from its acknowledgement (the 200 after its insert, i.e.
 *   `received_at`) to the commit that counted it (may be shorter than `count` when not every event is timed).
 * - `failed(count)`: events whose processing failed this time (kept with their error, retried later).
 * - `meterEventsSent(ackToMeterEventSeconds)`: Stripe took meter events; per event, the time from the
 *   acknowledgement of the earliest delivery whose units it carries to Stripe's answer.
 * - `stripeCall(outcome, seconds)`: one `POST /v1/billing/meter_events` ended with `outcome` after `seconds`.
 */
export interface PipelineMetrics {
  processed(count: number, ackToCountedSeconds: number[]): void;
  failed(count: number): void;
  meterEventsSent(ackToMeterEventSeconds: number[]): void;
  stripeCall(outcome: StripeCallOutcome, seconds: number): void;
}

/** Measures nothing. */
export const NO_PIPELINE_METRICS: PipelineMetrics = {
  processed: () => undefined,
  failed: () => undefined,
  meterEventsSent: () => undefined,
  stripeCall: () => undefined,
};

/** Lag buckets (seconds): the targets are ack → counted p99 ≤ 1 s and ack → meter event p99 ≤ 2 s (issue 20). */
const COUNTED_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];
const METER_EVENT_BUCKETS = [0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300, 900, 3600, 21_600];
/** Stripe call durations (seconds); STRIPE_TIMEOUT_SECONDS is 20 by default. */
const CALL_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 60];

const usable = (value: number) => typeof value === 'number' && Number.isFinite(value) && value >= 0;

/** Registers the pipeline's counters and histograms on `registry` and returns the `PipelineMetrics` feeding them. */
export function createPipelineMetrics(registry: Registry): PipelineMetrics {
  const registers = [registry];
  const processed = new Counter({ name: 'meterbridge_pipeline_events_processed_total', help: 'Stored events the processor turned into usage.', registers });
  const failed = new Counter({ name: 'meterbridge_pipeline_events_failed_total', help: 'Event processing attempts that failed (kept and retried).', registers });
  const ackToCounted = new Histogram({
    name: 'meterbridge_pipeline_ack_to_counted_seconds',
    help: 'Seconds from a delivery being acknowledged to its usage being counted.',
    buckets: COUNTED_BUCKETS,
    registers,
  });
  const ackToMeterEvent = new Histogram({
    name: 'meterbridge_pipeline_ack_to_meter_event_seconds',
    help: 'Seconds from a delivery being acknowledged to Stripe taking the meter event that carries its units.',
    buckets: METER_EVENT_BUCKETS,
    registers,
  });
  const stripeCalls = new Counter({
    name: 'meterbridge_stripe_meter_event_calls_total',
    help: 'Stripe meter-event calls by outcome: sent, retry (429, 409, 5xx, network), failed (refused, not counted), unconfirmed.',
    labelNames: ['outcome'] as const,
    registers,
  });
  const stripeSeconds = new Histogram({
    name: 'meterbridge_stripe_meter_event_call_seconds',
    help: 'Duration of Stripe meter-event calls.',
    labelNames: ['outcome'] as const,
    buckets: CALL_BUCKETS,
    registers,
  });
  for (const outcome of STRIPE_CALL_OUTCOMES) stripeCalls.inc({ outcome }, 0);

  const safely = (fn: () => void) => {
    try {
      fn();
    } catch {
      // A measurement never breaks the work it measures.
    }
  };
  return {
    processed: (count, seconds) =>
      safely(() => {
        if (usable(count)) processed.inc(count);
        for (const s of Array.isArray(seconds) ? seconds : []) if (usable(s)) ackToCounted.observe(s);
      }),
    failed: (count) => safely(() => usable(count) && failed.inc(count)),
    meterEventsSent: (seconds) =>
      safely(() => {
        for (const s of Array.isArray(seconds) ? seconds : []) if (usable(s)) ackToMeterEvent.observe(s);
      }),
    stripeCall: (outcome, seconds) =>
      safely(() => {
        if (!STRIPE_CALL_OUTCOMES.includes(outcome)) return;
        stripeCalls.inc({ outcome });
        if (usable(seconds)) stripeSeconds.observe({ outcome }, seconds);
      }),
  };
}
