/**
 * Meter events (POST /v1/billing/meter_events) as Stripe documents them
 * (docs.stripe.com/api/billing/meter-event/create, docs.stripe.com/billing/subscriptions/usage-based/recording-usage-api):
 * - validated for SHAPE synchronously: an unknown API key gets 401, a restricted key without `meter_events` 403, a
 *   request without `event_name` or `payload` 400 "Missing required param: …";
 * - rate limited: meter events in test mode and sandboxes count against the basic limit (`meterEventsPerSecond`,
 *   25/s by default; docs.stripe.com/rate-limits), and only one call at a time per (customer, meter) — both 429
 *   `rate_limit` (messages approximate);
 * - `identifier` is unique "within a rolling period of at least 24 hours": one seen within 24 h on the stub's clock
 *   is refused with 400 "An event already exists with identifier …" and `stripe-should-retry: false` — Stripe does
 *   not document this answer; it is the one reported in langfuse/langfuse#16292. Older identifiers are forgotten,
 *   so a resend after the window counts again;
 * - otherwise answered 200 and processed ASYNCHRONOUSLY: a customer that does not exist (or was deleted), no meter
 *   for the event name, an inactive (archived) meter, or a timestamp more than 35 days in the past or more than
 *   5 minutes in the future is not counted; `errorReportDelayMs` later it is reported in a thin event
 *   `v1.billing.meter.error_report_triggered` (meter known) or `v1.billing.meter.no_meter_found`
 *   (stripe/event-destinations.ts). The verdict is taken on the state at receipt; a valid event is counted at once.
 * Scripted faults (`script`, `faultFor`) come first and are consumed by meter-event requests only.
 * Meters: with none created through the fake, every event name has one (as `customers`: empty = all exist), named
 * `mtr_test_implicit_<event name>` in error reports.
 */
import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { invalidKeyBody, permissionError, unknownKey } from './account-keys';
import { activeMeter } from './meters';
import type { AcceptedMeterEvent, Fake, RejectedMeterEvent, RequestLogEntry } from './types';
import { json, missingParam } from './wire';

/** "within a rolling period of at least 24 hours" (docs.stripe.com/api/billing/meter-event/create `identifier`). */
const IDENTIFIER_WINDOW_MS = 24 * 3600 * 1000;
/** "Timestamps must be within the past 35 calendar days" and "no more than 5 minutes in the future" (same page). */
const OLDEST_SECONDS = 35 * 24 * 3600;
const FUTURE_SECONDS = 5 * 60;

/**
 * The meter-event handler of one stub: answers `res` itself (a hang leaves it unanswered).
 * @param report called with each event the asynchronous validation refused (stripe/event-destinations.ts).
 */
export function meterEventHandler({ stub, state }: Fake, report: (rejected: RejectedMeterEvent) => void) {
  /** identifier → attempts seen, for `faultFor`. */
  const seen = new Map<string, number>();
  /** identifier → when (stub clock, ms) Stripe took it. */
  const remembered = new Map<string, number>();
  /** `${apiKey}|${customer}|${eventName}` of calls being processed. */
  const inFlight = new Set<string>();
  /** Per API key, the arrival times (real ms) of the last second's calls. */
  const recent = new Map<string, number[]>();

  /** Over the limit when the last second (sliding) already admitted `meterEventsPerSecond` calls; refused calls do not count. */
  function overRateLimit(apiKey: string): boolean {
    const at = Date.now();
    const calls = (recent.get(apiKey) ?? []).filter((t) => t > at - 1000);
    recent.set(apiKey, calls);
    if (calls.length >= stub.meterEventsPerSecond) return true;
    calls.push(at);
    return false;
  }

  /** Stripe's asynchronous verdict on an accepted event: null when it counts, else the error code and message. */
  function verdict(event: AcceptedMeterEvent): { code: string; message: string; meterId: string | null } | null {
    const anyMeter = [...state.meters.values()].find((m) => m.event_name === event.eventName);
    const meter = state.meters.size === 0 ? null : (activeMeter(state, event.eventName) ?? anyMeter ?? null);
    if (state.meters.size > 0 && !meter) {
      return { code: 'no_meter', message: `No active meter was found for event name '${event.eventName}' (approximate).`, meterId: null };
    }
    // With no meters in the fake every event name has one: an implicit id stands for it in error reports.
    const meterId = meter?.id ?? `mtr_test_implicit_${event.eventName}`;
    if (meter && meter.status !== 'active') return { code: 'archived_meter', message: `The meter ${meter.id} is inactive (approximate).`, meterId };
    const known = stub.customers.size === 0 || stub.customers.has(event.customer);
    if (!known || state.customers.get(event.customer)?.deleted) {
      return { code: 'meter_event_customer_not_found', message: `No customer found with id '${event.customer}' (approximate).`, meterId };
    }
    const nowSeconds = Math.floor(stub.clock.nowMs() / 1000);
    if (event.timestamp < nowSeconds - OLDEST_SECONDS) {
      return { code: 'timestamp_too_far_in_past', message: 'The timestamp is more than 35 days in the past (approximate).', meterId };
    }
    if (event.timestamp > nowSeconds + FUTURE_SECONDS) {
      return { code: 'timestamp_in_future', message: 'The timestamp is more than 5 minutes in the future (approximate).', meterId };
    }
    return null;
  }

  return async function meterEvent(body: URLSearchParams, apiKey: string, res: ServerResponse, log: RequestLogEntry): Promise<void> {
    // "If not provided, one is generated" (docs.stripe.com/api/billing/meter-event/create `identifier`).
    const identifier = body.get('identifier') ?? `mbstub_${randomUUID()}`;
    const attempt = (seen.get(identifier) ?? 0) + 1;
    seen.set(identifier, attempt);
    const fault = stub.script.shift() ?? stub.faultFor?.({ identifier, attempt }) ?? 'ok';
    const record = (status: number) => stub.requests.push({ identifier, status });
    const answer = (status: number, payload: unknown, headers: Record<string, string> = {}) => {
      record(status);
      log.status = status;
      json(res, status, payload, headers);
    };
    const tooMany = (message: string) => answer(429, { error: { type: 'invalid_request_error', code: 'rate_limit', message } });

    if (fault === 'hang') return void record(0);
    if (typeof fault === 'number') {
      const type = fault === 429 ? 'invalid_request_error' : 'api_error';
      return answer(fault, { error: { type, code: fault === 429 ? 'rate_limit' : undefined, message: `Simulated ${fault}.` } });
    }
    if (unknownKey(stub, apiKey)) return answer(401, invalidKeyBody(apiKey));
    const forbidden = permissionError(stub, apiKey, 'meter_events', 'write');
    if (forbidden) return answer(403, { error: forbidden.error });
    for (const param of ['event_name', 'payload']) {
      if (![...body.keys()].some((k) => k === param || k.startsWith(`${param}[`))) return answer(400, { error: missingParam(param).error });
    }
    const customer = body.get('payload[stripe_customer_id]') ?? '';
    const eventName = body.get('event_name') ?? '';
    if (overRateLimit(apiKey)) return tooMany('Request rate limit exceeded. Meter events in test mode count against the basic rate limit (approximate).');
    const pair = `${apiKey}|${customer}|${eventName}`;
    if (inFlight.has(pair)) return tooMany('Only one meter event request at a time is allowed per customer and meter (approximate).');
    inFlight.add(pair);
    try {
      if (typeof fault === 'object') await new Promise((resolve) => setTimeout(resolve, fault.slowMs));
      const nowMs = stub.clock.nowMs();
      for (const [id, at] of remembered) if (at <= nowMs - IDENTIFIER_WINDOW_MS) remembered.delete(id);
      if (remembered.has(identifier)) {
        return answer(400, { error: { type: 'invalid_request_error', message: `An event already exists with identifier ${identifier}.` } }, { 'stripe-should-retry': 'false' });
      }
      remembered.set(identifier, nowMs);
      const timestamp = body.has('timestamp') ? Number(body.get('timestamp')) : Math.floor(nowMs / 1000);
      const event: AcceptedMeterEvent = { eventName, customer, value: body.get('payload[value]') ?? '', identifier, timestamp, apiKey, receivedAt: nowMs };
      const refused = verdict(event);
      if (refused) report({ ...event, ...refused });
      else stub.events.push(event);
      if (fault === 'accept-then-hang') return void record(0);
      answer(200, {
        object: 'billing.meter_event',
        created: Math.floor(nowMs / 1000),
        event_name: eventName,
        identifier,
        livemode: false,
        payload: { stripe_customer_id: customer, value: event.value },
        timestamp,
      });
    } finally {
      inFlight.delete(pair);
    }
  };
}
