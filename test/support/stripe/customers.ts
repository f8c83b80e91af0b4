/**
 * Customers (docs.stripe.com/api/customers): create, retrieve (a deleted one answers `{ id, deleted: true }`;
 * `tax` when expanded), update (with `address` and `tax[validate_location]`), delete (which cancels its subscriptions, as Stripe does), list with `email`, and search with
 * `email:'…'` / `name~'…'` clauses (docs.stripe.com/search#search-query-language).
 */
import { randomBytes } from 'node:crypto';
import { requireAttachedPaymentMethod, withDefaultPaymentMethod } from './checkout-setup';
import type { Fake, Route, StripeFakeState, StripeJson } from './types';
import { byId, ID, invalid, list, mergeMetadata, missingParam, newId, noSuch, now, obj, requireString, str, type FormObject, type FormValue } from './wire';

/** The routes of customer. */
export function customerRoutes({ stub, state }: Fake): Route[] {
  const CUSTOMER_FIELDS = ['name', 'email', 'description', 'phone', 'metadata', 'invoice_settings', 'address', 'tax'];

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
    if (pm !== undefined) requireAttachedPaymentMethod(state, customer.id, pm);
    if (pm !== undefined) customer.invoice_settings = { ...customer.invoice_settings, default_payment_method: pm || null };
    if (params.address !== undefined) customer.address = addressFrom(params.address);
    const validate = str(obj(params.tax)?.validate_location);
    if (validate !== undefined && !['auto', 'deferred', 'immediately'].includes(validate)) {
      throw invalid(`Invalid tax[validate_location]: must be one of auto, deferred, or immediately`, 'tax[validate_location]');
    }
    // docs.stripe.com/tax/customer-locations: `tax[validate_location]=immediately` refuses a location Stripe Tax cannot
    // recognise, with code `customer_tax_location_invalid` (docs.stripe.com/error-codes); the message is approximate.
    if (validate === 'immediately' && taxLocation(customer) === null) {
      throw invalid(
        "The customer's location isn't recognized: set address[country] and address[postal_code] (approximate).",
        'address',
        'customer_tax_location_invalid',
      );
    }
  }

  /** docs.stripe.com/api/customers/object#customer_object-address: every field a string or null; '' unsets the address. */
  function addressFrom(param: FormValue): StripeJson['address'] {
    if (param === '') return null;
    const given = obj(param);
    if (!given) throw invalid('Invalid address: must be an object.', 'address');
    const fields = ['city', 'country', 'line1', 'line2', 'postal_code', 'state'] as const;
    const unknown = Object.keys(given).find((k) => !(fields as readonly string[]).includes(k));
    if (unknown) throw invalid(`Received unknown parameter: address[${unknown}]`, `address[${unknown}]`, 'parameter_unknown');
    const country = str(given.country);
    if (country && !/^[A-Z]{2}$/.test(country)) throw invalid(`Country '${country}' is unknown. Try using a 2-character alphanumeric country code instead, such as 'US', 'EG', or 'GB'. (approximate)`, 'address[country]');
    return Object.fromEntries(fields.map((f) => [f, str(given[f]) || null]));
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
    accepts: [...CUSTOMER_FIELDS, 'payment_method'],
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
      // `payment_method` on create attaches it to the new customer (docs.stripe.com/api/customers/create). Stripe's
      // test tokens (`pm_card_visa`, `pm_card_chargeDeclined`: docs.stripe.com/testing) are accepted as cards; the
      // double keeps the token as the card's id (Stripe makes a new pm_ id), so a test can name it as the default.
      const token = str(params.payment_method);
      if (token !== undefined) attachTestCard(state, token, customer.id);
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
    handle: ({ expand }, id) => {
      const customer = customerById(id);
      return { body: customer.deleted ? { id, object: 'customer', deleted: true } : withDefaultPaymentMethod(state, customerView(customer, expand), expand) };
    },
  },
  {
    method: 'POST',
    pattern: new RegExp(`^/v1/customers/${ID}$`),
    resource: 'customers',
    access: 'write',
    accepts: CUSTOMER_FIELDS,
    handle: ({ params, expand }, id) => {
      const customer = customerById(id);
      if (customer.deleted) throw noSuch('customer', id);
      // A refused update (an invalid email, a location Stripe Tax cannot use) changes nothing: apply to a copy first.
      const next = structuredClone(customer);
      applyCustomer(next, params);
      Object.assign(customer, next);
      return { body: withDefaultPaymentMethod(state, customerView(customer, expand), expand) };
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

/**
 * The customer's tax location as Stripe Tax reads it from the billing address (docs.stripe.com/tax/customer-locations:
 * "Collect and set both the country and the postal_code"), or null when it has neither or only one. The double
 * ignores the shipping address, payment-method details and IP geolocation Stripe may also use.
 */
export function taxLocation(customer: StripeJson): { country: string; postal_code: string } | null {
  const address = customer.address as { country?: string | null; postal_code?: string | null } | null;
  return address?.country && address.postal_code ? { country: address.country, postal_code: address.postal_code } : null;
}

/**
 * The customer as answered: `tax` only when expanded (docs.stripe.com/api/customers/object#customer_object-tax,
 * "expandable"): `automatic_tax` is `supported` with a recognised location, else `unrecognized_location`.
 */
function customerView(customer: StripeJson, expand: string[]): StripeJson {
  if (!expand.includes('tax')) return customer;
  const location = taxLocation(customer);
  return {
    ...customer,
    tax: {
      automatic_tax: location ? 'supported' : 'unrecognized_location',
      ip_address: null,
      location: location ? { country: location.country, source: 'billing_address', state: customer.address?.state ?? null } : null,
    },
  };
}

/** The customer `id` if it exists and is not deleted; else 400 "No such customer" naming `param`. */
export function liveCustomer(state: StripeFakeState, id: string, param = 'customer'): StripeJson {
  const customer = state.customers.get(id);
  if (!customer || customer.deleted) throw noSuch('customer', id, param, 400);
  return customer;
}

/**
 * Attaches a card to a customer: a known PaymentMethod, or one of Stripe's `pm_card_*` test tokens.
 * @throws Stripe's 400 `resource_missing` for anything else.
 */
export function attachTestCard(state: StripeFakeState, id: string, customerId: string): void {
  const known = state.paymentMethods.get(id);
  if (known) {
    known.customer = customerId;
    return;
  }
  if (!/^pm_card_[A-Za-z]+$/.test(id)) throw noSuch('PaymentMethod', id, 'payment_method', 400);
  const brand = /mastercard/i.test(id) ? 'mastercard' : /amex/i.test(id) ? 'amex' : 'visa';
  state.paymentMethods.set(id, {
    id,
    object: 'payment_method',
    billing_details: { address: null, email: null, name: null, phone: null },
    card: { brand, country: 'US', exp_month: 12, exp_year: new Date().getUTCFullYear() + 3, funding: 'credit', last4: brand === 'amex' ? '0005' : '4242' },
    created: now(),
    customer: customerId,
    livemode: false,
    metadata: {},
    type: 'card',
  });
}
