/**
 * `GET /api/sub-accounts` as the agency's work queue: a page of sub-accounts (sub-account-queries.ts) with each
 * billed one's period so far in money — the same estimate as its page's (server/reporting/period-charges.ts
 * `currentPeriodChargesOf`, one batch per request). The `drift` and `no_card` filters take their sub-accounts from
 * `filterIds` (server/money/attention.ts: reconciliation's drift, the stored cards), `no_card` with how fresh the
 * cards are (`cardCheck`).
 */
import Decimal from 'decimal.js';
import type { z } from 'zod';
import { sql } from 'drizzle-orm';
import { selectRows, type Executor } from '../../models/database';
import type { CardCheckNote } from '../payments/schemas';
import { currentPeriodChargesOf } from '../reporting/period-charges';
import type { subAccountListQuery, subAccountListResponse } from './list-schemas';
import { listSubAccounts, matchingSubAccounts, subAccountRows, type SubAccountRow } from './sub-account-queries';

/**
 * The sub-accounts behind the `drift` and `no_card` filters (server/money/attention.ts); for `no_card`, the note on
 * the stored cards (server/payments/schemas.ts `cardCheckNote`).
 */
export type FilterIds = (companyId: string, status: 'drift' | 'no_card') => Promise<{ ids: string[]; cardCheck?: CardCheckNote }>;

type Query = z.output<typeof subAccountListQuery>;
type ListResponse = z.infer<typeof subAccountListResponse>;
type PeriodAmount = ListResponse['items'][number]['periodAmount'];

/**
 * A page of the agency's sub-accounts with `periodAmount` (cents as a decimal string, null when not billed).
 * `sort=amount` orders ALL the sub-accounts matching the filters before paging (`byPeriodAmount`), so `total` and
 * the pages are those of the whole list; every billed one among them is priced (one batch of queries).
 * @throws what the database or Stripe (through `filterIds`) throws.
 */
export async function subAccountWorkQueue(db: Executor, companyId: string, query: Query, filterIds?: FilterIds): Promise<ListResponse> {
  const filtered = (query.status === 'drift' || query.status === 'no_card') && filterIds ? await filterIds(companyId, query.status) : undefined;
  const filter = { search: query.search, status: query.status, only: filtered?.ids };
  const note = filtered?.cardCheck ? { cardCheck: filtered.cardCheck } : {};
  if (query.sort === 'amount') {
    const all = await matchingSubAccounts(db, companyId, filter);
    const amounts = await periodAmounts(db, companyId, all);
    const ordered = byPeriodAmount(all, amounts, await agencyCurrency(db, companyId));
    const start = (query.page - 1) * query.pageSize;
    const rows = await subAccountRows(db, companyId, ordered.slice(start, start + query.pageSize));
    return { total: all.length, page: query.page, pageSize: query.pageSize, items: rows.map((row) => withAmount(row, amounts)), ...note };
  }
  const page = await listSubAccounts(db, companyId, { ...filter, sort: query.sort, page: query.page, pageSize: query.pageSize });
  const amounts = await periodAmounts(db, companyId, page.items);
  return { ...page, items: page.items.map((row) => withAmount(row, amounts)), ...note };
}

/** This period's amount of each billed sub-account among `rows` (the others are absent). */
async function periodAmounts(db: Executor, companyId: string, rows: ReadonlyArray<Pick<SubAccountRow, 'locationId' | 'billingState'>>) {
  const billed = rows.filter((row) => row.billingState === 'billing').map((row) => row.locationId);
  const charges = await currentPeriodChargesOf(db, companyId, billed);
  return new Map([...charges].map(([locationId, c]) => [locationId, { cents: c.estimatedTotalCents, currency: c.currency }]));
}

const withAmount = (row: SubAccountRow, amounts: Map<string, NonNullable<PeriodAmount>>) => ({ ...row, periodAmount: row.billingState === 'billing' ? (amounts.get(row.locationId) ?? null) : null });

/** The agency's currency (lowercase ISO code; 'usd' when unset). */
async function agencyCurrency(db: Executor, companyId: string): Promise<string> {
  const [row] = await selectRows<{ currency: string }>(db, sql`select currency from agencies where company_id = ${companyId}`);
  return row?.currency ?? 'usd';
}

/**
 * The order of "Sort by amount": the billed sub-accounts by this period's amount, largest first; then those not
 * billed (no amount). Amounts in different currencies are not compared: the agency's own currency comes first, then
 * each other currency in alphabetical order of its code, each by amount, largest first. Ties keep the order of
 * `rows` (by name, as `matchingSubAccounts` gives them).
 * @param rows in name order. @param amounts cents (decimal strings) and currency, per billed sub-account.
 * @returns the location ids in list order.
 */
export function byPeriodAmount(rows: ReadonlyArray<{ locationId: string }>, amounts: ReadonlyMap<string, { cents: string; currency: string }>, agencyCurrency: string): string[] {
  const rank = (id: string) => {
    const amount = amounts.get(id);
    return amount ? (amount.currency === agencyCurrency ? 0 : 1) : 2;
  };
  // Array.prototype.sort is stable (ES2019): equal amounts stay in name order.
  return [...rows]
    .sort((a, b) => {
      const [x, y] = [amounts.get(a.locationId), amounts.get(b.locationId)];
      const byRank = rank(a.locationId) - rank(b.locationId);
      if (byRank !== 0 || !x || !y) return byRank;
      if (x.currency !== y.currency) return x.currency < y.currency ? -1 : 1;
      return new Decimal(y.cents).comparedTo(x.cents);
    })
    .map((row) => row.locationId);
}
