/**
 * Customers (docs.stripe.com/api/customers): create, retrieve (a deleted one answers `{ id, deleted: true }`),
 * update, delete (which cancels its subscriptions, as Stripe does), list with `email`, and search with
 * `email:'…'` / `name~'…'` clauses (docs.stripe.com/search#search-query-language).
 */
import { randomBytes } from 'node:crypto';
import type { Fake, Route, StripeFakeState, StripeJson } from './types';
import { byId, ID, invalid, list, mergeMetadata, missingParam, newId, noSuch, now, obj, requireString, str, type FormObject } from './wire';

/** The routes of customer. */
export function customerRoutes({ stub, state }: Fake): Route[] {
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

  const customerById = byId(state.customers, 'customer');

  return [
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
  ];
}

/** The customer `id` if it exists and is not deleted; else 400 "No such customer" naming `param`. */
export function liveCustomer(state: StripeFakeState, id: string, param = 'customer'): StripeJson {
  const customer = state.customers.get(id);
  if (!customer || customer.deleted) throw noSuch('customer', id, param, 400);
  return customer;
}
