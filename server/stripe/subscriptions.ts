/**
 * A sub-account's Stripe subscription, kept in line with the prices in force: metered usage prices (billed in
 * arrears from meter events) and optionally a licensed flat-fee price (docs.stripe.com/api/subscriptions).
 */
import type Stripe from 'stripe';
import { AppError, badRequest } from '../http/errors';
import { isResourceMissing, stripeStatus } from './stripe-errors';

/** The subscription Meterbridge wants for a customer. */
export interface SubscriptionInput {
  /** `cus_…` */
  customerId: string;
  /** The subscription Meterbridge made before, or null to make one. */
  subscriptionId: string | null;
  /** Desired price ids (`price_…`), duplicates ignored; 1–20 (Stripe's item limit). */
  prices: string[];
  /**
   * Coupon id for a subscription discount. On create: applied when given. On update: undefined leaves discounts
   * as they are (an agency may add its own in Stripe); a string makes it the only discount; null removes discounts.
   */
  coupon?: string | null;
  /**
   * Stripe Tax (docs.stripe.com/tax/subscriptions); undefined leaves it as it is (off on create). Its prerequisites
   * (server/stripe/tax.ts) are the caller's to check. A start in the future is not a subscription but a schedule
   * (server/stripe/subscription-schedules.ts).
   */
  automaticTax?: boolean;
  /** Set on the subscription; on update only keys whose value differs are sent (other keys are left alone). */
  metadata: Record<string, string>;
  /**
   * How an update is prorated (docs.stripe.com/api/subscriptions/update#update_subscription-proration_behavior);
   * default 'none'. Not used on create.
   */
  prorationBehavior?: 'create_prorations' | 'none' | 'always_invoice';
  /**
   * Days of free trial of a NEW subscription (docs.stripe.com/api/subscriptions/create `trial_period_days`; Stripe
   * invoices nothing until the trial ends, docs.stripe.com/billing/subscriptions/trials). Not used on update: a running
   * subscription keeps its billing.
   */
  trialPeriodDays?: number | null;
  /** Optional idempotency key for the create call (docs.stripe.com/api/idempotent_requests). */
  idempotencyKey?: string;
}

/** The subscription after the call: its items (`si_…` with their `price_…`) and Stripe's status. */
export interface SubscriptionState {
  subscriptionId: string;
  items: Array<{ id: string; priceId: string }>;
  /** docs.stripe.com/api/subscriptions/object#subscription_object-status, e.g. 'active', 'incomplete'. */
  status: Stripe.Subscription.Status;
  /** Whether Stripe Tax is on (`automatic_tax.enabled`; Stripe may turn it off itself, docs.stripe.com/tax/customer-locations). */
  automaticTax: boolean;
}

/** Statuses after which a subscription can no longer change (docs.stripe.com/billing/subscriptions/overview). */
const ENDED = new Set<string>(['canceled', 'incomplete_expired']);

/**
 * Creates the subscription, or brings an existing one in line with `input` in at most one update:
 * - no `subscriptionId`, or it has ended (canceled, incomplete_expired): the live one we made earlier for this
 *   sub-account if Stripe has it (`madeEarlier`), else subscriptions.create with one item per price
 *   (docs.stripe.com/api/subscriptions/create);
 * - otherwise subscriptions.retrieve (docs.stripe.com/api/subscriptions/retrieve), then the difference: items whose
 *   price is not desired (or repeat a price) are deleted (`items[][id]` + `deleted`), missing prices are added
 *   (`items[][price]`), the rest is kept untouched; plus coupon, automatic tax and metadata changes. One
 *   subscriptions.update with `proration_behavior` as asked (default 'none') (docs.stripe.com/api/subscriptions/update) — or no call
 *   at all when nothing differs. Quantities are never sent: metered prices take none, licensed ones default to 1.
 *
 * @returns the subscription as Stripe answered it (items in Stripe's order).
 * @throws AppError 400 `invalid_subscription_prices` for no prices or more than 20.
 * @throws AppError 409 `subscription_customer_mismatch` when `subscriptionId` belongs to another customer.
 * @throws the stripe-node error (Stripe's message) when Stripe refuses a call (e.g. an unknown or archived price,
 *   prices of different currencies or intervals, an unknown coupon, an unknown subscription id).
 */
export async function upsertSubscription(stripe: Stripe, input: SubscriptionInput): Promise<SubscriptionState> {
  const desired = [...new Set(input.prices)];
  if (desired.length === 0 || desired.length > 20) {
    throw badRequest('invalid_subscription_prices', 'A subscription needs between 1 and 20 prices.');
  }

  if (input.subscriptionId) {
    const current = await stripe.subscriptions.retrieve(input.subscriptionId, { expand: ['discounts'] });
    if (!ENDED.has(current.status)) return reconcile(stripe, current, desired, input);
  }
  const made = await madeEarlier(stripe, input);
  if (made) return reconcile(stripe, made, desired, input);

  const params: Stripe.SubscriptionCreateParams = {
    customer: input.customerId,
    items: desired.map((price) => ({ price })),
    metadata: input.metadata,
  };
  if (input.coupon) params.discounts = [{ coupon: input.coupon }];
  if (input.automaticTax !== undefined) params.automatic_tax = { enabled: input.automaticTax };
  if (input.trialPeriodDays) params.trial_period_days = input.trialPeriodDays;
  const created = await stripe.subscriptions.create(params, input.idempotencyKey ? { idempotencyKey: input.idempotencyKey } : undefined);
  return stateOf(created, created.items.data);
}

/**
 * A live subscription of the customer carrying our `meterbridge_location_id` that we have no record of: one made by a
 * change whose local write was rolled back (server/audit/audited.ts), or whose answer was lost. It is brought in line
 * instead of creating a second one, so a retried change never bills the client twice. Listed with
 * docs.stripe.com/api/subscriptions/list (`customer`; canceled ones are left out), newest 100.
 */
async function madeEarlier(stripe: Stripe, input: SubscriptionInput): Promise<Stripe.Subscription | null> {
  const locationId = input.metadata?.meterbridge_location_id;
  if (!locationId) return null;
  const listed = await stripe.subscriptions.list({ customer: input.customerId, limit: 100, expand: ['data.discounts'] });
  return listed.data.find((s) => s.metadata?.meterbridge_location_id === locationId && !ENDED.has(s.status)) ?? null;
}

async function reconcile(stripe: Stripe, current: Stripe.Subscription, desired: string[], input: SubscriptionInput): Promise<SubscriptionState> {
  const customer = typeof current.customer === 'string' ? current.customer : current.customer.id;
  if (customer !== input.customerId) {
    throw new AppError(
      'subscription_customer_mismatch',
      `Subscription ${current.id} belongs to customer ${customer}, not ${input.customerId}; cancel it before subscribing the new customer.`,
    );
  }
  const items = await allItems(stripe, current);
  const kept = new Set<string>();
  const changes: Stripe.SubscriptionUpdateParams.Item[] = [];
  for (const item of items) {
    if (desired.includes(item.price.id) && !kept.has(item.price.id)) kept.add(item.price.id);
    else changes.push({ id: item.id, deleted: true });
  }
  for (const price of desired) if (!kept.has(price)) changes.push({ price });

  const params: Stripe.SubscriptionUpdateParams = {};
  if (changes.length > 0) params.items = changes;
  if (input.coupon !== undefined) {
    const coupons = current.discounts.map(couponOf);
    const wanted = input.coupon ? [input.coupon] : [];
    if (coupons.length !== wanted.length || coupons.some((c, i) => c !== wanted[i])) {
      params.discounts = input.coupon ? [{ coupon: input.coupon }] : '';
    }
  }
  if (input.automaticTax !== undefined && current.automatic_tax.enabled !== input.automaticTax) {
    params.automatic_tax = { enabled: input.automaticTax };
  }
  const metadata = Object.fromEntries(Object.entries(input.metadata).filter(([k, v]) => current.metadata[k] !== v));
  if (Object.keys(metadata).length > 0) params.metadata = metadata;

  // Set to end when rebilling was switched off, and synced again while rebilling is on: it goes on.
  if (current.cancel_at_period_end) params.cancel_at_period_end = false;
  if (Object.keys(params).length === 0) return stateOf(current, items);
  params.proration_behavior = input.prorationBehavior ?? 'none';
  const updated = await stripe.subscriptions.update(current.id, params);
  return stateOf(updated, updated.items.has_more ? await allItems(stripe, updated) : updated.items.data);
}

/** Every item: the embedded list, or subscriptionItems.list when it has more (docs.stripe.com/api/subscription_items/list). */
async function allItems(stripe: Stripe, sub: Stripe.Subscription): Promise<Stripe.SubscriptionItem[]> {
  if (!sub.items.has_more) return sub.items.data;
  const items: Stripe.SubscriptionItem[] = [];
  for await (const item of stripe.subscriptionItems.list({ subscription: sub.id, limit: 100 })) items.push(item);
  return items;
}

/** The coupon id of a discount (`discounts` expanded; docs.stripe.com/api/discounts/object `source.coupon`). */
function couponOf(discount: string | Stripe.Discount): string | null {
  if (typeof discount === 'string') return null;
  const coupon = discount.source?.coupon;
  return typeof coupon === 'string' ? coupon : (coupon?.id ?? null);
}

function stateOf(sub: Stripe.Subscription, items: Stripe.SubscriptionItem[]): SubscriptionState {
  return {
    subscriptionId: sub.id,
    items: items.map((i) => ({ id: i.id, priceId: i.price.id })),
    status: sub.status,
    automaticTax: sub.automatic_tax?.enabled ?? false,
  };
}

/**
 * Ends the subscription at the end of its current period (docs.stripe.com/api/subscriptions/update
 * `cancel_at_period_end`): nothing more is charged after the period already invoiced; its metered usage so far is
 * on the final invoice. A subscription already set so, or already ended, is left as it is.
 * @returns whether it is set to end, and when (Unix seconds; null if Stripe does not say).
 * @throws the stripe-node error (Stripe's message).
 */
export async function endAtPeriodEnd(stripe: Stripe, id: string): Promise<{ endsAt: number | null }> {
  const current = await stripe.subscriptions.retrieve(id);
  if (ENDED.has(current.status)) return { endsAt: current.ended_at ?? null };
  const sub = current.cancel_at_period_end ? current : await stripe.subscriptions.update(id, { cancel_at_period_end: true });
  return { endsAt: sub.cancel_at ?? sub.items.data[0]?.current_period_end ?? null };
}

/** When canceling: whether to invoice usage not yet invoiced, and whether to credit the unused flat-fee time. */
export interface CancelOptions {
  /** Default true: a final invoice for un-invoiced metered usage now (Stripe's own default is false). */
  invoiceNow?: boolean;
  /** Default false: no proration credit for the rest of the period. */
  prorate?: boolean;
}

/**
 * Cancels the subscription now (docs.stripe.com/api/subscriptions/cancel), by default with `invoice_now: true` so
 * usage reported this period is still billed, and `prorate: false`. Canceling one already canceled returns it as is.
 *
 * @returns its id and status ('canceled').
 * @throws the stripe-node error (Stripe's message) when it fails, including 404 `resource_missing` for an id this
 *   account does not have.
 */
export async function cancelSubscription(
  stripe: Stripe,
  id: string,
  options: CancelOptions = {},
): Promise<{ subscriptionId: string; status: Stripe.Subscription.Status }> {
  try {
    const canceled = await stripe.subscriptions.cancel(id, { invoice_now: options.invoiceNow ?? true, prorate: options.prorate ?? false });
    return { subscriptionId: canceled.id, status: canceled.status };
  } catch (err) {
    if (stripeStatus(err) !== 400 || isResourceMissing(err)) throw err;
    const sub = await stripe.subscriptions.retrieve(id);
    if (sub.status === 'canceled') return { subscriptionId: sub.id, status: sub.status };
    throw err;
  }
}
