/**
 * The record of reconciliation runs: one row per run with its totals, one per (customer, meter) pair it compared,
 * and the alert a drift that stays raises on the overview.
 */
import { sql } from 'drizzle-orm';
import { selectRows, type Executor } from '../../models/database';
import type { ReconciledWindow } from '../../models/schema';
import { AppError } from '../http/errors';

/** A run as the API shows it. Times ISO 8601 UTC; units whole meter units. */
export interface RunSummary {
  id: number;
  locationId: string | null;
  trigger: 'scheduled' | 'on_demand' | 'follow_up';
  status: 'running' | 'completed' | 'failed';
  settledBefore: string;
  windowsFrom: string;
  pairsChecked: number;
  pairsWithDrift: number;
  pairsFailed: number;
  windowsChecked: number;
  windowsSkipped: number;
  missingUnits: number;
  excessUnits: number;
  correctedUnits: number;
  leftForPersonUnits: number;
  unconfirmedSettled: number;
  error: string | null;
  startedAt: string;
  finishedAt: string | null;
  /**
   * Its drift per metric, the metrics with any: what an owner reads. The four totals above add units of every
   * metric (for operators' gauges and logs); these add only units of one metric, over its customers and meters.
   */
  drift: MetricDrift[];
}

/**
 * One metric's drift in a run, its units summed over the run's pairs whose meter counts that metric. `metric` is the
 * metric's key, or the meter event name when no rule or meter report names the meter's metric.
 */
export interface MetricDrift {
  metric: string;
  missingUnits: number;
  excessUnits: number;
  correctedUnits: number;
  leftForPersonUnits: number;
}

/** What a run found for one pair. */
export interface PairResult {
  locationId: string | null;
  stripeCustomerId: string;
  meterEventName: string;
  stripeMeterId: string | null;
  status: 'ok' | 'corrected' | 'flagged' | 'error';
  windowsChecked: number;
  windowsSkipped: number;
  ourUnits: number;
  stripeUnits: number;
  missingUnits: number;
  excessUnits: number;
  correctedUnits: number;
  leftForPersonUnits: number;
  message: string | null;
  /** The windows with drift, an action or skipped; windows that matched are counted, not listed. */
  windows: ReconciledWindow[];
}

/**
 * A pair as the API shows it: with the metric its meter counts (`MetricDrift.metric`) and the name of the sub-account
 * billed to its customer (null when none is known), which the page shows instead of the `cus_` id.
 */
export type PairView = PairResult & { metric: string; subAccountName: string | null };

/** The totals a run ends with (the sum of its pairs). */
export type RunTotals = Pick<
  RunSummary,
  'pairsChecked' | 'pairsWithDrift' | 'pairsFailed' | 'windowsChecked' | 'windowsSkipped' | 'missingUnits' | 'excessUnits' | 'correctedUnits' | 'leftForPersonUnits' | 'unconfirmedSettled'
>;

/** A run left `running` longer than this is taken to have died with its process (seconds). */
const STALE_RUN_SECONDS = 3600;

/** An instant as ISO 8601 UTC text (both drivers return the same string). */
const iso = (column: string) => sql.raw(`to_char(${column} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')`);

const RUN_COLUMNS = sql`id::float8 as id, location_id as "locationId", trigger, status, ${iso('settled_before')} as "settledBefore",
  ${iso('windows_from')} as "windowsFrom", pairs_checked as "pairsChecked", pairs_with_drift as "pairsWithDrift", pairs_failed as "pairsFailed",
  windows_checked as "windowsChecked", windows_skipped as "windowsSkipped", missing_units::float8 as "missingUnits",
  excess_units::float8 as "excessUnits", corrected_units::float8 as "correctedUnits", left_for_person_units::float8 as "leftForPersonUnits",
  unconfirmed_settled as "unconfirmedSettled", error, ${iso('started_at')} as "startedAt", ${iso('finished_at')} as "finishedAt"`;

/**
 * The metric a pair's meter (`reconciliation_pairs p`) counts: the agency's rules name each meter's metric (as the
 * reporter sends it: server/metering/rules-repository.ts), else the reports sent to that meter do, else the meter event
 * name stands for it.
 */
const PAIR_METRIC = sql`coalesce(
  (select r.metric from rebilling_rules r where r.company_id = p.company_id and r.meter_event_name = p.meter_event_name limit 1),
  (select m.metric from meter_reports m where m.location_id = p.location_id and m.meter_event_name = p.meter_event_name limit 1),
  p.meter_event_name)`;

/**
 * Each run's drift per metric (`RunSummary.drift`), over its pairs of one sub-account when `locationId` is given.
 * @returns run id → its metrics with any drift, by metric; runs without drift are absent.
 */
export async function driftPerMetric(db: Executor, runIds: readonly number[], locationId: string | null): Promise<Map<number, MetricDrift[]>> {
  const byRun = new Map<number, MetricDrift[]>();
  if (runIds.length === 0) return byRun;
  const rows = await selectRows<MetricDrift & { runId: number }>(
    db,
    sql`select p.run_id::float8 as "runId", ${PAIR_METRIC} as metric, sum(p.missing_units)::float8 as "missingUnits",
               sum(p.excess_units)::float8 as "excessUnits", sum(p.corrected_units)::float8 as "correctedUnits",
               sum(p.left_for_person_units)::float8 as "leftForPersonUnits"
        from reconciliation_pairs p
        where p.run_id in (${sql.join(runIds.map((id) => sql`${id}`), sql`, `)}) ${locationId ? sql`and p.location_id = ${locationId}` : sql``}
        group by 1, 2
        having sum(p.missing_units + p.excess_units + p.corrected_units + p.left_for_person_units) > 0
        order by 1, 2`,
  );
  for (const { runId, ...drift } of rows) byRun.set(runId, [...(byRun.get(runId) ?? []), drift]);
  return byRun;
}

/** The runs with their drift per metric (`driftPerMetric`). */
async function withDrift(db: Executor, runs: Omit<RunSummary, 'drift'>[], locationId: string | null): Promise<RunSummary[]> {
  const byRun = await driftPerMetric(db, runs.map((r) => r.id), locationId);
  return runs.map((run) => ({ ...run, drift: byRun.get(run.id) ?? [] }));
}

/**
 * Opens a run. A run left running by a process that died (older than an hour) is closed as failed first.
 * @throws AppError 409 `reconciliation_running` when the agency has a run in progress.
 */
export async function startRun(
  db: Executor,
  run: { companyId: string; locationId: string | null; trigger: RunSummary['trigger']; settledBefore: number; windowsFrom: number },
): Promise<number> {
  await db.execute(sql`update reconciliation_runs set status = 'failed', error = 'The run stopped (its process ended).', finished_at = now()
                       where company_id = ${run.companyId} and status = 'running' and started_at < now() - make_interval(secs => ${STALE_RUN_SECONDS})`);
  const rows = await selectRows<{ id: number }>(
    db,
    sql`insert into reconciliation_runs (company_id, location_id, trigger, settled_before, windows_from)
        values (${run.companyId}, ${run.locationId}, ${run.trigger}, to_timestamp(${run.settledBefore}), to_timestamp(${run.windowsFrom}))
        on conflict do nothing returning id::float8 as id`,
  );
  if (!rows[0]) throw new AppError('reconciliation_running', 'A reconciliation of this agency is already running; try again when it ends.');
  return rows[0].id;
}

/** Stores one pair's result. */
export async function insertPairResult(db: Executor, runId: number, companyId: string, pair: PairResult): Promise<void> {
  await db.execute(sql`
    insert into reconciliation_pairs (run_id, company_id, location_id, stripe_customer_id, meter_event_name, stripe_meter_id, status,
      windows_checked, windows_skipped, our_units, stripe_units, missing_units, excess_units, corrected_units, left_for_person_units, message, windows)
    values (${runId}, ${companyId}, ${pair.locationId}, ${pair.stripeCustomerId}, ${pair.meterEventName}, ${pair.stripeMeterId}, ${pair.status},
      ${pair.windowsChecked}, ${pair.windowsSkipped}, ${pair.ourUnits}, ${pair.stripeUnits}, ${pair.missingUnits}, ${pair.excessUnits},
      ${pair.correctedUnits}, ${pair.leftForPersonUnits}, ${pair.message}, ${JSON.stringify(pair.windows)}::jsonb)`);
}

/** Closes a run with its totals, or as failed with `error`. */
export async function finishRun(db: Executor, runId: number, totals: RunTotals, error: string | null = null): Promise<void> {
  await db.execute(sql`
    update reconciliation_runs set status = ${error ? 'failed' : 'completed'}, error = ${error}, finished_at = now(),
      pairs_checked = ${totals.pairsChecked}, pairs_with_drift = ${totals.pairsWithDrift}, pairs_failed = ${totals.pairsFailed},
      windows_checked = ${totals.windowsChecked}, windows_skipped = ${totals.windowsSkipped}, missing_units = ${totals.missingUnits},
      excess_units = ${totals.excessUnits}, corrected_units = ${totals.correctedUnits}, left_for_person_units = ${totals.leftForPersonUnits},
      unconfirmed_settled = ${totals.unconfirmedSettled}
    where id = ${runId}`);
}

/**
 * The agency's runs, newest first: all of them, or (`locationId`) those of that sub-account alone plus agency-wide
 * runs that compared one of its customers.
 */
export async function listRuns(db: Executor, companyId: string, locationId: string | null, limit = 50): Promise<RunSummary[]> {
  const scope = locationId
    ? sql`and (location_id = ${locationId} or exists (select 1 from reconciliation_pairs p where p.run_id = r.id and p.location_id = ${locationId}))`
    : sql``;
  const runs = await selectRows<Omit<RunSummary, 'drift'>>(db, sql`select ${RUN_COLUMNS} from reconciliation_runs r where company_id = ${companyId} ${scope} order by id desc limit ${limit}`);
  return withDrift(db, runs, locationId);
}

/** One run of the agency with its pairs (of one sub-account when `locationId` is given). @throws AppError 404. */
export async function runDetail(db: Executor, companyId: string, runId: number, locationId: string | null): Promise<RunSummary & { pairs: PairView[] }> {
  const [found] = await selectRows<Omit<RunSummary, 'drift'>>(db, sql`select ${RUN_COLUMNS} from reconciliation_runs r where company_id = ${companyId} and id = ${runId}`);
  if (!found) throw new AppError('not_found', `No reconciliation run ${runId}.`);
  const [run] = await withDrift(db, [found], locationId);
  const pairs = await selectRows<PairView>(
    db,
    sql`select location_id as "locationId", stripe_customer_id as "stripeCustomerId", meter_event_name as "meterEventName", ${PAIR_METRIC} as metric,
               (select s.name from sub_accounts s where s.location_id = p.location_id) as "subAccountName",
               stripe_meter_id as "stripeMeterId", status, windows_checked as "windowsChecked", windows_skipped as "windowsSkipped",
               our_units::float8 as "ourUnits", stripe_units::float8 as "stripeUnits", missing_units::float8 as "missingUnits",
               excess_units::float8 as "excessUnits", corrected_units::float8 as "correctedUnits",
               left_for_person_units::float8 as "leftForPersonUnits", message, windows
        from reconciliation_pairs p where run_id = ${runId} ${locationId ? sql`and location_id = ${locationId}` : sql``}
        order by status <> 'ok' desc, stripe_customer_id, meter_event_name`,
  );
  return { ...run!, pairs };
}

/**
 * Agencies whose latest run repaired drift (and was not itself a follow-up) and finished more than `afterSeconds` ago:
 * their repairs have had time to be sent and to settle, and should be checked while Stripe can still cancel them.
 */
export async function agenciesToFollowUp(db: Executor, afterSeconds: number): Promise<string[]> {
  const rows = await selectRows<{ companyId: string }>(
    db,
    sql`select company_id as "companyId" from (
          select distinct on (company_id) company_id, trigger, status, corrected_units, finished_at
          from reconciliation_runs order by company_id, id desc) latest
        where status = 'completed' and trigger <> 'follow_up' and corrected_units > 0
          and finished_at < now() - make_interval(secs => ${afterSeconds})`,
  );
  return rows.map((r) => r.companyId);
}

/** The overview's alert: pairs whose drift stays, and the units involved. */
export interface DriftAlert {
  pairs: number;
  units: number;
  lastRunAt: string | null;
}

/**
 * Drift that stays, per pair as its latest completed run left it: excess left for a person, a pair Stripe could not
 * be asked about, or drift found again in the run after one that already found (and repaired) drift there.
 */
export async function driftAlert(db: Executor, companyId: string, locationId: string | null = null): Promise<DriftAlert> {
  const [row] = await selectRows<DriftAlert>(
    db,
    sql`${stayingDrift(companyId, locationId)}
        select (select count(*)::int from staying) as pairs, (select coalesce(sum(units), 0)::float8 from staying) as units,
               (select ${iso('max(finished_at)')} from reconciliation_runs where company_id = ${companyId} and status = 'completed') as "lastRunAt"`,
  );
  return row!;
}

/** The sub-accounts with drift that stays (the pairs `driftAlert` counts): the list's `drift` filter. */
export async function driftLocationIds(db: Executor, companyId: string): Promise<string[]> {
  const rows = await selectRows<{ locationId: string }>(
    db,
    sql`${stayingDrift(companyId, null)} select distinct location_id as "locationId" from staying where location_id is not null`,
  );
  return rows.map((r) => r.locationId);
}

/** `with ranked …, staying …`: per pair, the drift its latest completed run left (see `driftAlert`). */
function stayingDrift(companyId: string, locationId: string | null) {
  return sql`with ranked as (
          select p.*, row_number() over (partition by p.stripe_customer_id, p.meter_event_name order by p.run_id desc) as n
          from reconciliation_pairs p join reconciliation_runs r on r.id = p.run_id and r.status = 'completed'
          where p.company_id = ${companyId} ${locationId ? sql`and p.location_id = ${locationId}` : sql``}
        ), staying as (
          select l.stripe_customer_id, l.location_id, l.left_for_person_units + case when prev.missing_units + prev.excess_units > 0
                                                                      then l.missing_units + l.excess_units - l.left_for_person_units else 0 end as units
          from ranked l left join ranked prev on prev.n = 2 and prev.stripe_customer_id = l.stripe_customer_id and prev.meter_event_name = l.meter_event_name
          where l.n = 1 and (l.left_for_person_units > 0 or l.status = 'error'
                             or (l.missing_units + l.excess_units > 0 and coalesce(prev.missing_units + prev.excess_units, 0) > 0))
        )`;
}
