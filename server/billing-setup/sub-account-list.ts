/**
 * `GET /api/sub-accounts` as the agency's work queue: a page of sub-accounts (sub-account-queries.ts) with each
 * billed one's period so far in money — the same estimate as its page's (server/reporting/usage-queries.ts
 * `currentPeriodCharges`) — and the `no_card` filter, which needs Stripe: the billed sub-accounts with a customer
 * (at most NO_CARD_SCAN of them) are read through the payments flags (cached 30 s) and those without a usable card kept.
 */
import type { z } from 'zod';
import type { Executor } from '../../models/database';
import { currentPeriodCharges } from '../reporting/usage-queries';
import type { subAccountListQuery, subAccountListResponse } from './schemas';
import { listSubAccounts, type SubAccountRow } from './sub-account-queries';

/** How many sub-accounts with a customer the `no_card` filter reads from Stripe at most. */
export const NO_CARD_SCAN = 200;

/** Which of `locationIds` have no usable card in Stripe (the payments module's flags). */
export type CardlessLookup = (companyId: string, locationIds: string[]) => Promise<Set<string>>;

type Query = z.output<typeof subAccountListQuery>;
type ListResponse = z.infer<typeof subAccountListResponse>;

/**
 * A page of the agency's sub-accounts with `periodAmount` (cents as a decimal string, null when not billed).
 * @throws what the database or Stripe (through `cardless`) throws.
 */
export async function subAccountWorkQueue(db: Executor, companyId: string, query: Query, cardless: CardlessLookup): Promise<ListResponse> {
  let page: { total: number; page: number; pageSize: number; items: SubAccountRow[] };
  if (query.status === 'no_card') {
    const candidates = await listSubAccounts(db, companyId, { search: query.search, status: 'billing', sort: query.sort, page: 1, pageSize: NO_CARD_SCAN });
    const without = await cardless(companyId, candidates.items.filter((r) => r.stripeCustomerId).map((r) => r.locationId));
    const matching = candidates.items.filter((r) => without.has(r.locationId));
    const start = (query.page - 1) * query.pageSize;
    page = { total: matching.length, page: query.page, pageSize: query.pageSize, items: matching.slice(start, start + query.pageSize) };
  } else {
    page = await listSubAccounts(db, companyId, { ...query, status: query.status });
  }
  const items = await Promise.all(
    page.items.map(async (row) => {
      if (row.billingState !== 'billing') return { ...row, periodAmount: null };
      const charges = await currentPeriodCharges(db, companyId, row.locationId);
      return { ...row, periodAmount: { cents: charges.estimatedTotalCents, currency: charges.currency } };
    }),
  );
  return { ...page, items };
}
