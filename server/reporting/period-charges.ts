/**
 * This month's running estimate per sub-account: per metric the usage, units billed and the estimated charge at the
 * prices in force, plus the agency's flat fee. One computation for one sub-account (`currentPeriodCharges`: the
 * sub-account page, wallets, spend alerts) and for many (`currentPeriodChargesOf`: the sub-accounts list and its
 * sort by amount), so the rule is written once.
 */
import Decimal from 'decimal.js';
import { sql } from 'drizzle-orm';
import { selectRows, type Executor } from '../../models/database';
import { findEffectiveRules, type EffectiveRule } from '../metering/rules-repository';
import { chargesByMeter } from './charges-by-meter';
import { chargeFor, currentPeriod, metricTotalsByLocation, type MetricTotal } from './usage-queries';

/** One metric's line: its totals, the threshold and currency of the rule in force, the estimate in cents (decimal string; null when unpriced). */
export interface PeriodChargeLine extends MetricTotal {
  threshold: string | null;
  currency: string | null;
  estimatedCents: string | null;
}

/**
 * A sub-account's month so far. `currency`: the first priced line's, else the agency's. `flatFeeCents`: the agency's
 * fee (integer cents) while the sub-account has a subscription, else null. `estimatedTotalCents`: lines + fee, cents
 * as a decimal string. Period bounds are ISO 8601 UTC instants, [start, end).
 */
export interface PeriodCharges {
  periodStart: string;
  periodEnd: string;
  currency: string;
  lines: PeriodChargeLine[];
  flatFeeCents: number | null;
  estimatedTotalCents: string;
}

/**
 * Some of the agency's sub-accounts' months so far, in at most five queries whatever their number: per metric the usage,
 * units billed and the estimated charge at the prices in force (`chargeFor`; a metric priced per direction bills
 * each meter's units at its own rule's price: charges-by-meter.ts), plus the agency's flat fee while the sub-account
 * has a subscription — also after rebilling was switched off, since the subscription then runs to the end of the
 * period already invoiced, fee included. An estimate: Stripe's invoice is the truth (its period follows the
 * subscription, not the calendar month).
 * @returns an entry for every id asked (an id of another agency, or unknown, gets an empty estimate in 'usd').
 */
export async function currentPeriodChargesOf(db: Executor, companyId: string, locationIds: readonly string[], now = new Date()): Promise<Map<string, PeriodCharges>> {
  const period = currentPeriod(now);
  const ids = [...new Set(locationIds)];
  const result = new Map<string, PeriodCharges>();
  if (ids.length === 0) return result;
  const totals = await metricTotalsByLocation(db, { companyId }, ids, period.start, period.end);
  const rulesOf = new Map<string, EffectiveRule[]>();
  for (const r of await findEffectiveRules(db, ids)) rulesOf.set(r.appliesTo, [...(rulesOf.get(r.appliesTo) ?? []), r]);
  const charges = await chargesByMeter(db, companyId, rulesOf, period.start, period.end);
  const agencyRows = await selectRows<{ locationId: string; currency: string; flatFee: number | null; subscribed: boolean }>(
    db,
    sql`select s.location_id as "locationId", a.currency, a.flat_fee_amount as "flatFee", (s.stripe_subscription_id is not null) as subscribed
        from sub_accounts s join agencies a on a.company_id = s.company_id
        where s.company_id = ${companyId} and s.location_id in (${sql.join(ids.map((id) => sql`${id}`), sql`, `)})`,
  );
  const agencyOf = new Map(agencyRows.map((row) => [row.locationId, row]));
  for (const locationId of ids) {
    const rules = new Map((rulesOf.get(locationId) ?? []).map((r) => [r.metric, r]));
    const perMeter = charges.get(locationId);
    const lines = (totals.get(locationId) ?? []).map((t) => {
      const rule = rules.get(t.metric);
      const terms = rule?.priceTerms ?? null;
      const estimatedCents = perMeter?.has(t.metric) ? perMeter.get(t.metric)! : chargeFor(terms, t.unitsBilled);
      return { ...t, threshold: rule?.threshold ?? null, currency: terms?.currency ?? null, estimatedCents };
    });
    const agency = agencyOf.get(locationId);
    const flatFeeCents = agency?.subscribed && agency.flatFee ? agency.flatFee : null;
    const total = lines.reduce((sum, l) => sum.plus(l.estimatedCents ?? 0), new Decimal(flatFeeCents ?? 0));
    result.set(locationId, {
      periodStart: period.start,
      periodEnd: period.end,
      currency: lines.find((l) => l.currency)?.currency ?? agency?.currency ?? 'usd',
      lines,
      flatFeeCents,
      estimatedTotalCents: total.toString(),
    });
  }
  return result;
}

/** One sub-account's month so far: `currentPeriodChargesOf` for one id (the same rule and queries). */
export async function currentPeriodCharges(db: Executor, companyId: string, locationId: string, now = new Date()): Promise<PeriodCharges> {
  return (await currentPeriodChargesOf(db, companyId, [locationId], now)).get(locationId)!;
}
