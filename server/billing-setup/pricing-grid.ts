/**
 * The pricing grid's arithmetic: per metric, what the client pays per unit of the metric (the Stripe unit price
 * spread over the threshold) beside what HighLevel charges the agency, and the margin. Decimal arithmetic
 * (decimal.js) throughout: money is never a float. Amounts are in the currency's smallest unit (cents).
 */
import Decimal from 'decimal.js';
import type { PriceTerms } from '../../models/schema';
import { isDirectionalMetric } from '../metering/metrics';

/** One row of the grid. Decimal strings in cents; null where a price or a cost is not set. */
export interface PricingRow {
  metric: string;
  enabled: boolean;
  /** "every `threshold` of the metric = 1 unit". */
  threshold: string;
  direction: 'outbound' | 'inbound' | 'both';
  /** True for a metric HighLevel reports inbound or outbound: it can be priced per direction. */
  directional: boolean;
  priceTerms: PriceTerms | null;
  stripePriceId: string | null;
  /** Retail price per unit of the metric: unit price ÷ threshold (for tiers, the last, open-ended tier). */
  retailPerMetricUnit: string | null;
  /** HighLevel's cost per unit of the metric. */
  baseCostDecimal: string | null;
  marginPerMetricUnit: string | null;
  /** Margin as a percentage of the retail price, two decimals. */
  marginPercent: string | null;
  /** True when the retail price is below the agency's cost: allowed, but flagged. */
  belowCost: boolean;
  /**
   * Set when HighLevel may rebill the same usage itself (sub-accounts in HighLevel SaaS mode; see
   * server/highlevel/saas-rebilling.ts): the text to show. Null otherwise.
   */
  doubleBillingWarning: string | null;
}

const SCALE = 6;

/** Builds a grid row from a rule's stored terms. */
export function pricingRow(rule: {
  metric: string;
  enabled: boolean;
  threshold: string;
  direction: 'outbound' | 'inbound' | 'both';
  priceTerms: PriceTerms | null;
  stripePriceId: string | null;
  baseCostDecimal: string | null;
}): PricingRow {
  const unitPrice = unitPriceOf(rule.priceTerms);
  const retail = unitPrice === null ? null : unitPrice.div(new Decimal(rule.threshold));
  const base = rule.baseCostDecimal === null ? null : new Decimal(rule.baseCostDecimal);
  const margin = retail !== null && base !== null ? retail.minus(base) : null;
  const percent = margin !== null && retail !== null && !retail.isZero() ? margin.div(retail).times(100) : null;
  return {
    metric: rule.metric,
    enabled: rule.enabled,
    threshold: new Decimal(rule.threshold).toString(),
    direction: rule.direction,
    directional: isDirectionalMetric(rule.metric),
    priceTerms: rule.priceTerms,
    stripePriceId: rule.stripePriceId,
    retailPerMetricUnit: retail?.toDecimalPlaces(SCALE).toString() ?? null,
    baseCostDecimal: base?.toString() ?? null,
    marginPerMetricUnit: margin?.toDecimalPlaces(SCALE).toString() ?? null,
    marginPercent: percent?.toDecimalPlaces(2).toString() ?? null,
    belowCost: margin !== null && margin.isNegative(),
    doubleBillingWarning: null,
  };
}

/** The per-unit price a client pays at volume: the flat unit price, or the open-ended tier's. */
function unitPriceOf(terms: PriceTerms | null): Decimal | null {
  if (!terms) return null;
  if (terms.unitAmountDecimal !== undefined) return new Decimal(terms.unitAmountDecimal);
  const last = terms.tiers?.at(-1);
  return last ? new Decimal(last.unitAmountDecimal) : null;
}
