/**
 * The meter-report outbox and its batches. A batch (one Stripe meter event) is stored with its identifier
 * BEFORE it is sent; claims use a lease (`locked_until`) taken with FOR UPDATE SKIP LOCKED, so any number of
 * reporters can run at once (the scheduler also serialises its own ticks with an advisory lock) and a crashed
 * one's batch is resent, with the same identifier, once its lease expires.
 */
import { createHash } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { selectRows, type Database, type Executor } from '../../models/database';

/** A batch claimed for sending. `value` is the sum of its reports' units; `timestamp` Unix seconds. */
export interface ClaimedBatch {
  id: number;
  companyId: string;
  stripeCustomerId: string;
  meterEventName: string;
  identifier: string;
  value: string;
  timestamp: number;
  attempts: number;
}

/** Stripe accepts meter events up to 35 days old; an hour of margin keeps a slow resend inside the window. */
const OLDEST_ACCEPTED_SECONDS = 35 * 24 * 3600 - 3600;

/** Clamps a crossing time (Unix seconds) into Stripe's accepted window relative to `nowSeconds`. */
export function clampMeterEventTimestamp(crossedAtSeconds: number, nowSeconds: number): number {
  return Math.min(nowSeconds, Math.max(crossedAtSeconds, nowSeconds - OLDEST_ACCEPTED_SECONDS));
}

/**
 * Groups pending reports per (agency, customer, event name) into new batches, skipping pairs that already have
 * a batch in flight (one call at a time per customer and meter) and reports another reporter holds.
 * @returns the number of batches formed.
 */
export async function formBatches(db: Database, maxReports = 5_000): Promise<number> {
  return db.transaction(async (tx) => {
    const reports = await selectRows<{
      id: string;
      companyId: string;
      customer: string;
      eventName: string;
      units: string;
      crossedAt: number;
      createdAt: string;
    }>(
      tx,
      sql`select r.id::text as id, r.company_id as "companyId", r.stripe_customer_id as customer,
                 r.meter_event_name as "eventName", r.units::text as units,
                 extract(epoch from r.crossed_at)::float8 as "crossedAt", r.created_at::text as "createdAt"
          from meter_reports r
          where r.status = 'pending'
            and not exists (select 1 from meter_batches b where b.status = 'sending' and b.company_id = r.company_id
                            and b.stripe_customer_id = r.stripe_customer_id and b.meter_event_name = r.meter_event_name)
          order by r.id
          limit ${maxReports}
          for update of r skip locked`,
    );
    const groups = new Map<string, typeof reports>();
    for (const report of reports) {
      const key = JSON.stringify([report.companyId, report.customer, report.eventName]);
      groups.set(key, [...(groups.get(key) ?? []), report]);
    }
    const [{ now }] = (await selectRows<{ now: number }>(tx, sql`select extract(epoch from now())::float8 as now`)) as [{ now: number }];
    let formed = 0;
    // Inserting in one global order (by key) means two reporters forming at once wait on each other's in-flight
    // index entries in the same order, never in a cycle: no deadlock.
    for (const [, group] of [...groups].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      const first = group[0]!;
      const value = group.reduce((sum, r) => sum + BigInt(r.units), 0n);
      const latest = Math.max(...group.map((r) => r.crossedAt));
      const identifier = batchIdentifier(first.companyId, first.customer, first.eventName, group.map((r) => r.id), first.createdAt);
      const [batch] = await selectRows<{ id: number }>(
        tx,
        sql`insert into meter_batches (company_id, stripe_customer_id, meter_event_name, identifier, value, timestamp)
            values (${first.companyId}, ${first.customer}, ${first.eventName}, ${identifier}, ${value.toString()}::bigint,
                    ${clampMeterEventTimestamp(Math.floor(latest), Math.floor(now))})
            on conflict do nothing
            returning id`,
      );
      if (!batch) continue; // another reporter opened a batch for this pair first; these reports wait for the next one
      const ids = sql.join(group.map((r) => sql`${r.id}::bigint`), sql`, `);
      await tx.execute(sql`update meter_reports set status = 'batched', batch_id = ${batch.id} where id in (${ids})`);
      formed += 1;
    }
    return formed;
  });
}

/**
 * A stable identifier (≤ 100 chars, here 43) derived from what the batch holds: the pair, its report ids and the
 * first report's creation time, so two databases never mint the same one for different usage.
 */
export function batchIdentifier(companyId: string, customer: string, eventName: string, reportIds: string[], firstCreatedAt: string): string {
  const digest = createHash('sha256').update([companyId, customer, eventName, reportIds.join(','), firstCreatedAt].join('|')).digest('hex');
  return `mb_${digest.slice(0, 40)}`;
}

/**
 * Leases up to `limit` batches that are due (new, or whose retry time has come, or whose previous lease expired)
 * and counts the attempt.
 * @param leaseSeconds how long this reporter owns them; longer than a Stripe call can take.
 */
export async function claimDueBatches(db: Executor, leaseSeconds: number, limit = 100): Promise<ClaimedBatch[]> {
  return selectRows<ClaimedBatch>(
    db,
    sql`update meter_batches b
        set locked_until = now() + make_interval(secs => ${leaseSeconds}), attempts = b.attempts + 1, updated_at = now()
        where b.id in (
          select id from meter_batches
          where status = 'sending' and next_attempt_at <= now() and (locked_until is null or locked_until < now())
          order by next_attempt_at, id
          limit ${limit}
          for update skip locked)
        returning b.id, b.company_id as "companyId", b.stripe_customer_id as "stripeCustomerId",
                  b.meter_event_name as "meterEventName", b.identifier, b.value::text as value,
                  b.timestamp::float8 as timestamp, b.attempts`,
  );
}

/** Marks the batch and its reports sent. A no-op if it was already settled. */
export async function markBatchSent(db: Executor, batchId: number): Promise<void> {
  await db.execute(sql`
    with b as (
      update meter_batches set status = 'sent', sent_at = now(), locked_until = null, last_error = null, updated_at = now()
      where id = ${batchId} and status = 'sending' returning id)
    update meter_reports set status = 'sent' where batch_id in (select id from b)`);
}

/** Marks the batch and its reports failed, keeping Stripe's message; the reports stay for a later retry. */
export async function markBatchFailed(db: Executor, batchId: number, message: string): Promise<void> {
  await db.execute(sql`
    with b as (
      update meter_batches set status = 'failed', locked_until = null, last_error = ${message.slice(0, 2000)}, updated_at = now()
      where id = ${batchId} and status = 'sending' returning id)
    update meter_reports set status = 'failed' where batch_id in (select id from b)`);
}

/** Releases the lease and schedules the next attempt `delaySeconds` from now, keeping the identifier. */
export async function scheduleBatchRetry(db: Executor, batchId: number, delaySeconds: number, message: string): Promise<void> {
  await db.execute(sql`
    update meter_batches
    set next_attempt_at = now() + make_interval(secs => ${delaySeconds}), locked_until = null,
        last_error = ${message.slice(0, 2000)}, updated_at = now()
    where id = ${batchId} and status = 'sending'`);
}

/**
 * Puts a failed batch back in the queue with the SAME identifier (the agency fixed the customer or the key).
 * @returns false when the batch is not failed, or another batch for the same customer and meter is in flight.
 */
export async function requeueFailedBatch(db: Database, batchId: number): Promise<boolean> {
  return db.transaction(async (tx) => {
    const rows = await selectRows<{ id: number }>(
      tx,
      sql`update meter_batches b set status = 'sending', attempts = 0, next_attempt_at = now(), locked_until = null, updated_at = now()
          where b.id = ${batchId} and b.status = 'failed'
            and not exists (select 1 from meter_batches o where o.status = 'sending' and o.company_id = b.company_id
                            and o.stripe_customer_id = b.stripe_customer_id and o.meter_event_name = b.meter_event_name)
          returning b.id`,
    );
    if (rows.length === 0) return false;
    await tx.execute(sql`update meter_reports set status = 'batched' where batch_id = ${batchId}`);
    return true;
  });
}
