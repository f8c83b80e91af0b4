/**
 * The one definition of a sub-account's billing state (billing-state-words.ts names the states): an SQL expression
 * over a `sub_accounts` row aliased `s`, so the sub-accounts list (its rows and its `?status=` filters), the
 * sub-account page and the Overview's counts all read the same thing, computed by the database in the same query.
 * Order matters: the first reason that holds is the one shown (uninstalled, rebilling off, no customer, shadow mode,
 * subscription paused or canceled, no subscription, usage held for a metric the subscription lacks).
 */
import { sql, type SQL } from 'drizzle-orm';
import { selectRows, type Executor } from '../../models/database';
import { BILLING_STATES, type BillingState } from './billing-state-words';

/** The state of the sub-account row `s` as text (one of BILLING_STATES). */
export const billingStateSql: SQL = sql`(case
  when s.status <> 'active' then 'uninstalled'
  when not s.rebilling_enabled then 'rebilling_off'
  when s.stripe_customer_id is null then 'no_customer'
  when s.billing_mode = 'shadow' then 'shadow'
  when s.billing_status = 'paused' then 'paused'
  when s.stripe_subscription_id is null and s.stripe_subscription_schedule_id is null then 'no_subscription'
  when exists (select 1 from meter_reports r where r.location_id = s.location_id and r.status = 'held') then 'metric_not_covered'
  else 'billing' end)`;

/** True (SQL) when the row `s` is in `state`. */
export function billingStateIs(state: BillingState): SQL {
  return sql`${billingStateSql} = ${state}`;
}

/** True for a known state. */
export const isBillingState = (value: string): value is BillingState => (BILLING_STATES as readonly string[]).includes(value);

/** How many of the agency's sub-accounts are in each state (the Overview's counts; absent states are 0). */
export async function billingStateCounts(db: Executor, companyId: string): Promise<Record<BillingState, number>> {
  const rows = await selectRows<{ state: BillingState; n: number }>(
    db,
    sql`select ${billingStateSql} as state, count(*)::int as n from sub_accounts s where s.company_id = ${companyId} group by 1`,
  );
  const counts = Object.fromEntries(BILLING_STATES.map((state) => [state, 0])) as Record<BillingState, number>;
  for (const r of rows) counts[r.state] = r.n;
  return counts;
}
