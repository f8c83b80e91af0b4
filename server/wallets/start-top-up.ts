/**
 * Deciding and starting a top-up charged by invoice (top-ups.ts charges it): the one decision every trigger uses —
 * "Top up now" (strict: a refusal is an error) and the checks of the job and of a crossing's nudge (lenient: nothing
 * to do is no error). Callers hold the sub-account's wallet lock (wallet-lock.ts).
 */
import type { Logger } from 'pino';
import type { Database } from '../../models/database';
import type { StripeForAgency } from '../billing-setup/stripe-for-agency';
import { AppError, notFound } from '../http/errors';
import { findSubAccount } from '../tenancy/accounts-repository';
import { pendingCheckoutCents } from './pending-checkouts';
import { advanceTopUp } from './top-ups';
import { allowanceRefusal, type WalletBalances } from './wallet-balance';
import * as repo from './wallet-repository';

/** A top-up's cause: "Top up now" (`manual`), the auto top-up (`auto`, `initial` the first time). */
export type InvoiceTrigger = 'manual' | 'auto' | 'initial';

/** The sub-account, or 404. */
export async function subAccountOrThrow(db: Database, locationId: string) {
  const sub = await findSubAccount(db, locationId);
  if (!sub) throw notFound(`No sub-account ${locationId}.`);
  return sub;
}

/**
 * The prepaid sub-account's customer and settings.
 * @throws AppError 404; 409 `no_customer`, `wallet_not_configured`, `wallet_not_prepaid`.
 */
export async function prepaidWallet(db: Database, balances: WalletBalances, locationId: string) {
  const sub = await subAccountOrThrow(db, locationId);
  if (!sub.stripeCustomerId) throw new AppError('no_customer', 'Map the sub-account to a Stripe customer first.');
  const settings = await balances.effectiveSettings(sub.companyId, locationId);
  if (!settings) throw new AppError('wallet_not_configured', 'Set the wallet settings (agency default or this sub-account’s) first.');
  if (settings.billingMode !== 'prepaid') throw new AppError('wallet_not_prepaid', 'The sub-account is billed postpaid.');
  return { sub, customer: sub.stripeCustomerId, settings };
}

/**
 * Starts (or resumes) a top-up: a top-up in flight is resumed (strict: 409 `top_up_in_flight`); a declined one is
 * paid again on its own open invoice; else the amount asked (default: the initial amount for the first, then the
 * top-up amount) is cut to the maximum balance and the month's cap (strict: 422 `wallet_max_balance` /
 * `wallet_monthly_cap` instead) and charged.
 * @returns the top-up as it stands, or null when there is nothing to charge (lenient only).
 */
export function topUpStarter(deps: { db: Database; stripeForAgency: StripeForAgency; logger: Logger; balances: WalletBalances }) {
  const { db, balances } = deps;
  return async function startTopUp(locationId: string, trigger: InvoiceTrigger, wanted: number | undefined, strict: boolean): Promise<repo.TopUpRow | null> {
    const { sub, customer, settings } = await prepaidWallet(db, balances, locationId);
    const stripe = await deps.stripeForAgency(sub.companyId);
    const inFlight = await repo.findInFlight(db, locationId);
    if (inFlight) {
      if (strict) throw new AppError('top_up_in_flight', `Top-up ${inFlight.id} is still being charged.`);
      return advanceTopUp(deps, stripe, inFlight, customer);
    }
    // A declined top-up's invoice is still open: the next top-up pays that invoice again rather than making another.
    const declined = await repo.latestDeclined(db, locationId);
    if (declined?.stripeInvoiceId) return advanceTopUp(deps, stripe, declined, customer);
    const balance = await balances.balanceOf(stripe, sub.companyId, locationId, customer, settings);
    const first = !(await repo.hasGrantedTopUp(db, locationId));
    const kind = trigger === 'auto' && first ? 'initial' : trigger;
    const asked = wanted ?? (first ? settings.initialTopUpCents : settings.topUpCents);
    // Checkout top-ups the client may still pay (or paid, not yet recorded) count as in the wallet already.
    const allowed = await balances.allowance(locationId, settings, balance.balanceCents, asked, await pendingCheckoutCents(db, stripe, customer));
    if (allowed.amount < asked && strict) throw allowanceRefusal(allowed, settings, balance.balanceCents);
    if (allowed.amount <= 0) return null;
    const row = await repo.insertTopUp(db, { companyId: sub.companyId, locationId, trigger: kind, amountCents: allowed.amount, currency: settings.currency, balanceBeforeCents: balance.balanceCents });
    if (!row) {
      if (strict) throw new AppError('top_up_in_flight', 'Another top-up of this wallet has just started.');
      return null;
    }
    return advanceTopUp(deps, stripe, row, customer);
  };
}

export type StartTopUp = ReturnType<typeof topUpStarter>;
