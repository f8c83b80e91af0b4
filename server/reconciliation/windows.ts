/**
 * The rules reconciliation compares by, each in one place: which batch statuses count as sent, where a batch falls
 * in time (its window key), which windows are settled, and which sent batches may have been counted twice.
 *
 * Stripe's side (stripe/openapi spec3, GET /v1/billing/meters/{id}/event_summaries; stripe-node 23
 * `Billing.MeterListEventSummariesParams`): `start_time` inclusive and `end_time` exclusive, both aligned with minute
 * boundaries; with `value_grouping_window=day` both must be aligned with UTC day boundaries (00:00 UTC) and one
 * summary comes back per day; without it, one summary for the whole range. Summaries are eventually consistent:
 * "meter events are aggregated asynchronously" (docs.stripe.com/api/billing/meter-event-summary), hence the settle time.
 */
import { sql, type SQL } from 'drizzle-orm';

/** Seconds in a UTC day: the comparison window (`value_grouping_window=day`). */
export const DAY_SECONDS = 86_400;

/** Statuses of a batch whose event Stripe accepted: its units are expected in Stripe's totals. */
export const SENT_STATUSES = ['sent'] as const;
/**
 * Statuses of a batch that may or may not be in Stripe: `unconfirmed` is a batch past Stripe's 24-hour identifier
 * window whose delivery is unknown (server/stripe/meter-batch-settlement.ts). Reconciliation settles
 * each: found in Stripe's total → sent; missing → resent with a new identifier.
 */
export const UNCONFIRMED_STATUSES = ['unconfirmed'] as const;
/**
 * Statuses of a batch not yet settled: being sent (a call may have reached Stripe) or queued by reconciliation (a
 * repair not sent yet). Its window is not compared until it settles, so a repair is never made twice.
 */
export const IN_FLIGHT_STATUSES = ['sending', 'queued'] as const;

/**
 * Stripe cancels a meter event only "within 24 hours of Stripe receiving" it (stripe/openapi spec3,
 * PostBillingMeterEventAdjustments `cancel.identifier`); a margin keeps a slow run inside that limit.
 */
export const CANCEL_WITHIN_SECONDS = 20 * 3600;
/**
 * Stripe deduplicates an identifier "within a rolling period of at least 24 hours" (stripe/openapi spec3,
 * PostBillingMeterEvents `identifier`): a resend after that may be counted a second time.
 */
export const IDENTIFIER_WINDOW_SECONDS = 24 * 3600;

/** `('a', 'b')` for a status list, to use in `status in …`. */
export const statusList = (statuses: readonly string[]): SQL => sql.raw(`(${statuses.map((s) => `'${s}'`).join(', ')})`);

/**
 * The time Stripe files a batch's event under (Unix seconds), for batch alias `b`: the timestamp of its latest send
 * (`sent_timestamp`, the crossing time brought inside Stripe's window at that send), else the crossing time.
 */
export const batchEventTime = (b = 'b'): SQL => sql.raw(`coalesce(${b}.sent_timestamp, ${b}.timestamp)`);

/** The start (Unix seconds) of the UTC day window a batch falls in. */
export const batchWindowStart = (b = 'b'): SQL => sql`((${batchEventTime(b)} / ${DAY_SECONDS}) * ${DAY_SECONDS})`;

/**
 * A sent batch that Stripe may hold twice, known by its identifier: a corrective event or a resend made by
 * reconciliation (what it replaced may have been counted late after all), or a batch whose last send came after
 * Stripe's identifier window (the first send may have been accepted too).
 */
export const possiblyDoubled = (b = 'b'): SQL =>
  sql.raw(
    `(${b}.kind = 'correction' or ${b}.replaces_batch_id is not null or ` +
      `(${b}.attempts > 1 and ${b}.sent_at > coalesce(${b}.first_sent_at, ${b}.created_at) + interval '${IDENTIFIER_WINDOW_SECONDS} seconds'))`,
  );

/** What one run compares: days [from, fullDaysEnd) whole, then [fullDaysEnd, settledBefore) if not empty. Unix seconds. */
export interface ComparisonRange {
  from: number;
  fullDaysEnd: number;
  /** Minute-aligned: run time less the settle time, rounded down to the minute. */
  settledBefore: number;
}

/**
 * The range a run at `now` compares: everything up to `now − settleSeconds` (down to the minute, as Stripe requires),
 * over the last `lookbackDays` whole UTC days plus the settled part of the current one.
 */
export function comparisonRange(now: Date, settleSeconds: number, lookbackDays: number): ComparisonRange {
  const settledBefore = Math.floor((Math.floor(now.getTime() / 1000) - settleSeconds) / 60) * 60;
  const fullDaysEnd = Math.floor(settledBefore / DAY_SECONDS) * DAY_SECONDS;
  return { from: fullDaysEnd - lookbackDays * DAY_SECONDS, fullDaysEnd, settledBefore };
}

/** The windows of a range, oldest first: whole days, then the partial current one. */
export function windowsOf(range: ComparisonRange): Array<{ start: number; end: number }> {
  const windows: Array<{ start: number; end: number }> = [];
  for (let start = range.from; start < range.fullDaysEnd; start += DAY_SECONDS) windows.push({ start, end: start + DAY_SECONDS });
  if (range.settledBefore > range.fullDaysEnd) windows.push({ start: range.fullDaysEnd, end: range.settledBefore });
  return windows;
}
