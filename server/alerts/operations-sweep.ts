/**
 * Alerts on the agency's own operations, read from the state their owners store (every minute, with the usage check):
 * - a meter batch Stripe rejected (server/stripe/meter-batch-settlement.ts sets `meter_batches.status = 'rejected'`
 *   from Stripe's error report): `meter_batch_rejected:<batch id>`;
 * - a reconciliation run that found drift (server/reconciliation: `pairs_with_drift > 0` on a finished run):
 *   `reconciliation_drift:<run id>`, its drift told per metric by the metric's label (drift-words.ts).
 * Those states are written by their own modules' transactions; rather than reach into them, this sweep raises the
 * alert from the stored state within a minute, and the dedupe key makes it exactly once. Only states changed in the
 * last LOOKBACK_HOURS are read, so an upgrade does not alert on old history.
 */
import { sql } from 'drizzle-orm';
import { type Database, selectRows } from '../../models/database';
import type { CheckRun } from './checks';
import { metricLabel } from '../metering/custom-metrics';
import { metricDriftWords } from '../reconciliation/drift-words';
import { driftPerMetric } from '../reconciliation/runs-repository';
import { raiseAlert } from './raise';

/** How far back the sweep looks (hours). */
export const LOOKBACK_HOURS = 24;

/** Raises the alerts of rejected meter batches and reconciliation drift not alerted yet. */
export async function sweepOperations(db: Database): Promise<CheckRun> {
  const run: CheckRun = { checked: 0, raised: 0 };
  const batches = await selectRows<{ id: number; companyId: string; locationId: string | null; name: string | null; meterEventName: string; metric: string | null; code: string | null; error: string | null; value: number }>(
    db,
    sql`select b.id, b.company_id as "companyId", s.location_id as "locationId", s.name, b.meter_event_name as "meterEventName",
               (select r.metric from rebilling_rules r where r.company_id = b.company_id and r.meter_event_name = b.meter_event_name limit 1) as metric,
               b.rejected_code as code, b.last_error as error, b.value
        from meter_batches b
        left join sub_accounts s on s.company_id = b.company_id and s.stripe_customer_id = b.stripe_customer_id
        where b.status = 'rejected' and b.updated_at > now() - make_interval(hours => ${LOOKBACK_HOURS})
          and not exists (select 1 from alerts a where a.company_id = b.company_id and a.dedupe_key = 'meter_batch_rejected:' || b.id)`,
  );
  for (const b of batches) {
    run.checked += 1;
    const raised = await raiseAlert(db, {
      companyId: b.companyId, locationId: b.locationId, kind: 'meter_batch_rejected', dedupeKey: `meter_batch_rejected:${b.id}`,
      title: `Meter batch rejected${b.name ? `: ${b.name}` : ''}`,
      // The metric by its label (the rule reporting to that meter), the meter's name beside it for whoever looks in Stripe.
      message: `Stripe rejected ${b.value} unit${b.value === 1 ? '' : 's'} of ${b.metric ? `${await metricLabel(db, b.companyId, b.metric)} (meter "${b.meterEventName}")` : `meter "${b.meterEventName}"`}${b.code ? ` (${b.code})` : ''}: ${b.error ?? 'no message'}. Fix the cause, then resend the batch from the sub-account’s report log.`,
      data: { batchId: b.id, meterEventName: b.meterEventName, metric: b.metric, units: b.value, code: b.code, error: b.error, subAccountName: b.name },
    });
    if (raised.created) run.raised += 1;
  }
  const runs = await selectRows<{ id: number; companyId: string; locationId: string | null; pairsWithDrift: number; missing: number; excess: number; corrected: number; leftForPerson: number }>(
    db,
    sql`select r.id::float8 as id, r.company_id as "companyId", r.location_id as "locationId", r.pairs_with_drift as "pairsWithDrift",
               r.missing_units as missing, r.excess_units as excess, r.corrected_units as corrected, r.left_for_person_units as "leftForPerson"
        from reconciliation_runs r
        where r.status = 'completed' and r.pairs_with_drift > 0 and r.finished_at > now() - make_interval(hours => ${LOOKBACK_HOURS})
          and not exists (select 1 from alerts a where a.company_id = r.company_id and a.dedupe_key = 'reconciliation_drift:' || r.id)`,
  );
  const driftOf = await driftPerMetric(db, runs.map((r) => r.id), null);
  for (const r of runs) {
    run.checked += 1;
    // Per metric, by its label: units of different metrics are never added up in words (the totals stay in `data`).
    const drift = driftOf.get(r.id) ?? [];
    const words: string[] = [];
    for (const d of drift) words.push(`${metricDriftWords(await metricLabel(db, r.companyId, d.metric), d)}.`);
    const raised = await raiseAlert(db, {
      companyId: r.companyId, locationId: r.locationId, kind: 'reconciliation_drift', dedupeKey: `reconciliation_drift:${r.id}`,
      title: 'Reconciliation found drift',
      message: `Run ${r.id} found ${r.pairsWithDrift} customer × meter pair${r.pairsWithDrift === 1 ? '' : 's'} differing from Stripe.${words.map((w) => ` ${w}`).join('')} ` +
        'Open Reconciliation to see which.',
      data: { runId: r.id, pairsWithDrift: r.pairsWithDrift, missingUnits: r.missing, excessUnits: r.excess, correctedUnits: r.corrected, leftForPersonUnits: r.leftForPerson, drift },
    });
    if (raised.created) run.raised += 1;
  }
  return run;
}
