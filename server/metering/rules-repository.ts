/**
 * Rebilling rules (agency defaults and sub-account overrides) and usage counters. Thresholds and totals are
 * decimal strings; every division happens in SQL (`div`, exact integer quotient of numerics).
 */
import { and, eq, isNull, sql } from 'drizzle-orm';
import { selectRows, type Executor } from '../../models/database';
import { rebillingRules, type PriceTerms } from '../../models/schema';

/** A stored rule. `locationId` null means the agency default. `threshold` is a positive decimal string. */
export interface RebillingRule {
  companyId: string;
  locationId: string | null;
  metric: string;
  enabled: boolean;
  threshold: string;
  direction: 'outbound' | 'inbound' | 'both';
  meterEventName: string;
}

/** The rule in force for one sub-account and metric, with the customer its units are billed to. */
export interface EffectiveRule extends RebillingRule {
  /** The sub-account (location id) the rule is in force for; `locationId` is where the rule itself is set. */
  appliesTo: string;
  /** True when the rule is the agency default (the sub-account has no override). */
  inherited: boolean;
  stripeCustomerId: string | null;
  /** The rule's Stripe price, else the agency default's for the metric (null when none is set up). */
  stripePriceId: string | null;
  stripeMeterId: string | null;
  priceTerms: PriceTerms | null;
  /** HighLevel's cost to the agency per unit of the metric, cents (decimal string). */
  baseCostDecimal: string | null;
}

/** Inserts or replaces the rule for (agency default | sub-account, metric). */
export async function upsertRule(db: Executor, rule: RebillingRule): Promise<void> {
  const values = { ...rule, updatedAt: sql`now()` };
  const set = { enabled: rule.enabled, threshold: rule.threshold, direction: rule.direction, meterEventName: rule.meterEventName, updatedAt: sql`now()` };
  if (rule.locationId === null) {
    await db
      .insert(rebillingRules)
      .values(values)
      .onConflictDoUpdate({ target: [rebillingRules.companyId, rebillingRules.metric], targetWhere: sql`location_id is null`, set });
  } else {
    await db
      .insert(rebillingRules)
      .values(values)
      .onConflictDoUpdate({ target: [rebillingRules.locationId, rebillingRules.metric], targetWhere: sql`location_id is not null`, set });
  }
}

/** Deletes a sub-account's override (it inherits the agency default again). @returns true if one existed. */
export async function deleteSubAccountRule(db: Executor, locationId: string, metric: string): Promise<boolean> {
  const rows = await db
    .delete(rebillingRules)
    .where(and(eq(rebillingRules.locationId, locationId), eq(rebillingRules.metric, metric)))
    .returning({ id: rebillingRules.id });
  return rows.length > 0;
}

/** A default rule with the Stripe price it bills (the pricing grid's row). */
export type PricedRule = RebillingRule & Pick<EffectiveRule, 'stripePriceId' | 'stripeMeterId' | 'priceTerms' | 'baseCostDecimal'>;

/** The agency's default rules, with their prices. */
export async function listDefaultRules(db: Executor, companyId: string): Promise<PricedRule[]> {
  return db
    .select({
      companyId: rebillingRules.companyId,
      locationId: rebillingRules.locationId,
      metric: rebillingRules.metric,
      enabled: rebillingRules.enabled,
      threshold: rebillingRules.threshold,
      direction: rebillingRules.direction,
      meterEventName: rebillingRules.meterEventName,
      stripePriceId: rebillingRules.stripePriceId,
      stripeMeterId: rebillingRules.stripeMeterId,
      priceTerms: rebillingRules.priceTerms,
      baseCostDecimal: rebillingRules.baseCostDecimal,
    })
    .from(rebillingRules)
    .where(and(eq(rebillingRules.companyId, companyId), isNull(rebillingRules.locationId)))
    .orderBy(rebillingRules.metric);
}

/** A rule's own Stripe price: where it belongs (`locationId` null for the agency default), its meter and terms. */
export interface OwnPrice {
  locationId: string | null;
  metric: string;
  stripeMeterId: string;
  stripePriceId: string;
  priceTerms: PriceTerms;
}

/** Every rule of the agency (defaults and sub-account overrides) that carries its own Stripe price. */
export async function listRulesWithOwnPrice(db: Executor, companyId: string): Promise<OwnPrice[]> {
  const rows = await db
    .select({
      locationId: rebillingRules.locationId,
      metric: rebillingRules.metric,
      stripeMeterId: rebillingRules.stripeMeterId,
      stripePriceId: rebillingRules.stripePriceId,
      priceTerms: rebillingRules.priceTerms,
    })
    .from(rebillingRules)
    .where(sql`${rebillingRules.companyId} = ${companyId} and ${rebillingRules.stripePriceId} is not null and ${rebillingRules.priceTerms} is not null`)
    .orderBy(rebillingRules.metric, rebillingRules.locationId);
  return rows.filter((r) => r.stripeMeterId !== null) as OwnPrice[];
}

/** Whose rules: one or more sub-accounts, or every sub-account of an agency. */
export type RuleScope = string | readonly string[] | { companyId: string };

/**
 * The rules in force — THE rule resolution, the only one: per sub-account and metric, the sub-account's own rule,
 * else the agency default. Used by counting (billing-rule.ts), threshold changes and every screen.
 * @param scope a sub-account's location id, several, or `{ companyId }` for all of an agency's sub-accounts.
 * @param metrics restrict to these metrics (all when omitted).
 * @returns one rule per (sub-account, metric) that has one, ordered by sub-account then metric.
 */
export async function findEffectiveRules(db: Executor, scope: RuleScope, metrics?: readonly string[]): Promise<EffectiveRule[]> {
  const metricFilter = metrics ? sql`and r.metric in (select jsonb_array_elements_text(${JSON.stringify(metrics)}::jsonb))` : sql``;
  const where =
    typeof scope === 'object' && !Array.isArray(scope)
      ? sql`s.company_id = ${(scope as { companyId: string }).companyId}`
      : sql`s.location_id in (select jsonb_array_elements_text(${JSON.stringify(typeof scope === 'string' ? [scope] : scope)}::jsonb))`;
  return selectRows<EffectiveRule>(
    db,
    sql`select distinct on (s.location_id, r.metric)
          s.location_id as "appliesTo",
          r.company_id as "companyId", r.location_id as "locationId", r.metric, r.enabled,
          r.threshold::text as threshold, r.direction, r.meter_event_name as "meterEventName",
          (r.location_id is null) as inherited, s.stripe_customer_id as "stripeCustomerId",
          coalesce(r.stripe_price_id, d.stripe_price_id) as "stripePriceId",
          coalesce(r.stripe_meter_id, d.stripe_meter_id) as "stripeMeterId",
          coalesce(r.price_terms, d.price_terms) as "priceTerms",
          coalesce(r.base_cost_decimal, d.base_cost_decimal)::text as "baseCostDecimal"
        from sub_accounts s
        join rebilling_rules r on r.company_id = s.company_id and (r.location_id = s.location_id or r.location_id is null)
        left join rebilling_rules d on d.company_id = r.company_id and d.location_id is null and d.metric = r.metric
        where ${where} ${metricFilter}
        order by s.location_id, r.metric, (r.location_id is null)`,
  );
}

/**
 * The threshold in force for `metric` per sub-account of the agency (from `findEffectiveRules`); a sub-account with
 * no rule for the metric is absent.
 * @param locationId restrict to one sub-account.
 */
export async function effectiveThresholds(db: Executor, companyId: string, metric: string, locationId?: string): Promise<Map<string, string>> {
  const rules = await findEffectiveRules(db, locationId ?? { companyId }, [metric]);
  return new Map(rules.map((r) => [r.appliesTo, r.threshold]));
}

/** Reads one counter (tests, settings screens). */
export async function findCounter(db: Executor, locationId: string, metric: string) {
  const [row] = await selectRows<{ total: string; billedUnits: string }>(
    db,
    sql`select total::text as total, billed_units::text as "billedUnits" from usage_counters where location_id = ${locationId} and metric = ${metric}`,
  );
  return row ? { total: row.total, billedUnits: Number(row.billedUnits) } : null;
}

/**
 * Records the Stripe meter and price billed for (agency default | sub-account, metric); the rule must exist.
 * `baseCostDecimal` is HighLevel's cost per unit of the metric in cents; undefined leaves it as it is.
 */
export async function setRulePrice(
  db: Executor,
  scope: { companyId: string; locationId: string | null },
  metric: string,
  price: { stripeMeterId: string; stripePriceId: string; priceTerms: PriceTerms; baseCostDecimal?: string | null },
): Promise<void> {
  const where =
    scope.locationId === null
      ? and(eq(rebillingRules.companyId, scope.companyId), isNull(rebillingRules.locationId), eq(rebillingRules.metric, metric))
      : and(eq(rebillingRules.locationId, scope.locationId), eq(rebillingRules.metric, metric));
  await db
    .update(rebillingRules)
    .set({
      stripeMeterId: price.stripeMeterId,
      stripePriceId: price.stripePriceId,
      priceTerms: price.priceTerms,
      ...(price.baseCostDecimal !== undefined ? { baseCostDecimal: price.baseCostDecimal } : {}),
      updatedAt: sql`now()`,
    })
    .where(where);
}
