/**
 * Prorations of a subscription update (docs.stripe.com/billing/subscriptions/prorations): when a licensed item (a
 * fixed fee) leaves or joins a subscription mid-period, Stripe credits the unused time on the old price ("Unused time
 * on …", a negative line) and charges the remaining time on the new one ("Remaining time on …"), each `unit_amount ×
 * quantity × (period end − now) / (period end − period start)`, to the second, the line rounded to the nearest cent.
 * Metered items are billed on usage in arrears and are not prorated. What happens to them follows `proration_behavior`
 * (docs.stripe.com/api/subscriptions/update#update_subscription-proration_behavior):
 * - `create_prorations`: pending invoice items, billed on the next invoice — so the invoice preview shows them;
 * - `always_invoice`: invoiced at once — an invoice (`billing_reason: 'subscription_update'`) finalized with them;
 * - `none`: no proration.
 * The double keeps pending prorations per subscription here (Stripe keeps them as invoice items of the customer).
 */
import Decimal from 'decimal.js';
import type { Fake, StripeJson } from './types';
import { newId, now } from './wire';

const pending = new WeakMap<Fake['state'], Map<string, StripeJson[]>>();

/** The proration lines of a change of items (licensed items only), at `at` (Unix seconds). */
function prorationLines(before: StripeJson[], after: StripeJson[], at: number): StripeJson[] {
  const key = (i: StripeJson) => `${i.price.id}\u0000${i.quantity ?? 1}`;
  const licensed = (items: StripeJson[]) => items.filter((i) => i.price.recurring?.usage_type !== 'metered');
  const afterKeys = new Set(licensed(after).map(key));
  const beforeKeys = new Set(licensed(before).map(key));
  const line = (item: StripeJson, sign: 1 | -1): StripeJson | null => {
    const start: number = item.current_period_start;
    const end: number = item.current_period_end;
    if (end <= at || end <= start) return null;
    const quantity = item.quantity ?? 1;
    const amount = new Decimal(item.price.unit_amount ?? 0).times(quantity).times(end - at).div(end - start).times(sign);
    return {
      id: newId('il_tmp'),
      object: 'line_item',
      amount: amount.toDecimalPlaces(0, Decimal.ROUND_HALF_UP).toNumber(),
      currency: item.price.currency,
      description: `${sign < 0 ? 'Unused' : 'Remaining'} time on ${quantity} × ${item.price.nickname ?? item.price.product} after ${new Date(at * 1000).toISOString().slice(0, 10)}`,
      period: { start: at, end },
      pricing: { type: 'price_details', price_details: { price: item.price.id, product: item.price.product }, unit_amount_decimal: String(item.price.unit_amount) },
      quantity,
      parent: { type: 'subscription_item_details', subscription_item_details: { subscription_item: item.id, proration: true } },
    };
  };
  return [
    ...licensed(before).filter((i) => !afterKeys.has(key(i))).map((i) => line(i, -1)),
    ...licensed(after).filter((i) => !beforeKeys.has(key(i))).map((i) => line(i, 1)),
  ].filter((l): l is StripeJson => l !== null && l.amount !== 0);
}

/**
 * Applies `behavior` to an update that changed `sub`'s items from `before`: pending items (create_prorations), an
 * invoice now (always_invoice), or nothing (none).
 */
export function prorate(fake: Fake, sub: StripeJson, before: StripeJson[], behavior: string): void {
  if (behavior === 'none') return;
  const lines = prorationLines(before, sub.items.data, now());
  if (lines.length === 0) return;
  if (behavior === 'create_prorations') {
    const bySub = pending.get(fake.state) ?? new Map<string, StripeJson[]>();
    pending.set(fake.state, bySub.set(sub.id, [...(bySub.get(sub.id) ?? []), ...lines]));
    return;
  }
  const id = newId('in');
  const total = lines.reduce((sum, l) => sum + l.amount, 0);
  fake.state.invoices.set(id, {
    id,
    object: 'invoice',
    billing_reason: 'subscription_update',
    collection_method: 'charge_automatically',
    customer: sub.customer,
    currency: sub.currency,
    created: now(),
    status: 'open',
    subtotal: total,
    total,
    amount_due: Math.max(0, total),
    amount_paid: 0,
    amount_remaining: Math.max(0, total),
    lines: { object: 'list', data: lines.map((l) => ({ ...l, id: newId('il'), invoice: id })), has_more: false, url: `/v1/invoices/${id}/lines` },
    parent: { type: 'subscription_details', quote_details: null, subscription_details: { metadata: sub.metadata, subscription: sub.id } },
  });
}

/** The prorations pending for the subscription's next invoice (create_prorations), for the invoice preview. */
export function pendingProrations(fake: Fake, subscriptionId: string): StripeJson[] {
  return pending.get(fake.state)?.get(subscriptionId) ?? [];
}
