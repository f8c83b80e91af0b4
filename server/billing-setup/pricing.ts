/**
 * The agency's defaults: per metric, the rule ("every N = 1 unit", direction, on/off) and the Stripe price it bills,
 * plus an optional flat monthly fee. Setting a metric's price finds or creates the Stripe meter and metered price
 * on the agency's own account (idempotent), then stores the default rule with them.
 */
import type { Database } from '../../models/database';
import type { PriceTerms } from '../../models/schema';
import { AppError } from '../http/errors';
import { requireKnownMetric } from '../metering/custom-metrics';
import { listCustomMetrics } from '../metering/custom-metrics-repository';
import { BUILT_IN_METRICS } from '../metering/metrics';
import type { RebillingRules } from '../metering/rebilling-rules';
import { setRulePrice } from '../metering/rules-repository';
import { ensureFlatFeePrice, ensureMeter, ensureMeteredPrice } from '../stripe/catalog';
import { findAgency, setAgencyDefaults } from '../tenancy/accounts-repository';
import { setDefaultPlanBaseFee } from '../catalog/plans-repository';
import { doubleBillingWarning, saasRebillingSummary } from '../highlevel/saas-rebilling';
import { pricingRow, type PricingRow } from './pricing-grid';
import type { StripeForAgency } from './stripe-for-agency';
import { applyTaxBehavior, metricLabel } from './tax-behavior';

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
    const rules = new Map((await deps.rules.defaultRules(companyId)).map((r) => [r.metric, r]));
    const custom = (await listCustomMetrics(deps.db, companyId)).filter((m) => m.archivedAt === null).map((m) => m.key);
    const metrics = [...new Set([...BUILT_IN_METRICS, ...custom, ...rules.keys()])];
    const saas = await saasRebillingSummary(deps.db, companyId);
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
      highLevelRebilling: saas,
    };
  }

  return {
    grid,

    /**
     * Sets one metric's default rule and price.
     * @throws AppError 400 `unknown_metric` (checked before Stripe is called); 409 `stripe_not_connected`; Stripe
     *   errors surface with Stripe's message (502).
     */
    async setMetricPricing(companyId: string, metric: string, input: MetricPricingInput): Promise<PricingRow> {
      await requireKnownMetric(deps.db, companyId, metric);
      const stripe = await deps.stripeForAgency(companyId);
      const label = await metricLabel(deps.db, companyId, metric);
      const taxBehavior = (await findAgency(deps.db, companyId))?.taxBehavior ?? 'exclusive';
      const eventName = `meterbridge_${metric}`;
      const { meter, price } = await stripeCall(async () => {
        const meter = await ensureMeter(stripe, { metric, eventName, displayName: `Meterbridge: ${label}` });
        const price = await ensureMeteredPrice(stripe, {
          metric,
          meterId: meter.id,
          productName: label,
          currency: input.price.currency,
          interval: input.price.interval,
          unitAmountDecimal: input.price.unitAmountDecimal,
          tiers: input.price.tiers,
          taxBehavior,
        });
        return { meter, price };
      });
      await deps.rules.setRule(
        { companyId, locationId: null },
        { metric, enabled: input.enabled, threshold: input.threshold, direction: input.direction, meterEventName: meter.eventName },
      );
      const before = (await deps.rules.defaultRules(companyId)).find((r) => r.metric === metric);
      await setRulePrice(deps.db, { companyId, locationId: null }, metric, {
        stripeMeterId: meter.id,
        stripePriceId: price.id,
        priceTerms: input.price,
        baseCostDecimal: input.baseCostDecimal,
      });
      // A new price, or a metric switched on or off, changes the items of every subscription that inherits it.
      if (before?.stripePriceId !== price.id || before?.enabled !== input.enabled) await deps.resyncSubscriptions(companyId);
      return (await grid(companyId)).rows.find((r) => r.metric === metric)!;
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
