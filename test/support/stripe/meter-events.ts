/**
 * Meter events (POST /v1/billing/meter_events, docs.stripe.com/api/billing/meter-event/create): a meter event
 * identifier already accepted is refused with "An event already exists with identifier …"; an unknown customer or
 * API key is refused; faults can be scripted per request (`script`, `faultFor`). Only meter-event requests consume
 * those faults. After the 401 check and before the customer check: a restricted key without `meter_events` gets
 * 403, and a request without `event_name` or `payload` gets 400 "Missing required param: …".
 */
import type { ServerResponse } from 'node:http';
import { invalidKeyBody, permissionError, unknownKey } from './account-keys';
import type { AcceptedMeterEvent, Fake, RequestLogEntry } from './types';
import { json, missingParam } from './wire';

/** The meter-event handler of one stub: answers `res` itself (a hang leaves it unanswered). */
export function meterEventHandler({ stub }: Fake) {
  /** identifier → attempts seen, for `faultFor`. */
  const seen = new Map<string, number>();
  return async function meterEvent(body: URLSearchParams, apiKey: string, res: ServerResponse, log: RequestLogEntry): Promise<void> {
    const identifier = body.get('identifier') ?? '';
    const attempt = (seen.get(identifier) ?? 0) + 1;
    seen.set(identifier, attempt);
    const fault = stub.script.shift() ?? stub.faultFor?.({ identifier, attempt }) ?? 'ok';
    const record = (status: number) => stub.requests.push({ identifier, status });
    const answer = (status: number, payload: unknown) => {
      log.status = status;
      json(res, status, payload);
    };

    if (fault === 'hang') return void record(0);
    if (typeof fault === 'object') await new Promise((resolve) => setTimeout(resolve, fault.slowMs));
    if (typeof fault === 'number') {
      record(fault);
      const type = fault === 429 ? 'invalid_request_error' : 'api_error';
      return answer(fault, { error: { type, code: fault === 429 ? 'rate_limit' : undefined, message: `Simulated ${fault}.` } });
    }
    if (unknownKey(stub, apiKey)) {
      record(401);
      return answer(401, invalidKeyBody(apiKey));
    }
    const forbidden = permissionError(stub, apiKey, 'meter_events', 'write');
    if (forbidden) {
      record(403);
      return answer(403, { error: forbidden.error });
    }
    // docs.stripe.com/api/billing/meter-event/create: event_name and payload are required.
    for (const param of ['event_name', 'payload']) {
      if (![...body.keys()].some((k) => k === param || k.startsWith(`${param}[`))) {
        record(400);
        return answer(400, { error: missingParam(param).error });
      }
    }
    const customer = body.get('payload[stripe_customer_id]') ?? '';
    if (stub.customers.size > 0 && !stub.customers.has(customer)) {
      record(400);
      return answer(400, {
        error: { type: 'invalid_request_error', code: 'resource_missing', param: 'payload[stripe_customer_id]', message: `No such customer: '${customer}'` },
      });
    }
    if (stub.events.some((e) => e.identifier === identifier)) {
      record(400);
      return answer(400, { error: { type: 'invalid_request_error', message: `An event already exists with identifier ${identifier}.` } });
    }
    const event: AcceptedMeterEvent = {
      eventName: body.get('event_name') ?? '',
      customer,
      value: body.get('payload[value]') ?? '',
      identifier,
      timestamp: Number(body.get('timestamp')),
      apiKey,
      receivedAt: Date.now(),
    };
    stub.events.push(event);
    if (fault === 'accept-then-hang') return void record(0);
    record(200);
    answer(200, {
      object: 'billing.meter_event',
      created: Math.floor(Date.now() / 1000),
      event_name: event.eventName,
      identifier,
      livemode: false,
      payload: { stripe_customer_id: customer, value: event.value },
      timestamp: event.timestamp,
    });
  };
}
