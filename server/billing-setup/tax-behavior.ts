/**
 * The agency's tax inclusion: whether the prices Meterbridge creates on its Stripe account include tax (`inclusive`)
 * or have it added on top (`exclusive`, the default) — Stripe's `tax_behavior` (docs.stripe.com/tax/products-prices-tax-categories-tax-behavior).
 * Stripe never changes a price's tax behavior once it is inclusive or exclusive (docs.stripe.com/api/prices/update
 * `tax_behavior`), so a change re-prices: every metered price (agency defaults and sub-account overrides with their
 * own price) and the flat fee get a new Stripe price with the same terms and the new behavior, and the subscriptions
 * are resynced as any price change does.
 */
import type { Database } from '../../models/database';
import { listRulesWithOwnPrice, setRulePrice } from '../metering/rules-repository';
import { ensureFlatFeePrice, ensureMeteredPrice, type TaxBehavior } from '../stripe/catalog';
import { findAgency, setAgencyDefaults } from '../tenancy/accounts-repository';
import { metricLabel } from '../metering/custom-metrics';
import { stripeCall } from './pricing';
import type { StripeForAgency } from './stripe-for-agency';

/**
 * Sets the agency's tax behavior and makes every price carry it. Each price is found (by lookup key) or created in
 * Stripe before anything is stored, so a Stripe failure leaves the setting and every price as they were, and running
 * it again creates nothing twice. Setting the same behavior again is a check: it finds every price as it is, unless
 * one was made before Meterbridge set `tax_behavior` (`unspecified`), which is then replaced. Prices that changed are
 * stored with the setting in one transaction and the subscriptions resynced; when none changed, nothing is written
 * beyond the setting.
 *
 * @returns how many prices were replaced.
 * @throws AppError 409 `stripe_not_connected` when prices exist and Stripe is not connected; 400/502 with Stripe's message.
 */
export async function applyTaxBehavior(
  deps: { db: Database; stripeForAgency: StripeForAgency; resyncSubscriptions: (companyId: string) => Promise<unknown> },
  companyId: string,
  taxBehavior: TaxBehavior,
): Promise<{ repriced: number }> {
  const agency = await findAgency(deps.db, companyId);
  if (!agency) return { repriced: 0 };
  const rules = await listRulesWithOwnPrice(deps.db, companyId);
  const hasFlatFee = agency.flatFeePriceId !== null && agency.flatFeeAmount !== null;
  if (rules.length === 0 && !hasFlatFee) {
    await setAgencyDefaults(deps.db, companyId, { taxBehavior });
    return { repriced: 0 };
  }
  const stripe = await deps.stripeForAgency(companyId);
  const labels = new Map<string, string>();
  for (const rule of rules) if (!labels.has(rule.metric)) labels.set(rule.metric, await metricLabel(deps.db, companyId, rule.metric));
  const { repriced, flatFeePriceId } = await stripeCall(async () => {
    const repriced: Array<(typeof rules)[number] & { newPriceId: string }> = [];
    for (const rule of rules) {
      const price = await ensureMeteredPrice(stripe, {
        metric: rule.metric,
        meterId: rule.stripeMeterId,
        productName: labels.get(rule.metric)!,
        currency: rule.priceTerms.currency,
        interval: rule.priceTerms.interval,
        unitAmountDecimal: rule.priceTerms.unitAmountDecimal,
        tiers: rule.priceTerms.tiers,
        taxBehavior,
      });
      if (price.id !== rule.stripePriceId) repriced.push({ ...rule, newPriceId: price.id });
    }
    const flatFee = hasFlatFee
      ? await ensureFlatFeePrice(stripe, { productName: 'Platform fee', currency: agency.currency, unitAmount: agency.flatFeeAmount!, interval: 'month', taxBehavior })
      : null;
    const flatFeePriceId = flatFee && flatFee.id !== agency.flatFeePriceId ? flatFee.id : null;
    return { repriced, flatFeePriceId };
  });
  if (repriced.length === 0 && !flatFeePriceId) {
    if (agency.taxBehavior !== taxBehavior) await setAgencyDefaults(deps.db, companyId, { taxBehavior });
    return { repriced: 0 };
  }
  await deps.db.transaction(async (tx) => {
    for (const rule of repriced) {
      const price = { stripeMeterId: rule.stripeMeterId, stripePriceId: rule.newPriceId, priceTerms: rule.priceTerms };
      await setRulePrice(tx, { companyId, locationId: rule.locationId }, rule.metric, price, rule.direction);
    }
    await setAgencyDefaults(tx, companyId, {
      taxBehavior,
      ...(flatFeePriceId ? { flatFee: { priceId: flatFeePriceId, amount: agency.flatFeeAmount } } : {}),
    });
  });
  await deps.resyncSubscriptions(companyId);
  return { repriced: repriced.length + (flatFeePriceId ? 1 : 0) };
}
