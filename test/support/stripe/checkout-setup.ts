/**
 * Saving a card the way Stripe's hosted pages do it: Checkout Sessions in `setup` mode
 * (docs.stripe.com/api/checkout/sessions/create, docs.stripe.com/payments/save-and-reuse?platform=checkout) — and
 * paying once in `payment` mode (docs.stripe.com/payments/checkout/how-checkout-works: `line_items` required, each a
 * `price` or inline `price_data` {currency, unit_amount, product_data.name} with a `quantity`; `amount_total` and
 * `currency` from them; `payment_status` `unpaid` until the client pays, then `paid` with the session's
 * `payment_intent`, docs.stripe.com/api/checkout/sessions/object) — the
 * SetupIntent a completed session holds (docs.stripe.com/api/setup_intents/object) and card PaymentMethods
 * (docs.stripe.com/api/payment_methods: retrieve, attach, list a customer's). `completeCheckoutSession` plays the
 * client on the hosted page. Refusals follow Stripe's rules; messages marked "approximate" are the double's wording.
 */
import type { Fake, Route, StripeJson } from './types';
import { arr, byId, ID, integer, invalid, list, mergeMetadata, missingParam, newId, noSuch, now, obj, requireString, str, type FormObject } from './wire';
import { attachTestCard, liveCustomer } from './customers';
import { chargeCard } from './payment-intents';

/** The Checkout, SetupIntent and PaymentMethod routes, and the hosted page's completion. */
export function checkoutSetupRoutes({ state }: Fake) {
  const sessionById = byId(state.checkoutSessions, 'checkout.session');
  const paymentMethodById = byId(state.paymentMethods, 'payment_method');

  /** A session as answered: `setup_intent` and `setup_intent.payment_method` expandable. */
  /** An open session past its `expires_at` has expired (docs: "the session expires … at expires_at"). */
  function lapse(session: StripeJson): StripeJson {
    if (session.status === 'open' && session.expires_at <= now()) session.status = 'expired';
    return session;
  }

  function sessionView(stored: StripeJson, expand: string[]): StripeJson {
    lapse(stored);
    // `payment_intent_metadata` is the double's own note of `payment_intent_data.metadata`: never answered.
    const { payment_intent_metadata: _kept, ...session } = stored;
    if (expand.includes('payment_intent') && session.payment_intent) return { ...session, payment_intent: state.paymentIntents.get(session.payment_intent) };
    if (!session.setup_intent || !expand.some((e) => e === 'setup_intent' || e.startsWith('setup_intent.'))) return session;
    const intent = state.setupIntents.get(session.setup_intent)!;
    const pm = expand.includes('setup_intent.payment_method') && intent.payment_method ? state.paymentMethods.get(intent.payment_method) : intent.payment_method;
    return { ...session, setup_intent: { ...intent, payment_method: pm } };
  }

  /** Payment mode's `line_items`: the total in cents and the one currency they share. @throws StripeFakeError 400. */
  function paymentLines(p: FormObject): { amountTotal: number; currency: string } {
    const items = arr(p.line_items);
    if (!items?.length) throw invalid('`line_items` is required in `payment` mode (approximate).', 'line_items', 'parameter_missing');
    let amountTotal = 0;
    const currencies = new Set<string>();
    items.forEach((raw, i) => {
      const item = obj(raw) ?? {};
      const quantity = integer(item.quantity, `line_items[${i}][quantity]`, 1);
      if (quantity === undefined) throw missingParam(`line_items[${i}][quantity]`);
      const priceId = str(item.price);
      const data = obj(item.price_data);
      if (priceId) {
        const price = state.prices.get(priceId);
        if (!price) throw noSuch('price', priceId, `line_items[${i}][price]`, 400);
        amountTotal += price.unit_amount * quantity;
        currencies.add(price.currency);
      } else if (data) {
        const currency = str(data.currency);
        if (!currency) throw missingParam(`line_items[${i}][price_data][currency]`);
        if (!str(obj(data.product_data)?.name) && !str(data.product)) throw missingParam(`line_items[${i}][price_data][product_data][name]`);
        const unit = integer(data.unit_amount, `line_items[${i}][price_data][unit_amount]`, 0);
        if (unit === undefined) throw missingParam(`line_items[${i}][price_data][unit_amount]`);
        amountTotal += unit * quantity;
        currencies.add(currency);
      } else {
        throw invalid(`You must specify either price or price_data in line_items[${i}] (approximate).`, `line_items[${i}]`);
      }
    });
    if (currencies.size !== 1) throw invalid('All line items must share one currency (approximate).', 'line_items');
    return { amountTotal, currency: [...currencies][0]! };
  }

  function createSession(p: FormObject): StripeJson {
    const mode = str(p.mode);
    if (!mode) throw missingParam('mode');
    if (mode !== 'setup' && mode !== 'payment') throw invalid(`The double supports mode=setup and mode=payment, not ${mode}.`, 'mode');
    if (mode === 'setup' && p.line_items !== undefined) throw invalid('You can not pass `line_items` in `setup` mode.', 'line_items');
    if (mode === 'setup' && p.payment_intent_data !== undefined) throw invalid('You can not pass `payment_intent_data` in `setup` mode (approximate).', 'payment_intent_data');
    const payment = mode === 'payment' ? paymentLines(p) : null;
    const uiMode = str(p.ui_mode) ?? 'hosted';
    const successUrl = str(p.success_url);
    if (uiMode === 'hosted' && !successUrl) throw missingParam('success_url');
    const types = arr(p.payment_method_types);
    const currency = str(p.currency);
    // docs.stripe.com/api/checkout/sessions/create `currency`: "Required in setup mode when payment_method_types is not set."
    if (!payment && !types && !currency) throw invalid('currency is required in setup mode when payment_method_types is not set (approximate).', 'currency', 'parameter_missing');
    const customer = str(p.customer);
    if (customer) liveCustomer(state, customer);
    const id = newId('cs_test');
    const created = now();
    const expiresAt = integer(p.expires_at, 'expires_at') ?? created + 24 * 3600;
    // docs: expires_at "can be anywhere from 30 minutes to 24 hours after Checkout Session creation".
    if (expiresAt < created + 1800 || expiresAt > created + 24 * 3600) throw invalid('expires_at must be between 30 minutes and 24 hours from now (approximate).', 'expires_at');
    const session: StripeJson = {
      id,
      object: 'checkout.session',
      amount_total: payment?.amountTotal ?? null,
      payment_intent: null,
      payment_intent_metadata: payment ? mergeMetadata({}, obj(p.payment_intent_data)?.metadata) : undefined,
      cancel_url: str(p.cancel_url) ?? null,
      client_reference_id: str(p.client_reference_id) ?? null,
      created,
      currency: payment?.currency ?? currency ?? null,
      customer: customer ?? null,
      expires_at: expiresAt,
      livemode: false,
      metadata: mergeMetadata({}, p.metadata),
      mode,
      payment_method_types: (types ?? ['card']).map(String),
      payment_status: payment ? 'unpaid' : 'no_payment_required',
      setup_intent: null,
      status: 'open',
      success_url: successUrl ?? null,
      ui_mode: uiMode,
      url: uiMode === 'hosted' ? `https://checkout.stripe.com/c/pay/${id}` : null,
    };
    state.checkoutSessions.set(id, session);
    return session;
  }

  /** docs.stripe.com/api/payment_methods/attach: a payment method belongs to one customer at a time. */
  function attach(pm: StripeJson, customerId: string): StripeJson {
    liveCustomer(state, customerId);
    if (pm.customer && pm.customer !== customerId) {
      throw invalid(`The payment method you provided has already been attached to a customer (approximate).`, 'payment_method');
    }
    pm.customer = customerId;
    return pm;
  }

  function completeCheckoutSession(sessionId: string, card: Partial<{ brand: string; last4: string; exp_month: number; exp_year: number }> = {}): StripeJson {
    const session = sessionById(sessionId);
    if (session.status !== 'open') throw new Error(`checkout session ${sessionId} is ${session.status}, not open`);
    if (session.expires_at < now()) throw new Error(`checkout session ${sessionId} has expired`);
    const nextYear = new Date().getUTCFullYear() + 3;
    const pm: StripeJson = {
      id: newId('pm'),
      object: 'payment_method',
      billing_details: { address: null, email: null, name: null, phone: null },
      card: { brand: card.brand ?? 'visa', country: 'US', exp_month: card.exp_month ?? 12, exp_year: card.exp_year ?? nextYear, funding: 'credit', last4: card.last4 ?? '4242' },
      created: now(),
      customer: null,
      livemode: false,
      metadata: {},
      type: 'card',
    };
    state.paymentMethods.set(pm.id, pm);
    if (session.customer) attach(pm, session.customer);
    if (session.mode === 'payment') {
      const paid = chargeCard(state, { customer: session.customer, amount: session.amount_total, currency: session.currency, paymentMethod: pm.id, metadata: session.payment_intent_metadata });
      Object.assign(session, { status: 'complete', payment_status: 'paid', payment_intent: paid.id });
      return session;
    }
    const intent: StripeJson = {
      id: newId('seti'),
      object: 'setup_intent',
      created: now(),
      customer: session.customer,
      livemode: false,
      metadata: {},
      payment_method: pm.id,
      status: 'succeeded',
      usage: 'off_session',
    };
    state.setupIntents.set(intent.id, intent);
    Object.assign(session, { status: 'complete', setup_intent: intent.id });
    return session;
  }

  const routes: Route[] = [
    {
      method: 'POST',
      pattern: /^\/v1\/checkout\/sessions$/,
      resource: 'checkout_sessions',
      access: 'write',
      accepts: ['mode', 'customer', 'currency', 'success_url', 'cancel_url', 'payment_method_types', 'client_reference_id', 'metadata', 'setup_intent_data', 'payment_intent_data', 'line_items', 'ui_mode', 'expires_at', 'locale'],
      handle: ({ params }) => ({ body: sessionView(createSession(params), []) }),
    },
    { method: 'GET', pattern: new RegExp(`^/v1/checkout/sessions/${ID}$`), resource: 'checkout_sessions', access: 'read', accepts: [], handle: ({ expand }, id) => ({ body: sessionView(sessionById(id), expand) }) },
    {
      // docs.stripe.com/api/checkout/sessions/list: filter by `customer` / `status`, newest first.
      method: 'GET',
      pattern: /^\/v1\/checkout\/sessions$/,
      resource: 'checkout_sessions',
      access: 'read',
      accepts: ['customer', 'status', 'limit', 'starting_after', 'ending_before'],
      handle: ({ params }) => {
        for (const session of state.checkoutSessions.values()) lapse(session);
        const items = [...state.checkoutSessions.values()].filter((c) => (!params.customer || c.customer === params.customer) && (!params.status || c.status === params.status));
        return { body: list(items, params, '/v1/checkout/sessions', (c) => sessionView(c, [])) };
      },
    },
    {
      // docs.stripe.com/api/checkout/sessions/expire: "A Checkout Session can be expired when it is in one of these statuses: open".
      method: 'POST',
      pattern: new RegExp(`^/v1/checkout/sessions/${ID}/expire$`),
      resource: 'checkout_sessions',
      access: 'write',
      accepts: [],
      handle: (_ctx, id) => {
        const session = lapse(sessionById(id));
        if (session.status !== 'open') throw invalid(`Only Checkout Sessions with a status in ["open"] can be expired. This Checkout Session has a status of "${session.status}" (approximate).`);
        session.status = 'expired';
        return { body: sessionView(session, []) };
      },
    },
    {
      method: 'GET',
      pattern: new RegExp(`^/v1/setup_intents/${ID}$`),
      resource: 'setup_intents',
      access: 'read',
      accepts: [],
      handle: ({ expand }, id) => {
        const intent = byId(state.setupIntents, 'setupintent')(id);
        return { body: expand.includes('payment_method') && intent.payment_method ? { ...intent, payment_method: state.paymentMethods.get(intent.payment_method) } : intent };
      },
    },
    { method: 'GET', pattern: new RegExp(`^/v1/payment_methods/${ID}$`), resource: 'payment_methods', access: 'read', accepts: [], handle: (_ctx, id) => ({ body: paymentMethodById(id) }) },
    {
      method: 'POST',
      pattern: new RegExp(`^/v1/payment_methods/${ID}/attach$`),
      resource: 'payment_methods',
      access: 'write',
      accepts: ['customer'],
      handle: ({ params }, id) => {
        const customer = requireString(params, 'customer');
        // A `pm_card_*` test token (docs.stripe.com/testing) becomes a card of the customer.
        if (!state.paymentMethods.has(id) && /^pm_card_[A-Za-z]+$/.test(id)) attachTestCard(state, id, customer);
        return { body: attach(paymentMethodById(id), customer) };
      },
    },
    {
      method: 'GET',
      pattern: new RegExp(`^/v1/customers/${ID}/payment_methods$`),
      resource: 'payment_methods',
      access: 'read',
      accepts: ['type', 'limit', 'starting_after', 'ending_before'],
      handle: ({ params }, id) => {
        liveCustomer(state, id, 'customer');
        const type = str(params.type);
        const items = [...state.paymentMethods.values()].filter((pm) => pm.customer === id && (!type || pm.type === type));
        return { body: list(items, params, `/v1/customers/${id}/payment_methods`) };
      },
    },
  ];
  return { routes, completeCheckoutSession };
}

/**
 * docs.stripe.com/api/customers/update `invoice_settings.default_payment_method`: it must be a payment method attached
 * to this customer; else 400 `resource_missing` (message approximate). '' clears it.
 */
export function requireAttachedPaymentMethod(state: Fake['state'], customerId: string, pmId: string): void {
  if (pmId === '') return;
  const pm = state.paymentMethods.get(pmId);
  if (!pm) throw noSuch('PaymentMethod', pmId, 'invoice_settings[default_payment_method]', 400);
  if (pm.customer !== customerId) {
    throw invalid(`The customer does not have a payment method with the ID ${pmId}. The payment method must be attached to the customer.`, 'invoice_settings[default_payment_method]', 'resource_missing');
  }
}

/** The customer's default payment method expanded (`expand[]=invoice_settings.default_payment_method`). */
export function withDefaultPaymentMethod(state: Fake['state'], customer: StripeJson, expand: string[]): StripeJson {
  const id = customer.invoice_settings?.default_payment_method;
  if (!expand.includes('invoice_settings.default_payment_method') || typeof id !== 'string') return customer;
  return { ...customer, invoice_settings: { ...customer.invoice_settings, default_payment_method: state.paymentMethods.get(id) ?? id } };
}
