/** Charges of directional rule pairs, per meter (used by `currentPeriodCharges` in usage-queries.ts). */
import Decimal from 'decimal.js';
import { sql } from 'drizzle-orm';
import { selectRows, type Executor } from '../../models/database';
import type { findEffectiveRules } from '../metering/rules-repository';
import { chargeFor, reportsIn, type UsageScope } from './usage-queries';

/**
 * For each metric with more than one rule in force (a directional pair: server/metering/rules-repository.ts), the
 * charge in cents (decimal string) of its units billed in [start, end): each meter event's units priced at the rule
 * whose meter it is, one line each, as Stripe invoices one subscription item per price. Metrics with one rule are absent.
 */
export async function chargesByMeter(db: Executor, scope: UsageScope, start: string, end: string, rules: Awaited<ReturnType<typeof findEffectiveRules>>) {
  const paired = new Set(rules.filter((r, _i, all) => all.filter((o) => o.metric === r.metric).length > 1).map((r) => r.metric));
  const charges = new Map<string, string | null>();
  if (paired.size === 0) return charges;
  const billed = await selectRows<{ metric: string; eventName: string; units: string }>(
    db,
    sql`select r.metric, r.meter_event_name as "eventName", sum(r.units)::text as units from ${reportsIn(scope, start, end)} group by 1, 2`,
  );
  for (const metric of paired) {
    let total: Decimal | null = new Decimal(0);
    for (const b of billed.filter((row) => row.metric === metric)) {
      const rule = rules.find((r) => r.metric === metric && r.meterEventName === b.eventName);
      const cents = chargeFor(rule?.priceTerms ?? null, Number(b.units));
      total = cents === null || total === null ? null : total.plus(cents);
    }
    charges.set(metric, total === null ? null : total.toString());
  }
  return charges;
}
