/**
 * Plans: a named base fee plus, per metric, an included allowance and an overage price, assigned per sub-account.
 * In Stripe (docs.stripe.com/billing/subscriptions/usage-based/pricing-models):
 * - the base fee is a licensed recurring price of `baseFeeAmount` cents on a product named after the plan
 *   (server/stripe/catalog.ts ensureFlatFeePrice; none when the fee is 0);
 * - each metric's allowance is a metered price on the metric's own billing meter (the meter Meterbridge reports
 *   that metric to) with `billing_scheme: 'tiered'`, `tiers_mode: 'graduated'`: the first `includedUnits` units at 0,
 *   every further unit at `overageUnitAmountDecimal` cents (docs.stripe.com/products-prices/pricing-models#graduated-pricing);
 *   with no allowance, a per-unit price.
 * A sub-account's subscription then carries the plan's base fee in place of the agency's flat fee, and the plan's
 * price for each metric it names in place of the pricing grid's (server/billing-setup/subscription-sync.ts). The rules in
 * force still decide which metrics are billed. Changing a sub-account's plan updates its subscription with the
 * proration the agency chose.
 */
import type { z } from 'zod';
import type { Database } from '../../models/database';
import { AppError, notFound } from '../http/errors';
import { metricLabel, requireKnownMetric } from '../metering/custom-metrics';
import { stripeCall } from '../billing-setup/pricing';
import type { StripeForAgency } from '../billing-setup/stripe-for-agency';
import type { SubscriptionOptions } from '../billing-setup/subscription-sync';
import { ensureFlatFeePrice, ensureMeter, ensureMeteredPrice } from '../stripe/catalog';
import { findAgency, findSubAccount, setAgencyDefaults } from '../tenancy/accounts-repository';
import { archivePlan, findPlan, insertPlan, listPlans, ownPlanId, planInForce, pricesInUse, setSubAccountPlan, type PlanWithMetrics } from './plans-repository';
import type { createPlanRequest, planSchema, setPlanRequest, subAccountPlanResponse } from './schemas';

export type NewPlan = z.output<typeof createPlanRequest>;
export type Plan = z.output<typeof planSchema>;

/** '0.750000000000' (numeric) → '0.75'; '2.000000000000' → '2'. */
const trimDecimal = (value: string) => (value.includes('.') ? value.replace(/0+$/, '').replace(/\.$/, '') : value);

/** A stored plan as the API answers it. */
export function planView(plan: PlanWithMetrics): Plan {
  return {
    id: plan.id,
    name: plan.name,
    currency: plan.currency,
    interval: plan.interval,
    baseFeeAmount: plan.baseFeeAmount,
    stripeBasePriceId: plan.stripeBasePriceId,
    isDefault: plan.isDefault,
    archived: plan.archivedAt !== null,
    trialDays: plan.trialDays,
    metrics: plan.metrics.map((m) => ({
      metric: m.metric,
      includedUnits: m.includedUnits,
      overageUnitAmountDecimal: trimDecimal(m.overageUnitAmountDecimal),
      stripePriceId: m.stripePriceId,
    })),
  };
}

export function createPlans(deps: {
  db: Database;
  stripeForAgency: StripeForAgency;
  /** Brings a sub-account's subscription in line (SubAccountBilling.syncSubscription). */
  syncSubscription: (locationId: string, options?: SubscriptionOptions) => Promise<string | null>;
  /** Brings every subscription of the agency in line (after a new default plan), no proration. */
  resyncSubscriptions: (companyId: string) => Promise<unknown>;
}) {
  async function ofSubAccount(locationId: string): Promise<z.output<typeof subAccountPlanResponse>> {
    const sub = await findSubAccount(deps.db, locationId);
    if (!sub) throw notFound(`No sub-account ${locationId}.`);
    const plan = await planInForce(deps.db, locationId, sub.companyId);
    return { planId: await ownPlanId(deps.db, locationId), plan: plan ? planView(plan) : null, stripeSubscriptionId: sub.stripeSubscriptionId };
  }

  return {
    /**
     * Creates the plan's prices in Stripe (found again, not duplicated, when the same terms exist), then stores it.
     * A default plan's base fee becomes the agency's flat fee too, and the subscriptions following the default are
     * updated (no proration; one failing keeps its Stripe message on the sub-account).
     * @throws AppError 400 `unknown_metric` (before Stripe is called); 409 `stripe_not_connected`; 400
     *   `invalid_price_terms`; 400/502 `stripe_error` with Stripe's message.
     */
    async create(companyId: string, input: NewPlan): Promise<Plan> {
      const labels = new Map<string, string>();
      for (const m of input.metrics) {
        await requireKnownMetric(deps.db, companyId, m.metric);
        labels.set(m.metric, await metricLabel(deps.db, companyId, m.metric));
      }
      const stripe = await deps.stripeForAgency(companyId);
      const taxBehavior = (await findAgency(deps.db, companyId))?.taxBehavior ?? 'exclusive';
      const { base, metrics } = await stripeCall(async () => {
        const base =
          input.baseFeeAmount > 0
            ? await ensureFlatFeePrice(stripe, { productName: input.name, currency: input.currency, unitAmount: input.baseFeeAmount, interval: input.interval, taxBehavior })
            : null;
        const metrics = [];
        for (const m of input.metrics) {
          const label = labels.get(m.metric)!;
          const meter = await ensureMeter(stripe, { metric: m.metric, eventName: `meterbridge_${m.metric}`, displayName: `Meterbridge: ${label}` });
          const terms =
            m.includedUnits > 0
              ? { tiers: [{ upTo: m.includedUnits, unitAmountDecimal: '0' }, { upTo: 'inf' as const, unitAmountDecimal: m.overageUnitAmountDecimal }] }
              : { unitAmountDecimal: m.overageUnitAmountDecimal };
          const price = await ensureMeteredPrice(stripe, {
            metric: m.metric,
            meterId: meter.id,
            productName: `${input.name}: ${label}`,
            currency: input.currency,
            interval: input.interval,
            taxBehavior,
            ...terms,
          });
          metrics.push({ ...m, stripeMeterId: meter.id, stripePriceId: price.id });
        }
        return { base, metrics };
      });
      const plan = await insertPlan(
        deps.db,
        { companyId, name: input.name, currency: input.currency, interval: input.interval, baseFeeAmount: input.baseFeeAmount, stripeBasePriceId: base?.id ?? null, isDefault: input.isDefault, trialDays: input.trialDays ?? null },
        metrics,
      );
      if (input.isDefault) {
        await setAgencyDefaults(deps.db, companyId, { flatFee: { priceId: base?.id ?? null, amount: base ? input.baseFeeAmount : null } });
        // Sub-accounts on the default plan move to it from the next period (as a flat fee change does).
        await deps.resyncSubscriptions(companyId);
      }
      return planView(plan);
    },

    /**
     * Archives a plan: it can no longer be assigned; sub-accounts already on it stay on it, their subscriptions
     * unchanged (Stripe keeps an archived price on the subscriptions that have it, docs.stripe.com/products-prices/manage-prices#archive-price).
     * Its Stripe prices that nothing else of the agency uses (another plan, the flat fee, a rule) are set inactive, and
     * so is the base fee's product (docs.stripe.com/api/prices/update, docs.stripe.com/api/products/update `active`).
     * @throws AppError 404 `plan_not_found`, 409 `plan_is_default`, 409 `plan_archived` (already); Stripe's refusals
     *   with Stripe's message (the plan is archived here all the same: it is no longer offered).
     */
    async archive(companyId: string, id: number): Promise<Plan> {
      const plan = await findPlan(deps.db, companyId, id);
      if (!plan) throw new AppError(404, 'plan_not_found', `No plan ${id}.`);
      if (plan.isDefault) throw new AppError('plan_is_default', `“${plan.name}” is the default plan: make another plan the default before archiving it.`);
      if (!(await archivePlan(deps.db, companyId, id))) throw new AppError('plan_archived', `The plan “${plan.name}” is archived already.`);
      const own = [plan.stripeBasePriceId, ...plan.metrics.map((m) => m.stripePriceId)].filter((p): p is string => p !== null);
      const shared = await pricesInUse(deps.db, companyId, id, own);
      const stripe = await deps.stripeForAgency(companyId);
      await stripeCall(async () => {
        for (const priceId of own.filter((p) => !shared.has(p))) {
          const price = await stripe.prices.update(priceId, { active: false });
          if (priceId === plan.stripeBasePriceId && typeof price.product === 'string') await stripe.products.update(price.product, { active: false });
        }
      });
      return planView((await findPlan(deps.db, companyId, id))!);
    },

    /** The agency's plans, default first. */
    async list(companyId: string): Promise<{ plans: Plan[] }> {
      return { plans: (await listPlans(deps.db, companyId)).map(planView) };
    },

    /** The sub-account's own plan (or none: the default), and the plan in force. @throws AppError 404 unknown sub-account. */
    ofSubAccount,

    /**
     * Puts the sub-account on a plan (or back on the default) and updates its subscription with the chosen proration.
     * @throws AppError 404 unknown sub-account, 404 `plan_not_found` (another agency's plan too), 409 `plan_archived`;
     *   the subscription's errors (409 `stripe_not_connected`, Stripe's message as 400/502 — e.g. a plan whose currency
     *   or interval differs from the usage prices'). The plan is set back when Stripe refuses.
     */
    async assign(locationId: string, input: z.output<typeof setPlanRequest>): Promise<z.output<typeof subAccountPlanResponse>> {
      const sub = await findSubAccount(deps.db, locationId);
      if (!sub) throw notFound(`No sub-account ${locationId}.`);
      if (input.planId !== null) {
        const plan = await findPlan(deps.db, sub.companyId, input.planId);
        if (!plan) throw new AppError(404, 'plan_not_found', `No plan ${input.planId}.`);
        if (plan.archivedAt) throw new AppError(409, 'plan_archived', `The plan “${plan.name}” is archived.`);
      }
      const before = await ownPlanId(deps.db, locationId);
      await setSubAccountPlan(deps.db, locationId, input.planId);
      try {
        await deps.syncSubscription(locationId, { prorationBehavior: input.proration });
      } catch (err) {
        await setSubAccountPlan(deps.db, locationId, before);
        throw err;
      }
      return ofSubAccount(locationId);
    },
  };
}

export type Plans = ReturnType<typeof createPlans>;
