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

/**
 * The rules in force for a sub-account: its own rule per metric, else the agency default.
 * @param metrics restrict to these metrics (all when omitted).
 */
export async function findEffectiveRules(db: Executor, locationId: string, metrics?: readonly string[]): Promise<EffectiveRule[]> {
  const metricFilter = metrics ? sql`and r.metric in (${sql.join(metrics.map((m) => sql`${m}`), sql`, `)})` : sql``;
  return selectRows<EffectiveRule>(
    db,
    sql`select distinct on (r.metric)
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
        where s.location_id = ${locationId} ${metricFilter}
        order by r.metric, (r.location_id is null)`,
  );
}

/**
 * The threshold in force for `metric` per sub-account of the agency (null where no rule applies).
 * @param locationId restrict to one sub-account.
 */
export async function effectiveThresholds(
  db: Executor,
  companyId: string,
  metric: string,
  locationId?: string,
): Promise<Map<string, string | null>> {
  const one = locationId ? sql`and s.location_id = ${locationId}` : sql``;
  const rows = await selectRows<{ locationId: string; threshold: string | null }>(
    db,
    sql`select s.location_id as "locationId", coalesce(own.threshold, def.threshold)::text as threshold
        from sub_accounts s
        left join rebilling_rules own on own.location_id = s.location_id and own.metric = ${metric}
        left join rebilling_rules def on def.company_id = s.company_id and def.location_id is null and def.metric = ${metric}
        where s.company_id = ${companyId} ${one}`,
  );
  return new Map(rows.map((r) => [r.locationId, r.threshold]));
}

/**
 * Re-bases a counter when its threshold changes: the units already billed under `oldThreshold` are taken out of
 * the total, so only the unbilled remainder carries into the new threshold.
 */
export async function rebaseCounter(db: Executor, locationId: string, metric: string, oldThreshold: string): Promise<void> {
  await db.execute(
    sql`update usage_counters set total = total - billed_units * ${oldThreshold}::numeric, billed_units = 0, updated_at = now()
        where location_id = ${locationId} and metric = ${metric}`,
  );
}

/**
 * Adds `quantity` to the (sub-account, metric) counter, creating it at zero, and returns the units now due:
 * div(total, threshold) − billedUnits. The row stays locked until the transaction ends.
 */
export async function addToCounter(
  db: Executor,
  c: { locationId: string; metric: string; companyId: string; quantity: string; threshold: string },
): Promise<{ due: bigint; total: string; billedUnits: bigint }> {
  const [row] = await selectRows<{ due: string; total: string; billedUnits: string }>(
    db,
    sql`insert into usage_counters as c (location_id, metric, company_id, total, billed_units)
        values (${c.locationId}, ${c.metric}, ${c.companyId}, ${c.quantity}::numeric, 0)
        on conflict (location_id, metric) do update set total = c.total + excluded.total, updated_at = now()
        returning (div(c.total, ${c.threshold}::numeric) - c.billed_units)::text as due, c.total::text as total,
                  c.billed_units::text as "billedUnits"`,
  );
  return { due: BigInt(row!.due), total: row!.total, billedUnits: BigInt(row!.billedUnits) };
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
