/**
 * The agency's defaults: per metric, the rule ("every N = 1 unit", direction, on/off) and the Stripe price it bills,
 * plus an optional flat monthly fee. Setting a metric's price finds or creates the Stripe meter and metered price
 * on the agency's own account (idempotent), then stores the default rule with them.
 */
import type { Database } from '../../models/database';
import type { PriceTerms } from '../../models/schema';
import { AppError } from '../http/errors';
import { metricLabel, requireKnownMetric } from '../metering/custom-metrics';
import { listCustomMetrics } from '../metering/custom-metrics-repository';
import { BUILT_IN_METRICS } from '../metering/metrics';
import type { RebillingRules } from '../metering/rebilling-rules';
import { setRulePrice } from '../metering/rules-repository';
import { ensureFlatFeePrice } from '../stripe/catalog';
import { findAgency, setAgencyDefaults } from '../tenancy/accounts-repository';
import { setDefaultPlanBaseFee } from '../catalog/plans-repository';
import { doubleBillingWarning, saasRebillingSummary } from '../highlevel/saas-rebilling';
import { pricingRow, type PricingRow } from './pricing-grid';
import type { StripeForAgency } from './stripe-for-agency';
import { applyTaxBehavior } from './tax-behavior';
import { ensureRulePrice } from './rule-price';

/** Input for one metric's default pricing. `threshold` is a positive decimal string. */
export interface MetricPricingInput {
  enabled: boolean;
  threshold: string;
  direction?: 'outbound' | 'inbound' | 'both';
  price: PriceTerms;
  baseCostDecimal?: string | null;
}

export function createPricing(deps: {
  db: Database;
  rules: RebillingRules;
  stripeForAgency: StripeForAgency;
  /** Brings the agency's existing subscriptions in line after a default price changed. */
  resyncSubscriptions: (companyId: string) => Promise<unknown>;
}) {
  async function grid(companyId: string) {
    const agency = await findAgency(deps.db, companyId);
    const defaults = await deps.rules.defaultRules(companyId);
    // A metric priced per direction (an inbound + outbound pair) is listed in `directionalRows`, not in `rows`.
    const split = new Set(defaults.filter((r, i) => defaults.findIndex((o) => o.metric === r.metric) !== i).map((r) => r.metric));
    const rules = new Map(defaults.filter((r) => !split.has(r.metric)).map((r) => [r.metric, r]));
    const custom = (await listCustomMetrics(deps.db, companyId)).filter((m) => m.archivedAt === null).map((m) => m.key);
    const metrics = [...new Set([...BUILT_IN_METRICS, ...custom, ...rules.keys()])].filter((m) => !split.has(m));
    const saas = await saasRebillingSummary(deps.db, companyId);
    const directionalRows = defaults.filter((r) => split.has(r.metric)).map((r) => ({ ...pricingRow(r), doubleBillingWarning: doubleBillingWarning(r.metric, saas) }));
    const rows: PricingRow[] = metrics.map((metric) => {
      const rule = rules.get(metric);
      const row = pricingRow(
        rule ?? { metric, enabled: false, threshold: '1', direction: 'outbound', priceTerms: null, stripePriceId: null, baseCostDecimal: null },
      );
      return { ...row, doubleBillingWarning: doubleBillingWarning(metric, saas) };
    });
    return {
      currency: agency?.currency ?? 'usd',
      autoApply: agency?.defaultsAutoApply ?? false,
      flatFee: agency?.flatFeePriceId && agency.flatFeeAmount !== null ? { amount: agency.flatFeeAmount, priceId: agency.flatFeePriceId } : null,
      taxBehavior: agency?.taxBehavior ?? 'exclusive',
      rows,
      directionalRows,
      highLevelRebilling: saas,
    };
  }

  /** The metric's default rule (its one rule, or with `direction` one of a pair) and its Stripe price; re-syncs subscriptions when a price changed. */
  async function setDefaultPricing(companyId: string, metric: string, input: MetricPricingInput, direction: 'inbound' | 'outbound' | null) {
    await requireKnownMetric(deps.db, companyId, metric);
    const stripe = await deps.stripeForAgency(companyId);
    const label = await metricLabel(deps.db, companyId, metric);
    const taxBehavior = (await findAgency(deps.db, companyId))?.taxBehavior ?? 'exclusive';
    const before = await deps.rules.defaultRules(companyId);
    const price = await ensureRulePrice(stripe, {
      metric,
      eventName: direction ? `meterbridge_${metric}_${direction}` : `meterbridge_${metric}`,
      label: direction ? `${label} (${direction})` : label,
      terms: input.price,
      taxBehavior,
    });
    const rule = { metric, enabled: input.enabled, threshold: input.threshold, meterEventName: price.eventName };
    if (direction) await deps.rules.setDirectionalRule({ companyId, locationId: null }, { ...rule, direction });
    else await deps.rules.setRule({ companyId, locationId: null }, { ...rule, direction: input.direction });
    const terms = { stripeMeterId: price.meterId, stripePriceId: price.priceId, priceTerms: input.price, baseCostDecimal: input.baseCostDecimal };
    await setRulePrice(deps.db, { companyId, locationId: null }, metric, terms, direction ?? undefined);
    // A new price, or a metric switched on or off, changes the items of every subscription that inherits it.
    const after = await deps.rules.defaultRules(companyId);
    const key = (rules: typeof before) => JSON.stringify(rules.filter((r) => r.metric === metric).map((r) => [r.direction, r.stripePriceId, r.enabled]));
    if (key(before) !== key(after)) await deps.resyncSubscriptions(companyId);
  }

  return {
    grid,

    /**
     * Sets one metric's default rule and price — its one rule: an inbound + outbound pair becomes this single rule.
     * @throws AppError 400 `unknown_metric` (checked before Stripe is called); 409 `stripe_not_connected`; Stripe
     *   errors surface with Stripe's message (502).
     */
    async setMetricPricing(companyId: string, metric: string, input: MetricPricingInput): Promise<PricingRow> {
      await setDefaultPricing(companyId, metric, input, null);
      return (await grid(companyId)).rows.find((r) => r.metric === metric)!;
    },

    /**
     * Sets the default rule and price of one direction of a directional metric (HighLevel's inbound or outbound
     * activity), on its own Stripe meter `meterbridge_<metric>_<direction>` and price; the other direction keeps its
     * rule (a `both` rule is split: the other direction goes on billing as it did). Every subscription inheriting the
     * metric gets the new price.
     * @throws AppError 400 `invalid_rule` for a metric reported without a direction, `unknown_metric`; 409
     *   `stripe_not_connected`; Stripe errors with Stripe's message.
     * @returns the metric's directional rows (inbound, outbound).
     */
    async setDirectionalPricing(companyId: string, metric: string, direction: 'inbound' | 'outbound', input: Omit<MetricPricingInput, 'direction'>): Promise<PricingRow[]> {
      await setDefaultPricing(companyId, metric, input, direction);
      return (await grid(companyId)).directionalRows.filter((r) => r.metric === metric);
    },
    /**
     * Sets auto-apply, the currency, the tax behavior of the agency's prices (a change re-prices them:
     * server/billing-setup/tax-behavior.ts) and the flat monthly fee (cents; null removes it).
     * @throws AppError 409 `stripe_not_connected` when a fee is set, or prices must be re-made, without Stripe.
     */
    async setDefaults(
      companyId: string,
      input: { autoApply?: boolean; flatFeeAmount?: number | null; currency?: string; taxBehavior?: 'inclusive' | 'exclusive' },
    ) {
      if (input.taxBehavior !== undefined) await applyTaxBehavior(deps, companyId, input.taxBehavior);
      const agency = await findAgency(deps.db, companyId);
      const currency = input.currency ?? agency?.currency ?? 'usd';
      let flatFee: { priceId: string | null; amount: number | null } | undefined;
      if (input.flatFeeAmount === null) flatFee = { priceId: null, amount: null };
      else if (input.flatFeeAmount !== undefined) {
        const stripe = await deps.stripeForAgency(companyId);
        const price = await stripeCall(() =>
          ensureFlatFeePrice(stripe, {
            productName: 'Platform fee',
            currency,
            unitAmount: input.flatFeeAmount!,
            interval: 'month',
            taxBehavior: agency?.taxBehavior ?? 'exclusive',
          }),
        );
        flatFee = { priceId: price.id, amount: input.flatFeeAmount };
      }
      await setAgencyDefaults(deps.db, companyId, { autoApply: input.autoApply, currency: input.currency, flatFee });
      // The flat fee is the default plan's base fee (server/catalog/plans.ts): they never disagree.
      if (flatFee) await setDefaultPlanBaseFee(deps.db, companyId, flatFee);
      if (flatFee) await deps.resyncSubscriptions(companyId);
      return grid(companyId);
    },
  };
}

export type Pricing = ReturnType<typeof createPricing>;

/**
 * Runs Stripe calls; a Stripe error carries Stripe's own message: 400 `stripe_refused` when Stripe refused the request
 * (a 4xx other than 429), else 502 `stripe_error`.
 */
export async function stripeCall<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    if (err instanceof AppError) throw err;
    const e = err as { type?: string; message?: string; statusCode?: number };
    if (typeof e?.type === 'string' && e.type.startsWith('Stripe')) {
      throw new AppError(e.statusCode && e.statusCode < 500 && e.statusCode !== 429 ? 'stripe_refused' : 'stripe_error', `Stripe: ${e.message}`);
    }
    throw err;
  }
}
