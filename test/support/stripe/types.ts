/**
 * The Stripe double's shared types: what tests read (accepted meter events, the fake's state, the request log) and
 * what each resource file declares (routes). See test/support/stripe-stub.ts for the behaviour as a whole.
 */
import type { FormObject } from './wire';

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
}

/** A scripted failure for a non-meter-event request: the first entry matching method and path is used once. */
export interface ApiFault {
  method?: string;
  path: string | RegExp;
  status: number;
  error?: { type?: string; code?: string; message?: string };
}

/**
 * The running stub: its base URL (point STRIPE_API_URL or `createStripeClientFactory({ apiUrl })` at it), the
 * meter-event record and fault script (unchanged), and the fake's state, grants and request log.
 */
export interface StripeStub {
  url: string;
  /** Accepted events, in order, each identifier once. */
  events: AcceptedMeterEvent[];
  /** Every meter-event request: its identifier and the HTTP status answered (0 for a hang). */
  requests: Array<{ identifier: string; status: number }>;
  /**
   * Customers that exist for meter events; empty means every customer exists. Customers created through the fake
   * (POST /v1/customers) join it, so once one is created, meter events for unknown customers are refused.
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
  /** Adds a coupon (docs.stripe.com/api/coupons/object); defaults: duration 'forever', valid. Returns it. */
  seedCoupon(coupon: Partial<StripeJson> & { id: string }): StripeJson;
  /** Adds an invoice (docs.stripe.com/api/invoices/object) for invoices.list; `id` generated when absent. */
  seedInvoice(invoice: Partial<StripeJson> & { customer: string }): StripeJson;
  /** Empties `state`, `requestLog`, the idempotency store and `apiFaults` (meter-event fields are untouched). */
  resetState(): void;
  /**
   * Endpoints added by a test (e.g. meter-summaries.ts): each is asked first and answers by returning
   * `{ status, body }`, or passes with undefined. Called after the API-key check.
   */
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
  | 'coupons';
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
