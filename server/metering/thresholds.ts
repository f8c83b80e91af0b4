/**
 * Threshold crossings, inside the intake transaction: usage is added to its (sub-account, metric) counter when a
 * rule is in force, and every whole threshold crossed becomes units in a meter report (the outbox the reporter
 * drains to Stripe). Commits or rolls back with the delivery (DESIGN invariants 1–3).
 * A sub-account in shadow mode (`billing_mode = 'shadow'`) crosses thresholds the same way — its counters advance —
 * but its meter reports are written `shadow` ("would bill"): the reporter never takes them, and they need no Stripe
 * customer (server/shadow/ turns them into `pending` only when the agency asks).
 */
import { sql } from 'drizzle-orm';
import { selectRows, type Transaction } from '../../models/database';
import { billingSetupLockShared } from '../tenancy/tenancy-lock';
import { sumQuantities } from './decimal-quantity';
import type { UsageDraft } from './normalise';
import { addToCounter, addToCounters, findEffectiveRules, type EffectiveRule } from './rules-repository';

/** A sub-account bills new usage while installed, switched on by the agency, and not paused by Stripe. */
const BILLABLE = sql`status = 'active' and rebilling_enabled and billing_status <> 'paused'`;
/** The status a sub-account's new meter reports get: `shadow` in shadow mode, else `pending`. */
const REPORT_STATUS = sql`(case when billing_mode = 'shadow' then 'shadow' else 'pending' end)`;

/** `shadow` reports are "would bill" only; `pending` ones go to Stripe. */
type ReportStatus = 'pending' | 'shadow';

/** What the crossings of one delivery produced (for logs and tests). */
export interface CrossingSummary {
  counted: number;
  reports: Array<{ metric: string; units: bigint }>;
}

/**
 * Counts `usage` (all of one sub-account, from one activity event) against the rules in force.
 * Usage of a sub-account Meterbridge does not know, that uninstalled the app, whose rebilling is off or paused,
 * or with no enabled rule, no matching direction or (in live mode) no Stripe
 * customer, stays in the ledger and is not counted: it is never billed retroactively.
 * @throws the database error, which rolls back the whole delivery.
 */
export async function applyUsageToCounters(tx: Transaction, usage: UsageDraft[], activityEventId: number | null): Promise<CrossingSummary> {
  const summary: CrossingSummary = { counted: 0, reports: [] };
  const locationId = usage[0]?.locationId;
  if (!locationId) return summary;
  // The sub-account and the agency's shared billing-set-up lock in one round trip; the rules are read after it.
  const [sub] = await selectRows<{ companyId: string; status: ReportStatus }>(
    tx,
    sql`select company_id as "companyId", ${REPORT_STATUS} as status, ${billingSetupLockShared(sql`company_id`)} as locked
        from sub_accounts where location_id = ${locationId} and ${BILLABLE}`,
  );
  if (!sub) return summary;
  const rules = new Map((await findEffectiveRules(tx, locationId, [...new Set(usage.map((u) => u.metric))])).map((r) => [r.metric, r]));

  // What each metric adds: the exact sum of its counted records, crossing at the latest of their times.
  const added = new Map<string, { rule: EffectiveRule; quantities: string[]; latest: Date }>();
  for (const record of usage) {
    const rule = rules.get(record.metric);
    if (!rule || !counts(rule, record, sub.status)) continue;
    summary.counted += 1;
    const entry = added.get(record.metric) ?? { rule, quantities: [], latest: record.occurredAt };
    entry.quantities.push(record.quantity);
    if (record.occurredAt > entry.latest) entry.latest = record.occurredAt;
    added.set(record.metric, entry);
  }
  if (added.size === 0) return summary;

  const due = await addToCounters(tx, sub.companyId, locationId, [...added].map(([metric, a]) => ({ metric, quantity: sumQuantities(a.quantities), threshold: a.rule.threshold })));
  const crossings = due.map(({ metric, units }) => {
    const { rule, latest } = added.get(metric)!;
    return { metric, units, stripeCustomerId: rule.stripeCustomerId, meterEventName: rule.meterEventName, crossedAt: latest };
  });
  if (crossings.length === 0) return summary;
  await billCrossings(tx, sub.companyId, locationId, crossings, activityEventId, sub.status);
  summary.reports.push(...crossings.map(({ metric, units }) => ({ metric, units })));
  return summary;
}

/**
 * After a rule change (a lower threshold, a carried remainder), bills the whole thresholds the counter already
 * holds, so units due never wait for the next delivery (DESIGN invariant 3). Runs in the rule change's
 * transaction, under the agency's exclusive billing lock.
 * @returns the units billed (0 when nothing was due, or no billable rule is in force).
 */
export async function settleCounter(tx: Transaction, locationId: string, metric: string, at: Date): Promise<bigint> {
  const [active] = await selectRows<{ status: ReportStatus }>(tx, sql`select ${REPORT_STATUS} as status from sub_accounts where location_id = ${locationId} and ${BILLABLE}`);
  if (!active) return 0n;
  const [rule] = await findEffectiveRules(tx, locationId, [metric]);
  if (!rule || !rule.enabled || (active.status === 'pending' && !rule.stripeCustomerId)) return 0n;
  const { due } = await addToCounter(tx, { locationId, metric, companyId: rule.companyId, quantity: '0', threshold: rule.threshold });
  if (due > 0n) await billUnits(tx, rule, locationId, due, at, null, active.status);
  return due > 0n ? due : 0n;
}

/**
 * Advances the counters' billed units by the units each crossing owes and writes their meter reports, all in one
 * statement (in metric order, as the counters were locked).
 */
async function billCrossings(
  tx: Transaction,
  companyId: string,
  locationId: string,
  crossings: Array<{ metric: string; units: bigint; stripeCustomerId: string | null; meterEventName: string; crossedAt: Date }>,
  activityEventId: number | null,
  status: ReportStatus,
) {
  const input = JSON.stringify(
    crossings.map((c) => ({ metric: c.metric, units: c.units.toString(), customer: c.stripeCustomerId, event_name: c.meterEventName, crossed_at: c.crossedAt.toISOString() })),
  );
  await tx.execute(sql`
    with input as (
      select * from jsonb_to_recordset(${input}::jsonb) as x(metric text, units bigint, customer text, event_name text, crossed_at timestamptz)
    ), billed as (
      update usage_counters c set billed_units = c.billed_units + i.units
      from input i where c.location_id = ${locationId} and c.metric = i.metric
      returning i.metric, i.units, i.customer, i.event_name, i.crossed_at
    )
    insert into meter_reports (company_id, location_id, metric, stripe_customer_id, meter_event_name, units, crossed_at, activity_event_id, status)
    select ${companyId}, ${locationId}, metric, customer, event_name, units, crossed_at, ${activityEventId}, ${status}
    from billed order by metric`);
}

/** Advances the counter's billed units by `units` and writes the meter report for them, in one statement. */
async function billUnits(
  tx: Transaction,
  rule: EffectiveRule,
  locationId: string,
  units: bigint,
  crossedAt: Date,
  activityEventId: number | null,
  status: ReportStatus,
) {
  await tx.execute(sql`
    with billed as (
      update usage_counters set billed_units = billed_units + ${units.toString()}::bigint
      where location_id = ${locationId} and metric = ${rule.metric}
      returning 1
    )
    insert into meter_reports (company_id, location_id, metric, stripe_customer_id, meter_event_name, units, crossed_at, activity_event_id, status)
    select ${rule.companyId}, ${locationId}, ${rule.metric}, ${rule.stripeCustomerId}, ${rule.meterEventName},
           ${units.toString()}::bigint, ${crossedAt.toISOString()}::timestamptz, ${activityEventId}, ${status}
    from billed`);
}

/** A rule counts a record when enabled, billable (a customer, unless in shadow mode) and the direction matches. */
function counts(rule: EffectiveRule, record: UsageDraft, status: ReportStatus): boolean {
  if (!rule.enabled || (status === 'pending' && !rule.stripeCustomerId)) return false;
  if (record.direction === null || rule.direction === 'both') return true;
  return rule.direction === record.direction;
}
