/**
 * Stripe's side of reconciliation, on the agency's own account: which meter an event name feeds, the meter's totals
 * for a customer per window, and cancelling a meter event by identifier.
 */
import type Stripe from 'stripe';
import { DAY_SECONDS, type ComparisonRange } from './windows';

/**
 * The meter of each event name: an active meter first (Stripe allows one active meter per event name and routes
 * events to it), else the most recently created inactive one (docs.stripe.com/api/billing/meter/list; every status
 * listed, auto-paginated).
 */
export async function findMeterIds(stripe: Stripe, eventNames: Iterable<string>): Promise<Map<string, string>> {
  const wanted = new Set(eventNames);
  const found = new Map<string, { id: string; active: boolean; created: number }>();
  if (wanted.size === 0) return new Map();
  for await (const meter of stripe.billing.meters.list({ limit: 100 })) {
    if (!wanted.has(meter.event_name)) continue;
    const current = found.get(meter.event_name);
    const candidate = { id: meter.id, active: meter.status === 'active', created: meter.created };
    if (!current || (candidate.active && !current.active) || (candidate.active === current.active && candidate.created > current.created)) {
      found.set(meter.event_name, candidate);
    }
  }
  return new Map([...found].map(([name, m]) => [name, m.id]));
}

/**
 * Stripe's total for `customer` on meter `meterId` per window of `range`, keyed by window start (Unix seconds):
 * whole UTC days in one listing with `value_grouping_window=day` (start and end on UTC day boundaries), then the
 * settled part of the current day without grouping (minute-aligned), per stripe/openapi spec3
 * GetBillingMetersIdEventSummaries. Every page is read (auto-pagination, limit 100). Days Stripe does not list
 * count as 0.
 * @throws the stripe-node error when Stripe refuses or cannot be reached.
 */
export async function eventSummaries(stripe: Stripe, meterId: string, customer: string, range: ComparisonRange): Promise<Map<number, number>> {
  const totals = new Map<number, number>();
  const add = (start: number, value: number) => totals.set(start, (totals.get(start) ?? 0) + value);
  if (range.fullDaysEnd > range.from) {
    const days = stripe.billing.meters.listEventSummaries(meterId, {
      customer,
      start_time: range.from,
      end_time: range.fullDaysEnd,
      value_grouping_window: 'day',
      limit: 100,
    });
    for await (const summary of days) add(Math.floor(summary.start_time / DAY_SECONDS) * DAY_SECONDS, summary.aggregated_value);
  }
  if (range.settledBefore > range.fullDaysEnd) {
    const today = stripe.billing.meters.listEventSummaries(meterId, { customer, start_time: range.fullDaysEnd, end_time: range.settledBefore, limit: 100 });
    for await (const summary of today) add(range.fullDaysEnd, summary.aggregated_value);
  }
  return totals;
}

/**
 * Asks Stripe to cancel the meter event `identifier` of `eventName` (POST /v1/billing/meter_event_adjustments,
 * `type: 'cancel'`, `cancel.identifier`; stripe/openapi spec3 PostBillingMeterEventAdjustments: only within 24 hours
 * of Stripe receiving the event). The idempotency key makes a retried request one cancellation.
 * @throws the stripe-node error (Stripe's message) when refused.
 */
export async function cancelMeterEvent(stripe: Stripe, eventName: string, identifier: string): Promise<void> {
  await stripe.billing.meterEventAdjustments.create(
    { event_name: eventName, type: 'cancel', cancel: { identifier } },
    { idempotencyKey: `meterbridge-cancel-${identifier}` },
  );
}
