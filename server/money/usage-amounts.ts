/**
 * Usage in money for the usage dashboard: per metric, what the billed units come to at the prices in force (the
 * client's side) and what the usage cost the agency at HighLevel's base costs, over a range of UTC days, plus the
 * amounts per chart bucket. Units of different metrics are never added; money is, in integer cents.
 *
 * Amounts: per (sub-account, metric, meter — a metric priced per direction bills two), the units billed in the range priced as one invoice line would be
 * (`chargeFor`: unit amount × units, or graduated tiers, rounded to whole cents, halves up). A bucket's amount is the
 * growth of that charge over the bucket (charge of the units up to its end − up to its start), so buckets add up to
 * the range's amount exactly. An estimate: Stripe's invoice is the truth (its periods follow the subscription).
 * Cost: quantity × base cost per (sub-account, metric, rule), rounded the same way (highlevel-cost.ts `costUsage`).
 */
import { sql } from 'drizzle-orm';
import { selectRows, type Executor } from '../../models/database';
import { findEffectiveRules, type EffectiveRule } from '../metering/rules-repository';
import { chargeFor, rangeBounds, reportsIn, usageIn, type DayRange, type Granularity, type UsageScope } from '../reporting/usage-queries';
import { costUsage } from './highlevel-cost';

/** @returns amounts per metric and per (bucket, metric), in cents of `currency`. */
export async function usageAmounts(db: Executor, scope: UsageScope, range: DayRange, granularity: Granularity, agencyCurrency: string) {
  const { start, end } = rangeBounds(range);
  const billed = await selectRows<{ bucket: string; locationId: string; metric: string; eventName: string; units: string }>(
    db,
    sql`select to_char(date_trunc(${granularity}, r.crossed_at at time zone 'UTC'), 'YYYY-MM-DD') as bucket, r.location_id as "locationId",
               r.metric, r.meter_event_name as "eventName", sum(r.units)::text as units
        from ${reportsIn(scope, start, end)} group by 1, 2, 3, 4 order by 1`,
  );
  const used = await selectRows<{ locationId: string; metric: string; direction: 'inbound' | 'outbound' | null; quantity: string }>(
    db,
    sql`select u.location_id as "locationId", u.metric, u.direction, sum(u.quantity)::text as quantity from ${usageIn(scope, start, end)} group by 1, 2, 3`,
  );
  // The rules in force per (sub-account, metric): one, or an inbound + outbound pair priced apart. A report is priced
  // by the rule whose meter it went to.
  const inForce = new Map<string, EffectiveRule[]>();
  for (const r of await findEffectiveRules(db, scope.locationId ?? { companyId: scope.companyId })) {
    inForce.set(`${r.appliesTo}\u0000${r.metric}`, [...(inForce.get(`${r.appliesTo}\u0000${r.metric}`) ?? []), r]);
  }
  const reportRule = (b: (typeof billed)[number]) => {
    const of = inForce.get(`${b.locationId}\u0000${b.metric}`) ?? [];
    return of.find((r) => r.meterEventName === b.eventName) ?? of[0];
  };
  const currency = [...inForce.values()].flat().find((r) => r.priceTerms)?.priceTerms?.currency ?? agencyCurrency;

  const totals = new Map<string, { metric: string; amountCents: number; costCents: number; priced: boolean; costed: boolean }>();
  const total = (metric: string) => {
    if (!totals.has(metric)) totals.set(metric, { metric, amountCents: 0, costCents: 0, priced: true, costed: true });
    return totals.get(metric)!;
  };
  const series = new Map<string, { bucket: string; metric: string; amountCents: number }>();
  const cumulative = new Map<string, { units: number; charged: number }>();
  for (const b of billed) {
    const key = `${b.locationId}\u0000${b.metric}\u0000${b.eventName}`;
    const terms = reportRule(b)?.priceTerms ?? null;
    const so = cumulative.get(key) ?? { units: 0, charged: 0 };
    const units = so.units + Number(b.units);
    const charged = Number(chargeFor(terms, units) ?? 0);
    cumulative.set(key, { units, charged });
    if (!terms) total(b.metric).priced = false;
    total(b.metric).amountCents += charged - so.charged;
    const point = series.get(`${b.bucket}\u0000${b.metric}`) ?? { bucket: b.bucket, metric: b.metric, amountCents: 0 };
    point.amountCents += charged - so.charged;
    series.set(`${b.bucket}\u0000${b.metric}`, point);
  }
  // HighLevel's cost is what the agency pays for all the usage, billed on or not (highlevel-cost.ts: per direction
  // for a split metric, one rounding per (sub-account, metric, rule) over the range).
  for (const line of costUsage(used, [...inForce.values()].flat(), () => '')) {
    if (line.baseCostDecimal === null) total(line.metric).costed = false;
    else total(line.metric).costCents += line.costCents;
  }
  const list = [...totals.values()].sort((a, b) => a.metric.localeCompare(b.metric));
  return {
    from: range.from,
    to: range.to,
    granularity,
    currency,
    totals: list,
    series: [...series.values()],
    totalAmountCents: list.reduce((s, t) => s + t.amountCents, 0),
    totalCostCents: list.reduce((s, t) => s + t.costCents, 0),
  };
}
