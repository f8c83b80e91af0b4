/**
 * Held usage: usage records stored with `counted = false` (imported history the agency has not asked to bill yet,
 * see server/backfill/). Offering them to the counters goes through the billing rule (billing-rule.ts), the same thresholds,
 * rules, sub-account switches and billing modes as a webhook, so held usage is billed exactly as it would have been
 * had it arrived live now (DESIGN invariant 3: units billed = floor(total / threshold), the remainder carries over).
 */
import { sql, type SQL } from 'drizzle-orm';
import { selectRows, type Transaction } from '../../models/database';
import type { UsageDraft } from './normalise';
import { countUsage, type CrossingSummary } from './billing-rule';

/** What offering held usage did. */
export interface HeldUsageApplied {
  /** Usage records turned from held (`counted` false) to offered (`counted` true). */
  records: number;
  /**
   * The crossings: `counted` is the number of (metric, direction) totals a rule counted; `reports` the units each
   * crossing turned into a meter report. Usage of a sub-account that is not billable (uninstalled, rebilling off,
   * paused) or without an enabled rule is offered but not counted, as a webhook's would be.
   */
  crossings: CrossingSummary;
}

/**
 * Offers one sub-account's held usage records to the counters and marks them counted, in the caller's transaction.
 * The records are summed per (metric, direction, unit) first: a counter's units due depend only on its total, so
 * one addition per sum bills exactly what one addition per record would, in a handful of statements. The crossing
 * time of the resulting meter reports is the latest `occurredAt` of the sum; they are billable from now (`history`,
 * billing-rule.ts), so their meter events go on the open period's invoice.
 *
 * Idempotent: a record is offered once; a second call finds nothing held and changes nothing. Concurrent calls
 * serialise on the records' row locks (the UPDATE takes them).
 *
 * @param tx the transaction; the caller commits or rolls back the whole offer.
 * @param locationId the sub-account whose held usage is offered.
 * @param eventFilter optional SQL condition on the records' activity event, aliased `e` (e.g. the events of one
 *   backfill); without it every held record of the sub-account is offered.
 * @throws the database error, which rolls back the caller's transaction (nothing is then offered).
 */
export async function applyHeldUsage(tx: Transaction, locationId: string, eventFilter?: SQL): Promise<HeldUsageApplied> {
  const sums = await selectRows<{ metric: string; direction: 'inbound' | 'outbound' | null; unit: string; quantity: string; latestMs: number; records: number }>(
    tx,
    sql`with offered as (
          update usage_records u set counted = true
          from activity_events e
          where e.id = u.activity_event_id and u.location_id = ${locationId} and not u.counted
                ${eventFilter ? sql`and (${eventFilter})` : sql``}
          returning u.metric, u.direction, u.unit, u.quantity, u.occurred_at
        )
        select metric, direction, unit, sum(quantity)::text as quantity,
               (extract(epoch from max(occurred_at)) * 1000)::float8 as "latestMs", count(*)::int as records
        from offered
        group by metric, direction, unit
        order by metric, direction nulls first, unit`,
  );
  const drafts: UsageDraft[] = sums.map((s) => ({
    locationId,
    metric: s.metric as UsageDraft['metric'],
    quantity: s.quantity,
    unit: s.unit as UsageDraft['unit'],
    direction: s.direction,
    occurredAt: new Date(Number(s.latestMs)),
    sourceType: 'held',
    sourceId: null,
    attributes: {},
  }));
  const crossings = await countUsage(tx, drafts.map((draft) => ({ draft, activityEventId: null, history: true })));
  return { records: sums.reduce((n, s) => n + Number(s.records), 0), crossings };
}
