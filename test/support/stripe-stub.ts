/**
 * A local Stripe double (stripe-mock is a Go binary, not on npm). It speaks Stripe's wire format — form-encoded
 * requests with bracket keys (`items[0][price]=…`), JSON objects with `id`, `object` and `livemode: false`, lists
 * `{ object: 'list', data, has_more, url }`, errors `{ error: { type, code?, message, param? } }` — and keeps an
 * in-memory fake of the part of the API Meterbridge uses. This file is the entry point: it composes one file per
 * resource family from test/support/stripe/ (each commenting the Stripe doc it follows) behind one HTTP server.
 *
 * - stripe/account-keys.ts: API keys (401), restricted keys (403 naming the permission), GET /v1/account
 * - stripe/meter-events.ts: POST /v1/billing/meter_events — shape checked at once, rate limited (429), identifiers
 *   deduplicated for 24 h on the stub's `clock`, content validated asynchronously; scripted faults (`script`, `faultFor`)
 * - stripe/event-destinations.ts: v2 event destinations, GET /v2/core/events/:id, and the signed thin error reports
 *   (`v1.billing.meter.error_report_triggered`, `v1.billing.meter.no_meter_found`) sent to them
 * - stripe/meter-summaries.ts (added by the tests that need it through `extensions`): meter event summaries with a
 *   processing delay, meter-event cancellations, and drift to inject
 * - stripe/coupons.ts: coupons (create with Stripe's refusals, archive = delete) and the discounts they give
 * - stripe/one-time-invoices.ts: one-off invoices (draft → items → finalize → pay or send; declines; void)
 * - stripe/payment-intents.ts: the PaymentIntent of every card charge (invoices paid, Checkout payment mode) and refunds
 * - stripe/credit-grants.ts and credit-balance.ts: billing credit grants, the credit balance summary, and credits
 *   applied to metered lines (shown in invoice-preview.ts's `total_pretax_credit_amounts`)
 * - stripe/customers.ts, catalog.ts (products, prices), meters.ts, subscriptions.ts, subscription-schedules.ts,
 *   tax-settings.ts, invoices-coupons.ts (with invoice-preview.ts), webhook-endpoints.ts: the in-memory fake
 * - stripe/checkout-setup.ts (Checkout in setup and payment mode, SetupIntents, PaymentMethods; `completeCheckoutSession` plays
 *   the client on the hosted page) and billing-portal.ts (Customer Portal configurations and sessions)
 * - stripe/wire.ts: form parsing, errors, pagination, metadata (v2 paths take JSON bodies instead)
 * - stripe/latency.ts: a per-call latency (`latencyMs`) and the requests in flight at once (`peakInFlight`)
 *
 * Cross-cutting behaviour, handled here, as Stripe documents it:
 * - Idempotency (docs.stripe.com/api/idempotent_requests): a POST whose `Idempotency-Key` was seen on the same
 *   method and path gets the first response again (header `idempotent-replayed: true`); with other parameters it
 *   gets 400 `idempotency_error`. Only 2xx answers are stored (Stripe stores any result once an endpoint has begun
 *   executing, but not a request that failed validation). Meter events are not subject to this.
 * - Unknown parameters get 400 "Received unknown parameter: …" (docs.stripe.com/api/errors), so a typo in a
 *   wrapper fails in tests.
 * - Pagination (docs.stripe.com/api/pagination): `limit` (1–100, default 10), `starting_after`, newest first.
 * Messages marked "approximate" in the resource files are the stub's own wording, not Stripe's.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { accountRoutes, defaultAccount, invalidKeyBody, permissionError, unknownKey } from './stripe/account-keys';
import { billingPortalRoutes } from './stripe/billing-portal';
import { catalogRoutes } from './stripe/catalog';
import { connectDouble, type ConnectControl } from './stripe/connect-oauth';
import { checkoutSetupRoutes } from './stripe/checkout-setup';
import { couponRoutes } from './stripe/coupons';
import { creditBalanceRoutes } from './stripe/credit-balance';
import { creditGrantRoutes } from './stripe/credit-grants';
import { customerRoutes } from './stripe/customers';
import { eventDestinationRoutes } from './stripe/event-destinations';
import { invoiceAndCouponRoutes } from './stripe/invoices-coupons';
import { holdRequest } from './stripe/latency';
import { meterEventHandler } from './stripe/meter-events';
import { meterRoutes } from './stripe/meters';
import { oneTimeInvoiceRoutes } from './stripe/one-time-invoices';
import { paymentIntentRoutes } from './stripe/payment-intents';
import { subscriptionScheduleRoutes } from './stripe/subscription-schedules';
import { subscriptionRoutes } from './stripe/subscriptions';
import { defaultTaxSettings, taxSettingsRoutes } from './stripe/tax-settings';
import type { Fake, RequestLogEntry, Route, StripeFakeState, StripeJson, StripeStub } from './stripe/types';
import { webhookEndpointRoutes } from './stripe/webhook-endpoints';
import { arr, invalid, json, jsonParams, newId, now, parseForm, readBody, StripeFakeError } from './stripe/wire';

export type { AcceptedMeterEvent, ApiFault, Fault, RequestLogEntry, StripeFakeState, StripeJson, StripeStub } from './stripe/types';
export { parseForm, type FormObject, type FormValue } from './stripe/wire';

/**
 * Starts the stub on 127.0.0.1 at a free port. Requests to `/oauth/*` (Stripe's connect.stripe.com, which stripe-node
 * sends to the same host when `host` is overridden) and requests with a `Stripe-Account` header (a Connect platform
 * acting on a connected account) go to stripe/connect-oauth.ts; every other request acts on `stub` itself.
 */
export async function startStripeStub(): Promise<StripeStub> {
  const sockets = new Set<Socket>();
  const main = createAccountDouble();
  const stub = main.stub;
  const connect = connectDouble(stub, createAccountDouble);
  stub.connect = connect.control;
  stub.close = () =>
    new Promise((resolve) => {
      for (const socket of sockets) socket.destroy();
      server.close(() => resolve());
    });
  const server = createServer(async (req, res) => {
    const raw = await readBody(req);
    const url = new URL(req.url ?? '/', 'http://stripe-stub.invalid');
    const apiKey = (req.headers.authorization ?? '').replace(/^Bearer /, '');
    const account = typeof req.headers['stripe-account'] === 'string' ? req.headers['stripe-account'] : null;
    await holdRequest(stub, `${req.method ?? 'GET'} ${url.pathname}`, res);
    if (url.pathname.startsWith('/oauth/')) return connect.oauth(req.method ?? 'GET', url.pathname, raw, apiKey, res);
    if (!account) return main.serve(req, res, raw);
    const connected = connect.accountFor(apiKey, account, res);
    if (!connected) {
      stub.requestLog.push({ method: req.method ?? 'GET', path: url.pathname, apiKey, status: res.statusCode, params: {}, idempotencyKey: null, stripeAccount: account });
      return;
    }
    connected.serve(req, res, raw, account);
    // The platform's log shows every request it made, with the account it acted on (the same entry object).
    stub.requestLog.push(connected.stub.requestLog.at(-1)!);
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  stub.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return stub;
}

/** One Stripe account's double: its objects, meter events and logs, and the handler of its requests. */
export interface AccountDouble {
  stub: StripeStub;
  serve(req: IncomingMessage, res: ServerResponse, raw: string, stripeAccount?: string): void;
}

/** A fresh account double (no server): `startStripeStub`'s own account, or a connected account of the platform. */
function createAccountDouble(): AccountDouble {
  /** `${method} ${path} ${idempotencyKey}` → the first answer and the body it answered. */
  const idempotent = new Map<string, { raw: string; status: number; body: unknown }>();
  const state: StripeFakeState = {
    customers: new Map(),
    products: new Map(),
    prices: new Map(),
    meters: new Map(),
    subscriptions: new Map(),
    invoices: new Map(),
    webhookEndpoints: new Map(),
    coupons: new Map(),
    eventDestinations: new Map(),
    v2Events: new Map(),
    subscriptionSchedules: new Map(),
    checkoutSessions: new Map(),
    setupIntents: new Map(),
    paymentMethods: new Map(),
    portalConfigurations: new Map(),
    portalSessions: new Map(),
    creditGrants: new Map(),
    creditBalanceTransactions: new Map(),
    paymentIntents: new Map(),
    refunds: new Map(),
  };
  let clockOffsetMs = 0;
  const stub: StripeStub = {
    url: '',
    events: [],
    rejectedEvents: [],
    requests: [],
    clock: {
      nowMs: () => Date.now() + clockOffsetMs,
      advance: (seconds: number) => void (clockOffsetMs += seconds * 1000),
    },
    meterEventsPerSecond: 25,
    errorReportDelayMs: 100,
    sampleErrors: 20,
    flushErrorReports: () => errorReports.flush(),
    deliveries: [],
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
    close: async () => undefined, // the server is startStripeStub's
    connect: undefined as unknown as ConnectControl, // set by startStripeStub on the platform's own account
    keyPermissions: new Map(),
    extensions: [],
    account: defaultAccount(),
    taxSettings: defaultTaxSettings(),
    startSubscriptionSchedule: () => {
      throw new Error('set by subscriptionScheduleRoutes');
    },
    state,
    requestLog: [],
    apiFaults: [],
    latencyMs: 0, inFlight: new Map(), peakInFlight: new Map(), // stripe/latency.ts
    seedCoupon(coupon) {
      const created: StripeJson = {
        object: 'coupon',
        amount_off: null,
        created: now(),
        currency: null,
        duration: 'forever',
        duration_in_months: null,
        livemode: false,
        max_redemptions: null,
        metadata: {},
        name: null,
        percent_off: null,
        redeem_by: null,
        times_redeemed: 0,
        valid: true,
        ...coupon,
      };
      state.coupons.set(created.id, created);
      return created;
    },
    seedInvoice(invoice) {
      const created: StripeJson = {
        id: newId('in'),
        object: 'invoice',
        amount_due: 0,
        amount_paid: 0,
        amount_remaining: 0,
        created: now(),
        currency: 'usd',
        livemode: false,
        metadata: {},
        parent: null,
        status: 'draft',
        total: 0,
        ...invoice,
      };
      state.invoices.set(created.id, created);
      return created;
    },
    completeCheckoutSession: () => {
      throw new Error('set by checkoutSetupRoutes');
    },
    resetState() {
      for (const map of Object.values(state)) (map as Map<string, StripeJson>).clear();
      stub.requestLog.length = 0;
      stub.apiFaults.length = 0;
      stub.taxSettings = defaultTaxSettings();
      idempotent.clear();
    },
  };

  const fake: Fake = { stub, state };
  const errorReports = eventDestinationRoutes(fake);
  const meterEvent = meterEventHandler(fake, errorReports.report);
  const checkout = checkoutSetupRoutes(fake);
  stub.completeCheckoutSession = checkout.completeCheckoutSession;
  const routes: Route[] = [
    ...accountRoutes(fake),
    ...customerRoutes(fake),
    ...catalogRoutes(fake),
    ...meterRoutes(fake),
    ...subscriptionRoutes(fake),
    ...subscriptionScheduleRoutes(fake),
    ...taxSettingsRoutes(fake),
    ...invoiceAndCouponRoutes(fake),
    ...checkout.routes,
    ...billingPortalRoutes(fake),
    ...couponRoutes(fake),
    ...oneTimeInvoiceRoutes(fake),
    ...creditGrantRoutes(fake),
    ...creditBalanceRoutes(fake),
    ...paymentIntentRoutes(fake),
    ...webhookEndpointRoutes(fake),
    ...errorReports.routes,
  ];

  function api(method: string, path: string, raw: string, apiKey: string, idempotencyKey: string | null, log: RequestLogEntry, res: ServerResponse): void {
    const answer = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      log.status = status;
      json(res, status, body, headers);
    };
    let route: Route | undefined;
    let id = '';
    for (const candidate of routes) {
      const match = candidate.method === method ? candidate.pattern.exec(path) : null;
      if (match) {
        route = candidate;
        id = decodeURIComponent(match[1] ?? '');
        break;
      }
    }
    if (!route) {
      return answer(404, { error: { type: 'invalid_request_error', message: `Unrecognized request URL (${method}: ${path}).` } });
    }
    const found = route;
    if (unknownKey(stub, apiKey)) return answer(401, invalidKeyBody(apiKey));
    const forbidden = permissionError(stub, apiKey, route.resource, route.access);
    if (forbidden) return answer(forbidden.status, { error: forbidden.error });
    const faultAt = stub.apiFaults.findIndex((f) => (f.method ?? method) === method && (typeof f.path === 'string' ? f.path === path : f.path.test(path)));
    const [fault] = faultAt >= 0 ? stub.apiFaults.splice(faultAt, 1) : [];
    const faultBody = fault && {
      error: { type: fault.error?.type ?? (fault.status >= 500 ? 'api_error' : 'invalid_request_error'), code: fault.error?.code, message: fault.error?.message ?? `Simulated ${fault.status}.` },
    };
    if (fault && !fault.afterExecuting) return answer(fault.status, faultBody);
    const storeKey = method === 'POST' && idempotencyKey ? `${method} ${path} ${idempotencyKey}` : null;
    const stored = storeKey ? idempotent.get(storeKey) : undefined;
    if (stored) {
      if (stored.raw !== raw) {
        return answer(400, {
          error: {
            type: 'idempotency_error',
            message: `Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '${idempotencyKey}' if you meant to execute a different request.`,
          },
        });
      }
      return answer(stored.status, stored.body, { 'idempotent-replayed': 'true' });
    }
    try {
      const unknown = Object.keys(log.params).find((k) => k !== 'expand' && !found.accepts.includes(k));
      if (unknown) throw invalid(`Received unknown parameter: ${unknown}`, unknown, 'parameter_unknown');
      const expand = (arr(log.params.expand) ?? []).map(String);
      const result = found.handle({ params: log.params, expand }, id);
      const status = result.status ?? 200;
      // Serialise now: later changes to the fake must not alter a stored answer.
      const body = JSON.parse(JSON.stringify(result.body)) as unknown;
      if (storeKey) idempotent.set(storeKey, { raw, status, body });
      if (fault) return answer(fault.status, faultBody); // executed, but the answer is lost on the way
      answer(status, body);
    } catch (err) {
      if (err instanceof StripeFakeError) return answer(err.status, { error: err.error });
      answer(500, { error: { type: 'api_error', message: `Stub failure: ${(err as Error).message}` } });
    }
  }

  const serve = (req: IncomingMessage, res: ServerResponse, raw: string, stripeAccount?: string) => {
    const url = new URL(req.url ?? '/', 'http://stripe-stub.invalid');
    const method = req.method ?? 'GET';
    const apiKey = (req.headers.authorization ?? '').replace(/^Bearer /, '');
    const idempotencyKey = typeof req.headers['idempotency-key'] === 'string' ? req.headers['idempotency-key'] : null;
    // v2 endpoints take JSON bodies (stripe-node sends application/json in v2 mode); v1 takes form encoding.
    const v2Json = url.pathname.startsWith('/v2/') && method === 'POST';
    const params = v2Json ? jsonParams(raw) : parseForm(method === 'GET' || method === 'DELETE' ? url.search.slice(1) : raw);
    const log: RequestLogEntry = { method, path: url.pathname, apiKey, status: 0, params, idempotencyKey, stripeAccount: stripeAccount ?? null };
    stub.requestLog.push(log);
    if (method === 'POST' && url.pathname === '/v1/billing/meter_events') return meterEvent(new URLSearchParams(raw), apiKey, res, log);
    const extended = unknownKey(stub, apiKey) ? undefined : stub.extensions.map((handle) => handle({ method, path: url.pathname, params, apiKey })).find(Boolean);
    if (extended) return void ((log.status = extended.status), json(res, extended.status, extended.body));
    api(method, url.pathname, raw, apiKey, idempotencyKey, log, res);
  };
  return { stub, serve };
}
