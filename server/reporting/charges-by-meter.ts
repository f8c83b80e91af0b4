/** Charges of directional rule pairs, per meter (used by `currentPeriodChargesOf` in period-charges.ts). */
import Decimal from 'decimal.js';
import { sql } from 'drizzle-orm';
import { selectRows, type Executor } from '../../models/database';
import type { EffectiveRule } from '../metering/rules-repository';
import { chargeFor, reportsIn } from './usage-queries';

/**
 * For each sub-account and each of its metrics with more than one rule in force (a directional pair:
 * server/metering/rules-repository.ts), the charge in cents (decimal string) of its units billed in [start, end): each
 * meter event's units priced at the rule whose meter it is, one line each, as Stripe invoices one subscription item
 * per price. One query for all the sub-accounts given, none when no sub-account has a pair.
 * @param rulesOf the rules in force per sub-account: location id → `findEffectiveRules`' rows for it.
 * @returns location id → metric → cents (null when a meter's rule has no price terms); metrics with one rule, and
 * sub-accounts without a pair, are absent.
 */
export async function chargesByMeter(db: Executor, companyId: string, rulesOf: ReadonlyMap<string, readonly EffectiveRule[]>, start: string, end: string) {
  const paired = new Map<string, Set<string>>();
  for (const [locationId, rules] of rulesOf) {
    const metrics = new Set(rules.filter((r) => rules.filter((o) => o.metric === r.metric).length > 1).map((r) => r.metric));
    if (metrics.size > 0) paired.set(locationId, metrics);
  }
  const charges = new Map<string, Map<string, string | null>>();
  if (paired.size === 0) return charges;
  const ids = sql.join([...paired.keys()].map((id) => sql`${id}`), sql`, `);
  const billed = await selectRows<{ locationId: string; metric: string; eventName: string; units: string }>(
    db,
    sql`select r.location_id as "locationId", r.metric, r.meter_event_name as "eventName", sum(r.units)::text as units
        from ${reportsIn({ companyId }, start, end)} and r.location_id in (${ids}) group by 1, 2, 3`,
  );
  const billedOf = new Map<string, typeof billed>();
  for (const b of billed) billedOf.set(b.locationId, [...(billedOf.get(b.locationId) ?? []), b]);
  for (const [locationId, metrics] of paired) {
    const rules = rulesOf.get(locationId) ?? [];
    const of = new Map<string, string | null>();
    for (const metric of metrics) {
      let total: Decimal | null = new Decimal(0);
      for (const b of (billedOf.get(locationId) ?? []).filter((row) => row.metric === metric)) {
        const rule = rules.find((r) => r.metric === metric && r.meterEventName === b.eventName);
        const cents = chargeFor(rule?.priceTerms ?? null, Number(b.units));
        total = cents === null || total === null ? null : total.plus(cents);
      }
      of.set(metric, total === null ? null : total.toString());
    }
    charges.set(locationId, of);
  }
  return charges;
}
