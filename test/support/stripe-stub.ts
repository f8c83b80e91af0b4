/**
 * A local Stripe double for the meter-event API (stripe-mock is a Go binary, not on npm). It speaks Stripe's wire
 * format — form-encoded requests, JSON errors `{ error: { type, code, message } }` — and behaves like Stripe
 * where it matters here: a meter event identifier already accepted is refused with "An event already exists with
 * identifier …"; an unknown customer or API key is refused; faults can be scripted per request.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** One accepted meter event. `value` is the string Stripe received. */
export interface AcceptedMeterEvent {
  eventName: string;
  customer: string;
  value: string;
  identifier: string;
  timestamp: number;
  apiKey: string;
}

/**
 * What the stub does with one meter-event request: answer normally, fail with a status, hang without answering
 * (the client times out), accept the event and then hang (Stripe has it, the client never learns), or answer
 * normally after `slowMs` milliseconds.
 */
export type Fault = 'ok' | 500 | 502 | 429 | 409 | 'hang' | 'accept-then-hang' | { slowMs: number };

export interface StripeStub {
  url: string;
  /** Accepted events, in order, each identifier once. */
  events: AcceptedMeterEvent[];
  /** Every meter-event request: its identifier and the HTTP status answered (0 for a hang). */
  requests: Array<{ identifier: string; status: number }>;
  /** Customers that exist; empty means every customer exists. */
  customers: Set<string>;
  /** API keys that exist; empty means every key is valid. */
  apiKeys: Set<string>;
  /** Faults for the next requests, consumed in order; when empty, `faultFor` decides, else 'ok'. */
  script: Fault[];
  faultFor?: (request: { identifier: string; attempt: number }) => Fault;
  /** Sum of accepted values per "customer|eventName". */
  totals(): Map<string, number>;
  close(): Promise<void>;
}

/** Starts the stub on 127.0.0.1 at a free port. */
export async function startStripeStub(): Promise<StripeStub> {
  const sockets = new Set<Socket>();
  const seen = new Map<string, number>();
  const stub: StripeStub = {
    url: '',
    events: [],
    requests: [],
    customers: new Set(),
    apiKeys: new Set(),
    script: [],
    totals() {
      const totals = new Map<string, number>();
      for (const e of stub.events) {
        const key = `${e.customer}|${e.eventName}`;
        totals.set(key, (totals.get(key) ?? 0) + Number(e.value));
      }
      return totals;
    },
    close: () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };

  const server = createServer(async (req, res) => {
    const body = new URLSearchParams(await readBody(req));
    if (req.method !== 'POST' || req.url?.split('?')[0] !== '/v1/billing/meter_events') {
      return json(res, 404, { error: { type: 'invalid_request_error', message: `Unrecognized request URL (${req.method}: ${req.url}).` } });
    }
    const apiKey = (req.headers.authorization ?? '').replace(/^Bearer /, '');
    const identifier = body.get('identifier') ?? '';
    const attempt = (seen.get(identifier) ?? 0) + 1;
    seen.set(identifier, attempt);
    const fault = stub.script.shift() ?? stub.faultFor?.({ identifier, attempt }) ?? 'ok';
    const record = (status: number) => stub.requests.push({ identifier, status });

    if (fault === 'hang') return record(0);
    if (typeof fault === 'object') await new Promise((resolve) => setTimeout(resolve, fault.slowMs));
    if (typeof fault === 'number') {
      record(fault);
      const type = fault === 429 ? 'invalid_request_error' : 'api_error';
      return json(res, fault, { error: { type, code: fault === 429 ? 'rate_limit' : undefined, message: `Simulated ${fault}.` } });
    }
    if (stub.apiKeys.size > 0 && !stub.apiKeys.has(apiKey)) {
      record(401);
      return json(res, 401, { error: { type: 'invalid_request_error', message: `Invalid API Key provided: ${apiKey.slice(0, 8)}****` } });
    }
    const customer = body.get('payload[stripe_customer_id]') ?? '';
    if (stub.customers.size > 0 && !stub.customers.has(customer)) {
      record(400);
      return json(res, 400, {
        error: { type: 'invalid_request_error', code: 'resource_missing', param: 'payload[stripe_customer_id]', message: `No such customer: '${customer}'` },
      });
    }
    if (stub.events.some((e) => e.identifier === identifier)) {
      record(400);
      return json(res, 400, { error: { type: 'invalid_request_error', message: `An event already exists with identifier ${identifier}.` } });
    }
    const event: AcceptedMeterEvent = {
      eventName: body.get('event_name') ?? '',
      customer,
      value: body.get('payload[value]') ?? '',
      identifier,
      timestamp: Number(body.get('timestamp')),
      apiKey,
    };
    stub.events.push(event);
    if (fault === 'accept-then-hang') return record(0);
    record(200);
    json(res, 200, {
      object: 'billing.meter_event',
      created: Math.floor(Date.now() / 1000),
      event_name: event.eventName,
      identifier,
      livemode: false,
      payload: { stripe_customer_id: customer, value: event.value },
      timestamp: event.timestamp,
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  stub.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return stub;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json', 'request-id': `req_stub_${Date.now()}` });
  res.end(JSON.stringify(body));
}
