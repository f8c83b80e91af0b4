/**
 * Rebilling rules (agency defaults and sub-account overrides) and usage counters. Thresholds and totals are
 * decimal strings; every division happens in SQL (`div`, exact integer quotient of numerics).
 */
import { and, eq, isNull, sql } from 'drizzle-orm';
import { selectRows, type Executor } from '../../models/database';
import { rebillingRules, type PriceTerms } from '../../models/schema';

/** Which activity a rule counts: one direction of a directional metric, or both (models/schema/billing.ts). */
export type RuleDirection = 'outbound' | 'inbound' | 'both';

/**
 * A stored rule. `locationId` null means the agency default. `threshold` is a positive decimal string. Keyed by
 * (scope, metric, direction): a metric's rules in one scope are one rule, or an `inbound` + `outbound` pair.
 */
export interface RebillingRule {
  companyId: string;
  locationId: string | null;
  metric: string;
  enabled: boolean;
  threshold: string;
  direction: RuleDirection;
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

/** Inserts or replaces the rule for (agency default | sub-account, metric, direction). */
export async function upsertRule(db: Executor, rule: RebillingRule): Promise<void> {
  const values = { ...rule, updatedAt: sql`now()` };
  const set = { enabled: rule.enabled, threshold: rule.threshold, meterEventName: rule.meterEventName, updatedAt: sql`now()` };
  if (rule.locationId === null) {
    await db
      .insert(rebillingRules)
      .values(values)
      .onConflictDoUpdate({ target: [rebillingRules.companyId, rebillingRules.metric, rebillingRules.direction], targetWhere: sql`location_id is null`, set });
  } else {
    await db
      .insert(rebillingRules)
      .values(values)
      .onConflictDoUpdate({ target: [rebillingRules.locationId, rebillingRules.metric, rebillingRules.direction], targetWhere: sql`location_id is not null`, set });
  }
}

/** Where a rule is set: the agency default (`locationId` null) or a sub-account. */
export interface RuleOwner {
  companyId: string;
  locationId: string | null;
}

const ownedBy = (owner: RuleOwner, metric: string) =>
  owner.locationId === null
    ? and(eq(rebillingRules.companyId, owner.companyId), isNull(rebillingRules.locationId), eq(rebillingRules.metric, metric))
    : and(eq(rebillingRules.locationId, owner.locationId), eq(rebillingRules.metric, metric));

/** The rules set for `metric` in one scope (one, or an inbound + outbound pair), with their prices. */
export async function rulesOf(db: Executor, owner: RuleOwner, metric: string): Promise<PricedRule[]> {
  return db.select(PRICED_COLUMNS).from(rebillingRules).where(ownedBy(owner, metric)).orderBy(rebillingRules.direction);
}

/**
 * Deletes the rules of `metric` in one scope — every one, or those of `directions` only. Deleting a sub-account's
 * makes it inherit the agency default again. @returns how many existed.
 */
export async function deleteRules(db: Executor, owner: RuleOwner, metric: string, directions?: readonly RuleDirection[]): Promise<number> {
  const only = directions ? sql`${rebillingRules.direction} in (select jsonb_array_elements_text(${JSON.stringify(directions)}::jsonb))` : undefined;
  const rows = await db.delete(rebillingRules).where(and(ownedBy(owner, metric), only)).returning({ id: rebillingRules.id });
  return rows.length;
}

/** A default rule with the Stripe price it bills (the pricing grid's row). */
export type PricedRule = RebillingRule & Pick<EffectiveRule, 'stripePriceId' | 'stripeMeterId' | 'priceTerms' | 'baseCostDecimal'>;

const PRICED_COLUMNS = {
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
};

/** The agency's default rules, with their prices, by metric then direction (a directional pair is two rows). */
export async function listDefaultRules(db: Executor, companyId: string): Promise<PricedRule[]> {
  return db
    .select(PRICED_COLUMNS)
    .from(rebillingRules)
    .where(and(eq(rebillingRules.companyId, companyId), isNull(rebillingRules.locationId)))
    .orderBy(rebillingRules.metric, rebillingRules.direction);
}

/** A rule's own Stripe price: where it belongs (`locationId` null for the agency default), its meter and terms. */
export interface OwnPrice {
  locationId: string | null;
  metric: string;
  direction: RuleDirection;
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
      direction: rebillingRules.direction,
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
 * The rules in force — THE rule resolution, the only one: per sub-account and metric, the sub-account's own rules for
 * the metric, else the agency default's. A scope's rules for a metric are one rule or an inbound + outbound pair, and
 * they replace the default's as a whole (an own `outbound` rule alone means inbound is not counted, as it always has).
 * A rule with no price of its own takes the default's price of the same direction, else of the default's `both` rule
 * — and then reports to that rule's meter (`meterEventName`), the one its price reads.
 * Which of them counts a usage: `ruleForDirection`. Used by counting (billing-rule.ts), threshold changes and every screen.
 * @param scope a sub-account's location id, several, or `{ companyId }` for all of an agency's sub-accounts.
 * @param metrics restrict to these metrics (all when omitted).
 * @returns the rules in force (one or two per (sub-account, metric) that has any), ordered by sub-account, metric, direction.
 */
export async function findEffectiveRules(db: Executor, scope: RuleScope, metrics?: readonly string[]): Promise<EffectiveRule[]> {
  const metricFilter = metrics ? sql`and r.metric in (select jsonb_array_elements_text(${JSON.stringify(metrics)}::jsonb))` : sql``;
  const where =
    typeof scope === 'object' && !Array.isArray(scope)
      ? sql`s.company_id = ${(scope as { companyId: string }).companyId}`
      : sql`s.location_id in (select jsonb_array_elements_text(${JSON.stringify(typeof scope === 'string' ? [scope] : scope)}::jsonb))`;
  return selectRows<EffectiveRule>(
    db,
    sql`select
          s.location_id as "appliesTo",
          r.company_id as "companyId", r.location_id as "locationId", r.metric, r.enabled,
          r.threshold::text as threshold, r.direction,
          case when r.stripe_price_id is null and d.stripe_price_id is not null and d.direction <> r.direction
               then d.meter_event_name else r.meter_event_name end as "meterEventName",
          (r.location_id is null) as inherited, s.stripe_customer_id as "stripeCustomerId",
          coalesce(r.stripe_price_id, d.stripe_price_id) as "stripePriceId",
          coalesce(r.stripe_meter_id, d.stripe_meter_id) as "stripeMeterId",
          coalesce(r.price_terms, d.price_terms) as "priceTerms",
          coalesce(r.base_cost_decimal, d.base_cost_decimal)::text as "baseCostDecimal"
        from sub_accounts s
        join rebilling_rules r on r.company_id = s.company_id
          and (r.location_id = s.location_id
               or (r.location_id is null
                   and not exists (select 1 from rebilling_rules o where o.location_id = s.location_id and o.metric = r.metric)))
        left join lateral (
          select d.direction, d.meter_event_name, d.stripe_price_id, d.stripe_meter_id, d.price_terms, d.base_cost_decimal from rebilling_rules d
          where r.location_id is not null and d.company_id = r.company_id and d.location_id is null and d.metric = r.metric
            and d.direction in (r.direction, 'both')
          order by (d.direction = r.direction) desc limit 1
        ) d on true
        where ${where} ${metricFilter}
        order by s.location_id, r.metric, r.direction`,
  );
}

/**
 * Which of a sub-account's rules in force for one metric counts a usage of `direction` (rule 2 of billing-rule.ts):
 * the `both` rule; else the rule of that direction; a usage without a direction counts under the metric's single
 * rule, whatever its direction (as it always has), and under no rule of an inbound + outbound pair (it is neither).
 * @param rules the rules in force for ONE (sub-account, metric), as findEffectiveRules returns them.
 * @returns the rule, or null when none counts it.
 */
export function ruleForDirection<R extends Pick<RebillingRule, 'direction'>>(rules: readonly R[], direction: 'inbound' | 'outbound' | null): R | null {
  const both = rules.find((r) => r.direction === 'both');
  if (both) return both;
  if (direction === null) return rules.length === 1 ? rules[0]! : null;
  return rules.find((r) => r.direction === direction) ?? null;
}

/**
 * The thresholds in force for `metric` per sub-account of the agency and direction of the rule (from
 * `findEffectiveRules`); a sub-account with no rule for the metric is absent.
 * @param locationId restrict to one sub-account.
 */
export async function effectiveThresholds(db: Executor, companyId: string, metric: string, locationId?: string): Promise<Map<string, Map<RuleDirection, string>>> {
  const thresholds = new Map<string, Map<RuleDirection, string>>();
  for (const r of await findEffectiveRules(db, locationId ?? { companyId }, [metric])) {
    const of = thresholds.get(r.appliesTo) ?? new Map<RuleDirection, string>();
    thresholds.set(r.appliesTo, of.set(r.direction, r.threshold));
  }
  return thresholds;
}

/**
 * Reads one counter (tests, settings screens): that of the rule of `direction`, or without one the metric's counter
 * (the first by direction when a directional pair keeps two).
 */
export async function findCounter(db: Executor, locationId: string, metric: string, direction?: RuleDirection) {
  const only = direction ? sql`and direction = ${direction}` : sql``;
  const [row] = await selectRows<{ total: string; billedUnits: string }>(
    db,
    sql`select total::text as total, billed_units::text as "billedUnits" from usage_counters
        where location_id = ${locationId} and metric = ${metric} ${only} order by direction limit 1`,
  );
  return row ? { total: row.total, billedUnits: Number(row.billedUnits) } : null;
}

/**
 * Records the Stripe meter and price billed for (agency default | sub-account, metric[, direction]) — without a
 * direction, every rule of the metric in that scope; the rule must exist.
 * `baseCostDecimal` is HighLevel's cost per unit of the metric in cents; undefined leaves it as it is.
 */
export async function setRulePrice(
  db: Executor,
  scope: RuleOwner,
  metric: string,
  price: { stripeMeterId: string; stripePriceId: string; priceTerms: PriceTerms; baseCostDecimal?: string | null },
  direction?: RuleDirection,
): Promise<void> {
  const where = and(ownedBy(scope, metric), direction ? eq(rebillingRules.direction, direction) : undefined);
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
