/**
 * Read models for the settings page: the agency's sub-accounts (searchable, paginated) and one sub-account's
 * billing picture. Plain SQL over the ledger tables; no Stripe calls.
 */
import { sql } from 'drizzle-orm';
import { selectRows, type Executor } from '../../models/database';
import type { BillingStatus, PaymentProblem } from '../../models/schema';
import { findEffectiveRules } from '../metering/rules-repository';
import { billingStateIs, billingStateSql } from './billing-state';
import type { BillingState } from './billing-state-words';

/** One row of the sub-accounts table. `failedReports` counts meter reports Stripe refused (retryable). */
export interface SubAccountRow {
  locationId: string;
  name: string | null;
  /** The agency's own name for the client (null: none). */
  nickname: string | null;
  email: string | null;
  installed: boolean;
  needsReinstall: boolean;
  rebillingEnabled: boolean;
  stripeCustomerId: string | null;
  stripeSubscriptionId: string | null;
  billingStatus: BillingStatus;
  billingStatusReason: string | null;
  paymentProblem: PaymentProblem | null;
  failedReports: number;
  /** Meter reports Stripe rejected in an error report after accepting them (resend once the cause is fixed). */
  rejectedReports: number;
  /** `shadow`: crossings are recorded as "would bill" and not sent (server/shadow/). */
  billingMode: 'live' | 'shadow';
  /** When the mode last changed, ISO 8601 UTC; null if never. */
  billingModeChangedAt: string | null;
  /** True while the subscription is a Stripe schedule that has not started (listed as "Scheduled"). */
  scheduled: boolean;
  /** The schedule (`sub_sched_…`) and when it starts (ISO 8601 UTC), until Meterbridge adopts its subscription. */
  stripeSubscriptionScheduleId: string | null;
  subscriptionStartsAt: string | null;
  /** Stripe Tax on the subscription or schedule, as Stripe last answered. */
  automaticTax: boolean;
  /** Billing, or why not (server/billing-setup/billing-state.ts): the one status the list, the page and the Overview show. */
  billingState: BillingState;
}

const ROW = sql`
  s.location_id as "locationId", s.name, s.nickname, s.email, (s.status = 'active') as installed,
  exists (select 1 from installations i where i.location_id = s.location_id and i.status = 'needs_reinstall') as "needsReinstall",
  s.rebilling_enabled as "rebillingEnabled", s.stripe_customer_id as "stripeCustomerId",
  s.stripe_subscription_id as "stripeSubscriptionId", s.billing_status as "billingStatus",
  s.billing_status_reason as "billingStatusReason", s.payment_problem as "paymentProblem",
  (select count(*)::int from meter_reports r where r.location_id = s.location_id and r.status = 'failed') as "failedReports",
  (select count(*)::int from meter_reports r where r.location_id = s.location_id and r.status = 'rejected') as "rejectedReports",
  s.billing_mode as "billingMode",
  to_char(s.billing_mode_changed_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as "billingModeChangedAt",
  (s.stripe_subscription_schedule_id is not null) as scheduled,
  s.stripe_subscription_schedule_id as "stripeSubscriptionScheduleId",
  to_char(s.subscription_starts_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as "subscriptionStartsAt",
  s.automatic_tax as "automaticTax", ${billingStateSql} as "billingState"`;

/**
 * The list filters (`?status=`): the Overview's numbers (the same conditions server/reporting/usage-queries.ts counts),
 * the billing state (`billing` or one reason: billing-state.ts), and the Overview's "needs attention" items
 * (server/money/attention.ts): `not_billing` (rebilling on and live, yet nothing invoiced: the states no customer,
 * paused, no subscription, a metric outside the subscription), `payment_failed` (delinquent or action required),
 * `drift` and `no_card` (their sub-accounts are given as `only`: reconciliation's, or Stripe's card check).
 */
export type SubAccountStatusFilter =
  | 'rebilling' | 'failed' | 'rejected' | 'unconfirmed' | 'delinquent' | 'needs_reinstall' | 'not_billing' | 'payment_failed' | 'drift' | 'no_card' | BillingState;
const reports = (status: string) => sql`exists (select 1 from meter_reports r where r.location_id = s.location_id and r.status = ${status})`;
const STATUS_FILTERS: Record<Exclude<SubAccountStatusFilter, BillingState>, ReturnType<typeof sql>> = {
  rebilling: sql`(s.stripe_customer_id is not null and s.rebilling_enabled and s.status = 'active')`,
  failed: reports('failed'),
  rejected: reports('rejected'),
  unconfirmed: reports('unconfirmed'),
  delinquent: sql`s.billing_status = 'delinquent'`,
  needs_reinstall: sql`exists (select 1 from installations i where i.location_id = s.location_id and i.status = 'needs_reinstall')`,
  // The one billing state (billing-state.ts): rebilling on and live, yet not invoiced.
  not_billing: sql`${billingStateSql} in ('no_customer', 'paused', 'no_subscription', 'metric_not_covered')`,
  payment_failed: sql`s.billing_status in ('delinquent', 'action_required')`,
  drift: sql`true`,
  no_card: sql`true`,
};
const filterSql = (status: SubAccountStatusFilter) => (status in STATUS_FILTERS ? STATUS_FILTERS[status as keyof typeof STATUS_FILTERS] : billingStateIs(status as BillingState));

/**
 * List orders the database computes: by name, or a work queue — not billing first, then payment problems, then by
 * name. (By this period's amount is computed over `matchingSubAccounts`: sub-account-list.ts.)
 */
export type SubAccountSort = 'name' | 'attention';
const ORDER: Record<SubAccountSort, ReturnType<typeof sql>> = {
  name: sql`s.name nulls last, s.location_id`,
  attention: sql`(${billingStateSql} = 'billing'), (s.payment_problem is null and s.billing_status = 'ok'), s.name nulls last, s.location_id`,
};

/**
 * Which of the agency's sub-accounts the list shows: a search over name, nickname, email and id, the condition behind
 * one of the Overview's numbers (`status`), and `only` these ids (the `drift` and `no_card` filters).
 */
export interface SubAccountListFilter {
  search?: string;
  status?: SubAccountStatusFilter;
  only?: string[];
}

/** The SQL condition on `sub_accounts s` for the agency and the filter. */
function matching(companyId: string, options: SubAccountListFilter) {
  const pattern = options.search ? `%${options.search.replace(/[\\%_]/g, (c) => `\\${c}`)}%` : null;
  const search = pattern ? sql`and (s.name ilike ${pattern} or s.nickname ilike ${pattern} or s.email ilike ${pattern} or s.location_id ilike ${pattern})` : sql``;
  const only = options.only ? (options.only.length ? sql`and s.location_id in (${sql.join(options.only.map((id) => sql`${id}`), sql`, `)})` : sql`and false`) : sql``;
  const filter = options.status ? sql`and ${filterSql(options.status)}` : sql``;
  return sql`s.company_id = ${companyId} ${search} ${only} ${filter}`;
}

/**
 * A page of the agency's sub-accounts matching the filter, by name or needing attention first.
 * @param page 1-based. @param pageSize at most 200.
 */
export async function listSubAccounts(db: Executor, companyId: string, options: SubAccountListFilter & { sort?: SubAccountSort; page: number; pageSize: number }) {
  const where = matching(companyId, options);
  const total = await countSubAccounts(db, companyId, options);
  const rows = await selectRows<SubAccountRow>(
    db,
    sql`select ${ROW} from sub_accounts s where ${where}
        order by ${ORDER[options.sort ?? 'name']}
        limit ${options.pageSize} offset ${(options.page - 1) * options.pageSize}`,
  );
  return { total, page: options.page, pageSize: options.pageSize, items: rows };
}

/** How many of the agency's sub-accounts match the filter: the total the list shows for it (`listSubAccounts`). */
export async function countSubAccounts(db: Executor, companyId: string, options: SubAccountListFilter): Promise<number> {
  const [row] = await selectRows<{ total: number }>(db, sql`select count(*)::int as total from sub_accounts s where ${matching(companyId, options)}`);
  return row?.total ?? 0;
}

/**
 * Every sub-account of the agency matching the filter, by name (as `listSubAccounts` orders them): its id and billing
 * state only, for an order the database cannot compute (by this period's amount: sub-account-list.ts).
 */
export async function matchingSubAccounts(db: Executor, companyId: string, options: SubAccountListFilter) {
  return selectRows<{ locationId: string; billingState: BillingState }>(
    db,
    sql`select s.location_id as "locationId", ${billingStateSql} as "billingState" from sub_accounts s
        where ${matching(companyId, options)} order by ${ORDER.name}`,
  );
}

/** The agency's rows of these sub-accounts, in the order of `locationIds` (ids of other agencies are left out). */
export async function subAccountRows(db: Executor, companyId: string, locationIds: readonly string[]): Promise<SubAccountRow[]> {
  if (locationIds.length === 0) return [];
  const rows = await selectRows<SubAccountRow>(db, sql`select ${ROW} from sub_accounts s where ${matching(companyId, { only: [...locationIds] })}`);
  const byId = new Map(rows.map((row) => [row.locationId, row]));
  return locationIds.flatMap((id) => byId.get(id) ?? []);
}

/**
 * One sub-account's row, rules in force and counters; null when unknown. Also the agency's name (HighLevel's
 * `companyName` from the install, for the client's white-label view) and its custom metrics' labels by key (a
 * sub-account user cannot list them, yet their usage must carry the agency's names).
 */
export async function subAccountDetail(db: Executor, locationId: string) {
  const [row] = await selectRows<SubAccountRow & { companyId: string; agencyName: string | null; metricLabels: Record<string, string> | null }>(
    db,
    sql`select ${ROW}, s.company_id as "companyId", a.name as "agencyName",
          (select jsonb_object_agg(m.key, m.label) from custom_metrics m where m.company_id = s.company_id) as "metricLabels"
        from sub_accounts s join agencies a on a.company_id = s.company_id where s.location_id = ${locationId}`,
  );
  if (!row) return null;
  const rules = await findEffectiveRules(db, locationId);
  const counters = await selectRows<{ metric: string; direction: 'outbound' | 'inbound' | 'both'; total: string; billedUnits: string }>(
    db,
    sql`select metric, direction, total::text as total, billed_units::text as "billedUnits" from usage_counters
        where location_id = ${locationId} order by metric, direction`,
  );
  return { ...row, metricLabels: row.metricLabels ?? {}, rules, counters: counters.map((c) => ({ ...c, billedUnits: Number(c.billedUnits) })) };
}

/** Sets (or, with null, removes) the agency's nickname for a sub-account. */
export async function setSubAccountNickname(db: Executor, locationId: string, nickname: string | null): Promise<void> {
  await db.execute(sql`update sub_accounts set nickname = ${nickname} where location_id = ${locationId}`);
}
