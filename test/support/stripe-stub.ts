/**
 * A local Stripe double (stripe-mock is a Go binary, not on npm). It speaks Stripe's wire format — form-encoded
 * requests with bracket keys (`items[0][price]=…`), JSON objects with `id`, `object` and `livemode: false`, lists
 * `{ object: 'list', data, has_more, url }`, errors `{ error: { type, code?, message, param? } }` — and keeps an
 * in-memory fake of the part of the API Meterbridge uses.
 *
 * Meter events (POST /v1/billing/meter_events) behave as before: a meter event identifier already accepted is
 * refused with "An event already exists with identifier …"; an unknown customer or API key is refused; faults can
 * be scripted per request (`script`, `faultFor`). Only meter-event requests consume those faults. Added, after the
 * 401 check and before the customer check: a restricted key without `meter_events` gets 403, and a request without
 * `event_name` or `payload` gets 400 "Missing required param: …" (docs.stripe.com/api/billing/meter-event/create).
 *
 * The rest is an in-memory fake: the account (GET /v1/account), customers (create, retrieve, update, delete, list
 * with `email`, search with `email:'…'` / `name~'…'` clauses), products, prices (per-unit and graduated tiers,
 * metered through a billing meter or licensed, lookup keys), billing meters (one active meter per event name),
 * subscriptions (items `si_…` with the price expanded, discounts from coupons, cancel), invoices (list, retrieve; seeded),
 * webhook endpoints (create returns the `whsec_…` secret once, list, delete) and coupons (retrieve; seeded).
 * Where the stub answers like Stripe it follows docs.stripe.com/api (the page of each endpoint); messages marked
 * "approximate" below are the stub's own wording, not Stripe's.
 *
 * Cross-cutting behaviour, as Stripe documents it:
 * - API keys (docs.stripe.com/keys): `apiKeys` non-empty → any other Bearer key gets 401 "Invalid API Key provided".
 * - Restricted keys (docs.stripe.com/keys/restricted-api-keys): a key with an entry in `keyPermissions` that lacks
 *   the endpoint's resource gets 403 `invalid_request_error` "The provided key 'rk_test_***…abc123' does not have
 *   the required permissions for this endpoint on account 'acct_…'. Having the 'rak_…' permission would allow this
 *   request to continue." (stripe-node raises StripePermissionError for 403). Grant names: a resource
 *   (`customers`, `products`, `prices`, `subscriptions`, `billing_meters`, `meter_events`, `invoices`,
 *   `webhook_endpoints`, `coupons`, `account`) grants read and write; `<resource>_read` grants read only.
 * - Idempotency (docs.stripe.com/api/idempotent_requests): a POST whose `Idempotency-Key` was seen on the same
 *   method and path gets the first response again (header `idempotent-replayed: true`); with other parameters it
 *   gets 400 `idempotency_error`. Only 2xx answers are stored (Stripe stores any result once an endpoint has begun
 *   executing, but not a request that failed validation). Meter events are not subject to this (unchanged).
 * - Unknown parameters get 400 "Received unknown parameter: …" (docs.stripe.com/api/errors), so a typo in a
 *   wrapper fails in tests.
 * - Pagination (docs.stripe.com/api/pagination): `limit` (1–100, default 10), `starting_after`, newest first.
 */
import { randomBytes } from 'node:crypto';
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
   * Endpoints added from other files (e.g. stripe-meter-summaries.ts): each is asked first and answers by returning
   * `{ status, body }`, or passes with undefined. Called after the API-key check.
   */
  extensions: Array<(request: { method: string; path: string; params: FormObject; apiKey: string }) => { status: number; body: unknown } | undefined>;
}

/** A parsed form value: a string, an array (from indexed keys `a[0]`, `a[]`) or an object (from `a[b]`). */
export type FormValue = string | FormValue[] | FormObject;
/** A parsed form body or query, e.g. `{ items: [{ price: 'price_1' }], metadata: { k: 'v' } }`. */
export interface FormObject {
  [key: string]: FormValue;
}

/**
 * Parses `application/x-www-form-urlencoded` text the way Stripe reads stripe-node's encoding:
 * `items[0][price]=p&metadata[k]=v&lookup_keys[]=a` → `{ items: [{ price: 'p' }], metadata: { k: 'v' }, lookup_keys: ['a'] }`.
 * Objects whose keys are all non-negative integers become arrays (ordered by index).
 */
export function parseForm(encoded: string): FormObject {
  const root: FormObject = {};
  for (const [rawKey, value] of new URLSearchParams(encoded)) {
    const match = /^([^[\]]+)((?:\[[^\]]*\])*)$/.exec(rawKey);
    const path = match ? [match[1]!, ...[...match[2]!.matchAll(/\[([^\]]*)\]/g)].map((m) => m[1]!)] : [rawKey];
    let node: FormObject = root;
    for (let i = 0; i < path.length; i++) {
      const segment = path[i] === '' ? String(Object.keys(node).length) : path[i]!;
      if (i === path.length - 1) {
        node[segment] = value;
      } else {
        const next = node[segment];
        if (next === undefined || typeof next === 'string' || Array.isArray(next)) node[segment] = {};
        node = node[segment] as FormObject;
      }
    }
  }
  return arrayify(root) as FormObject;
}

function arrayify(value: FormValue): FormValue {
  if (typeof value === 'string' || Array.isArray(value)) return value;
  const keys = Object.keys(value);
  const converted: FormObject = {};
  for (const key of keys) converted[key] = arrayify(value[key]!);
  if (keys.length > 0 && keys.every((k) => /^\d+$/.test(k))) {
    return keys.sort((a, b) => Number(a) - Number(b)).map((k) => converted[k]!);
  }
  return converted;
}

/** Stripe's restricted-key resources and the permission names its 403 message asks for. */
type Resource =
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
type Access = 'read' | 'write';

/**
 * Permission names as Stripe spells them in 403 messages (e.g. "Having the 'rak_subscription_read' permission would
 * allow this request to continue", seen in stripe-node issue #2246 and user reports). The account one is a guess.
 */
const RAK: Record<Resource, Record<Access, string>> = {
  account: { read: 'rak_accounts_kyc_basic_read', write: 'rak_accounts_kyc_basic_write' },
  customers: { read: 'rak_customer_read', write: 'rak_customer_write' },
  products: { read: 'rak_product_read', write: 'rak_product_write' },
  prices: { read: 'rak_price_read', write: 'rak_price_write' },
  subscriptions: { read: 'rak_subscription_read', write: 'rak_subscription_write' },
  billing_meters: { read: 'rak_billing_meter_read', write: 'rak_billing_meter_write' },
  meter_events: { read: 'rak_billing_meter_event_read', write: 'rak_billing_meter_event_write' },
  invoices: { read: 'rak_invoice_read', write: 'rak_invoice_write' },
  webhook_endpoints: { read: 'rak_webhook_read', write: 'rak_webhook_write' },
  coupons: { read: 'rak_coupon_read', write: 'rak_coupon_write' },
};

/** A Stripe error answer, thrown inside handlers. */
class StripeFakeError extends Error {
  constructor(
    readonly status: number,
    readonly error: { type: string; code?: string; message: string; param?: string },
  ) {
    super(error.message);
  }
}

const invalid = (message: string, param?: string, code?: string) =>
  new StripeFakeError(400, { type: 'invalid_request_error', message, ...(code ? { code } : {}), ...(param ? { param } : {}) });
const missingParam = (param: string) => invalid(`Missing required param: ${param}.`, param, 'parameter_missing');
const noSuch = (what: string, id: string, param = 'id', status = 404) =>
  new StripeFakeError(status, { type: 'invalid_request_error', code: 'resource_missing', param, message: `No such ${what}: '${id}'` });

const now = () => Math.floor(Date.now() / 1000);
const newId = (prefix: string) => `${prefix}_${randomBytes(18).toString('base64url').replace(/[-_]/g, '').slice(0, 24)}`;
const str = (v: FormValue | undefined): string | undefined => (typeof v === 'string' ? v : undefined);
const obj = (v: FormValue | undefined): FormObject | undefined => (v && typeof v === 'object' && !Array.isArray(v) ? v : undefined);
const arr = (v: FormValue | undefined): FormValue[] | undefined => (Array.isArray(v) ? v : v === '' ? [] : undefined);
const bool = (v: FormValue | undefined): boolean | undefined => (v === 'true' ? true : v === 'false' ? false : undefined);

/** Masks a key as Stripe's messages show it: `rk_test_` + stars + the last 6 characters. */
function maskKey(key: string): string {
  const prefix = /^(sk|rk|pk)_(test|live)_/.exec(key)?.[0] ?? key.slice(0, 3);
  const tail = key.length - prefix.length > 6 ? key.slice(-6) : '';
  return `${prefix}${'*'.repeat(Math.max(4, key.length - prefix.length - tail.length))}${tail}`;
}

interface Ctx {
  params: FormObject;
  expand: string[];
}

interface Route {
  method: 'GET' | 'POST' | 'DELETE';
  pattern: RegExp;
  resource: Resource;
  access: Access;
  /** Top-level parameters accepted besides `expand`. */
  accepts: string[];
  handle(ctx: Ctx, id: string): { status?: number; body: unknown };
}

/** Starts the stub on 127.0.0.1 at a free port. */
export async function startStripeStub(): Promise<StripeStub> {
  const sockets = new Set<Socket>();
  const seen = new Map<string, number>();
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
  };
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
    keyPermissions: new Map(),
    extensions: [],
    account: {
      id: 'acct_1MeterbridgeStub01',
      object: 'account',
      business_profile: { name: 'Stub Agency LLC', url: null, support_email: null },
      settings: { dashboard: { display_name: 'Stub Agency', timezone: 'Etc/UTC' } },
      charges_enabled: true,
      payouts_enabled: true,
      details_submitted: true,
      country: 'US',
      default_currency: 'usd',
      email: 'owner@stub-agency.test',
      type: 'standard',
      livemode: false,
    },
    state,
    requestLog: [],
    apiFaults: [],
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
    resetState() {
      for (const map of Object.values(state)) (map as Map<string, StripeJson>).clear();
      stub.requestLog.length = 0;
      stub.apiFaults.length = 0;
      idempotent.clear();
    },
  };

  /** The 403 a restricted key gets, or null when the key may use the resource. */
  function permissionError(apiKey: string, resource: Resource, access: Access): StripeFakeError | null {
    const granted = stub.keyPermissions.get(apiKey);
    if (!granted || granted.has(resource) || (access === 'read' && granted.has(`${resource}_read`))) return null;
    return new StripeFakeError(403, {
      type: 'invalid_request_error',
      message:
        `The provided key '${maskKey(apiKey)}' does not have the required permissions for this endpoint on account ` +
        `'${stub.account.id}'. Having the '${RAK[resource][access]}' permission would allow this request to continue.`,
    });
  }

  const unknownKey = (apiKey: string) => stub.apiKeys.size > 0 && !stub.apiKeys.has(apiKey);
  const invalidKeyBody = (apiKey: string) => ({
    error: { type: 'invalid_request_error', message: `Invalid API Key provided: ${apiKey.slice(0, 8)}****` },
  });

  // ---------- meter events: the original behaviour, plus restricted keys and required params ----------

  async function meterEvent(body: URLSearchParams, apiKey: string, res: ServerResponse, log: RequestLogEntry): Promise<void> {
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
    if (unknownKey(apiKey)) {
      record(401);
      return answer(401, invalidKeyBody(apiKey));
    }
    const forbidden = permissionError(apiKey, 'meter_events', 'write');
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
  }

  // ---------- shared helpers ----------

  /** docs.stripe.com/api/pagination: newest first, `limit` 1–100 (default 10), `starting_after` an id. */
  function list(items: StripeJson[], params: FormObject, url: string, view: (o: StripeJson) => StripeJson = (o) => o) {
    const limit = str(params.limit) === undefined ? 10 : Number(str(params.limit));
    if (!Number.isInteger(limit) || limit < 1 || limit > 100) throw invalid('Invalid integer: limit must be between 1 and 100.', 'limit');
    let ordered = [...items].reverse();
    const after = str(params.starting_after);
    if (after) {
      const at = ordered.findIndex((o) => o.id === after);
      if (at < 0) throw noSuch('object', after, 'starting_after', 400);
      ordered = ordered.slice(at + 1);
    }
    return { object: 'list', data: ordered.slice(0, limit).map(view), has_more: ordered.length > limit, url };
  }

  /** docs.stripe.com/api/metadata: up to 50 keys, keys ≤ 40 chars, values ≤ 500 chars; '' unsets a key. */
  function mergeMetadata(current: Record<string, string>, param: FormValue | undefined): Record<string, string> {
    if (param === undefined) return current;
    if (param === '') return {};
    const given = obj(param);
    if (!given) throw invalid('Invalid metadata: must be an object.', 'metadata');
    const next = { ...current };
    for (const [key, value] of Object.entries(given)) {
      if (typeof value !== 'string') throw invalid(`Invalid value for metadata[${key}]: must be a string.`, `metadata[${key}]`);
      if (key.length > 40) throw invalid(`Metadata keys can have up to 40 characters; '${key}' is longer.`, `metadata[${key}]`);
      if (value.length > 500) throw invalid(`Metadata values can have up to 500 characters.`, `metadata[${key}]`);
      if (value === '') delete next[key];
      else next[key] = value;
    }
    if (Object.keys(next).length > 50) throw invalid('You can have up to 50 metadata keys.', 'metadata');
    return next;
  }

  function requireString(params: FormObject, name: string): string {
    const value = str(params[name]);
    if (value === undefined || value === '') throw missingParam(name);
    return value;
  }

  function integer(value: FormValue | undefined, param: string, min = 0): number | undefined {
    if (value === undefined) return undefined;
    const s = str(value);
    if (s === undefined || !/^-?\d+$/.test(s) || Number(s) < min) throw invalid(`Invalid integer: ${String(s)}`, param);
    return Number(s);
  }

  function decimal(value: FormValue | undefined, param: string): string | undefined {
    if (value === undefined) return undefined;
    const s = str(value);
    // docs.stripe.com/api/prices/create: "a decimal value in cents … with at most 12 decimal places".
    if (s === undefined || !/^\d+(\.\d{1,12})?$/.test(s)) throw invalid(`Invalid decimal: ${String(s)}`, param);
    return s.includes('.') ? s.replace(/0+$/, '').replace(/\.$/, '') : s.replace(/^0+(?=\d)/, '');
  }

  const liveCustomer = (id: string, param = 'customer') => {
    const customer = state.customers.get(id);
    if (!customer || customer.deleted) throw noSuch('customer', id, param, 400);
    return customer;
  };

  // ---------- views ----------

  const priceView = (price: StripeJson, expand: string[]): StripeJson => {
    if (expand.some((e) => e === 'tiers' || e.endsWith('.tiers'))) return { ...price };
    const { tiers: _omitted, ...rest } = price;
    return rest as StripeJson;
  };

  const subscriptionView = (sub: StripeJson, expand: string[]): StripeJson => ({
    ...sub,
    discounts: expand.some((e) => e === 'discounts' || e === 'data.discounts') ? sub.discounts : sub.discounts.map((d: StripeJson) => d.id),
    items: {
      ...sub.items,
      data: sub.items.data.map((item: StripeJson) => ({ ...item, price: priceView(state.prices.get(item.price.id) ?? item.price, expand) })),
    },
  });

  const webhookView = (endpoint: StripeJson): StripeJson => {
    const { secret: _secret, ...rest } = endpoint;
    return rest as StripeJson;
  };

  // ---------- customers: docs.stripe.com/api/customers ----------

  const CUSTOMER_FIELDS = ['name', 'email', 'description', 'phone', 'metadata', 'invoice_settings'];

  function applyCustomer(customer: StripeJson, params: FormObject): void {
    for (const field of ['name', 'email', 'description', 'phone'] as const) {
      const value = params[field];
      if (value === undefined) continue;
      if (typeof value !== 'string') throw invalid(`Invalid string: ${field}`, field);
      if (field === 'email' && value !== '' && !/^[^\s@]+@[^\s@]+$/.test(value)) throw invalid(`Invalid email address: ${value}`, 'email', 'email_invalid');
      customer[field] = value === '' ? null : value;
    }
    customer.metadata = mergeMetadata(customer.metadata, params.metadata);
    const pm = str(obj(params.invoice_settings)?.default_payment_method);
    if (pm !== undefined) customer.invoice_settings = { ...customer.invoice_settings, default_payment_method: pm || null };
  }

  /** docs.stripe.com/search#search-query-language: clauses `field:'v'` (exact) / `field~'v'` (substring ≥ 3 chars). */
  function searchCustomers(query: string): StripeJson[] {
    const clause = /\s*(-?)(email|name|phone|metadata\[(?:'[^']*'|"[^"]*")\])\s*([:~])\s*(?:'((?:[^'\\]|\\.)*)'|"((?:[^"\\]|\\.)*)")\s*/y;
    const clauses: Array<(c: StripeJson) => boolean> = [];
    let joiner: 'AND' | 'OR' | null = null;
    let at = 0;
    while (at < query.length) {
      clause.lastIndex = at;
      const m = clause.exec(query);
      if (!m) throw invalid(`The query is invalid at position ${at}: ${query.slice(at, at + 20)} (approximate).`, 'query');
      at = clause.lastIndex;
      const [, negate, field, op, single, double] = m;
      const value = (single ?? double ?? '').replace(/\\(.)/g, '$1').toLowerCase();
      if (op === '~' && value.length < 3) throw invalid('Substring matching (~) needs at least 3 characters (approximate).', 'query');
      const read = (c: StripeJson): string => {
        const metaKey = /^metadata\[['"](.*)['"]\]$/.exec(field!)?.[1];
        const raw = metaKey !== undefined ? c.metadata?.[metaKey] : c[field!];
        return typeof raw === 'string' ? raw.toLowerCase() : '';
      };
      const test = (c: StripeJson) => (op === ':' ? read(c) === value : read(c).includes(value));
      clauses.push(negate ? (c) => !test(c) : test);
      const word = /\s*(AND|OR)\s+/iy;
      word.lastIndex = at;
      const w = word.exec(query);
      if (w) {
        const next = w[1]!.toUpperCase() as 'AND' | 'OR';
        if (joiner && joiner !== next) throw invalid('AND and OR cannot be combined in one query.', 'query');
        joiner = next;
        at = word.lastIndex;
      }
    }
    if (clauses.length === 0) throw missingParam('query');
    const live = [...state.customers.values()].filter((c) => !c.deleted);
    return live.filter((c) => (joiner === 'OR' ? clauses.some((t) => t(c)) : clauses.every((t) => t(c))));
  }

  // ---------- prices: docs.stripe.com/api/prices/create ----------

  function buildTiers(params: FormObject): StripeJson['tiers'] {
    const given = arr(params.tiers);
    if (!given || given.length === 0) throw missingParam('tiers');
    const tiers = given.map((raw, i) => {
      const tier = obj(raw);
      if (!tier) throw invalid(`Invalid tiers[${i}]: must be an object.`, `tiers[${i}]`);
      const upToRaw = str(tier.up_to);
      if (upToRaw === undefined) throw missingParam(`tiers[${i}][up_to]`);
      const upTo = upToRaw === 'inf' ? null : integer(upToRaw, `tiers[${i}][up_to]`, 1)!;
      const unitAmount = integer(tier.unit_amount, `tiers[${i}][unit_amount]`);
      const unitDecimal = decimal(tier.unit_amount_decimal, `tiers[${i}][unit_amount_decimal]`);
      const flatAmount = integer(tier.flat_amount, `tiers[${i}][flat_amount]`);
      const flatDecimal = decimal(tier.flat_amount_decimal, `tiers[${i}][flat_amount_decimal]`);
      if (unitAmount !== undefined && unitDecimal !== undefined) {
        throw invalid(`You may only specify one of these parameters: tiers[${i}][unit_amount], tiers[${i}][unit_amount_decimal].`, `tiers[${i}]`);
      }
      if (flatAmount !== undefined && flatDecimal !== undefined) {
        throw invalid(`You may only specify one of these parameters: tiers[${i}][flat_amount], tiers[${i}][flat_amount_decimal].`, `tiers[${i}]`);
      }
      if ([unitAmount, unitDecimal, flatAmount, flatDecimal].every((v) => v === undefined)) {
        throw invalid(`Each tier needs an amount: tiers[${i}] has none (approximate).`, `tiers[${i}]`);
      }
      const unit = unitDecimal ?? (unitAmount === undefined ? null : String(unitAmount));
      const flat = flatDecimal ?? (flatAmount === undefined ? null : String(flatAmount));
      return {
        flat_amount: flat !== null && !flat.includes('.') ? Number(flat) : null,
        flat_amount_decimal: flat,
        unit_amount: unit !== null && !unit.includes('.') ? Number(unit) : null,
        unit_amount_decimal: unit,
        up_to: upTo,
      };
    });
    tiers.forEach((tier, i) => {
      const last = i === tiers.length - 1;
      if (last !== (tier.up_to === null)) throw invalid("The last tier's up_to must be `inf`, and only the last one (approximate).", `tiers[${i}][up_to]`);
      const previous = tiers[i - 1]?.up_to;
      if (i > 0 && tier.up_to !== null && previous != null && tier.up_to <= previous) {
        throw invalid('Tiers must be in increasing order of up_to (approximate).', `tiers[${i}][up_to]`);
      }
    });
    return tiers;
  }

  function createPrice(params: FormObject): StripeJson {
    const currency = requireString(params, 'currency');
    if (!/^[a-z]{3}$/.test(currency)) throw invalid(`Invalid currency: ${currency}. Use a three-letter ISO code in lowercase.`, 'currency');
    const productGiven = str(params.product);
    const productData = obj(params.product_data);
    if (productGiven && productData) throw invalid('You may only specify one of these parameters: product, product_data.', 'product');
    if (productGiven) {
      if (!state.products.get(productGiven)) throw noSuch('product', productGiven, 'product', 400);
    } else if (productData) {
      if (!str(productData.name)) throw missingParam('product_data[name]');
    } else {
      throw invalid('You must specify either `product` or `product_data` when creating a price.', 'product');
    }

    let recurring: StripeJson['recurring'] = null;
    const rec = obj(params.recurring);
    if (rec) {
      const interval = str(rec.interval);
      if (!interval) throw missingParam('recurring[interval]');
      if (!['day', 'week', 'month', 'year'].includes(interval)) throw invalid(`Invalid recurring[interval]: ${interval}`, 'recurring[interval]');
      const usageType = str(rec.usage_type) ?? 'licensed';
      if (!['licensed', 'metered'].includes(usageType)) throw invalid(`Invalid recurring[usage_type]: ${usageType}`, 'recurring[usage_type]');
      const meter = str(rec.meter) ?? null;
      // Since API 2025-03-31.basil a metered price must be backed by a billing meter (legacy usage records are gone).
      if (usageType === 'metered' && !meter) throw invalid('A metered price needs recurring[meter] (approximate).', 'recurring[meter]');
      if (meter) {
        const found = state.meters.get(meter);
        if (!found) throw noSuch('billing meter', meter, 'recurring[meter]', 400);
        if (found.status !== 'active') throw invalid("You can't attach a deactivated meter to a price.", 'recurring[meter]');
        if (usageType !== 'metered') throw invalid('recurring[meter] requires recurring[usage_type]=metered (approximate).', 'recurring[meter]');
      }
      recurring = {
        interval,
        interval_count: integer(rec.interval_count, 'recurring[interval_count]', 1) ?? 1,
        meter,
        trial_period_days: null,
        usage_type: usageType,
      };
    }

    const scheme = str(params.billing_scheme) ?? 'per_unit';
    let unitAmount: number | null = null;
    let unitDecimal: string | null = null;
    let tiers: StripeJson['tiers'] = null;
    let tiersMode: string | null = null;
    if (scheme === 'per_unit') {
      const amount = integer(params.unit_amount, 'unit_amount');
      const dec = decimal(params.unit_amount_decimal, 'unit_amount_decimal');
      if (amount !== undefined && dec !== undefined) throw invalid('You may only specify one of these parameters: unit_amount, unit_amount_decimal.', 'unit_amount');
      if (amount === undefined && dec === undefined) throw invalid('You must specify either `unit_amount` or `unit_amount_decimal` (approximate).', 'unit_amount');
      if (params.tiers !== undefined || params.tiers_mode !== undefined) throw invalid('tiers and tiers_mode require billing_scheme=tiered (approximate).', 'tiers');
      unitDecimal = dec ?? String(amount);
      unitAmount = unitDecimal.includes('.') ? null : Number(unitDecimal);
    } else if (scheme === 'tiered') {
      tiersMode = requireString(params, 'tiers_mode');
      if (!['graduated', 'volume'].includes(tiersMode)) throw invalid(`Invalid tiers_mode: ${tiersMode}`, 'tiers_mode');
      if (params.unit_amount !== undefined || params.unit_amount_decimal !== undefined) {
        throw invalid('unit_amount cannot be set when billing_scheme=tiered (approximate).', 'unit_amount');
      }
      if (!recurring) throw invalid('Tiered prices must be recurring (approximate).', 'billing_scheme');
      tiers = buildTiers(params);
    } else {
      throw invalid(`Invalid billing_scheme: ${scheme}`, 'billing_scheme');
    }

    const lookupKey = str(params.lookup_key) || null;
    if (lookupKey) claimLookupKey(lookupKey, bool(params.transfer_lookup_key) === true, null);
    const taxBehavior = str(params.tax_behavior) ?? 'unspecified';
    // Everything is valid: only now is the inline product made (docs.stripe.com/api/prices/create `product_data`).
    const productId = productGiven ?? insertProduct({ ...productData!, metadata: productData!.metadata ?? {} }).id;
    const price: StripeJson = {
      id: newId('price'),
      object: 'price',
      active: bool(params.active) ?? true,
      billing_scheme: scheme,
      created: now(),
      currency,
      custom_unit_amount: null,
      livemode: false,
      lookup_key: lookupKey,
      metadata: mergeMetadata({}, params.metadata),
      nickname: str(params.nickname) ?? null,
      product: productId,
      recurring,
      tax_behavior: taxBehavior,
      tiers,
      tiers_mode: tiersMode,
      transform_quantity: null,
      type: recurring ? 'recurring' : 'one_time',
      unit_amount: unitAmount,
      unit_amount_decimal: unitDecimal,
    };
    state.prices.set(price.id, price);
    return price;
  }

  /** docs.stripe.com/api/prices/create `transfer_lookup_key`: moves the key atomically, else a taken key is refused. */
  function claimLookupKey(lookupKey: string, transfer: boolean, self: string | null): void {
    if (lookupKey.length > 200) throw invalid('lookup_key may be up to 200 characters.', 'lookup_key');
    const holder = [...state.prices.values()].find((p) => p.lookup_key === lookupKey && p.id !== self);
    if (!holder) return;
    if (!transfer) throw invalid(`A price (\`${holder.id}\`) already uses that lookup key.`, 'lookup_key');
    holder.lookup_key = null;
  }

  // ---------- products: docs.stripe.com/api/products ----------

  function insertProduct(params: FormObject): StripeJson {
    const name = requireString(params, 'name');
    const id = str(params.id) ?? newId('prod');
    if (state.products.has(id)) throw invalid(`Product already exists.`, 'id', 'resource_already_exists');
    const product: StripeJson = {
      id,
      object: 'product',
      active: bool(params.active) ?? true,
      created: now(),
      default_price: null,
      description: str(params.description) ?? null,
      images: [],
      livemode: false,
      marketing_features: [],
      metadata: mergeMetadata({}, params.metadata),
      name,
      package_dimensions: null,
      shippable: null,
      statement_descriptor: null,
      tax_code: null,
      unit_label: str(params.unit_label) ?? null,
      updated: now(),
      url: null,
    };
    state.products.set(id, product);
    return product;
  }

  // ---------- billing meters: docs.stripe.com/api/billing/meter ----------

  function createMeter(params: FormObject): StripeJson {
    const displayName = requireString(params, 'display_name');
    const eventName = requireString(params, 'event_name');
    if (eventName.length > 100) throw invalid('event_name may be up to 100 characters.', 'event_name');
    const formula = str(obj(params.default_aggregation)?.formula);
    if (!formula) throw missingParam('default_aggregation[formula]');
    if (!['sum', 'count', 'last'].includes(formula)) throw invalid(`Invalid default_aggregation[formula]: ${formula}`, 'default_aggregation[formula]');
    const mapping = obj(params.customer_mapping);
    const mappingType = str(mapping?.type) ?? 'by_id';
    if (mappingType !== 'by_id') throw invalid(`Invalid customer_mapping[type]: ${mappingType}`, 'customer_mapping[type]');
    if (activeMeterFor(eventName)) {
      throw invalid(`A meter with event_name \`${eventName}\` already exists and is active (approximate).`, 'event_name');
    }
    const meter: StripeJson = {
      id: newId('mtr_test'),
      object: 'billing.meter',
      created: now(),
      customer_mapping: { event_payload_key: str(mapping?.event_payload_key) ?? 'stripe_customer_id', type: mappingType },
      default_aggregation: { formula },
      display_name: displayName,
      event_name: eventName,
      event_time_window: str(params.event_time_window) ?? null,
      livemode: false,
      status: 'active',
      status_transitions: { deactivated_at: null },
      updated: now(),
      value_settings: { event_payload_key: str(obj(params.value_settings)?.event_payload_key) ?? 'value' },
    };
    state.meters.set(meter.id, meter);
    return meter;
  }

  const activeMeterFor = (eventName: string) => [...state.meters.values()].find((m) => m.event_name === eventName && m.status === 'active');

  // ---------- subscriptions: docs.stripe.com/api/subscriptions ----------

  function activePrice(id: string, param: string): StripeJson {
    const price = state.prices.get(id);
    if (!price) throw noSuch('price', id, param, 400);
    if (!price.active) throw invalid('The price specified is inactive. This field only accepts active prices.', param);
    if (!price.recurring) throw invalid(`The price specified is set to \`type=one_time\` but this field only accepts prices with \`type=recurring\`.`, param);
    return price;
  }

  function newItem(subscriptionId: string, price: StripeJson, quantity: number | undefined, index: number, periodEnd: number): StripeJson {
    const metered = price.recurring.usage_type === 'metered';
    if (metered && quantity !== undefined) {
      throw invalid(`Quantity should not be specified where usage_type is \`metered\`. Remove quantity from \`items[${index}]\` (approximate).`, `items[${index}][quantity]`);
    }
    return {
      id: newId('si'),
      object: 'subscription_item',
      billing_thresholds: null,
      created: now(),
      current_period_end: periodEnd,
      current_period_start: now(),
      discounts: [],
      metadata: {},
      price,
      ...(metered ? {} : { quantity: quantity ?? 1 }),
      subscription: subscriptionId,
      tax_rates: [],
    };
  }

  function checkItems(items: StripeJson[]): void {
    if (items.length === 0) throw invalid('A subscription needs at least one item (approximate).', 'items');
    if (items.length > 20) throw invalid('A subscription may have up to 20 items.', 'items');
    const prices = items.map((i) => i.price as StripeJson);
    const first = prices[0]!;
    for (const price of prices) {
      if (price.currency !== first.currency || price.recurring.interval !== first.recurring.interval || price.recurring.interval_count !== first.recurring.interval_count) {
        throw invalid('Currency and interval fields must match across all plans on this subscription.', 'items');
      }
    }
    const ids = prices.map((p) => p.id);
    const dup = ids.find((id, i) => ids.indexOf(id) !== i);
    if (dup) throw invalid(`Cannot add multiple subscription items with the same price: ${dup} (approximate).`, 'items');
  }

  function discountsFrom(param: FormValue | undefined, subscriptionId: string, customer: string): StripeJson[] | undefined {
    if (param === undefined) return undefined;
    const given = arr(param);
    if (!given) throw invalid('Invalid discounts: must be a list.', 'discounts');
    return given.map((raw, i) => {
      const couponId = str(obj(raw)?.coupon);
      if (!couponId) throw invalid(`discounts[${i}] needs a coupon (only coupons are supported by the stub).`, `discounts[${i}]`);
      const coupon = state.coupons.get(couponId);
      if (!coupon || coupon.valid === false) throw noSuch('coupon', couponId, `discounts[${i}][coupon]`, 400);
      return {
        id: newId('di'),
        object: 'discount',
        checkout_session: null,
        customer,
        end: null,
        invoice: null,
        invoice_item: null,
        promotion_code: null,
        source: { coupon: couponId, type: 'coupon' },
        start: now(),
        subscription: subscriptionId,
        subscription_item: null,
      };
    });
  }

  function automaticTax(param: FormValue | undefined, current: StripeJson['automatic_tax']) {
    if (param === undefined) return current;
    const enabled = bool(obj(param)?.enabled);
    if (enabled === undefined) throw missingParam('automatic_tax[enabled]');
    return { disabled_reason: null, enabled, liability: enabled ? { type: 'self' } : null };
  }

  const PRORATION = ['create_prorations', 'none', 'always_invoice'];
  function prorationBehavior(params: FormObject): string {
    const value = str(params.proration_behavior) ?? 'create_prorations';
    if (!PRORATION.includes(value)) throw invalid(`Invalid proration_behavior: ${value}`, 'proration_behavior');
    return value;
  }

  const periodSeconds: Record<string, number> = { day: 86_400, week: 7 * 86_400, month: 30 * 86_400, year: 365 * 86_400 };

  /**
   * A simplified status (docs.stripe.com/billing/subscriptions/overview#subscription-statuses): 'incomplete' when a
   * first invoice is due now with an amount to charge automatically and the customer has no default payment method;
   * else 'active'. Metered usage is billed in arrears, so a metered-only subscription starts active.
   */
  function initialStatus(sub: StripeJson, customer: StripeJson, proration: string): string {
    const chargesNow = sub.items.data.some((i: StripeJson) => i.price.recurring.usage_type === 'licensed' && (i.price.unit_amount ?? 0) * (i.quantity ?? 1) > 0);
    const deferred = sub.billing_cycle_anchor > now() + 1 && proration === 'none';
    const canPay = Boolean(customer.invoice_settings?.default_payment_method) || sub.collection_method === 'send_invoice';
    return chargesNow && !deferred && !canPay ? 'incomplete' : 'active';
  }

  function createSubscription(params: FormObject): StripeJson {
    const customerId = requireString(params, 'customer');
    const customer = liveCustomer(customerId);
    const given = arr(params.items);
    if (!given || given.length === 0) throw missingParam('items');
    const anchor = integer(params.billing_cycle_anchor, 'billing_cycle_anchor');
    if (anchor !== undefined && anchor < now() - 60) throw invalid('billing_cycle_anchor cannot be in the past (approximate).', 'billing_cycle_anchor');
    const proration = prorationBehavior(params);
    const collection = str(params.collection_method) ?? 'charge_automatically';
    const id = newId('sub');
    const prices = given.map((raw, i) => {
      const item = obj(raw);
      if (!item) throw invalid(`Invalid items[${i}]: must be an object.`, `items[${i}]`);
      if (item.price_data !== undefined) throw invalid('The stub supports items[][price] only.', `items[${i}][price_data]`);
      return { price: activePrice(str(item.price) ?? '', `items[${i}][price]`), quantity: integer(item.quantity, `items[${i}][quantity]`) };
    });
    const interval = prices[0]!.price.recurring.interval as string;
    const periodEnd = anchor ?? now() + periodSeconds[interval]!;
    const items = prices.map((p, i) => newItem(id, p.price, p.quantity, i, periodEnd));
    checkItems(items);
    const sub: StripeJson = {
      id,
      object: 'subscription',
      application: null,
      automatic_tax: automaticTax(params.automatic_tax, { disabled_reason: null, enabled: false, liability: null }),
      billing_cycle_anchor: anchor ?? now(),
      billing_mode: { type: 'classic' },
      cancel_at: null,
      cancel_at_period_end: false,
      canceled_at: null,
      collection_method: collection,
      created: now(),
      currency: prices[0]!.price.currency,
      customer: customerId,
      days_until_due: null,
      default_payment_method: null,
      description: str(params.description) ?? null,
      discounts: discountsFrom(params.discounts, id, customerId) ?? [],
      ended_at: null,
      items: { object: 'list', data: items, has_more: false, total_count: items.length, url: `/v1/subscription_items?subscription=${id}` },
      latest_invoice: null,
      livemode: false,
      metadata: mergeMetadata({}, params.metadata),
      pending_update: null,
      start_date: now(),
      status: 'active',
      trial_end: null,
      trial_start: null,
    };
    sub.status = initialStatus(sub, customer, proration);
    state.subscriptions.set(id, sub);
    return sub;
  }

  function updateSubscription(sub: StripeJson, params: FormObject): StripeJson {
    if (sub.status === 'canceled' || sub.status === 'incomplete_expired') {
      const allowed = Object.keys(params).every((k) => ['metadata', 'cancellation_details', 'expand'].includes(k));
      if (!allowed) throw invalid('A canceled subscription can only update its cancellation_details and metadata.');
    }
    prorationBehavior(params);
    let items: StripeJson[] = sub.items.data.map((i: StripeJson) => ({ ...i }));
    const periodEnd = items[0]?.current_period_end ?? now();
    const given = params.items === undefined ? [] : arr(params.items);
    if (!given) throw invalid('Invalid items: must be a list.', 'items');
    given.forEach((raw, i) => {
      const change = obj(raw);
      if (!change) throw invalid(`Invalid items[${i}]: must be an object.`, `items[${i}]`);
      const itemId = str(change.id);
      const quantity = integer(change.quantity, `items[${i}][quantity]`);
      if (itemId) {
        const at = items.findIndex((it) => it.id === itemId);
        if (at < 0) throw invalid(`Invalid subscription item ${itemId}: it does not belong to ${sub.id} (approximate).`, `items[${i}][id]`);
        if (bool(change.deleted) === true) {
          items.splice(at, 1);
          return;
        }
        const priceId = str(change.price);
        const item = items[at]!;
        if (priceId && priceId !== item.price.id) {
          items[at] = { ...newItem(sub.id, activePrice(priceId, `items[${i}][price]`), quantity, i, periodEnd), id: item.id, created: item.created };
        } else if (quantity !== undefined) {
          if (item.price.recurring.usage_type === 'metered') throw invalid(`Quantity should not be specified where usage_type is \`metered\` (approximate).`, `items[${i}][quantity]`);
          item.quantity = quantity;
        }
      } else {
        const priceId = str(change.price);
        if (!priceId) throw missingParam(`items[${i}][price]`);
        items.push(newItem(sub.id, activePrice(priceId, `items[${i}][price]`), quantity, i, periodEnd));
      }
    });
    if (params.items !== undefined) checkItems(items);
    else items = sub.items.data;
    sub.items = { ...sub.items, data: items, total_count: items.length };
    sub.discounts = discountsFrom(params.discounts, sub.id, sub.customer) ?? sub.discounts;
    sub.automatic_tax = automaticTax(params.automatic_tax, sub.automatic_tax);
    sub.metadata = mergeMetadata(sub.metadata, params.metadata);
    const description = str(params.description);
    if (description !== undefined) sub.description = description || null;
    const cancelAtPeriodEnd = bool(params.cancel_at_period_end);
    if (cancelAtPeriodEnd !== undefined) sub.cancel_at_period_end = cancelAtPeriodEnd;
    return sub;
  }

  // ---------- the routes ----------

  const byId = (map: Map<string, StripeJson>, what: string) => (id: string) => {
    const found = map.get(id);
    if (!found) throw noSuch(what, id);
    return found;
  };
  const customerById = byId(state.customers, 'customer');
  const productById = byId(state.products, 'product');
  const priceById = byId(state.prices, 'price');
  const meterById = byId(state.meters, 'billing meter');
  const subscriptionById = byId(state.subscriptions, 'subscription');
  const webhookById = byId(state.webhookEndpoints, 'webhook endpoint');
  const couponById = byId(state.coupons, 'coupon');

  const ID = '([A-Za-z0-9_-]+)';
  const routes: Route[] = [
    // docs.stripe.com/api/accounts/retrieve (own account: GET /v1/account)
    { method: 'GET', pattern: /^\/v1\/account$/, resource: 'account', access: 'read', accepts: [], handle: () => ({ body: stub.account }) },

    // docs.stripe.com/api/customers
    {
      method: 'POST',
      pattern: /^\/v1\/customers$/,
      resource: 'customers',
      access: 'write',
      accepts: CUSTOMER_FIELDS,
      handle: ({ params }) => {
        const customer: StripeJson = {
          id: newId('cus'),
          object: 'customer',
          address: null,
          balance: 0,
          created: now(),
          currency: null,
          default_source: null,
          delinquent: false,
          description: null,
          email: null,
          invoice_prefix: randomBytes(4).toString('hex').toUpperCase(),
          invoice_settings: { custom_fields: null, default_payment_method: null, footer: null, rendering_options: null },
          livemode: false,
          metadata: {},
          name: null,
          next_invoice_sequence: 1,
          phone: null,
          preferred_locales: [],
          shipping: null,
          tax_exempt: 'none',
          test_clock: null,
        };
        applyCustomer(customer, params);
        state.customers.set(customer.id, customer);
        stub.customers.add(customer.id);
        return { body: customer };
      },
    },
    {
      method: 'GET',
      pattern: /^\/v1\/customers\/search$/,
      resource: 'customers',
      access: 'read',
      accepts: ['query', 'limit', 'page'],
      handle: ({ params }) => {
        const limit = str(params.limit) === undefined ? 10 : Number(str(params.limit));
        if (!Number.isInteger(limit) || limit < 1 || limit > 100) throw invalid('Invalid integer: limit must be between 1 and 100.', 'limit');
        const found = searchCustomers(requireString(params, 'query')).reverse();
        return { body: { object: 'search_result', data: found.slice(0, limit), has_more: found.length > limit, next_page: null, url: '/v1/customers/search' } };
      },
    },
    {
      method: 'GET',
      pattern: new RegExp(`^/v1/customers/${ID}$`),
      resource: 'customers',
      access: 'read',
      accepts: [],
      handle: (_ctx, id) => {
        const customer = customerById(id);
        return { body: customer.deleted ? { id, object: 'customer', deleted: true } : customer };
      },
    },
    {
      method: 'POST',
      pattern: new RegExp(`^/v1/customers/${ID}$`),
      resource: 'customers',
      access: 'write',
      accepts: CUSTOMER_FIELDS,
      handle: ({ params }, id) => {
        const customer = customerById(id);
        if (customer.deleted) throw noSuch('customer', id);
        applyCustomer(customer, params);
        return { body: customer };
      },
    },
    {
      method: 'DELETE',
      pattern: new RegExp(`^/v1/customers/${ID}$`),
      resource: 'customers',
      access: 'write',
      accepts: [],
      handle: (_ctx, id) => {
        const customer = customerById(id);
        if (customer.deleted) throw noSuch('customer', id);
        customer.deleted = true;
        for (const sub of state.subscriptions.values()) {
          if (sub.customer === id && sub.status !== 'canceled') Object.assign(sub, { status: 'canceled', canceled_at: now(), ended_at: now() });
        }
        return { body: { id, object: 'customer', deleted: true } };
      },
    },
    {
      method: 'GET',
      pattern: /^\/v1\/customers$/,
      resource: 'customers',
      access: 'read',
      accepts: ['email', 'limit', 'starting_after', 'ending_before', 'created'],
      handle: ({ params }) => {
        const email = str(params.email);
        // "A case-sensitive filter on the list based on the customer's email field" (docs.stripe.com/api/customers/list).
        const items = [...state.customers.values()].filter((c) => !c.deleted && (email === undefined || c.email === email));
        return { body: list(items, params, '/v1/customers') };
      },
    },

    // docs.stripe.com/api/products
    { method: 'POST', pattern: /^\/v1\/products$/, resource: 'products', access: 'write', accepts: ['id', 'name', 'active', 'description', 'metadata', 'unit_label'], handle: ({ params }) => ({ body: insertProduct(params) }) },
    { method: 'GET', pattern: new RegExp(`^/v1/products/${ID}$`), resource: 'products', access: 'read', accepts: [], handle: (_ctx, id) => ({ body: productById(id) }) },
    {
      method: 'POST',
      pattern: new RegExp(`^/v1/products/${ID}$`),
      resource: 'products',
      access: 'write',
      accepts: ['name', 'active', 'description', 'metadata', 'unit_label'],
      handle: ({ params }, id) => {
        const product = productById(id);
        const name = str(params.name);
        if (name !== undefined) product.name = name;
        const active = bool(params.active);
        if (active !== undefined) product.active = active;
        product.metadata = mergeMetadata(product.metadata, params.metadata);
        product.updated = now();
        return { body: product };
      },
    },
    {
      method: 'GET',
      pattern: /^\/v1\/products$/,
      resource: 'products',
      access: 'read',
      accepts: ['active', 'limit', 'starting_after', 'ending_before', 'ids'],
      handle: ({ params }) => {
        const active = bool(params.active);
        return { body: list([...state.products.values()].filter((p) => active === undefined || p.active === active), params, '/v1/products') };
      },
    },

    // docs.stripe.com/api/prices
    {
      method: 'POST',
      pattern: /^\/v1\/prices$/,
      resource: 'prices',
      access: 'write',
      accepts: ['currency', 'product', 'product_data', 'recurring', 'billing_scheme', 'unit_amount', 'unit_amount_decimal', 'tiers', 'tiers_mode', 'lookup_key', 'transfer_lookup_key', 'metadata', 'nickname', 'active', 'tax_behavior'],
      handle: ({ params, expand }) => ({ body: priceView(createPrice(params), expand) }),
    },
    { method: 'GET', pattern: new RegExp(`^/v1/prices/${ID}$`), resource: 'prices', access: 'read', accepts: [], handle: ({ expand }, id) => ({ body: priceView(priceById(id), expand) }) },
    {
      method: 'POST',
      pattern: new RegExp(`^/v1/prices/${ID}$`),
      resource: 'prices',
      access: 'write',
      accepts: ['active', 'lookup_key', 'transfer_lookup_key', 'metadata', 'nickname', 'tax_behavior'],
      handle: ({ params, expand }, id) => {
        const price = priceById(id);
        const active = bool(params.active);
        if (active !== undefined) price.active = active;
        const lookupKey = str(params.lookup_key);
        if (lookupKey !== undefined) {
          if (lookupKey) claimLookupKey(lookupKey, bool(params.transfer_lookup_key) === true, id);
          price.lookup_key = lookupKey || null;
        }
        price.metadata = mergeMetadata(price.metadata, params.metadata);
        return { body: priceView(price, expand) };
      },
    },
    {
      method: 'GET',
      pattern: /^\/v1\/prices$/,
      resource: 'prices',
      access: 'read',
      accepts: ['active', 'currency', 'product', 'type', 'lookup_keys', 'recurring', 'limit', 'starting_after', 'ending_before', 'created'],
      handle: ({ params, expand }) => {
        const active = bool(params.active);
        const lookupKeys = params.lookup_keys === undefined ? undefined : (arr(params.lookup_keys) ?? [params.lookup_keys]).map(String);
        if (lookupKeys && lookupKeys.length > 10) throw invalid('You can specify up to 10 lookup_keys.', 'lookup_keys');
        const items = [...state.prices.values()].filter(
          (p) =>
            (active === undefined || p.active === active) &&
            (lookupKeys === undefined || lookupKeys.includes(p.lookup_key)) &&
            (str(params.currency) === undefined || p.currency === str(params.currency)) &&
            (str(params.product) === undefined || p.product === str(params.product)) &&
            (str(params.type) === undefined || p.type === str(params.type)),
        );
        return { body: list(items, params, '/v1/prices', (p) => priceView(p, expand)) };
      },
    },

    // docs.stripe.com/api/billing/meter
    {
      method: 'POST',
      pattern: /^\/v1\/billing\/meters$/,
      resource: 'billing_meters',
      access: 'write',
      accepts: ['display_name', 'event_name', 'default_aggregation', 'customer_mapping', 'value_settings', 'event_time_window'],
      handle: ({ params }) => ({ body: createMeter(params) }),
    },
    {
      method: 'GET',
      pattern: /^\/v1\/billing\/meters$/,
      resource: 'billing_meters',
      access: 'read',
      accepts: ['status', 'limit', 'starting_after', 'ending_before'],
      handle: ({ params }) => {
        const status = str(params.status);
        if (status !== undefined && !['active', 'inactive'].includes(status)) throw invalid(`Invalid status: ${status}`, 'status');
        return { body: list([...state.meters.values()].filter((m) => status === undefined || m.status === status), params, '/v1/billing/meters') };
      },
    },
    { method: 'GET', pattern: new RegExp(`^/v1/billing/meters/${ID}$`), resource: 'billing_meters', access: 'read', accepts: [], handle: (_ctx, id) => ({ body: meterById(id) }) },
    {
      method: 'POST',
      pattern: new RegExp(`^/v1/billing/meters/${ID}$`),
      resource: 'billing_meters',
      access: 'write',
      accepts: ['display_name'],
      handle: ({ params }, id) => {
        const meter = meterById(id);
        const displayName = str(params.display_name);
        if (displayName) meter.display_name = displayName;
        meter.updated = now();
        return { body: meter };
      },
    },
    {
      method: 'POST',
      pattern: new RegExp(`^/v1/billing/meters/${ID}/deactivate$`),
      resource: 'billing_meters',
      access: 'write',
      accepts: [],
      handle: (_ctx, id) => {
        const meter = meterById(id);
        Object.assign(meter, { status: 'inactive', status_transitions: { deactivated_at: now() }, updated: now() });
        return { body: meter };
      },
    },
    {
      method: 'POST',
      pattern: new RegExp(`^/v1/billing/meters/${ID}/reactivate$`),
      resource: 'billing_meters',
      access: 'write',
      accepts: [],
      handle: (_ctx, id) => {
        const meter = meterById(id);
        const other = activeMeterFor(meter.event_name);
        if (other && other.id !== id) throw invalid(`A meter with event_name \`${meter.event_name}\` already exists and is active (approximate).`, 'event_name');
        Object.assign(meter, { status: 'active', status_transitions: { deactivated_at: null }, updated: now() });
        return { body: meter };
      },
    },

    // docs.stripe.com/api/subscriptions
    {
      method: 'POST',
      pattern: /^\/v1\/subscriptions$/,
      resource: 'subscriptions',
      access: 'write',
      accepts: ['customer', 'items', 'discounts', 'automatic_tax', 'billing_cycle_anchor', 'proration_behavior', 'metadata', 'collection_method', 'description', 'payment_behavior'],
      handle: ({ params, expand }) => ({ body: subscriptionView(createSubscription(params), expand) }),
    },
    { method: 'GET', pattern: new RegExp(`^/v1/subscriptions/${ID}$`), resource: 'subscriptions', access: 'read', accepts: [], handle: ({ expand }, id) => ({ body: subscriptionView(subscriptionById(id), expand) }) },
    {
      method: 'POST',
      pattern: new RegExp(`^/v1/subscriptions/${ID}$`),
      resource: 'subscriptions',
      access: 'write',
      accepts: ['items', 'discounts', 'automatic_tax', 'proration_behavior', 'metadata', 'description', 'cancel_at_period_end', 'cancellation_details', 'payment_behavior'],
      handle: ({ params, expand }, id) => ({ body: subscriptionView(updateSubscription(subscriptionById(id), params), expand) }),
    },
    {
      method: 'DELETE',
      pattern: new RegExp(`^/v1/subscriptions/${ID}$`),
      resource: 'subscriptions',
      access: 'write',
      accepts: ['invoice_now', 'prorate', 'cancellation_details'],
      handle: ({ expand }, id) => {
        const sub = subscriptionById(id);
        if (sub.status === 'canceled') throw invalid('This subscription is already canceled (approximate).');
        Object.assign(sub, { status: 'canceled', canceled_at: now(), ended_at: now() });
        return { body: subscriptionView(sub, expand) };
      },
    },
    {
      method: 'GET',
      pattern: /^\/v1\/subscriptions$/,
      resource: 'subscriptions',
      access: 'read',
      accepts: ['customer', 'price', 'status', 'limit', 'starting_after', 'ending_before', 'created', 'collection_method'],
      handle: ({ params, expand }) => {
        const customer = str(params.customer);
        const price = str(params.price);
        const status = str(params.status);
        // docs.stripe.com/api/subscriptions/list: without `status`, canceled subscriptions are left out.
        const items = [...state.subscriptions.values()].filter(
          (s) =>
            (customer === undefined || s.customer === customer) &&
            (price === undefined || s.items.data.some((i: StripeJson) => i.price.id === price)) &&
            (status === 'all' || (status === undefined ? s.status !== 'canceled' : s.status === status)),
        );
        return { body: list(items, params, '/v1/subscriptions', (s) => subscriptionView(s, expand)) };
      },
    },

    // docs.stripe.com/api/invoices/retrieve
    {
      method: 'GET',
      pattern: new RegExp(`^/v1/invoices/${ID}$`),
      resource: 'invoices',
      access: 'read',
      accepts: [],
      handle: (_ctx, id) => {
        const invoice = state.invoices.get(id);
        if (!invoice) throw noSuch('invoice', id);
        return { body: invoice };
      },
    },
    // docs.stripe.com/api/invoices/list
    {
      method: 'GET',
      pattern: /^\/v1\/invoices$/,
      resource: 'invoices',
      access: 'read',
      accepts: ['customer', 'subscription', 'status', 'limit', 'starting_after', 'ending_before', 'created', 'collection_method'],
      handle: ({ params }) => {
        const customer = str(params.customer);
        const subscription = str(params.subscription);
        const status = str(params.status);
        const items = [...state.invoices.values()].filter(
          (i) =>
            (customer === undefined || i.customer === customer) &&
            (subscription === undefined || i.subscription === subscription || i.parent?.subscription_details?.subscription === subscription) &&
            (status === undefined || i.status === status),
        );
        return { body: list(items, params, '/v1/invoices') };
      },
    },

    // docs.stripe.com/api/webhook_endpoints
    {
      method: 'POST',
      pattern: /^\/v1\/webhook_endpoints$/,
      resource: 'webhook_endpoints',
      access: 'write',
      accepts: ['url', 'enabled_events', 'description', 'metadata', 'api_version', 'connect'],
      handle: ({ params }) => {
        const url = requireString(params, 'url');
        if (!/^https?:\/\/[^\s]+$/.test(url)) throw invalid(`Invalid URL: ${url}`, 'url', 'url_invalid');
        const events = arr(params.enabled_events);
        if (!events || events.length === 0) throw missingParam('enabled_events');
        const endpoint: StripeJson = {
          id: newId('we'),
          object: 'webhook_endpoint',
          api_version: str(params.api_version) ?? null,
          application: null,
          created: now(),
          description: str(params.description) ?? null,
          enabled_events: events.map(String),
          livemode: false,
          metadata: mergeMetadata({}, params.metadata),
          // "The endpoint's secret, used to generate webhook signatures. Only returned at creation."
          secret: `whsec_${randomBytes(24).toString('hex')}`,
          status: 'enabled',
          url,
        };
        state.webhookEndpoints.set(endpoint.id, endpoint);
        return { body: endpoint };
      },
    },
    {
      method: 'GET',
      pattern: /^\/v1\/webhook_endpoints$/,
      resource: 'webhook_endpoints',
      access: 'read',
      accepts: ['limit', 'starting_after', 'ending_before'],
      handle: ({ params }) => ({ body: list([...state.webhookEndpoints.values()], params, '/v1/webhook_endpoints', webhookView) }),
    },
    {
      method: 'GET',
      pattern: new RegExp(`^/v1/webhook_endpoints/${ID}$`),
      resource: 'webhook_endpoints',
      access: 'read',
      accepts: [],
      handle: (_ctx, id) => ({ body: webhookView(webhookById(id)) }),
    },
    {
      method: 'POST',
      pattern: new RegExp(`^/v1/webhook_endpoints/${ID}$`),
      resource: 'webhook_endpoints',
      access: 'write',
      accepts: ['url', 'enabled_events', 'description', 'metadata', 'disabled'],
      handle: ({ params }, id) => {
        const endpoint = webhookById(id);
        const url = str(params.url);
        if (url) endpoint.url = url;
        const events = arr(params.enabled_events);
        if (events) endpoint.enabled_events = events.map(String);
        const disabled = bool(params.disabled);
        if (disabled !== undefined) endpoint.status = disabled ? 'disabled' : 'enabled';
        endpoint.metadata = mergeMetadata(endpoint.metadata, params.metadata);
        return { body: webhookView(endpoint) };
      },
    },
    {
      method: 'DELETE',
      pattern: new RegExp(`^/v1/webhook_endpoints/${ID}$`),
      resource: 'webhook_endpoints',
      access: 'write',
      accepts: [],
      handle: (_ctx, id) => {
        webhookById(id);
        state.webhookEndpoints.delete(id);
        return { body: { id, object: 'webhook_endpoint', deleted: true } };
      },
    },

    // docs.stripe.com/api/coupons/retrieve
    { method: 'GET', pattern: new RegExp(`^/v1/coupons/${ID}$`), resource: 'coupons', access: 'read', accepts: [], handle: (_ctx, id) => ({ body: couponById(id) }) },
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
    if (unknownKey(apiKey)) return answer(401, invalidKeyBody(apiKey));
    const forbidden = permissionError(apiKey, route.resource, route.access);
    if (forbidden) return answer(forbidden.status, { error: forbidden.error });
    const faultAt = stub.apiFaults.findIndex((f) => (f.method ?? method) === method && (typeof f.path === 'string' ? f.path === path : f.path.test(path)));
    if (faultAt >= 0) {
      const [fault] = stub.apiFaults.splice(faultAt, 1);
      return answer(fault!.status, {
        error: { type: fault!.error?.type ?? (fault!.status >= 500 ? 'api_error' : 'invalid_request_error'), code: fault!.error?.code, message: fault!.error?.message ?? `Simulated ${fault!.status}.` },
      });
    }
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
      answer(status, body);
    } catch (err) {
      if (err instanceof StripeFakeError) return answer(err.status, { error: err.error });
      answer(500, { error: { type: 'api_error', message: `Stub failure: ${(err as Error).message}` } });
    }
  }

  const server = createServer(async (req, res) => {
    const raw = await readBody(req);
    const url = new URL(req.url ?? '/', 'http://stripe-stub.invalid');
    const method = req.method ?? 'GET';
    const apiKey = (req.headers.authorization ?? '').replace(/^Bearer /, '');
    const idempotencyKey = typeof req.headers['idempotency-key'] === 'string' ? req.headers['idempotency-key'] : null;
    const params = parseForm(method === 'GET' || method === 'DELETE' ? url.search.slice(1) : raw);
    const log: RequestLogEntry = { method, path: url.pathname, apiKey, status: 0, params, idempotencyKey };
    stub.requestLog.push(log);
    if (method === 'POST' && url.pathname === '/v1/billing/meter_events') return meterEvent(new URLSearchParams(raw), apiKey, res, log);
    const extended = unknownKey(apiKey) ? undefined : stub.extensions.map((handle) => handle({ method, path: url.pathname, params, apiKey })).find(Boolean);
    if (extended) return void ((log.status = extended.status), json(res, extended.status, extended.body));
    api(method, url.pathname, raw, apiKey, idempotencyKey, log, res);
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

function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', 'request-id': `req_stub_${Date.now()}`, ...headers });
  res.end(JSON.stringify(body));
}
