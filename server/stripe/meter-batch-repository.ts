/**
 * The meter-report outbox and its batches. A batch (one Stripe meter event) is stored with its identifier
 * BEFORE it is sent; claims use a lease (`locked_until`) taken with FOR UPDATE SKIP LOCKED, so any number of
 * reporters can run at once (the scheduler also serialises its own ticks with an advisory lock) and a crashed
 * one's batch is resent, with the same identifier, once its lease expires.
 */
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

/**
 * Groups pending reports per (agency, customer, event name) into new batches, skipping pairs that already have
 * a batch in flight (one call at a time per customer and meter) and reports another reporter holds. One
 * statement: the reports never travel to the app, so a backlog of any size becomes one batch per pair in one pass.
 * The identifier is fixed here, before any send: `mb_` + 40 hex of SHA-256 over the pair, the report ids and the
 * first report's creation time (≤ 100 characters, as Stripe requires), so two databases never mint the same one
 * for different usage.
 * @param maxReports reports taken in one pass (by age); the rest wait for the next pass.
 * @returns the number of batches formed.
 * @throws the database error; nothing is then batched.
 */
export async function formBatches(db: Database, maxReports = 100_000): Promise<number> {
  return db.transaction(async (tx) => {
    // Inserting in one global order (by pair) means two reporters forming at once wait on each other's in-flight
    // index entries in the same order, never in a cycle: no deadlock. A pair another reporter opened a batch for
    // first conflicts (`do nothing`): its reports stay pending for the next batch.
    const [formed] = await selectRows<{ n: number }>(
      tx,
      sql`with taken as (
            select r.id, r.company_id, r.stripe_customer_id, r.meter_event_name, r.units, r.crossed_at, r.created_at
            from meter_reports r
            where r.status = 'pending'
              and not exists (select 1 from meter_batches b where b.status = 'sending' and b.company_id = r.company_id
                              and b.stripe_customer_id = r.stripe_customer_id and b.meter_event_name = r.meter_event_name)
            order by r.id
            limit ${maxReports}
            for update of r skip locked
          ), pairs as (
            select company_id, stripe_customer_id, meter_event_name, sum(units)::bigint as value,
                   floor(extract(epoch from max(crossed_at)))::bigint as latest,
                   string_agg(id::text, ',' order by id) as ids,
                   (array_agg(created_at order by id))[1] as first_created_at
            from taken
            group by company_id, stripe_customer_id, meter_event_name
          ), batches as (
            insert into meter_batches (company_id, stripe_customer_id, meter_event_name, identifier, value, timestamp)
            select company_id, stripe_customer_id, meter_event_name,
                   'mb_' || left(encode(sha256(convert_to(concat_ws('|', company_id, stripe_customer_id, meter_event_name, ids,
                                                                    first_created_at::text), 'UTF8')), 'hex'), 40),
                   value,
                   least(floor(extract(epoch from now()))::bigint,
                         greatest(latest, floor(extract(epoch from now()))::bigint - ${OLDEST_ACCEPTED_SECONDS}))
            from pairs
            order by company_id, stripe_customer_id, meter_event_name
            on conflict do nothing
            returning id, company_id, stripe_customer_id, meter_event_name
          ), batched as (
            update meter_reports r set status = 'batched', batch_id = b.id
            from taken t join batches b using (company_id, stripe_customer_id, meter_event_name)
            where r.id = t.id
            returning 1
          )
          select (select count(*)::int from batches) as n, (select count(*) from batched) as reports`,
    );
    return formed?.n ?? 0;
  });
}

/**
 * Moves `queued` batches (stored by reconciliation, server/reconciliation/) to `sending`, the oldest of each
 * (agency, customer, event name) that has no batch in flight, so the one-call-in-flight rule holds for them too.
 * Two reporters promoting the same pair at once: the loser's statement hits the in-flight index and promotes
 * nothing this time. @returns the batches promoted.
 */
export async function promoteQueuedBatches(db: Executor): Promise<number> {
  try {
    const rows = await selectRows<{ id: number }>(
      db,
      sql`update meter_batches set status = 'sending', next_attempt_at = now(), updated_at = now()
          where status = 'queued' and id in (
            select min(q.id) from meter_batches q
            where q.status = 'queued'
              and not exists (select 1 from meter_batches s where s.status = 'sending' and s.company_id = q.company_id
                              and s.stripe_customer_id = q.stripe_customer_id and s.meter_event_name = q.meter_event_name)
            group by q.company_id, q.stripe_customer_id, q.meter_event_name)
          returning id`,
    );
    return rows.length;
  } catch (err) {
    if ((err as { code?: string }).code === '23505') return 0;
    throw err;
  }
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

/** Marks the batches and their reports sent, in one statement. A no-op for any already settled. */
export async function markBatchesSent(db: Executor, batchIds: number[]): Promise<void> {
  if (batchIds.length === 0) return;
  await db.execute(sql`
    with b as (
      update meter_batches set status = 'sent', sent_at = now(), locked_until = null, last_error = null, updated_at = now()
      where id in (select jsonb_array_elements_text(${JSON.stringify(batchIds)}::jsonb)::bigint) and status = 'sending'
      returning id)
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
