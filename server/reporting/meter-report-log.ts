/**
 * A sub-account's meter-report log: each threshold crossing with the Stripe meter event (batch) that carried it.
 */
import { sql } from 'drizzle-orm';
import { selectRows, type Executor } from '../../models/database';

/** One row of the meter-report log: a threshold crossing and the Stripe meter event (batch) that carried it. */
export interface MeterReportLogRow {
  id: number;
  metric: string;
  units: number;
  crossedAt: string;
  /** `held`: kept back, no subscription would invoice it (server/payments/held-usage.ts). */
  status: 'pending' | 'batched' | 'sent' | 'failed' | 'rejected' | 'unconfirmed' | 'held';
  stripeCustomerId: string;
  meterEventName: string;
  batchId: number | null;
  identifier: string | null;
  attempts: number | null;
  lastError: string | null;
  /** Stripe's error code when it rejected the event in an error report (status `rejected`). */
  rejectedCode: string | null;
  sentAt: string | null;
  /** The timestamp sent to Stripe at the latest send, Unix seconds (the crossing time clamped into Stripe's window). */
  sentTimestamp: number | null;
}

/** A sub-account's meter reports, newest first, with counts per status; shadow reports are in GET …/would-bill instead. */
export async function meterReportLog(
  db: Executor,
  locationId: string,
  options: { status?: MeterReportLogRow['status']; page: number; pageSize: number },
) {
  const status = options.status ? sql`and r.status = ${options.status}` : sql``;
  const counts = await selectRows<{ status: string; n: number }>(
    db,
    sql`select status, count(*)::int as n from meter_reports where location_id = ${locationId} and status <> 'shadow' group by 1`,
  );
  const rows = await selectRows<MeterReportLogRow & { id: string; units: string; batchId: string | null; sentTimestamp: string | null }>(
    db,
    sql`select r.id::text as id, r.metric, r.units::text as units, to_char(r.crossed_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') as "crossedAt",
               r.status, r.stripe_customer_id as "stripeCustomerId", r.meter_event_name as "meterEventName",
               r.batch_id::text as "batchId", b.identifier, b.attempts, b.last_error as "lastError", b.rejected_code as "rejectedCode",
               b.sent_timestamp::text as "sentTimestamp",
               to_char(b.sent_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') as "sentAt"
        from meter_reports r left join meter_batches b on b.id = r.batch_id
        where r.location_id = ${locationId} and r.status <> 'shadow' ${status}
        order by r.id desc limit ${options.pageSize} offset ${(options.page - 1) * options.pageSize}`,
  );
  const byStatus = Object.fromEntries(['pending', 'batched', 'sent', 'failed', 'rejected', 'unconfirmed', 'held'].map((s) => [s, counts.find((c) => c.status === s)?.n ?? 0]));
  const total = options.status ? (byStatus[options.status] ?? 0) : counts.reduce((sum, c) => sum + c.n, 0);
  return {
    total,
    page: options.page,
    pageSize: options.pageSize,
    counts: byStatus as Record<MeterReportLogRow['status'], number>,
    items: rows.map((r) => ({
      ...r,
      id: Number(r.id),
      units: Number(r.units),
      batchId: r.batchId === null ? null : Number(r.batchId),
      sentTimestamp: r.sentTimestamp === null ? null : Number(r.sentTimestamp),
    })),
  };
}

/** True when the batch carried at least one of this sub-account's reports. */
export async function batchBelongsTo(db: Executor, batchId: number, locationId: string): Promise<boolean> {
  const [row] = await selectRows<{ ok: boolean }>(
    db,
    sql`select exists (select 1 from meter_reports where batch_id = ${batchId} and location_id = ${locationId}) as ok`,
  );
  return row?.ok ?? false;
}
