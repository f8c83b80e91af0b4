/**
 * Usage nobody would invoice (`no_subscription`). Stripe bills meter events only through a subscription item whose
 * price is on that meter ("meters specify how to aggregate meter events over a billing period",
 * docs.stripe.com/billing/subscriptions/usage-based/implementation-guide): a meter event for a customer without such
 * an item is taken (200) and invoiced nowhere. So before the reporter forms batches, a pending crossing of a metric
 * whose rule carries a Meterbridge price is HELD when the sub-account has no subscription (none yet, only a schedule
 * that has not started, or canceled: `paused`) or its subscription, as Stripe last answered a sync
 * (`sub_accounts.subscription_price_ids`), has no item with that price. Held reports are kept (never dropped), shown
 * with the reason, and go back to `pending` once a sync shows a subscription covering them — then to Stripe, dated
 * when they were released (`billable_from`): the subscription's period starts after the crossings it had to wait for,
 * and Stripe invoices a meter event only in the period its timestamp falls in (models/schema/billing.ts).
 *
 * Also held, every metric: the units of a sub-account suspended for non-payment (server/suspension/), until the
 * suspension ends — the one held mechanism for both reasons.
 *
 * Not held: a metric whose rule has no Meterbridge price (the agency prices it in Stripe itself: Meterbridge cannot
 * tell which subscription covers it), and a subscription synced before Meterbridge kept its prices (null: unknown,
 * trusted until the next sync).
 */
import { sql, type SQL } from 'drizzle-orm';
import { selectRows, type Executor } from '../../models/database';

/**
 * True (SQL) when the row `r` (location_id, metric, meter_event_name) has a Meterbridge price — that of the rule
 * reporting to that meter, where a directional metric has an inbound and an outbound rule — that no subscription of
 * its sub-account covers.
 */
const uncovered = (r: SQL): SQL => sql`exists (
  select 1 from sub_accounts s
  cross join lateral (
    select coalesce(
      (select lr.stripe_price_id from rebilling_rules lr where lr.location_id = s.location_id and lr.metric = ${r}.metric
       order by (lr.meter_event_name = ${r}.meter_event_name) desc, lr.direction limit 1),
      (select dr.stripe_price_id from rebilling_rules dr where dr.company_id = s.company_id and dr.location_id is null and dr.metric = ${r}.metric
       order by (dr.meter_event_name = ${r}.meter_event_name) desc, dr.direction limit 1)
    ) as price
  ) priced
  where s.location_id = ${r}.location_id and priced.price is not null
    and not (s.stripe_subscription_id is not null and s.billing_status <> 'paused'
             and (s.subscription_price_ids is null or s.subscription_price_ids @> jsonb_build_array(priced.price)))
)`;

/**
 * True (SQL) when the row `r`'s sub-account is suspended for non-payment (server/suspension/): every metric's units
 * are held, priced by Meterbridge or not, until the suspension ends. Batch forming (meter-batch-repository.ts) skips
 * such reports too, so a crossing committed between the hold step and the forming of batches waits for the next hold.
 */
export const suspended = (r: SQL): SQL => sql`exists (select 1 from suspensions su where su.location_id = ${r}.location_id and su.resumed_at is null)`;

/** True (SQL) when the row `r` (location_id, metric, meter_event_name) must be held, for either reason. */
const held = (r: SQL): SQL => sql`(${suspended(r)} or ${uncovered(r)})`;

/**
 * Holds pending reports nobody would invoice and returns held reports now covered to `pending`, in one transaction.
 * @returns how many reports were held and released.
 */
export async function holdUncoveredUsage(db: Executor): Promise<{ held: number; released: number }> {
  // Decided once per (sub-account, metric), not per report: a flood of pending reports costs one distinct scan.
  const [row] = await selectRows<{ held: number; released: number }>(
    db,
    sql`with pending_pairs as (
          select distinct location_id, metric, meter_event_name from meter_reports where status = 'pending'
        ), uncovered_pairs as (
          select pp.location_id, pp.metric, pp.meter_event_name from pending_pairs pp where ${held(sql`pp`)}
        ), held_pairs as (
          select distinct location_id, metric, meter_event_name from meter_reports where status = 'held'
        ), covered_pairs as (
          select hp.location_id, hp.metric, hp.meter_event_name from held_pairs hp where not ${held(sql`hp`)}
        ), held as (
          update meter_reports r set status = 'held' from uncovered_pairs u
          where r.status = 'pending' and r.location_id = u.location_id and r.metric = u.metric and r.meter_event_name = u.meter_event_name returning 1
        ), released as (
          update meter_reports r set status = 'pending', billable_from = now() from covered_pairs c
          where r.status = 'held' and r.location_id = c.location_id and r.metric = c.metric and r.meter_event_name = c.meter_event_name returning 1
        )
        select (select count(*)::int from held) as held, (select count(*)::int from released) as released`,
  );
  return row ?? { held: 0, released: 0 };
}

/** Held units of one sub-account per metric, with the reason in words. Units are whole meter units. */
export async function heldUsage(db: Executor, locationId: string) {
  const rows = await selectRows<{ metric: string; units: number; oldest: string; subscription: string | null; status: string; priceIds: string[] | null; suspendedAt: string | null }>(
    db,
    sql`select r.metric, sum(r.units)::int as units,
               to_char(min(r.crossed_at) at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as oldest,
               s.stripe_subscription_id as subscription, s.billing_status as status, s.subscription_price_ids as "priceIds",
               to_char(su.suspended_at at time zone 'UTC', 'YYYY-MM-DD HH24:MI') as "suspendedAt"
        from meter_reports r join sub_accounts s on s.location_id = r.location_id
        left join suspensions su on su.location_id = r.location_id and su.resumed_at is null
        where r.location_id = ${locationId} and r.status = 'held'
        group by r.metric, s.stripe_subscription_id, s.billing_status, s.subscription_price_ids, su.suspended_at
        order by r.metric`,
  );
  const metrics = rows.map((r) => ({
    metric: r.metric,
    units: r.units,
    oldestCrossedAt: r.oldest,
    reason: r.suspendedAt
      ? `Suspended for non-payment since ${r.suspendedAt} UTC: kept back, not sent to Stripe; billed once the invoice is paid (or the agency resumes the sub-account).`
      : !r.subscription
      ? 'No subscription: Stripe would invoice these units nowhere. Kept back; sent once a subscription starts.'
      : r.status === 'paused'
        ? 'The subscription was canceled: Stripe would invoice these units nowhere. Kept back; sent once a new subscription starts.'
        : "The subscription has no item with this metric's price. Kept back; sent once it does (update the subscription on this page).",
  }));
  return { metrics };
}

/**
 * The sub-accounts among `locationIds` with usage held back (a yes/no: units of different metrics are never added up;
 * `heldUsage` gives them per metric).
 */
export async function locationsWithHeldUsage(db: Executor, locationIds: string[]): Promise<Set<string>> {
  if (locationIds.length === 0) return new Set();
  const rows = await selectRows<{ locationId: string }>(
    db,
    sql`select distinct location_id as "locationId" from meter_reports
        where status = 'held' and location_id in (${sql.join(locationIds.map((id) => sql`${id}`), sql`, `)})`,
  );
  return new Set(rows.map((r) => r.locationId));
}
