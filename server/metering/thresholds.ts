/**
 * Threshold crossings, inside the intake transaction: usage is added to its (sub-account, metric) counter when a
 * rule is in force, and every whole threshold crossed becomes units in a meter report (the outbox the reporter
 * drains to Stripe). Commits or rolls back with the delivery (DESIGN invariants 1–3).
 */
import { sql } from 'drizzle-orm';
import { selectRows, type Transaction } from '../../models/database';
import { lockAgencyBillingSetup } from '../tenancy/tenancy-lock';
import type { UsageDraft } from './normalise';
import { addToCounter, findEffectiveRules, type EffectiveRule } from './rules-repository';

/** What the crossings of one delivery produced (for logs and tests). */
export interface CrossingSummary {
  counted: number;
  reports: Array<{ metric: string; units: bigint }>;
}

/**
 * Counts `usage` (all of one sub-account, from one activity event) against the rules in force.
 * Usage of a sub-account Meterbridge does not know or that uninstalled the app, or with no enabled rule, no matching direction or no Stripe
 * customer, stays in the ledger and is not counted: it is never billed retroactively.
 * @throws the database error, which rolls back the whole delivery.
 */
export async function applyUsageToCounters(tx: Transaction, usage: UsageDraft[], activityEventId: number | null): Promise<CrossingSummary> {
  const summary: CrossingSummary = { counted: 0, reports: [] };
  const locationId = usage[0]?.locationId;
  if (!locationId) return summary;
  const [sub] = await selectRows<{ companyId: string }>(tx, sql`select company_id as "companyId" from sub_accounts where location_id = ${locationId} and status = 'active'`);
  if (!sub) return summary;
  await lockAgencyBillingSetup(tx, sub.companyId, 'shared');
  const rules = new Map((await findEffectiveRules(tx, locationId, [...new Set(usage.map((u) => u.metric))])).map((r) => [r.metric, r]));

  for (const record of usage) {
    const rule = rules.get(record.metric);
    if (!rule || !counts(rule, record)) continue;
    summary.counted += 1;
    const { due } = await addToCounter(tx, {
      locationId,
      metric: record.metric,
      companyId: rule.companyId,
      quantity: record.quantity,
      threshold: rule.threshold,
    });
    if (due <= 0n) continue;
    await tx.execute(sql`
      with billed as (
        update usage_counters set billed_units = billed_units + ${due.toString()}::bigint
        where location_id = ${locationId} and metric = ${record.metric}
        returning 1
      )
      insert into meter_reports (company_id, location_id, metric, stripe_customer_id, meter_event_name, units, crossed_at, activity_event_id)
      select ${rule.companyId}, ${locationId}, ${record.metric}, ${rule.stripeCustomerId}, ${rule.meterEventName},
             ${due.toString()}::bigint, ${record.occurredAt.toISOString()}::timestamptz, ${activityEventId}
      from billed`);
    summary.reports.push({ metric: record.metric, units: due });
  }
  return summary;
}

/** A rule counts a record when enabled, billable (has a customer) and the direction matches. */
function counts(rule: EffectiveRule, record: UsageDraft): boolean {
  if (!rule.enabled || !rule.stripeCustomerId) return false;
  if (record.direction === null || rule.direction === 'both') return true;
  return rule.direction === record.direction;
}
