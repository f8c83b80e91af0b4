/**
 * The usage dashboard's CSV export, produced in windows of days so it can be streamed whatever the range.
 * Days are UTC calendar days; quantities are decimal strings.
 */
import Decimal from 'decimal.js';
import { sql } from 'drizzle-orm';
import { selectRows, type Executor } from '../../models/database';
import { DAY_MS, isoDay, rangeBounds, reportsIn, usageIn, type DayRange, type UsageScope } from './usage-queries';

/** Days per query of the CSV export: a window's rows (days × sub-accounts × metrics) stay small in memory. */
const CSV_WINDOW_DAYS = 7;
const CSV_HEADER = 'date,sub_account_id,sub_account_name,metric,quantity,unit,units_billed\n';

/** A CSV field: quoted when needed; a leading =, +, -, @ is neutralised so a spreadsheet never runs it as a formula. */
export function csvField(value: string | number | null): string {
  let text = value === null ? '' : String(value);
  if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/**
 * The agency's usage as CSV, one line per (day, sub-account, metric) that had usage or billed units, ordered by day
 * then sub-account. Yields the header, then one chunk per window of days that has data.
 */
export async function* usageCsv(db: Executor, scope: UsageScope, range: DayRange): AsyncGenerator<string> {
  yield CSV_HEADER;
  const { start, end } = rangeBounds(range);
  const [span] = await selectRows<{ first: string | null; last: string | null }>(
    db,
    sql`select min(d)::text as first, max(d)::text as last from (
          select min(u.occurred_at) as d from ${usageIn(scope, start, end)}
          union all select max(u.occurred_at) from ${usageIn(scope, start, end)}
          union all select min(r.crossed_at) from ${reportsIn(scope, start, end)}
          union all select max(r.crossed_at) from ${reportsIn(scope, start, end)}) x`,
  );
  if (!span?.first || !span.last) return;
  const firstDay = isoDay(new Date(span.first));
  const lastDay = isoDay(new Date(span.last));
  for (let day = firstDay; day <= lastDay; day = isoDay(new Date(Date.parse(`${day}T00:00:00Z`) + CSV_WINDOW_DAYS * DAY_MS))) {
    const windowEnd = isoDay(new Date(Date.parse(`${day}T00:00:00Z`) + (CSV_WINDOW_DAYS - 1) * DAY_MS));
    const w = rangeBounds({ from: day, to: windowEnd < lastDay ? windowEnd : lastDay });
    const rows = await selectRows<{ day: string; locationId: string; name: string | null; metric: string; quantity: string | null; unit: string | null; units: string | null }>(
      db,
      sql`select d.day, d.location_id as "locationId", s.name, d.metric, d.quantity, d.unit, d.units from (
            select coalesce(u.day, r.day) as day, coalesce(u.location_id, r.location_id) as location_id,
                   coalesce(u.metric, r.metric) as metric, u.quantity, u.unit, r.units
            from (select to_char(u.occurred_at at time zone 'UTC', 'YYYY-MM-DD') as day, u.location_id, u.metric,
                         sum(u.quantity)::text as quantity, max(u.unit) as unit
                  from ${usageIn(scope, w.start, w.end)} group by 1, 2, 3) u
            full outer join
                 (select to_char(r.crossed_at at time zone 'UTC', 'YYYY-MM-DD') as day, r.location_id, r.metric, sum(r.units)::text as units
                  from ${reportsIn(scope, w.start, w.end)} group by 1, 2, 3) r
              on r.day = u.day and r.location_id = u.location_id and r.metric = u.metric) d
          join sub_accounts s on s.location_id = d.location_id
          order by d.day, s.name nulls last, d.location_id, d.metric`,
    );
    if (rows.length === 0) continue;
    yield rows
      .map((r) =>
        [r.day, r.locationId, r.name, r.metric, r.quantity === null ? '0' : new Decimal(r.quantity).toString(), r.unit, r.units ?? '0']
          .map(csvField)
          .join(',') + '\n',
      )
      .join('');
  }
}
