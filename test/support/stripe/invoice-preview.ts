/**
 * `POST /v1/invoices/create_preview` (docs.stripe.com/api/invoices/create_preview): the invoice Stripe would make
 * next for a customer's subscription, never stored ("the upcoming invoice will not show up in invoice listing
 * calls"). Needs `customer` or `subscription`; a customer with no live subscription has no upcoming invoice (400
 * `invoice_upcoming_none`, docs.stripe.com/error-codes#invoice-upcoming-none). The double's arithmetic:
 * - licensed items (the flat fee): unit_amount × quantity for the next period (billed in advance), none when the
 *   subscription is set to cancel at the period's end;
 * - metered items: the meter events the double counted for the customer on the price's meter since the item's
 *   period start (the quantity), priced per unit (quantity × unit_amount_decimal) or, for `billing_scheme: 'tiered'`
 *   with `tiers_mode: 'graduated'`, tier by tier (`meteredAmount`), the line rounded half up to a whole cent;
 * - prorations pending from updates made with `create_prorations` (prorations.ts);
 * - discounts: the subscription's coupons, `percent_off` or `amount_off`, on the subtotal;
 * - billing credits (credit-balance.ts): the customer's credit grants in effect, on the metered lines their scope
 *   covers, after discounts and before tax (`total_pretax_credit_amounts`, each line's `pretax_credit_amounts`); a
 *   preview consumes none;
 * - tax: with automatic tax on, a flat 10 % exclusive (an approximation: the double has no tax engine).
 * Amounts are integers in cents; times are Unix seconds.
 */
import Decimal from 'decimal.js';
import { applyCredits } from './credit-balance';
import { pendingProrations } from './prorations';
import { liveCustomer } from './customers';
import type { Fake, StripeJson } from './types';
import { invalid, newId, noSuch, now, str, type FormObject } from './wire';

/** The tax rate the double applies when a subscription has automatic tax on, in percent. */
export const PREVIEW_TAX_PERCENT = 10;

/** The preview invoice for `params` (customer and/or subscription). @throws StripeFakeError as Stripe refuses. */
export function previewInvoice(fake: Fake, params: FormObject): StripeJson {
  const { stub, state } = fake;
  const customerId = str(params.customer);
  const subscriptionId = str(params.subscription);
  if (!customerId && !subscriptionId) throw invalid('You must specify either customer or subscription (approximate).', 'customer', 'parameter_missing');
  let sub: StripeJson | undefined;
  if (subscriptionId) {
    sub = state.subscriptions.get(subscriptionId);
    if (!sub) throw noSuch('subscription', subscriptionId, 'subscription', 400);
    if (customerId && sub.customer !== customerId) throw invalid(`The subscription ${subscriptionId} does not belong to customer ${customerId} (approximate).`, 'subscription');
  } else {
    liveCustomer(state, customerId!);
    sub = [...state.subscriptions.values()].find((s) => s.customer === customerId && s.status !== 'canceled');
  }
  const customer = customerId ?? sub!.customer;
  if (!sub || sub.status === 'canceled' || sub.status === 'incomplete_expired') {
    throw invalid(`No upcoming invoices for customer: ${customer}`, undefined, 'invoice_upcoming_none');
  }
  const productName = (price: StripeJson): string => state.products.get(price.product)?.name ?? price.product;
  const periodStart: number = sub.items.data[0]?.current_period_start ?? sub.start_date;
  const periodEnd: number = sub.items.data[0]?.current_period_end ?? now();
  const lines = sub.items.data.map((item: StripeJson) => {
    const price = state.prices.get(item.price.id) ?? item.price;
    if (price.recurring?.usage_type === 'metered') {
      const eventName = state.meters.get(price.recurring.meter)?.event_name;
      const quantity = stub.events
        .filter((e) => e.customer === customer && e.eventName === eventName && e.timestamp >= periodStart)
        .reduce((sum, e) => sum + Number(e.value), 0);
      const amount = meteredAmount(price, quantity);
      return lineOf(item, price, productName(price), quantity, amount, periodStart, periodEnd);
    }
    // A subscription that ends at the period's end is not renewed: its last invoice carries no fee for a next period.
    if (sub!.cancel_at_period_end) return null;
    const quantity = item.quantity ?? 1;
    return lineOf(item, price, productName(price), quantity, (price.unit_amount ?? 0) * quantity, periodEnd, periodEnd + (periodEnd - periodStart));
  }).filter((line: StripeJson | null): line is StripeJson => line !== null);
  // Prorations pending from updates with create_prorations are billed on this invoice (prorations.ts).
  lines.push(...pendingProrations(fake, sub.id));
  const subtotal = lines.reduce((sum: number, l: StripeJson) => sum + l.amount, 0);
  const discountAmounts = (sub.discounts as Array<StripeJson | string>).flatMap((d) => {
    const discount = typeof d === 'string' ? null : d;
    const coupon = discount ? state.coupons.get(discount.source?.coupon) : undefined;
    if (!coupon) return [];
    const amount = coupon.percent_off ? Math.round((subtotal * coupon.percent_off) / 100) : Math.min(subtotal, coupon.amount_off ?? 0);
    return [{ amount, discount: discount!.id }];
  });
  const discounted = subtotal - discountAmounts.reduce((s: number, d: { amount: number }) => s + d.amount, 0);
  const credits = applyCredits(state, customer, sub.currency, lines);
  const credited = Math.min(discounted, credits.reduce((s, c) => s + c.amount, 0));
  const taxable = discounted - credited;
  const tax = sub.automatic_tax?.enabled ? Math.round((taxable * PREVIEW_TAX_PERCENT) / 100) : 0;
  const total = taxable + tax;
  return {
    id: newId('upcoming_in'),
    object: 'invoice',
    amount_due: total,
    amount_paid: 0,
    amount_remaining: total,
    automatic_tax: { enabled: Boolean(sub.automatic_tax?.enabled), status: sub.automatic_tax?.enabled ? 'complete' : null },
    created: now(),
    currency: sub.currency,
    customer,
    due_date: null,
    hosted_invoice_url: null,
    invoice_pdf: null,
    lines: { object: 'list', data: lines, has_more: false, url: '/v1/invoices/upcoming/lines' },
    livemode: false,
    next_payment_attempt: periodEnd,
    number: null,
    parent: { type: 'subscription_details', quote_details: null, subscription_details: { metadata: sub.metadata, subscription: sub.id } },
    period_end: periodEnd,
    period_start: periodStart,
    status: 'draft',
    subtotal,
    total,
    total_discount_amounts: discountAmounts,
    total_excluding_tax: taxable,
    total_pretax_credit_amounts: credits,
    total_taxes: tax > 0 ? [{ amount: tax, tax_behavior: 'exclusive', taxability_reason: 'standard_rated', taxable_amount: taxable, type: 'tax_rate_details', tax_rate_details: null }] : [],
  };
}

/**
 * A metered price's amount for `quantity` units, in cents: exact decimals, then the line rounded to the nearest whole
 * cent, half up ("rounding occurs on the line item level … 0.05 * 30 = 1.5, which is then rounded up to 2 cents",
 * docs.stripe.com/billing/subscriptions/decimal-amounts#rounding):
 * - per unit: quantity × `unit_amount_decimal` (docs.stripe.com/api/prices/object `unit_amount_decimal`);
 * - graduated tiers (docs.stripe.com/products-prices/pricing-models#graduated-pricing: "the quantity is multiplied by
 *   the amount for each tier and the totals for each tier are summed together"): each tier prices the units that fall
 *   in it — up to its `up_to` (inclusive; null = no limit) past the previous tier's — at its `unit_amount_decimal`
 *   ("per unit price for units relevant to the tier", OpenAPI `price.tiers[].unit_amount`), plus its `flat_amount`
 *   ("price for the entire tier") once when at least one unit falls in it. A flat amount with no unit used is not
 *   modelled (Meterbridge's tiers carry none at 0);
 * - volume tiers (`tiers_mode: 'volume'`): every unit at the tier the whole quantity falls in, plus that tier's flat amount.
 */
export function meteredAmount(price: StripeJson, quantity: number): number {
  const cents = (tier: StripeJson, field: 'unit' | 'flat') =>
    new Decimal(String((field === 'unit' ? (tier.unit_amount_decimal ?? tier.unit_amount) : (tier.flat_amount_decimal ?? tier.flat_amount)) ?? 0));
  let total = new Decimal(0);
  if (price.billing_scheme !== 'tiered') total = new Decimal(String(price.unit_amount_decimal ?? price.unit_amount ?? 0)).times(quantity);
  else if (price.tiers_mode === 'volume') {
    const tier = (price.tiers as StripeJson[]).find((t) => t.up_to === null || quantity <= t.up_to)!;
    total = cents(tier, 'unit').times(quantity).plus(quantity > 0 ? cents(tier, 'flat') : 0);
  } else {
    let floor = 0;
    for (const tier of price.tiers as StripeJson[]) {
      const ceiling = tier.up_to ?? Number.POSITIVE_INFINITY;
      const units = Math.max(0, Math.min(quantity, ceiling) - floor);
      if (units > 0) total = total.plus(cents(tier, 'unit').times(units)).plus(cents(tier, 'flat'));
      floor = ceiling;
    }
  }
  return total.toDecimalPlaces(0, Decimal.ROUND_HALF_UP).toNumber();
}

function lineOf(item: StripeJson, price: StripeJson, product: string, quantity: number, amount: number, start: number, end: number): StripeJson {
  return {
    id: newId('il_tmp'),
    object: 'line_item',
    amount,
    currency: price.currency,
    // Stripe's own wording is e.g. "150 × SMS (at $0.02 / month)"; the double's is close (approximate).
    description: `${quantity} × ${price.nickname ?? product}`,
    period: { start, end },
    pricing: { type: 'price_details', price_details: { price: price.id, product: price.product }, unit_amount_decimal: price.unit_amount_decimal },
    quantity,
    parent: { type: 'subscription_item_details', subscription_item_details: { subscription_item: item.id } },
  };
}
