/**
 * The Overview's "needs attention" list: per kind, how many sub-accounts, each the very condition of the sub-accounts
 * list's `?status=` filter (server/billing-setup/sub-account-queries.ts), so a count and the list it links to agree.
 * - `not_billing`: installed, rebilling on, live, yet nothing is invoiced: no customer, no subscription, paused, or
 *   usage held because no subscription covers its metric;
 * - `no_card`: billed (a subscription) while Stripe has no usable default card (server/payments/cards.ts; read from
 *   Stripe through the 30-second cache);
 * - `payment_failed`: delinquent or the client must act (3-D Secure);
 * - `rejected`: meter events Stripe rejected after taking them;
 * - `drift`: reconciliation drift that stays (server/reconciliation/runs-repository.ts `driftAlert`);
 * - `needs_reinstall`: HighLevel refused the app's token.
 */
import { sql } from 'drizzle-orm';
import { selectRows, type Database } from '../../models/database';
import { listSubAccounts, type SubAccountStatusFilter } from '../billing-setup/sub-account-queries';
import type { Payments } from '../payments/payments';
import { driftLocationIds } from '../reconciliation/runs-repository';

/** The kinds, in the order the Overview lists them, with the words it shows. */
export const ATTENTION_KINDS = [
  { kind: 'not_billing', label: 'Not billing although rebilling is on' },
  { kind: 'no_card', label: 'Billed without a card on file' },
  { kind: 'payment_failed', label: 'Payment failed or needs the client’s action' },
  { kind: 'rejected', label: 'Meter events rejected by Stripe' },
  { kind: 'drift', label: 'Reconciliation drift' },
  { kind: 'needs_reinstall', label: 'Need a reinstall' },
] as const satisfies ReadonlyArray<{ kind: SubAccountStatusFilter; label: string }>;

export function createAttention(deps: { db: Database; payments: Payments }) {
  /** Sub-accounts with a subscription and no usable card, as Stripe has them; with the first Stripe error met. */
  async function cardless(companyId: string): Promise<{ ids: string[]; error: string | null }> {
    const subscribed = await selectRows<{ locationId: string }>(
      deps.db,
      sql`select location_id as "locationId" from sub_accounts where company_id = ${companyId} and stripe_subscription_id is not null order by location_id`,
    );
    const ids: string[] = [];
    let error: string | null = null;
    for (let i = 0; i < subscribed.length; i += 200) {
      const { items } = await deps.payments.flags(companyId, subscribed.slice(i, i + 200).map((s) => s.locationId));
      for (const item of items) {
        if (item.billedWithoutCard) ids.push(item.locationId);
        error ??= item.error;
      }
    }
    return { ids, error };
  }

  /** The ids behind the list's `drift` and `no_card` filters. */
  async function filterIds(companyId: string, status: 'drift' | 'no_card'): Promise<string[]> {
    return status === 'drift' ? driftLocationIds(deps.db, companyId) : (await cardless(companyId)).ids;
  }

  return {
    filterIds,

    /** Every kind with its count (0 included) and the list path it links to; `cardCheckError` when Stripe could not say. */
    async needsAttention(companyId: string) {
      const card = await cardless(companyId);
      const items = [];
      for (const { kind, label } of ATTENTION_KINDS) {
        const only = kind === 'no_card' ? card.ids : kind === 'drift' ? await driftLocationIds(deps.db, companyId) : undefined;
        const { total } = await listSubAccounts(deps.db, companyId, { status: kind, only, page: 1, pageSize: 1 });
        items.push({ kind, label, count: total, to: `/sub-accounts?status=${kind}` });
      }
      return { items, cardCheckError: card.error };
    },
  };
}

export type Attention = ReturnType<typeof createAttention>;
