/**
 * Subscriptions (docs.stripe.com/api/subscriptions): items `si_…` with the price expanded, discounts from coupons,
 * automatic tax (refused without active Stripe Tax settings, a customer location, or a price tax behavior),
 * billing_cycle_anchor (refused past the next natural billing date), a simplified initial status, update, cancel,
 * list (the refusals' rules are in billing-rules.ts); an update's prorations as `proration_behavior` says (prorations.ts). subscriptionEngine is shared with subscription schedules (subscription-schedules.ts), which create
 * subscriptions the same way when they start.
 */
import { nextNaturalBillingDate, requireTaxReady } from './billing-rules';
import { liveCustomer } from './customers';
import { priceView } from './catalog';
import { discountView, redeemCoupon } from './coupons';
import { prorate } from './prorations';
import type { Fake, Route, StripeJson } from './types';
import { arr, bool, byId, ID, integer, invalid, list, mergeMetadata, missingParam, newId, noSuch, now, obj, requireString, str, type FormObject, type FormValue } from './wire';

/** The subscription machinery: creating, updating and answering subscriptions, shared by routes and schedules. */
export function subscriptionEngine(fake: Fake) {
  const { state } = fake;
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
      return redeemCoupon(state, couponId, `discounts[${i}][coupon]`, { customer, subscription: subscriptionId });
    });
  }

  function automaticTax(param: FormValue | undefined, current: StripeJson['automatic_tax'], customer: StripeJson, items: StripeJson[]) {
    if (param === undefined) return current;
    const enabled = bool(obj(param)?.enabled);
    if (enabled === undefined) throw missingParam('automatic_tax[enabled]');
    if (enabled) requireTaxReady(fake, customer, items.map((i) => i.price as StripeJson));
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
    // The subscription's own default_payment_method comes first, then the customer's (subscription object docs).
    const canPay = Boolean(sub.default_payment_method) || Boolean(customer.invoice_settings?.default_payment_method) || sub.collection_method === 'send_invoice';
    return chargesNow && !deferred && !canPay ? 'incomplete' : 'active';
  }

  function createSubscription(params: FormObject): StripeJson {
    const customerId = requireString(params, 'customer');
    const customer = liveCustomer(state, customerId);
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
    // docs.stripe.com/billing/subscriptions/billing-cycle: the anchor cannot be later than the next natural billing
    // date (the subscription starts now; a later start is a subscription schedule). Message approximate.
    const natural = nextNaturalBillingDate(now(), interval, prices[0]!.price.recurring.interval_count ?? 1);
    if (anchor !== undefined && anchor > natural + 60) {
      throw invalid(`billing_cycle_anchor cannot be later than next natural billing date (${natural}) for plan (approximate).`, 'billing_cycle_anchor');
    }
    // docs.stripe.com/api/subscriptions/create `trial_period_days` ("integer representing the number of trial period
    // days before the customer is charged for the first time", at most 730): status `trialing`, the first period is the
    // trial, and the billing cycle starts when it ends (docs.stripe.com/billing/subscriptions/trials).
    const trialDays = integer(params.trial_period_days, 'trial_period_days', 0);
    if (trialDays !== undefined && trialDays > 730) throw invalid('trial_period_days must be at most 730 (approximate).', 'trial_period_days');
    const trialEnd = trialDays ? now() + trialDays * 86_400 : null;
    const periodEnd = trialEnd ?? anchor ?? now() + periodSeconds[interval]!;
    const items = prices.map((p, i) => newItem(id, p.price, p.quantity, i, periodEnd));
    checkItems(items);
    const sub: StripeJson = {
      id,
      object: 'subscription',
      application: null,
      automatic_tax: automaticTax(params.automatic_tax, { disabled_reason: null, enabled: false, liability: null }, customer, items),
      billing_cycle_anchor: trialEnd ?? anchor ?? now(),
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
      schedule: null,
      start_date: now(),
      status: 'active',
      trial_end: trialEnd,
      trial_start: trialEnd ? now() : null,
    };
    sub.status = trialEnd ? 'trialing' : initialStatus(sub, customer, proration);
    state.subscriptions.set(id, sub);
    return sub;
  }

  function updateSubscription(sub: StripeJson, params: FormObject): StripeJson {
    if (sub.status === 'canceled' || sub.status === 'incomplete_expired') {
      const allowed = Object.keys(params).every((k) => ['metadata', 'cancellation_details', 'expand'].includes(k));
      if (!allowed) throw invalid('A canceled subscription can only update its cancellation_details and metadata.');
    }
    const proration = prorationBehavior(params);
    const before: StripeJson[] = sub.items.data;
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
    if (params.items !== undefined) prorate(fake, sub, before, proration);
    sub.discounts = discountsFrom(params.discounts, sub.id, sub.customer) ?? sub.discounts;
    sub.automatic_tax = automaticTax(params.automatic_tax, sub.automatic_tax, liveCustomer(state, sub.customer), items);
    sub.metadata = mergeMetadata(sub.metadata, params.metadata);
    const description = str(params.description);
    if (description !== undefined) sub.description = description || null;
    const cancelAtPeriodEnd = bool(params.cancel_at_period_end);
    // docs.stripe.com/api/subscriptions/object `cancel_at`: set to the period's end while cancel_at_period_end is true.
    if (cancelAtPeriodEnd !== undefined) Object.assign(sub, { cancel_at_period_end: cancelAtPeriodEnd, cancel_at: cancelAtPeriodEnd ? periodEnd : null });
    return sub;
  }

  const subscriptionView = (sub: StripeJson, expand: string[]): StripeJson => ({
    ...sub,
    discounts: expand.some((e) => /^(data\.)?discounts(\.|$)/.test(e)) ? sub.discounts.map((d: StripeJson) => discountView(state, d, expand)) : sub.discounts.map((d: StripeJson) => d.id),
    items: {
      ...sub.items,
      data: sub.items.data.map((item: StripeJson) => ({ ...item, price: priceView(state.prices.get(item.price.id) ?? item.price, expand) })),
    },
    // docs.stripe.com/api/subscriptions/object#subscription_object-default_payment_method: expandable.
    default_payment_method: expand.includes('default_payment_method') && sub.default_payment_method ? (state.paymentMethods.get(sub.default_payment_method) ?? sub.default_payment_method) : sub.default_payment_method,
  });
  return { createSubscription, updateSubscription, subscriptionView, activePrice, checkItems, discountsFrom };
}

/** The routes of subscription. */
export function subscriptionRoutes(fake: Fake): Route[] {
  const { createSubscription, updateSubscription, subscriptionView } = subscriptionEngine(fake);
  const subscriptionById = byId(fake.state.subscriptions, 'subscription');
  const { state } = fake;

  return [
  // docs.stripe.com/api/subscriptions
  {
    method: 'POST',
    pattern: /^\/v1\/subscriptions$/,
    resource: 'subscriptions',
    access: 'write',
    accepts: ['customer', 'items', 'discounts', 'automatic_tax', 'billing_cycle_anchor', 'proration_behavior', 'metadata', 'collection_method', 'description', 'payment_behavior', 'trial_period_days'],
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
  ];
}
