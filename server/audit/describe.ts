/**
 * What the audit log says of each kind of billing configuration: fixed field lists (allow-lists), never a stored
 * row, so no key, token or signing secret can reach `audit_entries`.
 */
import type { Executor } from '../../models/database';
import { findEffectiveRules, listDefaultRules } from '../metering/rules-repository';
import { findAgency, findSubAccount } from '../tenancy/accounts-repository';

/** One metric's default rule and price, or its inbound and outbound rules (`directions`) when priced per direction (null: none). */
export async function describeDefaultRule(db: Executor, companyId: string, metric: string): Promise<Record<string, unknown> | null> {
  const rules = (await listDefaultRules(db, companyId)).filter((r) => r.metric === metric);
  const describe = (rule: (typeof rules)[number]) => ({
    metric: rule.metric,
    enabled: rule.enabled,
    threshold: rule.threshold,
    direction: rule.direction,
    priceTerms: rule.priceTerms ?? null,
    stripePriceId: rule.stripePriceId ?? null,
    baseCostDecimal: rule.baseCostDecimal ?? null,
  });
  if (rules.length === 0) return null;
  return rules.length === 1 ? describe(rules[0]!) : { metric, directions: rules.map(describe) };
}

/** The agency defaults: auto-apply, currency, tax behavior, flat monthly fee. */
export async function describeDefaults(db: Executor, companyId: string): Promise<Record<string, unknown> | null> {
  const agency = await findAgency(db, companyId);
  if (!agency) return null;
  return {
    autoApply: agency.defaultsAutoApply,
    currency: agency.currency,
    taxBehavior: agency.taxBehavior,
    flatFeeAmount: agency.flatFeeAmount ?? null,
  };
}

/** A sub-account's billing: rebilling on/off, customer mapping, subscription, and its own per-metric overrides. */
export async function describeSubAccountBilling(db: Executor, locationId: string): Promise<Record<string, unknown> | null> {
  const sub = await findSubAccount(db, locationId);
  if (!sub) return null;
  const overrides = (await findEffectiveRules(db, locationId))
    .filter((r) => !r.inherited)
    .map((r) => ({ metric: r.metric, enabled: r.enabled, threshold: r.threshold, direction: r.direction, priceTerms: r.priceTerms ?? null }));
  return {
    locationId,
    nickname: sub.nickname ?? null,
    rebillingEnabled: sub.rebillingEnabled,
    billingMode: sub.billingMode,
    stripeCustomerId: sub.stripeCustomerId ?? null,
    stripeSubscriptionId: sub.stripeSubscriptionId ?? null,
    subscriptionStartsAt: sub.subscriptionStartsAt?.toISOString() ?? null,
    automaticTax: sub.automaticTax ?? null,
    overrides,
  };
}

/** An API key: name, prefix (already shown on the page), revocation. Never the key or its hash. */
export function describeApiKey(key: { id: number; name: string; prefix: string; revokedAt: Date | null }): Record<string, unknown> {
  return { id: key.id, name: key.name, prefix: key.prefix, revoked: key.revokedAt !== null };
}
