/**
 * SQL for shadow mode: a sub-account's billing mode, its `shadow` meter reports ("would bill", written by
 * server/metering/billing-rule.ts) grouped per metric and UTC month, and turning them into `pending` reports for the
 * reporter. Every function takes an `Executor`, so use cases can run them in one transaction.
 */
import { sql } from 'drizzle-orm';
import { selectRows, type Executor } from '../../models/database';

/** `live` sends crossings to Stripe; `shadow` only records what it would send. */
export type BillingMode = 'live' | 'shadow';

/** A sub-account's mode and when it last changed (ISO 8601, UTC; null if never changed). */
export interface BillingModeState {
  locationId: string;
  companyId: string;
  billingMode: BillingMode;
  billingModeChangedAt: string | null;
  stripeCustomerId: string | null;
}

const ISO = (column: string) => sql.raw(`to_char(${column} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`);

/** The sub-account's billing mode, or null when unknown. `forUpdate` locks its row until the transaction ends. */
export async function findBillingMode(db: Executor, locationId: string, forUpdate = false): Promise<BillingModeState | null> {
  const [row] = await selectRows<BillingModeState>(
    db,
    sql`select location_id as "locationId", company_id as "companyId", billing_mode as "billingMode",
               ${ISO('billing_mode_changed_at')} as "billingModeChangedAt", stripe_customer_id as "stripeCustomerId"
        from sub_accounts where location_id = ${locationId} ${forUpdate ? sql`for update` : sql``}`,
  );
  return row ?? null;
}

/**
 * Sets the mode; `billing_mode_changed_at` moves to now() only when the mode actually changes.
 * @returns true when it changed.
 */
export async function updateBillingMode(db: Executor, locationId: string, mode: BillingMode): Promise<boolean> {
  const rows = await selectRows<{ locationId: string }>(
    db,
    sql`update sub_accounts set billing_mode = ${mode}, billing_mode_changed_at = now(), updated_at = now()
        where location_id = ${locationId} and billing_mode <> ${mode}
        returning location_id as "locationId"`,
  );
  return rows.length > 0;
}

/** Shadow units of one metric and meter in one UTC calendar month (`YYYY-MM`), with the first and last crossing (ISO). */
export interface ShadowMonth {
  metric: string;
  /** The meter the units were counted for: a metric priced per direction has one per direction. */
  meterEventName: string;
  month: string;
  units: number;
  reports: number;
  firstCrossedAt: string;
  lastCrossedAt: string;
}

/** The sub-account's `shadow` reports, summed per metric, meter and UTC month of their crossing, in that order. */
export async function shadowUnitsByMonth(db: Executor, locationId: string): Promise<ShadowMonth[]> {
  const rows = await selectRows<Omit<ShadowMonth, 'units'> & { units: string }>(
    db,
    sql`select metric, meter_event_name as "meterEventName", to_char(crossed_at at time zone 'UTC', 'YYYY-MM') as month,
               sum(units)::text as units, count(*)::int as reports,
               ${ISO('min(crossed_at)')} as "firstCrossedAt", ${ISO('max(crossed_at)')} as "lastCrossedAt"
        from meter_reports where location_id = ${locationId} and status = 'shadow'
        group by 1, 2, 3 order by 1, 2, 3`,
  );
  return rows.map((r) => ({ ...r, units: Number(r.units) }));
}

/** What turning a backlog into pending reports moved, per metric. */
export interface PromotedUnits {
  metric: string;
  units: number;
  reports: number;
}

/**
 * Turns every `shadow` report of the sub-account into a `pending` one billed to `stripeCustomerId` (the
 * reporter then sends them like any crossing, dated now, `billable_from`: a backlog dated in a period Stripe already
 * invoiced would be invoiced nowhere, models/schema/billing.ts). Reports already promoted are not `shadow` any more, so
 * a second call moves nothing.
 */
export async function promoteShadowReports(db: Executor, locationId: string, stripeCustomerId: string): Promise<PromotedUnits[]> {
  const rows = await selectRows<{ metric: string; units: string; reports: number }>(
    db,
    sql`with moved as (
          update meter_reports set status = 'pending', stripe_customer_id = ${stripeCustomerId}, billable_from = now()
          where location_id = ${locationId} and status = 'shadow'
          returning metric, units)
        select metric, sum(units)::text as units, count(*)::int as reports from moved group by metric order by metric`,
  );
  return rows.map((r) => ({ ...r, units: Number(r.units) }));
}
