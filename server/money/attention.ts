/**
 * The Overview's "needs attention" list: per kind, how many sub-accounts, each the very condition of the sub-accounts
 * list's `?status=` filter (server/billing-setup/sub-account-queries.ts), so a count and the list it links to agree.
 * - `not_billing`: installed, rebilling on, live, yet nothing is invoiced: no customer, no subscription, paused, or
 *   usage held because no subscription covers its metric;
 * - `no_card`: billed (a subscription) while Stripe has no usable default card (server/payments/cards.ts), as the
 *   stored cards say (server/payments/stored-cards.ts `cardCheck`, kept fresh in the background by card-refresh.ts: no
 *   Stripe call per client on the request); a card not read yet is not counted, the answer says it is being checked;
 * - `payment_failed`: delinquent or the client must act (3-D Secure);
 * - `rejected`: meter events Stripe rejected after taking them;
 * - `drift`: reconciliation drift that stays (server/reconciliation/runs-repository.ts `driftAlert`);
 * - `needs_reinstall`: HighLevel refused the app's token.
 */
import type { Database } from '../../models/database';
import { listSubAccounts, type SubAccountStatusFilter } from '../billing-setup/sub-account-queries';
import type { Payments } from '../payments/payments';
import type { CardCheckNote } from '../payments/schemas';
import { cardCheck } from '../payments/stored-cards';
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
  /**
   * Sub-accounts with a subscription and no usable card, as the stored cards say, and the note: as of when, how many
   * are still being checked or could not be read (with Stripe's message, or why Stripe cannot be used).
   */
  async function cardless(companyId: string): Promise<{ ids: string[]; note: CardCheckNote }> {
    const { rows, stripeError } = await deps.payments.cards.current(companyId);
    if (stripeError) return { ids: [], note: { asOf: null, checking: 0, refreshing: 0, unreadable: 0, error: stripeError } };
    return cardCheck(rows);
  }

  /** The ids behind the list's `drift` and `no_card` filters; for `no_card`, the cards' note too. */
  async function filterIds(companyId: string, status: 'drift' | 'no_card'): Promise<{ ids: string[]; cardCheck?: CardCheckNote }> {
    if (status === 'drift') return { ids: await driftLocationIds(deps.db, companyId) };
    const card = await cardless(companyId);
    return { ids: card.ids, cardCheck: card.note };
  }

  return {
    filterIds,

    /**
     * Every kind with its count (0 included) and the list path it links to; `cards` says how fresh the `no_card` count
     * is, `cardCheckError` (its `error`) when Stripe could not say.
     */
    async needsAttention(companyId: string) {
      const card = await cardless(companyId);
      const items = [];
      for (const { kind, label } of ATTENTION_KINDS) {
        const only = kind === 'no_card' ? card.ids : kind === 'drift' ? await driftLocationIds(deps.db, companyId) : undefined;
        const { total } = await listSubAccounts(deps.db, companyId, { status: kind, only, page: 1, pageSize: 1 });
        items.push({ kind, label, count: total, to: `/sub-accounts?status=${kind}` });
      }
      return { items, cards: card.note, cardCheckError: card.note.error };
    },
  };
}

export type Attention = ReturnType<typeof createAttention>;
