/**
 * "Would bill" figures of a sub-account in shadow mode: per metric and meter, the units its `shadow` meter reports
 * hold and what they would cost at the price in force today for the rule of that meter (its Stripe price terms). A
 * metric priced per direction (an inbound + outbound pair of rules, each with its own meter and price) has a line per
 * direction, each priced at its own rule, as Stripe would bill the two meters.
 *
 * Period: graduated tiers restart every UTC calendar month, as Stripe restarts them every billing period of a
 * monthly subscription; the months follow the crossing times (`crossedAt`), and each month's amount is rounded to
 * whole cents (half up) before the months are added, like one invoice line per month. A per-unit price is simply
 * units × unit amount. Money is decimal.js, never a float (`chargeFor`, server/reporting/usage-queries.ts).
 * An estimate: the real invoice follows the subscription's own period, which need not start on the 1st.
 */
import Decimal from 'decimal.js';
import type { PriceTerms } from '../../models/schema';
import { chargeFor } from '../reporting/usage-queries';
import type { ShadowMonth } from './shadow-repository';

/** A rule in force for a metric (`findEffectiveRules`), as far as pricing needs it. */
export interface PricedRuleTerms {
  metric: string;
  /** `both` for a metric priced as one; `inbound` / `outbound` for one rule of a pair. */
  direction: 'inbound' | 'outbound' | 'both';
  threshold: string;
  meterEventName: string;
  stripePriceId: string | null;
  priceTerms: PriceTerms | null;
}

/** One metric's (or one direction's of a split metric) would-bill line. Amounts are decimal strings in cents. */
export interface WouldBillLine {
  metric: string;
  /** The direction of the rule the units were counted under, for a metric priced per direction; else null. */
  direction: 'inbound' | 'outbound' | null;
  /** Units (whole thresholds crossed) in shadow reports. */
  units: number;
  reports: number;
  firstCrossedAt: string;
  lastCrossedAt: string;
  /** The meter the units were counted for (the `shadow` reports' event name). */
  meterEventName: string;
  /** The rule in force today for that meter; null fields when there is none any more. */
  threshold: string | null;
  stripePriceId: string | null;
  /** False when no price is set for the metric: `amountCents` is then null. */
  priced: boolean;
  currency: string | null;
  amountCents: string | null;
  /** Per UTC month (`YYYY-MM`): units and their amount with the tiers restarted for the month. */
  months: Array<{ month: string; units: number; amountCents: string | null }>;
}

/** The would-bill figures of one sub-account. */
export interface WouldBill {
  /** The currency of `totalCents`: the first priced line's, else the agency's. */
  currency: string;
  /** Sum of the lines priced in `currency`, cents. */
  totalCents: string;
  /** First and last crossing over all metrics (ISO 8601, UTC); null when there is no backlog. */
  firstCrossedAt: string | null;
  lastCrossedAt: string | null;
  metrics: WouldBillLine[];
}

/**
 * Prices the shadow backlog.
 * @param months shadow units per metric, meter and month (`shadowUnitsByMonth`).
 * @param rules the rules in force for the sub-account (one per metric, or an inbound + outbound pair). A meter no
 *   rule reports to any more is priced at its metric's rule when the metric has just one.
 * @param agencyCurrency the agency's currency, used when no line is priced.
 */
export function wouldBill(months: ShadowMonth[], rules: readonly PricedRuleTerms[], agencyCurrency: string): WouldBill {
  const byMeter = new Map<string, ShadowMonth[]>();
  for (const month of months) byMeter.set(`${month.metric}\u0000${month.meterEventName}`, [...(byMeter.get(`${month.metric}\u0000${month.meterEventName}`) ?? []), month]);
  const ruleOf = (metric: string, meterEventName: string): PricedRuleTerms | null => {
    const of = rules.filter((r) => r.metric === metric);
    return of.find((r) => r.meterEventName === meterEventName) ?? (of.length === 1 ? of[0]! : null);
  };

  const lines = [...byMeter.values()].map((list): WouldBillLine => {
    const { metric, meterEventName } = list[0]!;
    const rule = ruleOf(metric, meterEventName);
    const terms = rule?.priceTerms ?? null;
    const monthly = list.map((m) => ({ month: m.month, units: m.units, amountCents: chargeFor(terms, m.units) }));
    const priced = terms !== null && monthly.every((m) => m.amountCents !== null);
    return {
      metric,
      // Named only for a metric priced per direction (a pair); a metric priced as one needs no direction.
      direction: rule && rule.direction !== 'both' && rules.filter((r) => r.metric === metric).length > 1 ? rule.direction : null,
      units: list.reduce((sum, m) => sum + m.units, 0),
      reports: list.reduce((sum, m) => sum + m.reports, 0),
      firstCrossedAt: list.map((m) => m.firstCrossedAt).sort()[0]!,
      lastCrossedAt: list.map((m) => m.lastCrossedAt).sort().at(-1)!,
      meterEventName,
      threshold: rule ? new Decimal(rule.threshold).toString() : null,
      stripePriceId: rule?.stripePriceId ?? null,
      priced,
      currency: terms?.currency ?? null,
      amountCents: priced ? monthly.reduce((sum, m) => sum.plus(m.amountCents!), new Decimal(0)).toString() : null,
      months: monthly,
    };
  });

  const currency = lines.find((l) => l.priced)?.currency ?? agencyCurrency;
  const total = lines.filter((l) => l.priced && l.currency === currency).reduce((sum, l) => sum.plus(l.amountCents!), new Decimal(0));
  return {
    currency,
    totalCents: total.toString(),
    firstCrossedAt: lines.map((l) => l.firstCrossedAt).sort()[0] ?? null,
    lastCrossedAt: lines.map((l) => l.lastCrossedAt).sort().at(-1) ?? null,
    metrics: lines,
  };
}

/**
 * The would-bill amounts per UTC month (`YYYY-MM`, in order), in whole cents, over the lines priced in the figures'
 * currency: what a prepaid wallet would have drawn each month (server/wallets/wallet-draw.ts).
 */
export function monthlyDraws(figures: WouldBill): Array<{ month: string; amountCents: number }> {
  const byMonth = new Map<string, Decimal>();
  for (const line of figures.metrics) {
    if (!line.priced || line.currency !== figures.currency) continue;
    for (const m of line.months) byMonth.set(m.month, (byMonth.get(m.month) ?? new Decimal(0)).plus(m.amountCents ?? 0));
  }
  return [...byMonth].sort(([a], [b]) => a.localeCompare(b)).map(([month, cents]) => ({ month, amountCents: cents.toDecimalPlaces(0, Decimal.ROUND_HALF_UP).toNumber() }));
}
