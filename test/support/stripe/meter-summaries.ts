/**
 * Stripe's meter totals and meter-event cancellations for the Stripe double (../stripe-stub.ts), plugged in through its
 * `extensions` by the tests that need them:
 * - `GET /v1/billing/meters/:id/event_summaries` (stripe/openapi spec3 GetBillingMetersIdEventSummaries; stripe-node 23
 *   `Billing.MeterListEventSummariesParams`): `customer`, `start_time` (inclusive) and `end_time` (exclusive) required,
 *   both "aligned with minute boundaries"; `value_grouping_window` `hour` or `day` needs hour or UTC-day boundaries and
 *   gives one summary per window, otherwise one summary for the range. `billing.meter_event_summary` objects with
 *   `aggregated_value` (the meter's sum). Summaries "provide an eventually consistent view" (meters aggregate
 *   asynchronously, docs.stripe.com/api/billing/meter-event-summary): an event counts only once it is
 *   `processingDelaySeconds` old. Paginated like any list (`limit` 1–100, default 10, `starting_after`); the order
 *   (oldest window first) is the double's choice.
 * - `POST /v1/billing/meter_event_adjustments` (spec3 PostBillingMeterEventAdjustments): `event_name` and `type`
 *   required, `type` is `cancel`, `cancel[identifier]` names the event; Stripe cancels "only within 24 hours of
 *   Stripe receiving" it. Answered `status: 'pending'`; the cancellation reaches the summaries after the same
 *   processing delay. Refusal messages here are the double's own wording (approximate).
 * Faults to inject drift: `drop` (accepted, never counted), `countTwice` (counted once more, as an identifier resent
 * past Stripe's 24-hour dedupe window is), `addForeignEvent` (someone else reports to the meter).
 */
import type { AcceptedMeterEvent, StripeStub } from './types';
import type { FormObject, FormValue } from './wire';

/** One counted copy of a meter event. Times: `timestamp` Unix seconds, `receivedAt`/`cancelledAt` milliseconds. */
interface Copy {
  identifier: string;
  customer: string;
  eventName: string;
  value: number;
  timestamp: number;
  receivedAt: number;
  cancelledAt?: number;
}

/** The double's totals and the faults tests inject. */
export interface MeterSummaries {
  /** Seconds before an accepted event (or a cancellation) shows in the summaries. */
  processingDelaySeconds: number;
  /** Stripe accepted the event but never counts it. */
  drop(identifier: string): void;
  /** Stripe counts the event once more (received now). */
  countTwice(identifier: string): void;
  /** An event someone other than Meterbridge sent to the meter (received now). */
  addForeignEvent(event: { customer: string; eventName: string; value: number; timestamp: number; identifier?: string }): void;
  /** Every cancellation Stripe accepted, in order. */
  cancellations: Array<{ identifier: string; eventName: string }>;
  /** Sum counted for a customer and event name, processing delay ignored (what Stripe will show once settled). */
  settledTotal(customer: string, eventName: string): number;
}

const str = (v: FormValue | undefined): string | undefined => (typeof v === 'string' ? v : undefined);
const error = (status: number, message: string, param?: string, code?: string) => ({
  status,
  body: { error: { type: 'invalid_request_error', message, ...(param ? { param } : {}), ...(code ? { code } : {}) } },
});
const GROUPING: Record<string, number> = { hour: 3600, day: 86_400 };

/** Adds event summaries and adjustments to `stub`. */
export function withMeterSummaries(stub: StripeStub, options: { processingDelaySeconds?: number } = {}): MeterSummaries {
  const fromStub = new Map<AcceptedMeterEvent, Copy>();
  const dropped = new Set<string>();
  const extra: Copy[] = [];
  const copies = (): Copy[] => {
    const counted: Copy[] = [];
    for (const e of stub.events) {
      if (dropped.has(e.identifier)) continue;
      let copy = fromStub.get(e);
      if (!copy) fromStub.set(e, (copy = { identifier: e.identifier, customer: e.customer, eventName: e.eventName, value: Number(e.value), timestamp: e.timestamp, receivedAt: e.receivedAt }));
      counted.push(copy);
    }
    return [...counted, ...extra];
  };
  const summaries: MeterSummaries = {
    processingDelaySeconds: options.processingDelaySeconds ?? 5,
    drop: (identifier) => void dropped.add(identifier),
    countTwice(identifier) {
      const original = copies().find((c) => c.identifier === identifier);
      if (!original) throw new Error(`no accepted meter event ${identifier}`);
      extra.push({ ...original, receivedAt: stub.clock.nowMs(), cancelledAt: undefined });
    },
    addForeignEvent: (e) => void extra.push({ identifier: e.identifier ?? `foreign_${extra.length}`, ...e, receivedAt: stub.clock.nowMs() }),
    cancellations: [],
    settledTotal: (customer, eventName) =>
      copies().filter((c) => c.customer === customer && c.eventName === eventName && c.cancelledAt === undefined).reduce((sum, c) => sum + c.value, 0),
  };

  /** Counted in a summary answered now: old enough, and not cancelled long enough ago for Stripe to have applied it. */
  const visible = (c: Copy, now: number) => {
    const settled = now - summaries.processingDelaySeconds * 1000;
    return c.receivedAt <= settled && !(c.cancelledAt !== undefined && c.cancelledAt <= settled);
  };

  function eventSummaries(meterId: string, params: FormObject) {
    const meter = stub.state.meters.get(meterId);
    if (!meter) return error(404, `No such billing meter: '${meterId}'`, 'id', 'resource_missing');
    const unknown = Object.keys(params).find((k) => !['customer', 'start_time', 'end_time', 'value_grouping_window', 'limit', 'starting_after', 'ending_before', 'expand'].includes(k));
    if (unknown) return error(400, `Received unknown parameter: ${unknown}`, unknown, 'parameter_unknown');
    for (const param of ['customer', 'start_time', 'end_time']) if (!str(params[param])) return error(400, `Missing required param: ${param}.`, param, 'parameter_missing');
    const start = Number(str(params.start_time));
    const end = Number(str(params.end_time));
    for (const [param, value] of [['start_time', start], ['end_time', end]] as const) {
      if (!Number.isInteger(value) || value % 60 !== 0) return error(400, `${param} must be aligned with minute boundaries.`, param);
    }
    if (end <= start) return error(400, 'end_time must be after start_time.', 'end_time');
    const grouping = str(params.value_grouping_window);
    if (grouping !== undefined && !GROUPING[grouping]) return error(400, `Invalid value_grouping_window: ${grouping}`, 'value_grouping_window');
    const step = grouping ? GROUPING[grouping]! : end - start;
    if (grouping && (start % step !== 0 || end % step !== 0)) {
      return error(400, `start_time and end_time must be aligned with ${grouping === 'day' ? 'UTC day' : 'hour'} boundaries.`, 'start_time');
    }
    const customer = str(params.customer)!;
    const now = stub.clock.nowMs();
    const counted = copies().filter((c) => c.customer === customer && c.eventName === meter.event_name && visible(c, now));
    const windows = [];
    for (let from = start; from < end; from += step) {
      const to = from + step;
      windows.push({
        id: `mtrusg_${meterId}_${from}_${to}`,
        object: 'billing.meter_event_summary',
        aggregated_value: counted.filter((c) => c.timestamp >= from && c.timestamp < to).reduce((sum, c) => sum + c.value, 0),
        end_time: to,
        livemode: false,
        meter: meterId,
        start_time: from,
      });
    }
    const limit = str(params.limit) === undefined ? 10 : Number(str(params.limit));
    if (!Number.isInteger(limit) || limit < 1 || limit > 100) return error(400, 'Invalid integer: limit must be between 1 and 100.', 'limit');
    const after = str(params.starting_after);
    const from = after ? windows.findIndex((w) => w.id === after) + 1 : 0;
    if (after && from === 0) return error(400, `No such object: '${after}'`, 'starting_after', 'resource_missing');
    const data = windows.slice(from, from + limit);
    return { status: 200, body: { object: 'list', data, has_more: from + limit < windows.length, url: `/v1/billing/meters/${meterId}/event_summaries` } };
  }

  function adjustment(params: FormObject) {
    const unknown = Object.keys(params).find((k) => !['event_name', 'type', 'cancel', 'expand'].includes(k));
    if (unknown) return error(400, `Received unknown parameter: ${unknown}`, unknown, 'parameter_unknown');
    const eventName = str(params.event_name);
    if (!eventName) return error(400, 'Missing required param: event_name.', 'event_name', 'parameter_missing');
    const type = str(params.type);
    if (!type) return error(400, 'Missing required param: type.', 'type', 'parameter_missing');
    if (type !== 'cancel') return error(400, `Invalid type: ${type}`, 'type');
    const cancel = params.cancel && typeof params.cancel === 'object' && !Array.isArray(params.cancel) ? params.cancel : undefined;
    const identifier = str(cancel?.identifier);
    if (!identifier) return error(400, 'Missing required param: cancel[identifier].', 'cancel[identifier]', 'parameter_missing');
    const candidates = copies().filter((c) => c.identifier === identifier && c.eventName === eventName && c.cancelledAt === undefined);
    const target = candidates.sort((a, b) => b.receivedAt - a.receivedAt)[0];
    if (!target) return error(400, `No meter event with identifier ${identifier} to cancel.`, 'cancel[identifier]');
    if (stub.clock.nowMs() - target.receivedAt > 24 * 3600 * 1000) return error(400, 'Meter events can only be cancelled within 24 hours of being received.', 'cancel[identifier]');
    target.cancelledAt = stub.clock.nowMs();
    summaries.cancellations.push({ identifier, eventName });
    return { status: 200, body: { object: 'billing.meter_event_adjustment', cancel: { identifier }, event_name: eventName, livemode: false, status: 'pending', type: 'cancel' } };
  }

  stub.extensions.push(({ method, path, params }) => {
    const summariesPath = /^\/v1\/billing\/meters\/([^/]+)\/event_summaries$/.exec(path);
    if (method === 'GET' && summariesPath) return eventSummaries(decodeURIComponent(summariesPath[1]!), params);
    if (method === 'POST' && path === '/v1/billing/meter_event_adjustments') return adjustment(params);
    return undefined;
  });
  return summaries;
}
