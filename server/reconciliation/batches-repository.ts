/**
 * What reconciliation reads from and writes to the meter-batch outbox: the pairs and windows to compare, the
 * batches it may act on, and its repairs — every one a batch stored with its identifier before the reporter sends
 * it (server/stripe/meter-reporter.ts), so a repair is delivered exactly once like any usage.
 */
import { createHash } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { selectRows, type Database, type Executor } from '../../models/database';
import type { BatchRef } from './decide';
import { recordAudit } from '../audit/audit-log';
import {
  batchEventTime,
  batchWindowStart,
  CANCEL_WITHIN_SECONDS,
  IN_FLIGHT_STATUSES,
  possiblyDoubled,
  SENT_STATUSES,
  statusList,
  UNCONFIRMED_STATUSES,
  type ComparisonRange,
} from './windows';

/** One (agency, Stripe customer, meter event name) pair; `locationId` the sub-account mapped to the customer, if known. */
export interface Pair {
  companyId: string;
  stripeCustomerId: string;
  meterEventName: string;
  locationId: string | null;
}

/** Per window start (Unix seconds): units sent, and whether something happened too recently to compare. */
export interface WindowTotals {
  start: number;
  ours: number;
  unsettled: boolean;
}

/** Batch statuses that put a pair on the list: anything that reached, or may have reached, Stripe. */
const CHECKED_STATUSES = statusList([...SENT_STATUSES, ...UNCONFIRMED_STATUSES, ...IN_FLIGHT_STATUSES]);

/** A batch identifier minted by reconciliation: `mbr_` + 40 hex of SHA-256 over what it is for (≤ 100 characters). */
export const reconciliationIdentifier = (...parts: Array<string | number>): string =>
  `mbr_${createHash('sha256').update(parts.join('|')).digest('hex').slice(0, 40)}`;

/** Agencies with batches in the range (the scheduled run's list). */
export async function agenciesWithBatches(db: Executor, range: ComparisonRange): Promise<string[]> {
  const rows = await selectRows<{ companyId: string }>(
    db,
    sql`select distinct b.company_id as "companyId" from meter_batches b
        where ${batchEventTime()} >= ${range.from} and ${batchEventTime()} < ${range.settledBefore} and b.status in ${CHECKED_STATUSES}
        order by 1`,
  );
  return rows.map((r) => r.companyId);
}

/** The pairs of an agency (or of one sub-account's customers) with batches in the range. */
export async function pairsToCheck(db: Executor, companyId: string, locationId: string | null, range: ComparisonRange): Promise<Pair[]> {
  const ofLocation = locationId
    ? sql`and b.stripe_customer_id in (select stripe_customer_id from sub_accounts where location_id = ${locationId} and stripe_customer_id is not null
                                       union select stripe_customer_id from meter_reports where location_id = ${locationId} and stripe_customer_id is not null)`
    : sql``;
  return selectRows<Pair>(
    db,
    sql`select p.company_id as "companyId", p.stripe_customer_id as "stripeCustomerId", p.meter_event_name as "meterEventName",
               coalesce(${locationId}::text,
                        (select s.location_id from sub_accounts s where s.company_id = p.company_id and s.stripe_customer_id = p.stripe_customer_id
                         order by s.location_id limit 1)) as "locationId"
        from (select distinct b.company_id, b.stripe_customer_id, b.meter_event_name from meter_batches b
              where b.company_id = ${companyId} and ${batchEventTime()} >= ${range.from} and ${batchEventTime()} < ${range.settledBefore}
                and b.status in ${CHECKED_STATUSES} ${ofLocation}) p
        order by 2, 3`,
  );
}

/**
 * Units sent per window of a pair. A window is unsettled when a batch in it is not settled yet (IN_FLIGHT_STATUSES),
 * or was marked sent or had a cancellation asked for at or after `settledBefore` (Stripe may not have aggregated it).
 */
export async function windowTotals(db: Executor, pair: Pair, range: ComparisonRange): Promise<WindowTotals[]> {
  const settled = new Date(range.settledBefore * 1000).toISOString();
  return selectRows<WindowTotals>(
    db,
    sql`select ${batchWindowStart()}::float8 as start,
               coalesce(sum(b.value) filter (where b.status in ${statusList(SENT_STATUSES)} and b.kind = 'usage'), 0)::float8 as ours,
               bool_or(b.status in ${statusList(IN_FLIGHT_STATUSES)}
                       or (b.status in ${statusList(SENT_STATUSES)} and b.sent_at >= ${settled}::timestamptz)
                       or exists (select 1 from meter_event_cancellations c where c.batch_id = b.id and c.status = 'requested'
                                  and c.created_at >= ${settled}::timestamptz)) as unsettled
        from meter_batches b
        where b.company_id = ${pair.companyId} and b.stripe_customer_id = ${pair.stripeCustomerId} and b.meter_event_name = ${pair.meterEventName}
          and ${batchEventTime()} >= ${range.from} and ${batchEventTime()} < ${range.settledBefore}
        group by 1`,
  );
}

/**
 * The batches of a pair reconciliation may act on, by window start: unconfirmed ones (oldest first), and sent
 * possible doubles Stripe can still cancel and that were not cancelled before (newest first).
 */
export async function actionableBatches(
  db: Executor,
  pair: Pair,
  range: ComparisonRange,
  now: Date,
): Promise<Map<number, { unconfirmed: BatchRef[]; cancellable: BatchRef[] }>> {
  const cancelAfter = new Date(now.getTime() - CANCEL_WITHIN_SECONDS * 1000).toISOString();
  const rows = await selectRows<BatchRef & { start: number; unconfirmed: boolean }>(
    db,
    sql`select b.id::float8 as "batchId", b.identifier, b.value::float8 as value, ${batchWindowStart()}::float8 as start,
               (b.status in ${statusList(UNCONFIRMED_STATUSES)}) as unconfirmed
        from meter_batches b
        where b.company_id = ${pair.companyId} and b.stripe_customer_id = ${pair.stripeCustomerId} and b.meter_event_name = ${pair.meterEventName}
          and ${batchEventTime()} >= ${range.from} and ${batchEventTime()} < ${range.settledBefore}
          and (b.status in ${statusList(UNCONFIRMED_STATUSES)}
               or (b.status in ${statusList(SENT_STATUSES)} and ${possiblyDoubled()} and b.sent_at > ${cancelAfter}::timestamptz
                   and not exists (select 1 from meter_event_cancellations c where c.identifier = b.identifier and c.status = 'requested')))
        order by case when b.status in ${statusList(UNCONFIRMED_STATUSES)} then b.id else -b.id end`,
  );
  const byWindow = new Map<number, { unconfirmed: BatchRef[]; cancellable: BatchRef[] }>();
  for (const { start, unconfirmed, ...batch } of rows) {
    const entry = byWindow.get(start) ?? { unconfirmed: [], cancellable: [] };
    (unconfirmed ? entry.unconfirmed : entry.cancellable).push(batch);
    byWindow.set(start, entry);
  }
  return byWindow;
}

/** Marks an unconfirmed batch, and its reports, sent: Stripe's total shows it was counted. @returns false if it was not unconfirmed. */
export async function confirmBatch(db: Executor, batchId: number): Promise<boolean> {
  const rows = await selectRows<{ id: number }>(
    db,
    sql`with b as (
          update meter_batches set status = 'sent', sent_at = coalesce(sent_at, now()), locked_until = null, updated_at = now()
          where id = ${batchId} and status in ${statusList(UNCONFIRMED_STATUSES)} returning id),
        r as (update meter_reports set status = 'sent' where batch_id in (select id from b) returning 1)
        select id from b`,
  );
  return rows.length > 0;
}

/**
 * Resends an unconfirmed batch Stripe did not count: a new `queued` batch with a new identifier takes its reports (the
 * reporter sends it when the pair's in-flight slot is free), and the old one becomes `replaced`; the audit log records
 * it as Meterbridge's (`meter_batch.resent`) in the same transaction.
 * @returns the new batch id, or null when the batch is no longer unconfirmed.
 */
export async function resendBatch(db: Database, batchId: number, runId: number): Promise<number | null> {
  return db.transaction(async (tx) => {
    const [created] = await selectRows<{ id: number; companyId: string }>(
      tx,
      sql`insert into meter_batches (company_id, stripe_customer_id, meter_event_name, identifier, value, timestamp, kind, replaces_batch_id, reconciliation_run_id, status)
          select company_id, stripe_customer_id, meter_event_name, ${reconciliationIdentifier('resend', runId, batchId)}, value, timestamp, 'usage', id, ${runId}, 'queued'
          from meter_batches where id = ${batchId} and status in ${statusList(UNCONFIRMED_STATUSES)}
          on conflict do nothing
          returning id::float8 as id, company_id as "companyId"`,
    );
    if (!created) return null;
    await tx.execute(sql`update meter_batches set status = 'replaced', locked_until = null, updated_at = now() where id = ${batchId}`);
    await tx.execute(sql`update meter_reports set batch_id = ${created.id}, status = 'batched' where batch_id = ${batchId}`);
    // A batch resent by Meterbridge (issue 19: "batches resent"), audited in the resend's transaction.
    await recordAudit(tx, {
      companyId: created.companyId, actor: { type: 'system' }, action: 'meter_batch.resent', subject: 'meter_batch',
      before: { batchId }, after: { batchId: created.id, replacesBatchId: batchId, reconciliationRunId: runId },
    });
    return created.id;
  });
}

/**
 * Stores a corrective meter event of `units` for a pair, `queued` for the reporter, dated `timestamp` (Unix seconds,
 * inside the window it corrects). @returns its batch id, or null when this run already stored it.
 */
export async function insertCorrection(db: Executor, pair: Pair, runId: number, windowStart: number, units: number, timestamp: number): Promise<number | null> {
  const [created] = await selectRows<{ id: number }>(
    db,
    sql`insert into meter_batches (company_id, stripe_customer_id, meter_event_name, identifier, value, timestamp, kind, reconciliation_run_id, status)
        values (${pair.companyId}, ${pair.stripeCustomerId}, ${pair.meterEventName},
                ${reconciliationIdentifier('correction', runId, pair.companyId, pair.stripeCustomerId, pair.meterEventName, windowStart)},
                ${units}, ${timestamp}, 'correction', ${runId}, 'queued')
        on conflict do nothing
        returning id::float8 as id`,
  );
  return created?.id ?? null;
}

/**
 * Records that `batch`'s event is being cancelled, before asking Stripe. @returns false when it was already
 * requested (never cancel an identifier twice); a `failed` earlier request is taken over.
 */
export async function claimCancellation(db: Executor, companyId: string, meterEventName: string, batch: BatchRef, runId: number): Promise<boolean> {
  const rows = await selectRows<{ id: number }>(
    db,
    sql`insert into meter_event_cancellations (company_id, batch_id, identifier, meter_event_name, units, run_id)
        values (${companyId}, ${batch.batchId}, ${batch.identifier}, ${meterEventName}, ${batch.value}, ${runId})
        on conflict (identifier) do update set status = 'requested', error = null, run_id = excluded.run_id, created_at = now()
          where meter_event_cancellations.status = 'failed'
        returning id`,
  );
  return rows.length > 0;
}

/** Keeps Stripe's refusal of a cancellation; a later run may try again. */
export async function markCancellationFailed(db: Executor, identifier: string, message: string): Promise<void> {
  await db.execute(sql`update meter_event_cancellations set status = 'failed', error = ${message.slice(0, 2000)} where identifier = ${identifier}`);
}

/** Stripe meter ids the agency's rules name, by meter event name. */
export async function meterIdsFromRules(db: Executor, companyId: string): Promise<Map<string, string>> {
  const rows = await selectRows<{ eventName: string; meterId: string }>(
    db,
    sql`select distinct on (meter_event_name) meter_event_name as "eventName", stripe_meter_id as "meterId"
        from rebilling_rules where company_id = ${companyId} and stripe_meter_id is not null
        order by meter_event_name, updated_at desc`,
  );
  return new Map(rows.map((r) => [r.eventName, r.meterId]));
}
