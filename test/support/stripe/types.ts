/**
 * The Stripe double's shared types: what tests read (accepted meter events, the fake's state, the request log) and
 * what each resource file declares (routes). See test/support/stripe-stub.ts for the behaviour as a whole.
 */
import type { ConnectControl } from './connect-oauth';
import type { FormObject } from './wire';

/** One meter event Stripe took (answered 200). `value` is the string Stripe received; `timestamp` Unix seconds. */
export interface AcceptedMeterEvent {
  eventName: string;
  customer: string;
  value: string;
  identifier: string;
  timestamp: number;
  apiKey: string;
  /** When the stub accepted it (milliseconds since the epoch). */
  receivedAt: number;
}

/**
 * A meter event answered 200 and then refused by Stripe's asynchronous validation: never counted, reported in a
 * `v1.billing.meter.error_report_triggered` or `v1.billing.meter.no_meter_found` thin event. `code` is one of
 * stripe-node 23.1's `V1BillingMeterErrorReportTriggeredEvent.Data.Reason.ErrorType.Code`.
 */
export interface RejectedMeterEvent extends AcceptedMeterEvent {
  code: string;
  message: string;
  /** The meter it was meant for (none for `no_meter`). */
  meterId: string | null;
}

/** One delivery of a thin event to an event destination: where, which event, and the HTTP status answered. */
export interface EventDelivery {
  url: string;
  eventId: string;
  type: string;
  /** HTTP status of the destination's answer; 0 when it could not be reached. */
  status: number;
}

/**
 * What the stub does with one meter-event request: answer normally, fail with a status, hang without answering
 * (the client times out), accept the event and then hang (Stripe has it, the client never learns), or answer
 * normally after `slowMs` milliseconds.
 */
export type Fault = 'ok' | 500 | 502 | 429 | 409 | 'hang' | 'accept-then-hang' | { slowMs: number };

/**
 * A Stripe object as JSON (snake_case, as on the wire). Amounts are integers in the currency's smallest unit
 * (cents); `*_decimal` fields are decimal strings in cents; times are Unix seconds.
 */
// `any`: a test double whose fields tests read freely.
export type StripeJson = { id: string; object: string; [field: string]: any };

/** The fake's objects by id, in creation order. Tests may read, seed or change them directly. */
export interface StripeFakeState {
  customers: Map<string, StripeJson>;
  products: Map<string, StripeJson>;
  /** Prices as stored: `tiers` always present here (the API omits it unless expanded). */
  prices: Map<string, StripeJson>;
  meters: Map<string, StripeJson>;
  /** Subscriptions as stored; `items.data[].price` is refreshed from `prices` when answered. */
  subscriptions: Map<string, StripeJson>;
  invoices: Map<string, StripeJson>;
  webhookEndpoints: Map<string, StripeJson>;
  coupons: Map<string, StripeJson>;
  /** v2 event destinations as stored (`webhook_endpoint.signing_secret` and `url` kept; redacted when answered). */
  eventDestinations: Map<string, StripeJson>;
  /** v2 events (full, with `data`), as GET /v2/core/events/:id answers them. */
  v2Events: Map<string, StripeJson>;
  /** Checkout Sessions (setup mode), SetupIntents and PaymentMethods (checkout-setup.ts). */
  checkoutSessions: Map<string, StripeJson>;
  setupIntents: Map<string, StripeJson>;
  paymentMethods: Map<string, StripeJson>;
  /** Customer Portal configurations and sessions (billing-portal.ts). */
  portalConfigurations: Map<string, StripeJson>;
  portalSessions: Map<string, StripeJson>;
  /** Billing credit grants (credit-grants.ts). */
  creditGrants: Map<string, StripeJson>;
  /** Credit balance transactions (debits: credits applied to an invoice), docs.stripe.com/api/billing/credit-balance-transaction. */
  creditBalanceTransactions: Map<string, StripeJson>;
  /** PaymentIntents of cards charged (invoice payments, Checkout in payment mode) and their refunds (payment-intents.ts). */
  paymentIntents: Map<string, StripeJson>;
  refunds: Map<string, StripeJson>;
}

/** One HTTP request the stub received (every endpoint). Holds the API key: assert on it, never print it. */
export interface RequestLogEntry {
  method: string;
  /** Path without the query string, e.g. `/v1/subscriptions/sub_123`. */
  path: string;
  apiKey: string;
  /** HTTP status answered; 0 while unanswered or for a hang. */
  status: number;
  /** Parsed form body (POST) or query (GET/DELETE), bracket keys nested, e.g. `{ items: [{ price: 'price_1' }] }`. */
  params: FormObject;
  idempotencyKey: string | null;
  /** The `Stripe-Account` header (a Connect platform acting on a connected account), or null. */
  stripeAccount: string | null;
}

/** A scripted failure for a non-meter-event request: the first entry matching method and path is used once. */
export interface ApiFault {
  method?: string;
  path: string | RegExp;
  status: number;
  error?: { type?: string; code?: string; message?: string };
  /** The request is carried out (and its answer stored under its idempotency key), then the fault is answered: Stripe's answer lost on the way. */
  afterExecuting?: boolean;
}

/**
 * The running stub: its base URL (point STRIPE_API_URL or `createStripeClientFactory({ apiUrl })` at it), the
 * meter-event record (counted, refused, every request), its clock, limits and fault script, the thin-event deliveries,
 * and the fake's state, grants and request log.
 */
export interface StripeStub {
  url: string;
  /**
   * Events Stripe counted, in order. An identifier appears once while it is remembered (24 h on `clock`); a resend
   * after that window counts again, as real Stripe may (docs.stripe.com/api/billing/meter-event/create `identifier`).
   */
  events: AcceptedMeterEvent[];
  /** Events answered 200 and refused later by the asynchronous validation (never counted). */
  rejectedEvents: RejectedMeterEvent[];
  /**
   * The stub's clock for meter events (identifier window, timestamp window): real time plus `advance`d seconds.
   * Error-report delays and signatures use real time.
   */
  clock: { nowMs(): number; advance(seconds: number): void };
  /**
   * Meter-event calls per second per API key before a 429 `rate_limit`: 25 by default, the basic limit test-mode
   * and sandbox meter events count against (docs.stripe.com/rate-limits); live mode allows 1,000.
   */
  meterEventsPerSecond: number;
  /** Milliseconds between a refused event and its error report's delivery (Stripe aggregates them). */
  errorReportDelayMs: number;
  /** Sample errors per error code in one report (20 by default): Stripe's `sample_errors` is a sample. */
  sampleErrors: number;
  /** Sends an error report now for every refused event not yet reported. */
  flushErrorReports(): Promise<void>;
  /** Every thin-event delivery attempted, in order. */
  deliveries: EventDelivery[];
  /**
   * How a thin event reaches a destination URL; default an HTTP POST. Tests whose app is not listening route it
   * into supertest here. Resolves with the HTTP status.
   */
  deliver?: (url: string, body: string, headers: Record<string, string>) => Promise<number>;
  /** Every meter-event request: its identifier and the HTTP status answered (0 for a hang). */
  requests: Array<{ identifier: string; status: number }>;
  /**
   * Customers that exist for meter events; empty means every customer exists. Customers created through the fake
   * (POST /v1/customers) join it, so once one is created, meter events for unknown customers are refused — after
   * the 200, by an error report, as Stripe does. A customer deleted through the fake is unknown too.
   */
  customers: Set<string>;
  /** API keys that exist; empty means every key is valid. */
  apiKeys: Set<string>;
  /** Faults for the next requests, consumed in order; when empty, `faultFor` decides, else 'ok'. */
  script: Fault[];
  faultFor?: (request: { identifier: string; attempt: number }) => Fault;
  /** Sum of accepted values per "customer|eventName". */
  totals(): Map<string, number>;
  close(): Promise<void>;

  /** Restricted keys: API key → granted resources (see the module comment). Keys without an entry may do anything. */
  keyPermissions: Map<string, Set<string>>;
  /** The account every key belongs to, as GET /v1/account answers it (docs.stripe.com/api/accounts/object). */
  account: StripeJson;
  /** The in-memory objects. */
  state: StripeFakeState;
  /** Every request, in arrival order. */
  requestLog: RequestLogEntry[];
  /** Scripted failures for the fake's endpoints (not meter events), each used once. */
  apiFaults: ApiFault[];
  /** Milliseconds every request is held before it is answered (0 by default; latency.ts). */
  latencyMs: number;
  /** Requests held or being handled now, per `METHOD /path`, and all together under `'*'` (latency.ts `ALL_REQUESTS`). */
  inFlight: Map<string, number>;
  /** The most requests in flight at once, per `METHOD /path` and under `'*'`, since the map was last cleared (latency.ts). */
  peakInFlight: Map<string, number>;
  /** Adds a coupon (docs.stripe.com/api/coupons/object); defaults: duration 'forever', valid. Returns it. */
  seedCoupon(coupon: Partial<StripeJson> & { id: string }): StripeJson;
  /** Adds an invoice (docs.stripe.com/api/invoices/object) for invoices.list; `id` generated when absent. */
  seedInvoice(invoice: Partial<StripeJson> & { customer: string }): StripeJson;
  /**
   * What the client does on Stripe's hosted setup page: a card PaymentMethod is made and attached to the session's
   * customer, a succeeded SetupIntent holds it, and the session becomes `complete` (checkout-setup.ts). Returns the
   * session as the `checkout.session.completed` event carries it. Stripe does NOT make the card the customer's
   * default: that is the integration's job. A session in payment mode is paid instead: a succeeded PaymentIntent
   * of its `amount_total` (payment-intents.ts), `payment_status: 'paid'`.
   */
  completeCheckoutSession(sessionId: string, card?: Partial<{ brand: string; last4: string; exp_month: number; exp_year: number }>): StripeJson;
  /** Empties `state`, `requestLog`, the idempotency store and `apiFaults` (meter-event fields are untouched). */
  resetState(): void;
  /**
   * Endpoints added by a test (e.g. meter-summaries.ts): each is asked first and answers by returning
   * `{ status, body }`, or passes with undefined. Called after the API-key check.
   */
  /** Stripe Connect: the platform's OAuth endpoints and its connected accounts (stripe/connect-oauth.ts). */
  connect: ConnectControl;
  extensions: Array<(request: { method: string; path: string; params: FormObject; apiKey: string }) => { status: number; body: unknown } | undefined>;
}

/** Stripe's restricted-key resources (docs.stripe.com/keys/restricted-api-keys) and the access a route needs. */
export type Resource =
  | 'account'
  | 'customers'
  | 'products'
  | 'prices'
  | 'subscriptions'
  | 'billing_meters'
  | 'meter_events'
  | 'invoices'
  | 'webhook_endpoints'
  | 'coupons'
  | 'event_destinations'
  | 'checkout_sessions'
  | 'setup_intents'
  | 'payment_methods'
  | 'billing_portal'
  | 'billing_credits'
  | 'payment_intents'
  | 'refunds';
/** Read or write access to a resource. */
export type Access = 'read' | 'write';

/** What a route handler receives: the parsed parameters and the `expand[]` list. */
export interface Ctx {
  params: FormObject;
  expand: string[];
}

/** One endpoint of the fake: matched by method and path pattern (group 1 = the object id), guarded by a grant. */
export interface Route {
  method: 'GET' | 'POST' | 'DELETE';
  pattern: RegExp;
  resource: Resource;
  access: Access;
  /** Top-level parameters accepted besides `expand`. */
  accepts: string[];
  handle(ctx: Ctx, id: string): { status?: number; body: unknown };
}

/** What every resource file is built from: the running stub (grants, account, meter-event record) and its state. */
export interface Fake {
  stub: StripeStub;
  state: StripeFakeState;
}
