/**
 * Read models for the usage dashboard and the sub-account pages: usage per metric over a date range (agency-wide
 * or one sub-account), per-sub-account drill-down, this month's usage with units, the price rule (`chargeFor`) and the
 * onboarding overview. This month's estimated charges are in period-charges.ts, the meter-report log in
 * meter-report-log.ts, the CSV export in usage-csv.ts.
 *
 * Days are UTC calendar days; a range is `from`..`to` inclusive (YYYY-MM-DD). Quantities and money are decimal
 * strings (numeric in SQL, decimal.js in TypeScript): no float touches a total.
 */
import Decimal from 'decimal.js';
import { sql, type SQL } from 'drizzle-orm';
import { selectRows, type Executor } from '../../models/database';
import type { PriceTerms } from '../../models/schema';

/** An inclusive range of UTC days, `YYYY-MM-DD`. */
export interface DayRange {
  from: string;
  to: string;
}

/** How usage is bucketed on the chart. */
export type Granularity = 'day' | 'week' | 'month';

/** Whose usage: the whole agency, or one of its sub-accounts. */
export type UsageScope = { companyId: string; locationId?: string };

/** Milliseconds in a day. */
export const DAY_MS = 86_400_000;

/** `YYYY-MM-DD` of a Date, in UTC. */
export const isoDay = (date: Date): string => date.toISOString().slice(0, 10);

/** The instants bounding a day range: [start of `from`, start of the day after `to`), UTC, ISO strings. */
export function rangeBounds(range: DayRange): { start: string; end: string } {
  const end = new Date(Date.parse(`${range.to}T00:00:00Z`) + DAY_MS);
  return { start: `${range.from}T00:00:00.000Z`, end: end.toISOString() };
}

/** Days in the range (inclusive). */
export function daysIn(range: DayRange): number {
  return Math.round((Date.parse(`${range.to}T00:00:00Z`) - Date.parse(`${range.from}T00:00:00Z`)) / DAY_MS) + 1;
}

/** Daily up to ~3 months, weekly up to ~2 years, monthly beyond: the chart stays readable at any range. */
export function pickGranularity(range: DayRange): Granularity {
  const days = daysIn(range);
  return days <= 92 ? 'day' : days <= 731 ? 'week' : 'month';
}

/** The current billing month (UTC calendar month) containing `now`. */
export function currentPeriod(now = new Date()): { start: string; end: string } {
  const start = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1));
  const end = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1));
  return { start: start.toISOString(), end: end.toISOString() };
}

/** Usage rows of the scope: joined to sub_accounts so an agency only ever sees its own sub-accounts. */
export function usageIn(scope: UsageScope, start: string, end: string): SQL {
  const one = scope.locationId ? sql`and u.location_id = ${scope.locationId}` : sql``;
  return sql`usage_records u join sub_accounts s on s.location_id = u.location_id
             where s.company_id = ${scope.companyId} ${one}
               and u.occurred_at >= ${start}::timestamptz and u.occurred_at < ${end}::timestamptz`;
}

/** Billed meter reports of the scope; shadow-mode ("would bill") reports are not billed and are left out. */
export function reportsIn(scope: UsageScope, start: string, end: string): SQL {
  const one = scope.locationId ? sql`and r.location_id = ${scope.locationId}` : sql``;
  return sql`meter_reports r where r.company_id = ${scope.companyId} ${one} and r.status <> 'shadow'
               and r.crossed_at >= ${start}::timestamptz and r.crossed_at < ${end}::timestamptz`;
}

/** Per metric: quantity used, usage records, units billed (meter reports) and how many of those reached Stripe. */
export interface MetricTotal {
  metric: string;
  unit: string | null;
  quantity: string;
  records: number;
  unitsBilled: number;
  unitsSent: number;
  unitsFailed: number;
}

/**
 * Usage over a range: totals per metric and a series of (bucket, metric, quantity). Buckets are labelled by their
 * first day (weeks start on Monday).
 */
export async function usageOverRange(db: Executor, scope: UsageScope, range: DayRange, granularity: Granularity) {
  const { start, end } = rangeBounds(range);
  const series = await selectRows<{ bucket: string; metric: string; quantity: string }>(
    db,
    sql`select to_char(date_trunc(${granularity}, u.occurred_at at time zone 'UTC'), 'YYYY-MM-DD') as bucket,
               u.metric, sum(u.quantity)::text as quantity
        from ${usageIn(scope, start, end)}
        group by 1, 2 order by 1, 2`,
  );
  const totals = await metricTotals(db, scope, start, end);
  return { from: range.from, to: range.to, granularity, totals, series: series.map((p) => ({ ...p, quantity: new Decimal(p.quantity).toString() })) };
}

async function metricTotals(db: Executor, scope: UsageScope, start: string, end: string): Promise<MetricTotal[]> {
  return (await metricTotalsByLocation(db, scope, null, start, end)).get('') ?? [];
}

/**
 * Totals per metric, per sub-account when `locationIds` is given (two grouped queries whatever the number of
 * sub-accounts), else for the whole scope under the key ''. Each list is sorted by metric.
 */
export async function metricTotalsByLocation(
  db: Executor,
  scope: UsageScope,
  locationIds: string[] | null,
  start: string,
  end: string,
): Promise<Map<string, MetricTotal[]>> {
  const ids = locationIds ? sql.join(locationIds.map((id) => sql`${id}`), sql`, `) : null;
  const key = (alias: 'u' | 'r') => (ids ? sql.raw(`${alias}.location_id`) : sql`''`);
  const inIds = (alias: 'u' | 'r') => (ids ? sql`and ${sql.raw(`${alias}.location_id`)} in (${ids})` : sql``);
  const used = await selectRows<{ key: string; metric: string; unit: string | null; quantity: string; records: number }>(
    db,
    sql`select ${key('u')} as key, u.metric, max(u.unit) as unit, sum(u.quantity)::text as quantity, count(*)::int as records
        from ${usageIn(scope, start, end)} ${inIds('u')} group by 1, 2`,
  );
  const billed = await selectRows<{ key: string; metric: string; billed: string; sent: string; failed: string }>(
    db,
    sql`select ${key('r')} as key, r.metric, sum(r.units)::text as billed,
               coalesce(sum(r.units) filter (where r.status = 'sent'), 0)::text as sent,
               coalesce(sum(r.units) filter (where r.status = 'failed'), 0)::text as failed
        from ${reportsIn(scope, start, end)} ${inIds('r')} group by 1, 2`,
  );
  const rows = new Map<string, MetricTotal>();
  const id = (k: string, metric: string) => JSON.stringify([k, metric]);
  for (const u of used) rows.set(id(u.key, u.metric), { metric: u.metric, unit: u.unit, quantity: u.quantity, records: u.records, unitsBilled: 0, unitsSent: 0, unitsFailed: 0 });
  for (const b of billed) {
    const row = rows.get(id(b.key, b.metric)) ?? { metric: b.metric, unit: null, quantity: '0', records: 0, unitsBilled: 0, unitsSent: 0, unitsFailed: 0 };
    rows.set(id(b.key, b.metric), { ...row, unitsBilled: Number(b.billed), unitsSent: Number(b.sent), unitsFailed: Number(b.failed) });
  }
  const result = new Map<string, MetricTotal[]>();
  for (const [k, total] of rows) {
    const [location] = JSON.parse(k) as [string];
    result.set(location, [...(result.get(location) ?? []), { ...total, quantity: new Decimal(total.quantity).toString() }]);
  }
  for (const list of result.values()) list.sort((a, b) => a.metric.localeCompare(b.metric));
  return result;
}

const likePattern = (search: string) => `%${search.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

/**
 * The drill-down: the agency's sub-accounts that used anything in the range, by name, each with its totals per metric.
 * @param options.page 1-based.
 */
export async function usageBySubAccount(
  db: Executor,
  companyId: string,
  range: DayRange,
  options: { search?: string; page: number; pageSize: number },
) {
  const { start, end } = rangeBounds(range);
  const filter = options.search
    ? sql`and (s.name ilike ${likePattern(options.search)} or s.location_id ilike ${likePattern(options.search)})`
    : sql``;
  const used = sql`select distinct u.location_id from ${usageIn({ companyId }, start, end)} ${filter}`;
  const [{ total }] = (await selectRows<{ total: number }>(db, sql`select count(*)::int as total from (${used}) x`)) as [{ total: number }];
  const page = await selectRows<{ locationId: string; name: string | null }>(
    db,
    sql`select s.location_id as "locationId", s.name from sub_accounts s
        where s.location_id in (${used}) order by s.name nulls last, s.location_id
        limit ${options.pageSize} offset ${(options.page - 1) * options.pageSize}`,
  );
  const totals = page.length ? await metricTotalsByLocation(db, { companyId }, page.map((s) => s.locationId), start, end) : new Map();
  const items = page.map((s) => ({ ...s, metrics: totals.get(s.locationId) ?? [] }));
  return { from: range.from, to: range.to, total, page: options.page, pageSize: options.pageSize, items };
}

/**
 * This month's usage and units for some of the agency's sub-accounts (a page of the sub-accounts table).
 * Ids of other agencies are ignored.
 */
export async function currentPeriodUsage(db: Executor, companyId: string, locationIds: string[], now = new Date()) {
  const period = currentPeriod(now);
  if (locationIds.length === 0) return { periodStart: period.start, periodEnd: period.end, items: [] };
  const ids = sql.join(locationIds.map((id) => sql`${id}`), sql`, `);
  const own = await selectRows<{ locationId: string }>(
    db,
    sql`select location_id as "locationId" from sub_accounts where company_id = ${companyId} and location_id in (${ids})`,
  );
  // usageIn/reportsIn keep the agency filter, so an id of another agency can never contribute a row.
  const totals = await metricTotalsByLocation(db, { companyId }, locationIds, period.start, period.end);
  return { periodStart: period.start, periodEnd: period.end, items: own.map(({ locationId }) => ({ locationId, metrics: totals.get(locationId) ?? [] })) };
}

/**
 * What a price charges for `units` in one period, in cents, rounded to whole cents: units × unit amount, or
 * graduated tiers (each tier's units at its amount, plus its flat amount once any unit falls in it).
 * @returns null without terms.
 */
export function chargeFor(terms: PriceTerms | null, units: number): string | null {
  if (!terms) return null;
  if (terms.unitAmountDecimal !== undefined) return new Decimal(terms.unitAmountDecimal).times(units).toDecimalPlaces(0, Decimal.ROUND_HALF_UP).toString();
  if (!terms.tiers?.length) return null;
  let total = new Decimal(0);
  let previous = 0;
  for (const tier of terms.tiers) {
    const cap = tier.upTo === 'inf' ? Infinity : tier.upTo;
    const inTier = Math.min(units, cap) - previous;
    if (inTier > 0) total = total.plus(new Decimal(tier.unitAmountDecimal).times(inTier)).plus(tier.flatAmount ?? 0);
    if (units <= cap) break;
    previous = cap;
  }
  return total.toDecimalPlaces(0, Decimal.ROUND_HALF_UP).toString();
}

/** The agency's onboarding facts: what the checklist and the headline numbers need, in one query. */
export async function agencyOverview(db: Executor, companyId: string) {
  const [row] = await selectRows<{
    installed: boolean;
    stripeConnected: boolean;
    pricedMetrics: number;
    subAccounts: number;
    mapped: number;
    rebilling: number;
    delinquent: number;
    needsReinstall: number;
    failedReports: number;
    rejectedReports: number;
    unconfirmedReports: number;
    unitsSent: string;
    lastUnitSentAt: string | null;
  }>(
    db,
    sql`select
          exists (select 1 from installations i where i.company_id = ${companyId} and i.status = 'active') as installed,
          exists (select 1 from agencies a where a.company_id = ${companyId} and a.stripe_secret_key is not null) as "stripeConnected",
          (select count(*)::int from rebilling_rules r where r.company_id = ${companyId} and r.location_id is null
             and r.enabled and r.stripe_price_id is not null) as "pricedMetrics",
          (select count(*)::int from sub_accounts s where s.company_id = ${companyId}) as "subAccounts",
          (select count(*)::int from sub_accounts s where s.company_id = ${companyId} and s.stripe_customer_id is not null) as mapped,
          (select count(*)::int from sub_accounts s where s.company_id = ${companyId} and s.stripe_customer_id is not null
             and s.rebilling_enabled and s.status = 'active') as rebilling,
          (select count(*)::int from sub_accounts s where s.company_id = ${companyId} and s.billing_status = 'delinquent') as delinquent,
          (select count(distinct i.location_id)::int from installations i where i.company_id = ${companyId} and i.status = 'needs_reinstall') as "needsReinstall",
          (select count(*)::int from meter_reports r where r.company_id = ${companyId} and r.status = 'failed') as "failedReports",
          (select count(*)::int from meter_reports r where r.company_id = ${companyId} and r.status = 'rejected') as "rejectedReports",
          (select count(*)::int from meter_reports r where r.company_id = ${companyId} and r.status = 'unconfirmed') as "unconfirmedReports",
          (select coalesce(sum(b.value), 0)::text from meter_batches b where b.company_id = ${companyId} and b.status = 'sent') as "unitsSent",
          (select to_char(max(b.sent_at) at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') from meter_batches b
             where b.company_id = ${companyId} and b.status = 'sent') as "lastUnitSentAt"`,
  );
  return { ...row!, unitsSent: Number(row!.unitsSent) };
}
