/**
 * The terms of a price Meterbridge creates, validated and normalised before anything reaches Stripe: they are the
 * input of the lookup key's hash (server/stripe/catalog.ts), so equal terms written differently ('0.750' and '0.75')
 * must come out equal. Amounts are in the currency's smallest unit (cents), as decimal strings.
 */
import Stripe from 'stripe';
import { badRequest } from '../http/errors';
import type { MeteredPriceInput, PriceInterval, TaxBehavior } from './catalog';

const TAX_BEHAVIORS: readonly TaxBehavior[] = ['inclusive', 'exclusive'];
const INTERVALS: readonly PriceInterval[] = ['day', 'week', 'month', 'year'];
/** docs.stripe.com/api/prices/create `unit_amount_decimal`: "a decimal value in cents … with at most 12 decimal places". */
const DECIMAL_CENTS = /^\d+(\.\d{1,12})?$/;

/** Product name, currency, interval and tax behavior, trimmed and checked. @throws AppError 400 `invalid_price_terms`. */
export function commonTerms(input: { productName: string; currency: string; interval: string; taxBehavior: string }) {
  const productName = input.productName.trim();
  const currency = input.currency.trim();
  if (!productName) throw badRequest('invalid_price_terms', 'A price needs a product name.');
  if (!/^[a-z]{3}$/.test(currency)) throw badRequest('invalid_price_terms', `The currency is a three-letter ISO code in lowercase, like "usd"; got "${input.currency}".`);
  if (!INTERVALS.includes(input.interval as PriceInterval)) throw badRequest('invalid_price_terms', `The interval is one of ${INTERVALS.join(', ')}.`);
  if (!TAX_BEHAVIORS.includes(input.taxBehavior as TaxBehavior)) throw badRequest('invalid_price_terms', `The tax behavior is one of ${TAX_BEHAVIORS.join(', ')}.`);
  return { productName, currency, interval: input.interval as PriceInterval, taxBehavior: input.taxBehavior as TaxBehavior };
}

/** A decimal string in cents, normalised so equal amounts hash equally ('0.750' → '0.75'). */
function cents(value: string, what: string): string {
  if (typeof value !== 'string' || !DECIMAL_CENTS.test(value.trim())) {
    throw badRequest('invalid_price_terms', `${what} is a non-negative amount in cents with at most 12 decimal places, like "0.75"; got "${String(value)}".`);
  }
  return Stripe.Decimal.from(value.trim()).toString();
}

/**
 * Validated, normalised metered terms: the input of the lookup key's hash and of the create call. The tax behavior is
 * among them, so prices of the two behaviors never share a lookup key (nor a create's idempotency key).
 * @throws AppError 400 `invalid_price_terms` for invalid terms.
 */
export function meteredTerms(input: MeteredPriceInput) {
  const common = commonTerms(input);
  if (!input.metric.trim()) throw badRequest('invalid_price_terms', 'A metered price needs a metric.');
  if (!input.meterId.trim()) throw badRequest('invalid_price_terms', 'A metered price needs a billing meter.');
  const hasTiers = input.tiers !== undefined && input.tiers !== null;
  if (hasTiers === (input.unitAmountDecimal !== undefined && input.unitAmountDecimal !== null)) {
    throw badRequest('invalid_price_terms', 'Give either a unit amount or tiers, not both and not neither.');
  }
  let tiers: Array<{ upTo: number | 'inf'; unitAmountDecimal: string; flatAmount: number }> | null = null;
  if (hasTiers) {
    if (input.tiers!.length === 0) throw badRequest('invalid_price_terms', 'Tiered pricing needs at least one tier.');
    let previous = 0;
    tiers = input.tiers!.map((tier, i) => {
      const last = i === input.tiers!.length - 1;
      if (last !== (tier.upTo === 'inf')) throw badRequest('invalid_price_terms', 'The last tier, and only the last, goes up to "inf".');
      if (tier.upTo !== 'inf' && (!Number.isSafeInteger(tier.upTo) || tier.upTo <= previous)) {
        throw badRequest('invalid_price_terms', 'Tier limits are whole numbers of units, each above the one before.');
      }
      if (tier.upTo !== 'inf') previous = tier.upTo;
      const flatAmount = tier.flatAmount ?? 0;
      if (!Number.isSafeInteger(flatAmount) || flatAmount < 0) throw badRequest('invalid_price_terms', 'A tier\'s flat amount is a whole number of cents.');
      return { upTo: tier.upTo, unitAmountDecimal: cents(tier.unitAmountDecimal, `Tier ${i + 1}'s unit amount`), flatAmount };
    });
  }
  return {
    v: 1,
    kind: 'metered',
    meterId: input.meterId.trim(),
    ...common,
    unitAmountDecimal: hasTiers ? null : cents(input.unitAmountDecimal!, 'The unit amount'),
    tiers,
  };
}
