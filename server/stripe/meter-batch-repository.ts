/**
 * The meter-report outbox and its batches. A batch (one Stripe meter event) is stored with its identifier
 * BEFORE it is sent; claims use a lease (`locked_until`) taken with FOR UPDATE SKIP LOCKED, so any number of
 * reporters can run at once (the scheduler also serialises its own ticks with an advisory lock) and a crashed
 * one's batch is resent, with the same identifier, once its lease expires — but only while its first send is
 * younger than the identifier window (Stripe deduplicates identifiers for "a rolling period of at least 24 hours",
 * docs.stripe.com/api/billing/meter-event/create); past it the batch becomes `unconfirmed`. Settling a batch after
 * Stripe's answer is in meter-batch-settlement.ts.
 */
import { sql } from 'drizzle-orm';
import { selectRows, type Database, type Executor } from '../../models/database';
import { suspended } from '../payments/held-usage';

/**
 * A batch claimed for sending. `value` is the sum of its reports' units; `timestamp` the Unix seconds to send this
 * time (the crossing time brought inside Stripe's window now, also stored as `sent_timestamp`).
 */
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

/**
 * Stripe takes meter-event timestamps "within the past 35 calendar days" and at most 5 minutes ahead
 * (docs.stripe.com/api/billing/meter-event/create `timestamp`). Each send uses the crossing time clamped to
 * [now − (35 days − 1 hour), now]: the hour covers the time between the claim and Stripe's check (at most a lease).
 */
export const OLDEST_SENT_TIMESTAMP_SECONDS = 35 * 24 * 3600 - 3600;

/**
 * Groups pending reports per (agency, customer, event name) into new batches, skipping pairs that already have
 * a batch in flight (one call at a time per customer and meter), reports another reporter holds, agencies whose
 * Stripe Connect grant was revoked (held: their reports stay pending until they connect again), and sub-accounts
 * suspended for non-payment (their reports are held by the next hold step, server/payments/held-usage.ts). One
 * statement: the reports never travel to the app, so a backlog of any size becomes one batch per pair in one pass.
 * The identifier is fixed here, before any send: `mb_` + 40 hex of SHA-256 over the pair, the report ids, the
 * first report's creation time and the formation time (≤ 100 characters, as Stripe requires), so two databases
 * never mint the same one for different usage, and reports resent after a rejection get a new one. `timestamp` is
 * the latest of its reports' times — each report's crossing, or when it became billable if later (`billable_from`:
 * held usage released, a shadow backlog or imported history billed, a rejected batch resent; models/schema/billing.ts)
 * — kept as it is; each send clamps it into Stripe's window (`claimDueBatches`).
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
            select r.id, r.company_id, r.stripe_customer_id, r.meter_event_name, r.units,
                   greatest(r.crossed_at, r.billable_from) as dated_at, r.created_at
            from meter_reports r
            where r.status = 'pending'
              and not exists (select 1 from agencies a where a.company_id = r.company_id and a.stripe_deauthorized_at is not null)
              and not ${suspended(sql`r`)}
              and not exists (select 1 from meter_batches b where b.status = 'sending' and b.company_id = r.company_id
                              and b.stripe_customer_id = r.stripe_customer_id and b.meter_event_name = r.meter_event_name)
            order by r.id
            limit ${maxReports}
            for update of r skip locked
          ), pairs as (
            select company_id, stripe_customer_id, meter_event_name, sum(units)::bigint as value,
                   floor(extract(epoch from max(dated_at)))::bigint as latest,
                   string_agg(id::text, ',' order by id) as ids,
                   (array_agg(created_at order by id))[1] as first_created_at
            from taken
            group by company_id, stripe_customer_id, meter_event_name
          ), batches as (
            insert into meter_batches (company_id, stripe_customer_id, meter_event_name, identifier, value, timestamp)
            select company_id, stripe_customer_id, meter_event_name,
                   'mb_' || left(encode(sha256(convert_to(concat_ws('|', company_id, stripe_customer_id, meter_event_name, ids,
                                                                    first_created_at::text, now()::text), 'UTF8')), 'hex'), 40),
                   value, latest
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
 * and whose identifier may still be sent (never sent, or first sent less than `identifierWindowSeconds` ago), except
 * those of held agencies (Stripe Connect grant revoked: they wait, unsent, for the agency to connect again); counts
 * the attempt, records the first send, and fixes this send's timestamp (`sent_timestamp`, see
 * OLDEST_SENT_TIMESTAMP_SECONDS).
 * @param leaseSeconds how long this reporter owns them; longer than a Stripe call can take.
 * @param identifierWindowSeconds REPORTER_IDENTIFIER_WINDOW_HOURS in seconds.
 */
export async function claimDueBatches(db: Executor, leaseSeconds: number, identifierWindowSeconds: number, limit = 100): Promise<ClaimedBatch[]> {
  return selectRows<ClaimedBatch>(
    db,
    sql`update meter_batches b
        set locked_until = now() + make_interval(secs => ${leaseSeconds}), attempts = b.attempts + 1, updated_at = now(),
            first_sent_at = coalesce(b.first_sent_at, now()),
            sent_timestamp = least(floor(extract(epoch from now()))::bigint,
                                   greatest(b.timestamp, floor(extract(epoch from now()))::bigint - ${OLDEST_SENT_TIMESTAMP_SECONDS}))
        where b.id in (
          select id from meter_batches
          where status = 'sending' and next_attempt_at <= now() and (locked_until is null or locked_until < now())
            and not exists (select 1 from agencies a where a.company_id = meter_batches.company_id and a.stripe_deauthorized_at is not null)
            and (first_sent_at is null or first_sent_at > now() - make_interval(secs => ${identifierWindowSeconds}))
          order by next_attempt_at, id
          limit ${limit}
          for update skip locked)
        returning b.id, b.company_id as "companyId", b.stripe_customer_id as "stripeCustomerId",
                  b.meter_event_name as "meterEventName", b.identifier, b.value::text as value,
                  b.sent_timestamp::float8 as timestamp, b.attempts`,
  );
}
