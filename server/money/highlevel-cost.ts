/**
 * HighLevel's cost to the agency: usage × the pricing grid's base cost (`rebilling_rules.base_cost_decimal`, HighLevel's
 * price per unit of the metric in cents, the sub-account's own rule before the agency default). All usage counts —
 * HighLevel charges the agency for every message and minute, billed on or not. A metric priced per direction (an
 * inbound + outbound pair of rules) has a base cost per direction: each usage is costed at its direction's rule
 * (`costRuleFor`), so inbound and outbound calls are two lines.
 *
 * Rounding: one line per (sub-account, month, metric, rule) — quantity × base cost in exact decimals, rounded to a whole
 * cent, halves up — then lines are summed in integer cents. That is how Stripe rounds decimal prices: "rounding
 * occurs on the line item level … 0.05 × 30 = 1.5, which is then rounded up to 2 cents … each [line] will be rounded
 * before summing up the total" (docs.stripe.com/billing/subscriptions/decimal-amounts). HighLevel does not publish
 * its own rounding, so the cost is an estimate at today's base costs (the grid keeps no history).
 */
import Decimal from 'decimal.js';
import { sql } from 'drizzle-orm';
import { selectRows, type Executor } from '../../models/database';
import { findEffectiveRules, ruleForDirection, type EffectiveRule, type RuleDirection } from '../metering/rules-repository';
import { monthBounds } from './months';

/** One cost line: a sub-account's usage of one metric (of one direction's rule, for a split metric) in one month, and what it cost in whole cents. */
export interface CostLine {
  locationId: string;
  month: string;
  metric: string;
  /** The direction of the rule that priced the line: `both` for a metric with one rule, null when it has none. */
  ruleDirection: RuleDirection | null;
  /** Decimal string, in the metric's unit (messages, minutes, tokens…). */
  quantity: string;
  /** HighLevel's cost per unit in cents (decimal string), null when the grid has none for the metric. */
  baseCostDecimal: string | null;
  /** quantity × base cost rounded half up to whole cents; 0 without a base cost. */
  costCents: number;
}

/** Usage to cost: a quantity (decimal string) of a metric in one direction (null when the source gives none). */
export interface UsedQuantity {
  locationId: string;
  metric: string;
  direction: 'inbound' | 'outbound' | null;
  quantity: string;
}

/** quantity × base cost (cents), rounded to whole cents, halves up (see the module comment). */
export function lineCostCents(quantity: string, baseCostDecimal: string): number {
  return new Decimal(quantity).times(new Decimal(baseCostDecimal)).toDecimalPlaces(0, Decimal.ROUND_HALF_UP).toNumber();
}

/**
 * The rule whose base cost prices a usage: the metric's one rule, or of an inbound + outbound pair the usage's
 * direction's (`ruleForDirection`); usage without a direction of a split metric is costed at the pair's first rule
 * (HighLevel charges for it all the same). Undefined when the metric has no rule.
 * @param of the rules in force for the usage's (sub-account, metric).
 */
export function costRuleFor(of: readonly EffectiveRule[], direction: 'inbound' | 'outbound' | null): EffectiveRule | undefined {
  return (of.length > 1 ? ruleForDirection(of, direction) : null) ?? of[0];
}

/**
 * Prices usage at HighLevel's base costs: one line (one rounding) per (`group` of the usage, sub-account, metric,
 * rule). `group` separates lines that must be rounded apart (a month; the empty string for one range).
 * @param rules the rules in force (`findEffectiveRules`) for the usage's sub-accounts.
 * @returns the lines, with `group` and the rule's direction; quantities as decimal strings.
 */
export function costUsage<U extends UsedQuantity>(used: readonly U[], rules: readonly EffectiveRule[], group: (u: U) => string): Array<Omit<CostLine, 'month'> & { group: string }> {
  const inForce = new Map<string, EffectiveRule[]>();
  for (const r of rules) inForce.set(`${r.appliesTo}\u0000${r.metric}`, [...(inForce.get(`${r.appliesTo}\u0000${r.metric}`) ?? []), r]);
  const lines = new Map<string, { group: string; locationId: string; metric: string; rule: EffectiveRule | undefined; quantity: Decimal }>();
  for (const u of used) {
    const rule = costRuleFor(inForce.get(`${u.locationId}\u0000${u.metric}`) ?? [], u.direction);
    const key = `${group(u)}\u0000${u.locationId}\u0000${u.metric}\u0000${rule?.direction ?? ''}`;
    const line = lines.get(key) ?? { group: group(u), locationId: u.locationId, metric: u.metric, rule, quantity: new Decimal(0) };
    lines.set(key, { ...line, quantity: line.quantity.plus(u.quantity) });
  }
  return [...lines.values()].map(({ group: g, locationId, metric, rule, quantity }) => {
    const baseCostDecimal = rule?.baseCostDecimal ?? null;
    return {
      group: g,
      locationId,
      metric,
      ruleDirection: rule?.direction ?? null,
      quantity: quantity.toString(),
      baseCostDecimal,
      costCents: baseCostDecimal === null ? 0 : lineCostCents(quantity.toString(), baseCostDecimal),
    };
  });
}

/**
 * The agency's cost lines from the first day of `fromMonth` to the end of `toMonth` (UTC months, inclusive), in
 * month, sub-account, metric order.
 * @param locationId restrict to one sub-account.
 */
export async function costLines(db: Executor, companyId: string, fromMonth: string, toMonth: string, locationId?: string): Promise<CostLine[]> {
  const start = monthBounds(fromMonth).start.toISOString();
  const end = monthBounds(toMonth).end.toISOString();
  const used = await selectRows<UsedQuantity & { month: string }>(
    db,
    sql`select u.location_id as "locationId", to_char(u.occurred_at at time zone 'UTC', 'YYYY-MM') as month, u.metric,
               u.direction, sum(u.quantity)::text as quantity
        from usage_records u join sub_accounts s on s.location_id = u.location_id
        where s.company_id = ${companyId} ${locationId ? sql`and u.location_id = ${locationId}` : sql``}
          and u.occurred_at >= ${start}::timestamptz and u.occurred_at < ${end}::timestamptz
        group by 1, 2, 3, 4 order by 2, 1, 3, 4`,
  );
  if (used.length === 0) return [];
  const rules = await findEffectiveRules(db, locationId ?? { companyId });
  return costUsage(used, rules, (u) => u.month).map(({ group, ...line }) => ({ ...line, month: group }));
}
