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
import type { UsageDraft } from './normalise';
import { addToCounter, findEffectiveRules, type EffectiveRule } from './rules-repository';

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
 * Counts `usage` (all of one sub-account) against the rules in force, in one round trip: the SQL function
 * `meterbridge_apply_usage` (models/migrations/0005_intake_functions.sql) takes the agency's billing lock shared,
 * reads the rules, adds each metric's exact sum to its counter (in metric order) and writes a meter report per
 * whole threshold crossed, dated at the metric's latest record.
 * Usage of a sub-account Meterbridge does not know, that uninstalled the app, whose rebilling is off or paused,
 * or with no enabled rule, no matching direction or (in live mode) no Stripe
 * customer, stays in the ledger and is not counted: it is never billed retroactively.
 * @throws the database error, which rolls back the whole delivery.
 */
export async function applyUsageToCounters(tx: Transaction, usage: UsageDraft[], activityEventId: number | null): Promise<CrossingSummary> {
  const locationId = usage[0]?.locationId;
  if (!locationId) return { counted: 0, reports: [] };
  const input = JSON.stringify(
    usage.map((u) => ({ metric: u.metric, quantity: u.quantity, direction: u.direction, occurred_at: u.occurredAt.toISOString() })),
  );
  const [row] = await selectRows<{ applied: AppliedUsage }>(
    tx,
    sql`select meterbridge_apply_usage(${locationId}, ${input}::jsonb, ${activityEventId}::bigint) as applied`,
  );
  return crossingSummary(row!.applied);
}

/** What `meterbridge_apply_usage` returns (models/migrations/0005_intake_functions.sql). */
export interface AppliedUsage {
  counted: number;
  reports: Array<{ metric: string; units: string }>;
}

/** The summary of a `meterbridge_apply_usage` result. */
function crossingSummary(applied: AppliedUsage): CrossingSummary {
  return { counted: Number(applied.counted), reports: applied.reports.map((r) => ({ metric: r.metric, units: BigInt(r.units) })) };
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
