/**
 * The pipeline's state as the database holds it, read in one round trip for the /metrics gauges. Every part reads
 * an index, not a table: the inbox (`activity_events_inbox_idx`), open meter batches
 * (`meter_batches_open_status_idx`), pending meter reports (`meter_reports_pending_idx`), the retention backlog
 * (`activity_events_retention_due_idx`; all in models/migrations/0015_retention.sql except the reports') and the
 * latest reconciliation run per agency (`reconciliation_runs_company_idx`). Ages are seconds, by the database clock.
 */
import { sql } from 'drizzle-orm';
import { selectRows, type Executor } from '../../models/database';
import { REDACTION_KEY } from '../retention/redact-payload';
import { FINISHED_STATUSES } from '../retention/retention-repository';

/** Inbox statuses: stored and not yet processed, or processing failed and will be retried. */
export const INBOX_STATUSES = ['received', 'failed'] as const;
/**
 * Meter batch states the gauges count: `rejected` only until the agency resends it (the batch then stays `rejected`
 * with `resent_at`, as the record); the terminal `sent` and `replaced` grow forever and are not counted.
 */
export const OPEN_BATCH_STATES = ['queued', 'sending', 'failed', 'rejected', 'unconfirmed'] as const;

/**
 * What the gauges show.
 * - `inbox`: events per inbox status, and the age of the oldest (null when the inbox is empty).
 * - `meterBatches`: batches per open state (rejected ones not yet resent); `pendingReports` and the oldest one's age (null when none).
 * - `retentionOldestAgeSeconds`: age of the oldest finished event whose text is not yet redacted (null when none).
 * - `reconciliation`: over each agency's latest finished run: how many runs completed or failed, units found
 *   missing in Stripe, in excess, corrected and left for a person, pairs with drift, and the age of the oldest of
 *   those runs (null when no agency has one).
 */
export interface PipelineSnapshot {
  inbox: { received: number; failed: number; oldestAgeSeconds: number | null };
  meterBatches: Record<(typeof OPEN_BATCH_STATES)[number], number>;
  pendingReports: number;
  pendingReportsOldestAgeSeconds: number | null;
  retentionOldestAgeSeconds: number | null;
  reconciliation: {
    completed: number;
    failed: number;
    missingUnits: number;
    excessUnits: number;
    correctedUnits: number;
    leftForPersonUnits: number;
    pairsWithDrift: number;
    oldestAgeSeconds: number | null;
  };
}

const list = (values: readonly string[]) => sql.raw(values.map((v) => `'${v}'`).join(', '));

/**
 * Reads the snapshot.
 * @throws the database driver's error.
 */
export async function readPipelineSnapshot(db: Executor): Promise<PipelineSnapshot> {
  const [row] = await selectRows<{ inbox: Row[] | null; batches: Row[] | null; reports: Row; retention: Row; reconciliation: Row }>(
    db,
    sql`select
      (select json_agg(i) from (
         select status, count(*)::int as n, extract(epoch from now() - min(received_at))::float8 as age
         from activity_events where status in (${list(INBOX_STATUSES)}) group by status) i) as inbox,
      (select json_agg(b) from (
         select status, count(*)::int as n from meter_batches
         where status in (${list(OPEN_BATCH_STATES)}) and not (status = 'rejected' and resent_at is not null) group by status) b) as batches,
      (select row_to_json(r) from (
         select count(*)::int as n, extract(epoch from now() - min(created_at))::float8 as age
         from meter_reports where status = 'pending') r) as reports,
      (select row_to_json(t) from (
         select extract(epoch from now() - min(received_at))::float8 as age from activity_events
         where status in (${list(FINISHED_STATUSES)}) and not (payload ? ${sql.raw(`'${REDACTION_KEY}'`)})) t) as retention,
      (select row_to_json(c) from (
         select count(*) filter (where status = 'completed')::int as completed, count(*) filter (where status = 'failed')::int as failed,
                coalesce(sum(missing_units), 0)::float8 as missing, coalesce(sum(excess_units), 0)::float8 as excess,
                coalesce(sum(corrected_units), 0)::float8 as corrected, coalesce(sum(left_for_person_units), 0)::float8 as person,
                coalesce(sum(pairs_with_drift), 0)::int as drift, extract(epoch from now() - min(finished_at))::float8 as age
         from (select distinct on (company_id) * from reconciliation_runs
               where status in ('completed', 'failed') order by company_id, id desc) latest) c) as reconciliation`,
  );
  const inbox = new Map((row?.inbox ?? []).map((r) => [r.status, r]));
  const batches = new Map((row?.batches ?? []).map((r) => [r.status, r.n ?? 0]));
  const ages = (row?.inbox ?? []).map((r) => r.age).filter((a): a is number => typeof a === 'number');
  const c = row?.reconciliation ?? {};
  return {
    inbox: { received: inbox.get('received')?.n ?? 0, failed: inbox.get('failed')?.n ?? 0, oldestAgeSeconds: ages.length > 0 ? Math.max(...ages) : null },
    meterBatches: Object.fromEntries(OPEN_BATCH_STATES.map((s) => [s, batches.get(s) ?? 0])) as PipelineSnapshot['meterBatches'],
    pendingReports: row?.reports.n ?? 0,
    pendingReportsOldestAgeSeconds: row?.reports.age ?? null,
    retentionOldestAgeSeconds: row?.retention.age ?? null,
    reconciliation: {
      completed: c.completed ?? 0,
      failed: c.failed ?? 0,
      missingUnits: c.missing ?? 0,
      excessUnits: c.excess ?? 0,
      correctedUnits: c.corrected ?? 0,
      leftForPersonUnits: c.person ?? 0,
      pairsWithDrift: c.drift ?? 0,
      oldestAgeSeconds: c.age ?? null,
    },
  };
}

/** A row of the JSON parts above (each part uses some of these). */
interface Row {
  status?: string;
  n?: number;
  age?: number | null;
  completed?: number;
  failed?: number;
  missing?: number;
  excess?: number;
  corrected?: number;
  person?: number;
  drift?: number;
}
