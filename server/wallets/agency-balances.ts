/**
 * The agency's balances view: every prepaid sub-account's wallet, most urgent first — negative balances (usage has
 * outrun the credit: the period's invoice will charge the card for the difference), then low ones (below the
 * threshold: a top-up is due), then the rest. One Stripe read per sub-account (its credit balance summary); a
 * sub-account Stripe cannot answer for is listed with Stripe's message instead of failing the whole view.
 */
import type { z } from 'zod';
import type { Database } from '../../models/database';
import type { StripeForAgency } from '../billing-setup/stripe-for-agency';
import type { agencyBalancesResponse } from './schemas';
import type { WalletBalances } from './wallet-balance';
import * as repo from './wallet-repository';
import { topUpView } from './top-ups';

type Row = z.infer<typeof agencyBalancesResponse>['wallets'][number];
const urgency = (r: Row) => (r.negative ? 0 : r.balance?.low ? 1 : r.error ? 2 : 3);

/**
 * @returns the agency's prepaid wallets (at most 500), each with its balance (cents) and flags, sorted by urgency.
 * @throws AppError 409 `stripe_not_connected`.
 */
export async function agencyBalances(deps: { db: Database; stripeForAgency: StripeForAgency; balances: WalletBalances }, companyId: string): Promise<z.infer<typeof agencyBalancesResponse>> {
  const subs = await repo.agencyPrepaidSubAccounts(deps.db, companyId);
  if (subs.length === 0) return { wallets: [] };
  const stripe = await deps.stripeForAgency(companyId);
  const wallets: Row[] = [];
  for (const sub of subs) {
    const settings = (await deps.balances.effectiveSettings(companyId, sub.locationId))!;
    const last = await repo.latestTopUp(deps.db, sub.locationId);
    const base = { locationId: sub.locationId, name: sub.name, thresholdCents: settings.thresholdCents, maxBalanceCents: settings.maxBalanceCents, lastTopUp: last ? topUpView(last) : null };
    try {
      const balance = await deps.balances.balanceOf(stripe, companyId, sub.locationId, sub.customer, settings);
      wallets.push({ ...base, balance, negative: balance.balanceCents < 0, error: null });
    } catch (err) {
      wallets.push({ ...base, balance: null, negative: false, error: (err as Error).message });
    }
  }
  return { wallets: wallets.sort((a, b) => urgency(a) - urgency(b) || (a.balance?.balanceCents ?? 0) - (b.balance?.balanceCents ?? 0)) };
}
