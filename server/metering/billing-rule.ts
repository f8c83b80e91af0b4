/**
 * THE billing rule, written once: when usage becomes billable units. Every path that counts usage comes here — the
 * inbox processor (webhooks, usage API, workflow actions, phone numbers: server/pipeline/), a backfill page that
 * bills as it imports, held usage offered later (held-usage.ts), and a threshold change settling what its counter
 * already holds (`settleCounter`). Set-based: any number of sub-accounts and metrics in a handful of statements.
 *
 * The rule (DESIGN invariant 3):
 * 1. the sub-account is billable: installed (`active`), rebilling switched on by the agency, not `paused` by Stripe
 *    unless suspended for non-payment (`BILLABLE`); usage of any other sub-account stays in the ledger and is never
 *    billed retroactively;
 * 2. the rules in force are the sub-account's own, else the agency default's (rules-repository.ts `findEffectiveRules`);
 *    the one counting the usage is the metric's `both` rule or the rule of the usage's direction — a directional
 *    metric may have an inbound and an outbound rule, each with its own threshold, meter and price — and a usage
 *    without a direction counts under a metric's single rule (`ruleForDirection`); the rule must be enabled;
 * 3. live mode needs a Stripe customer; shadow mode (`billing_mode = 'shadow'`) does not, and its meter reports are
 *    written `shadow` ("would bill": the reporter never takes them);
 * 4. per (sub-account, metric, direction of the counting rule): total += exact sum of quantities; units due = floor(total / threshold) − billed
 *    units; due > 0 → one meter report dated at the latest usage, and billed units advance. The remainder carries,
 *    also across a threshold change (`rebaseCounter`, then `settleCounter`).
 * Locks, in the order every writer uses (models/advisory-locks.ts): the agency's billing set-up lock shared, taken
 * BEFORE the rules are read (a rule change takes it exclusive), then counter rows in (sub-account, metric, direction) byte order.
 */
import { sql } from 'drizzle-orm';
import { BILLING_SETUP_LOCK } from '../../models/advisory-locks';
import { selectRows, type Executor, type Transaction } from '../../models/database';
import { sumQuantities } from './decimal-quantity';
import type { UsageDraft } from './normalise';
import { findEffectiveRules, ruleForDirection, type EffectiveRule, type RuleDirection } from './rules-repository';

/**
 * A sub-account bills new usage while installed, switched on by the agency, and not paused by Stripe — or paused but
 * suspended for non-payment (server/suspension/): its usage is counted and held, to be billed once the balance is paid.
 */
const BILLABLE = sql`status = 'active' and rebilling_enabled
  and (billing_status <> 'paused' or location_id in (select su.location_id from suspensions su where su.resumed_at is null))`;

/**
 * Usage to count, with the activity event its crossing is attributed to (null for held usage and settlements).
 * `settles`: a settlement (quantity 0) of the counter of the rule of this direction, whatever the draft's direction.
 */
export interface CountableUsage {
  draft: UsageDraft;
  activityEventId: number | null;
  settles?: RuleDirection;
  /**
   * History billed now (imported usage: a backfill billed, held records offered): its crossing keeps the usage's time,
   * but its meter report is billable from now (`meter_reports.billable_from`), so the meter event goes on the open
   * period's invoice — dated in a period Stripe already invoiced it would be invoiced nowhere (models/schema/billing.ts).
   */
  history?: boolean;
}

/** What counting did: usage drafts a rule counted, and the meter reports written (units per crossed counter). */
export interface CrossingSummary {
  counted: number;
  reports: Array<{ locationId: string; metric: string; units: bigint; activityEventId: number | null }>;
}

/** `shadow` reports are "would bill" only; `pending` ones go to Stripe. */
type ReportStatus = 'pending' | 'shadow';

/**
 * Counts usage against the rule, in the caller's transaction (the crossings commit or roll back with it).
 * @throws the database error, which rolls back the caller's transaction.
 */
export async function countUsage(tx: Transaction, usage: readonly CountableUsage[]): Promise<CrossingSummary> {
  if (usage.length === 0) return { counted: 0, reports: [] };
  const locationIds = [...new Set(usage.map((u) => u.draft.locationId))];
  const billable = await lockAndFindBillable(tx, locationIds);
  if (billable.size === 0) return { counted: 0, reports: [] };
  const metrics = [...new Set(usage.map((u) => u.draft.metric))];
  const rules = new Map<string, EffectiveRule[]>();
  for (const rule of await findEffectiveRules(tx, [...billable.keys()], metrics)) {
    const key = `${rule.appliesTo}\u0000${rule.metric}`;
    rules.set(key, [...(rules.get(key) ?? []), rule]);
  }

  const counters = new Map<string, { rule: EffectiveRule; status: ReportStatus; quantities: string[]; crossedAt: Date; eventId: number | null; history: boolean }>();
  let counted = 0;
  for (const { draft, activityEventId, settles, history = false } of usage) {
    const status = billable.get(draft.locationId);
    const inForce = rules.get(`${draft.locationId}\u0000${draft.metric}`) ?? [];
    const rule = settles ? inForce.find((r) => r.direction === settles) : ruleForDirection(inForce, draft.direction);
    if (!status || !rule || !counts(rule, status)) continue;
    const key = `${draft.locationId}\u0000${draft.metric}\u0000${rule.direction}`;
    counted++;
    const counter = counters.get(key);
    if (!counter) {
      counters.set(key, { rule, status, quantities: [draft.quantity], crossedAt: draft.occurredAt, eventId: activityEventId, history });
      continue;
    }
    counter.quantities.push(draft.quantity);
    counter.history ||= history;
    if (draft.occurredAt > counter.crossedAt) counter.crossedAt = draft.occurredAt;
    if (activityEventId !== null && (counter.eventId === null || activityEventId > counter.eventId)) counter.eventId = activityEventId;
  }
  if (counters.size === 0) return { counted, reports: [] };

  const rows = [...counters.values()]
    .map((c) => ({
      location_id: c.rule.appliesTo,
      metric: c.rule.metric,
      direction: c.rule.direction,
      company_id: c.rule.companyId,
      quantity: sumQuantities(c.quantities),
      threshold: c.rule.threshold,
      customer: c.rule.stripeCustomerId,
      meter_event_name: c.rule.meterEventName,
      crossed_at: c.crossedAt.toISOString(),
      event_id: c.eventId,
      status: c.status,
      history: c.history,
    }))
    .sort((a, b) => byteOrder(a.location_id, b.location_id) || byteOrder(a.metric, b.metric) || byteOrder(a.direction, b.direction))
    .map((row, n) => ({ ...row, n }));
  return { counted, reports: await advanceCounters(tx, rows) };
}

/** Whether the rule counting a usage draft bills it (rules 2 and 3 above; the direction was matched by ruleForDirection). */
function counts(rule: EffectiveRule, status: ReportStatus): boolean {
  if (!rule.enabled) return false;
  return status === 'shadow' || rule.stripeCustomerId !== null;
}

/**
 * Takes the billing set-up lock of every agency concerned (shared, company order), then reads which sub-accounts are
 * billable and the status their reports get.
 */
async function lockAndFindBillable(tx: Transaction, locationIds: string[]): Promise<Map<string, ReportStatus>> {
  const ids = JSON.stringify(locationIds);
  await tx.execute(sql`
    select pg_advisory_xact_lock_shared(${BILLING_SETUP_LOCK}, hashtext(c.company_id))
    from (select company_id from sub_accounts
          where location_id in (select jsonb_array_elements_text(${ids}::jsonb))
          group by company_id order by company_id collate "C") as c`);
  const rows = await selectRows<{ locationId: string; status: ReportStatus }>(
    tx,
    sql`select location_id as "locationId", case when billing_mode = 'shadow' then 'shadow' else 'pending' end as status
        from sub_accounts where location_id in (select jsonb_array_elements_text(${ids}::jsonb)) and ${BILLABLE}`,
  );
  return new Map(rows.map((r) => [r.locationId, r.status]));
}

/**
 * Adds each sum to its counter (created at zero), then bills every whole threshold crossed: billed units advance and
 * one meter report per crossed counter is written. Two statements for the whole batch; the first locks the counter
 * rows in the rows' order ((sub-account, metric, direction) byte order), which every writer uses.
 */
async function advanceCounters(tx: Transaction, rows: Array<Record<string, unknown> & { n: number }>): Promise<CrossingSummary['reports']> {
  const input = JSON.stringify(rows);
  const recordset = sql`jsonb_to_recordset(${input}::jsonb) as x(n int, location_id text, metric text, direction text, company_id text, quantity numeric,
    threshold numeric, customer text, meter_event_name text, crossed_at timestamptz, event_id bigint, status text, history boolean)`;
  await tx.execute(sql`
    insert into usage_counters as c (location_id, metric, direction, company_id, total, billed_units)
    select x.location_id, x.metric, x.direction, x.company_id, x.quantity, 0 from ${recordset} order by x.n
    on conflict (location_id, metric, direction) do update set total = c.total + excluded.total, updated_at = now()`);
  const reports = await selectRows<{ locationId: string; metric: string; units: string; activityEventId: string | null }>(
    tx,
    sql`with due as (
          select x.*, div(c.total, x.threshold) - c.billed_units as units
          from ${recordset} join usage_counters c on c.location_id = x.location_id and c.metric = x.metric and c.direction = x.direction
          where div(c.total, x.threshold) > c.billed_units
        ), billed as (
          update usage_counters c set billed_units = c.billed_units + d.units
          from due d where c.location_id = d.location_id and c.metric = d.metric and c.direction = d.direction
          returning 1
        )
        insert into meter_reports (company_id, location_id, metric, stripe_customer_id, meter_event_name, units, crossed_at, activity_event_id, status, billable_from)
        select d.company_id, d.location_id, d.metric, d.customer, d.meter_event_name, d.units, d.crossed_at, d.event_id, d.status,
               case when d.history then now() end
        from due d order by d.n
        returning location_id as "locationId", metric, units::text as units, activity_event_id::text as "activityEventId"`,
  );
  return reports.map((r) => ({
    locationId: r.locationId,
    metric: r.metric,
    units: BigInt(r.units),
    activityEventId: r.activityEventId === null ? null : Number(r.activityEventId),
  }));
}

/**
 * After a rule change (a lower threshold, a carried remainder), bills the whole thresholds the counter already
 * holds, so units due never wait for the next usage (DESIGN invariant 3): the rule above, counting nothing new.
 * Runs in the rule change's transaction, under the agency's exclusive billing lock.
 * @returns the units billed (0 when nothing was due, or no billable rule is in force).
 */
export async function settleCounter(tx: Transaction, locationId: string, metric: string, direction: RuleDirection, at: Date): Promise<bigint> {
  const draft: UsageDraft = { locationId, metric, quantity: '0', unit: '', direction: null, occurredAt: at, sourceType: 'settlement', sourceId: null, attributes: {} };
  const { reports } = await countUsage(tx, [{ draft, activityEventId: null, settles: direction }]);
  return reports.reduce((sum, r) => sum + r.units, 0n);
}

/**
 * Re-bases a counter when its threshold changes: the units already billed under `oldThreshold` are taken out of
 * the total, so only the unbilled remainder carries into the new threshold.
 */
export async function rebaseCounter(db: Executor, locationId: string, metric: string, direction: RuleDirection, oldThreshold: string): Promise<void> {
  await db.execute(
    sql`update usage_counters set total = total - billed_units * ${oldThreshold}::numeric, billed_units = 0, updated_at = now()
        where location_id = ${locationId} and metric = ${metric} and direction = ${direction}`,
  );
}

/**
 * Moves a re-based counter's remainder to the counter of another rule of the same metric (created at zero), when the
 * rule that counted it is gone — a `both` rule split into inbound and outbound, a pair merged back, a direction
 * changed — so no usage is lost in the change (DESIGN invariant 3). Counter rows are locked in direction byte order.
 */
export async function moveRemainder(db: Executor, locationId: string, metric: string, from: RuleDirection, to: RuleDirection): Promise<void> {
  await db.execute(sql`select 1 from usage_counters where location_id = ${locationId} and metric = ${metric} and direction in (${from}, ${to})
                       order by direction collate "C" for update`);
  await db.execute(sql`
    insert into usage_counters as c (location_id, metric, direction, company_id, total, billed_units)
    select location_id, metric, ${to}, company_id, total, 0 from usage_counters
    where location_id = ${locationId} and metric = ${metric} and direction = ${from} and total > 0
    on conflict (location_id, metric, direction) do update set total = c.total + excluded.total, updated_at = now()`);
  await db.execute(sql`update usage_counters set total = 0, billed_units = 0, updated_at = now()
                       where location_id = ${locationId} and metric = ${metric} and direction = ${from}`);
}

const byteOrder = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
