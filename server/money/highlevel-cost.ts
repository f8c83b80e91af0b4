/**
 * HighLevel's cost to the agency: usage × the pricing grid's base cost (`rebilling_rules.base_cost_decimal`, HighLevel's
 * price per unit of the metric in cents, the sub-account's own rule before the agency default). All usage counts —
 * HighLevel charges the agency for every message and minute, billed on or not.
 *
 * Rounding: one line per (sub-account, month, metric) — quantity × base cost in exact decimals, rounded to a whole
 * cent, halves up — then lines are summed in integer cents. That is how Stripe rounds decimal prices: "rounding
 * occurs on the line item level … 0.05 × 30 = 1.5, which is then rounded up to 2 cents … each [line] will be rounded
 * before summing up the total" (docs.stripe.com/billing/subscriptions/decimal-amounts). HighLevel does not publish
 * its own rounding, so the cost is an estimate at today's base costs (the grid keeps no history).
 */
import Decimal from 'decimal.js';
import { sql } from 'drizzle-orm';
import { selectRows, type Executor } from '../../models/database';
import { findEffectiveRules } from '../metering/rules-repository';
import { monthBounds } from './months';

/** One cost line: a sub-account's usage of one metric in one month, and what it cost in whole cents. */
export interface CostLine {
  locationId: string;
  month: string;
  metric: string;
  /** Decimal string, in the metric's unit (messages, minutes, tokens…). */
  quantity: string;
  /** HighLevel's cost per unit in cents (decimal string), null when the grid has none for the metric. */
  baseCostDecimal: string | null;
  /** quantity × base cost rounded half up to whole cents; 0 without a base cost. */
  costCents: number;
}

/** quantity × base cost (cents), rounded to whole cents, halves up (see the module comment). */
export function lineCostCents(quantity: string, baseCostDecimal: string): number {
  return new Decimal(quantity).times(new Decimal(baseCostDecimal)).toDecimalPlaces(0, Decimal.ROUND_HALF_UP).toNumber();
}

/**
 * The agency's cost lines from the first day of `fromMonth` to the end of `toMonth` (UTC months, inclusive).
 * @param locationId restrict to one sub-account.
 */
export async function costLines(db: Executor, companyId: string, fromMonth: string, toMonth: string, locationId?: string): Promise<CostLine[]> {
  const start = monthBounds(fromMonth).start.toISOString();
  const end = monthBounds(toMonth).end.toISOString();
  const used = await selectRows<{ locationId: string; month: string; metric: string; quantity: string }>(
    db,
    sql`select u.location_id as "locationId", to_char(u.occurred_at at time zone 'UTC', 'YYYY-MM') as month, u.metric,
               sum(u.quantity)::text as quantity
        from usage_records u join sub_accounts s on s.location_id = u.location_id
        where s.company_id = ${companyId} ${locationId ? sql`and u.location_id = ${locationId}` : sql``}
          and u.occurred_at >= ${start}::timestamptz and u.occurred_at < ${end}::timestamptz
        group by 1, 2, 3 order by 2, 1, 3`,
  );
  if (used.length === 0) return [];
  const rules = await findEffectiveRules(db, locationId ?? { companyId });
  const base = new Map(rules.map((r) => [`${r.appliesTo}\u0000${r.metric}`, r.baseCostDecimal]));
  return used.map((u) => {
    const baseCostDecimal = base.get(`${u.locationId}\u0000${u.metric}`) ?? null;
    return { ...u, quantity: new Decimal(u.quantity).toString(), baseCostDecimal, costCents: baseCostDecimal === null ? 0 : lineCostCents(u.quantity, baseCostDecimal) };
  });
}
