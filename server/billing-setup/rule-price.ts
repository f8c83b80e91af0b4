/**
 * The Stripe meter and metered price of one rule, found or made on the agency's own account (server/stripe/catalog.ts:
 * idempotent, by event name and by a lookup key of the terms). One place for the pricing grid, a directional rule and a
 * sub-account's own price.
 */
import type Stripe from 'stripe';
import type { PriceTerms } from '../../models/schema';
import type { TaxBehavior } from '../stripe/catalog';
import { ensureMeter, ensureMeteredPrice } from '../stripe/catalog';
import { stripeCall } from './pricing';

/** What a rule's price needs: the metric, the meter event name its units are reported under, labels and terms. */
export interface RulePriceInput {
  metric: string;
  /** The meter event name (≤ 100 characters), e.g. `meterbridge_call_minutes_inbound`. */
  eventName: string;
  /** The metric's label; the meter is "Meterbridge: <label>", the price's product is `productName` or the label. */
  label: string;
  productName?: string;
  terms: PriceTerms;
  taxBehavior: TaxBehavior;
}

/** A rule's Stripe meter (`mtr_…`), its event name, and the metered price (`price_…`) on it. */
export interface RulePrice {
  meterId: string;
  eventName: string;
  priceId: string;
}

/**
 * Finds or creates the meter for `eventName` and the metered price with these terms on it.
 * @throws AppError 400 `invalid_meter` / `invalid_price_terms`, 409 `stripe_meter_incompatible`; Stripe's refusals as
 *   400 `stripe_refused` / 502 `stripe_error` with Stripe's message.
 */
export async function ensureRulePrice(stripe: Stripe, input: RulePriceInput): Promise<RulePrice> {
  return stripeCall(async () => {
    const meter = await ensureMeter(stripe, { metric: input.metric, eventName: input.eventName, displayName: `Meterbridge: ${input.label}` });
    const price = await ensureMeteredPrice(stripe, {
      metric: input.metric,
      meterId: meter.id,
      productName: input.productName ?? input.label,
      currency: input.terms.currency,
      interval: input.terms.interval,
      unitAmountDecimal: input.terms.unitAmountDecimal,
      tiers: input.terms.tiers,
      taxBehavior: input.taxBehavior,
    });
    return { meterId: meter.id, eventName: meter.eventName, priceId: price.id };
  });
}
