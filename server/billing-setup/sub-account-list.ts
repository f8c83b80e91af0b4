/**
 * `GET /api/sub-accounts` as the agency's work queue: a page of sub-accounts (sub-account-queries.ts) with each
 * billed one's period so far in money — the same estimate as its page's (server/reporting/usage-queries.ts
 * `currentPeriodCharges`). The `drift` and `no_card` filters take their sub-accounts from `filterIds`
 * (server/money/attention.ts: reconciliation's drift, Stripe's card check).
 */
import type { z } from 'zod';
import type { Executor } from '../../models/database';
import { currentPeriodCharges } from '../reporting/usage-queries';
import type { subAccountListQuery, subAccountListResponse } from './schemas';
import { listSubAccounts } from './sub-account-queries';

/** The sub-accounts behind the `drift` and `no_card` filters (server/money/attention.ts). */
export type FilterIds = (companyId: string, status: 'drift' | 'no_card') => Promise<string[]>;

type Query = z.output<typeof subAccountListQuery>;
type ListResponse = z.infer<typeof subAccountListResponse>;

/**
 * A page of the agency's sub-accounts with `periodAmount` (cents as a decimal string, null when not billed).
 * @throws what the database or Stripe (through `filterIds`) throws.
 */
export async function subAccountWorkQueue(db: Executor, companyId: string, query: Query, filterIds?: FilterIds): Promise<ListResponse> {
  const only = (query.status === 'drift' || query.status === 'no_card') && filterIds ? await filterIds(companyId, query.status) : undefined;
  const page = await listSubAccounts(db, companyId, { ...query, only });
  const items = await Promise.all(
    page.items.map(async (row) => {
      if (row.billingState !== 'billing') return { ...row, periodAmount: null };
      const charges = await currentPeriodCharges(db, companyId, row.locationId);
      return { ...row, periodAmount: { cents: charges.estimatedTotalCents, currency: charges.currency } };
    }),
  );
  return { ...page, items };
}
