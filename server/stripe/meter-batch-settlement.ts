/**
 * Settling meter batches after Stripe's answer (server/stripe/meter-event-outcome.ts), after its asynchronous error
 * reports (server/stripe/error-reports.ts), and after the agency acts (retry, resend). Each statement moves a batch
 * and its reports together, and only from the states named, so a late or repeated call is a no-op.
 *
 * States: `sending` → `sent` (Stripe took it) | `failed` (refused before processing; retry keeps the identifier) |
 * `unconfirmed` (an unclassifiable refusal, or still unsettled when the identifier window closed: never resent) |
 * `rejected` (Stripe took it, then refused it in an error report: never counted; resent with a NEW identifier).
 */
import { sql } from 'drizzle-orm';
import { selectRows, type Database, type Executor } from '../../models/database';

/**
 * Marks the batches and their reports sent, in one statement. A no-op for any already settled.
 * @returns per report sent that a stored event's processing wrote, seconds from that event's acknowledgement
 *   (`activity_events.received_at`) to now: the ack → meter event lag (reports of held usage or settlements carry none).
 */
export async function markBatchesSent(db: Executor, batchIds: number[]): Promise<number[]> {
  if (batchIds.length === 0) return [];
  const rows = await selectRows<{ seconds: number }>(
    db,
    sql`with b as (
          update meter_batches set status = 'sent', sent_at = now(), locked_until = null, last_error = null, updated_at = now()
          where id in (select jsonb_array_elements_text(${JSON.stringify(batchIds)}::jsonb)::bigint) and status = 'sending'
          returning id),
        r as (update meter_reports set status = 'sent' where batch_id in (select id from b) returning activity_event_id)
        select extract(epoch from clock_timestamp() - e.received_at)::float8 as seconds
        from r join activity_events e on e.id = r.activity_event_id`,
  );
  return rows.map((r) => Number(r.seconds));
}

/**
 * Marks the batch and its reports failed, keeping Stripe's message; the reports stay for a later retry. When the
 * claim that just failed was the batch's first send (its `first_sent_at` was set by that claim, in the same statement
 * as `updated_at`), Stripe never took the identifier — the refusal came before processing — so the identifier window
 * restarts with the next send; after an earlier, indeterminate attempt it keeps running.
 */
export async function markBatchFailed(db: Executor, batchId: number, message: string): Promise<void> {
  await db.execute(sql`
    with b as (
      update meter_batches set status = 'failed', locked_until = null, last_error = ${message.slice(0, 2000)}, updated_at = now(),
             first_sent_at = case when first_sent_at = updated_at then null else first_sent_at end
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

/** Marks the batch and its reports unconfirmed after a refusal we cannot classify, keeping Stripe's message. */
export async function markBatchUnconfirmed(db: Executor, batchId: number, message: string): Promise<void> {
  await db.execute(sql`
    with b as (
      update meter_batches set status = 'unconfirmed', locked_until = null, updated_at = now(),
             last_error = ${`Stripe's answer does not say whether it counted this event: ${message}`.slice(0, 2000)}
      where id = ${batchId} and status = 'sending' returning id)
    update meter_reports set status = 'unconfirmed' where batch_id in (select id from b)`);
}

/**
 * Batches still `sending` (not leased) whose first send is `identifierWindowSeconds` old or older become
 * `unconfirmed`: resending their identifier could now be counted twice. Reconciliation settles them.
 * @returns how many.
 */
export async function expireUnconfirmedBatches(db: Executor, identifierWindowSeconds: number): Promise<number> {
  const hours = Math.round((identifierWindowSeconds / 3600) * 10) / 10;
  const rows = await selectRows<{ n: number }>(
    db,
    sql`with b as (
          update meter_batches
          set status = 'unconfirmed', locked_until = null, updated_at = now(),
              last_error = left(${`Not confirmed by Stripe within ${hours} h of its first send, so its identifier is no longer resent.`}
                                || coalesce(' Last answer: ' || last_error, ''), 2000)
          where status = 'sending' and first_sent_at <= now() - make_interval(secs => ${identifierWindowSeconds})
            and (locked_until is null or locked_until < now())
          returning id),
        r as (update meter_reports set status = 'unconfirmed' where batch_id in (select id from b) returning 1)
        select (select count(*)::int from b) as n, (select count(*) from r) as reports`,
  );
  return rows[0]?.n ?? 0;
}

/**
 * Puts a failed batch back in the queue with the SAME identifier (the agency fixed the customer or the key). If an
 * earlier attempt may have reached Stripe and its identifier window has closed, the next tick makes it `unconfirmed`
 * instead of sending it.
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

/** Why a rejected batch could not be resent. */
export type ResendRefusal = 'not_rejected' | 'no_customer';

/**
 * Resends a rejected batch's units with a NEW identifier: Stripe never counted the rejected event, so its reports
 * go back to `pending`, billed to their sub-account's CURRENT Stripe customer (the agency may have re-mapped it),
 * and the reporter puts them in a new batch, dated now (`billable_from`: the re-mapping may come after the period the
 * usage fell in was invoiced, models/schema/billing.ts). The rejected batch stays, marked `resent_at`, as the record.
 * @returns the number of reports queued, or why nothing was.
 */
export async function resendRejectedBatch(db: Database, batchId: number): Promise<{ reports: number } | { refused: ResendRefusal }> {
  return db.transaction(async (tx) => {
    const [batch] = await selectRows<{ id: number }>(
      tx,
      sql`select id from meter_batches where id = ${batchId} and status = 'rejected' and resent_at is null for update`,
    );
    if (!batch) return { refused: 'not_rejected' as const };
    const [unmapped] = await selectRows<{ n: number }>(
      tx,
      sql`select count(*)::int as n from meter_reports r left join sub_accounts s on s.location_id = r.location_id
          where r.batch_id = ${batchId} and s.stripe_customer_id is null`,
    );
    if ((unmapped?.n ?? 0) > 0) return { refused: 'no_customer' as const };
    const queued = await selectRows<{ id: number }>(
      tx,
      sql`update meter_reports r set status = 'pending', batch_id = null, stripe_customer_id = s.stripe_customer_id, billable_from = now()
          from sub_accounts s
          where s.location_id = r.location_id and r.batch_id = ${batchId} and r.status = 'rejected'
          returning r.id`,
    );
    await tx.execute(sql`update meter_batches set resent_at = now(), updated_at = now() where id = ${batchId}`);
    return { reports: queued.length };
  });
}

/**
 * Marks the agency's batch with this identifier `rejected` with Stripe's error code and message (from an error
 * report), and its reports with it; only from `sending`, `sent` or `unconfirmed`, so a repeated report is a no-op.
 * @returns the batch's event name, or null when no batch changed.
 */
export async function rejectBatch(db: Executor, companyId: string, identifier: string, code: string, message: string): Promise<string | null> {
  const rows = await selectRows<{ meterEventName: string }>(
    db,
    sql`with b as (
          update meter_batches set status = 'rejected', rejected_code = ${code.slice(0, 200)}, last_error = ${message.slice(0, 2000)},
                 locked_until = null, updated_at = now()
          where company_id = ${companyId} and identifier = ${identifier} and status in ('sending', 'sent', 'unconfirmed')
          returning id, meter_event_name),
        r as (update meter_reports set status = 'rejected' where batch_id in (select id from b) returning 1)
        select meter_event_name as "meterEventName", (select count(*) from r) as reports from b`,
  );
  return rows[0]?.meterEventName ?? null;
}

/**
 * Marks `rejected` every batch of the agency for these event names that Stripe received in [start, end] — taken as
 * `sent_at` within a minute either side, since Stripe receives an event shortly before we record its 200.
 * @returns the number of batches.
 */
export async function rejectBatchesInWindow(
  db: Executor,
  companyId: string,
  eventNames: string[],
  window: { start: Date; end: Date },
  code: string,
  message: string,
): Promise<number> {
  if (eventNames.length === 0) return 0;
  const rows = await selectRows<{ n: number }>(
    db,
    sql`with b as (
          update meter_batches set status = 'rejected', rejected_code = ${code.slice(0, 200)}, last_error = ${message.slice(0, 2000)},
                 locked_until = null, updated_at = now()
          where company_id = ${companyId} and status in ('sent', 'unconfirmed')
            and meter_event_name in (select jsonb_array_elements_text(${JSON.stringify(eventNames)}::jsonb))
            and sent_at between ${window.start.toISOString()}::timestamptz - interval '1 minute'
                            and ${window.end.toISOString()}::timestamptz + interval '1 minute'
          returning id),
        r as (update meter_reports set status = 'rejected' where batch_id in (select id from b) returning 1)
        select (select count(*)::int from b) as n, (select count(*) from r) as reports`,
  );
  return rows[0]?.n ?? 0;
}
