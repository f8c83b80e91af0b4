/**
 * A wallet's numbers, shared by every wallet use case (wallets.ts, wallet-checks.ts, checkout-top-ups.ts, refunds.ts):
 * the settings in force, the balance estimate, and how much a top-up may be now.
 *
 * Balance (cents) = Stripe's available credit balance for metered prices (GET /v1/billing/credit_balance_summary,
 * docs.stripe.com/api/billing/credit-balance-summary/retrieve) − the current period's usage not yet invoiced at
 * today's prices: the metered lines of period-charges.ts `currentPeriodCharges` (the running estimate the usage pages
 * show; the flat fee is left out — credits apply to metered prices only). The period is the calendar month (UTC), an
 * estimate of Stripe's own period, as on the usage pages.
 */
import Decimal from 'decimal.js';
import type Stripe from 'stripe';
import type { z } from 'zod';
import type { Database } from '../../models/database';
import { stripeCall } from '../billing-setup/pricing';
import { AppError } from '../http/errors';
import { currentPeriodCharges } from '../reporting/period-charges';
import type { walletBalanceSchema } from './schemas';
import * as repo from './wallet-repository';

/** A balance as the API answers it (schemas.ts `walletBalanceSchema`). */
export type Balance = z.infer<typeof walletBalanceSchema>;

/** The first instant of `now`'s calendar month, UTC: the monthly cap counts top-ups from here. */
export const monthStart = (now: Date) => new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1));

/** The balance and allowance readers over a database and a clock. */
export function walletBalances(deps: { db: Database; now: () => Date }) {
  const { db, now } = deps;
  return {
    /** The settings in force: the sub-account's own, else the agency default, else null. */
    async effectiveSettings(companyId: string, locationId: string): Promise<repo.WalletSettingsRow | null> {
      return (await repo.findSettings(db, companyId, locationId)) ?? (await repo.findSettings(db, companyId, null));
    },

    /**
     * Stripe's credit and the unbilled estimate for a mapped sub-account, cents; `low` when below the threshold.
     * @throws AppError `stripe_error` / `stripe_refused` with Stripe's message.
     */
    async balanceOf(stripe: Stripe, companyId: string, locationId: string, customer: string, settings: repo.WalletSettingsRow | null): Promise<Balance> {
      const summary = await stripeCall(() =>
        stripe.billing.creditBalanceSummaries.retrieve({ customer, filter: { type: 'applicability_scope', applicability_scope: { price_type: 'metered' } } }),
      );
      const charges = await currentPeriodCharges(db, companyId, locationId, now());
      const currency = settings?.currency ?? charges.currency;
      const credit = summary.balances.find((b) => b.available_balance.monetary?.currency === currency)?.available_balance.monetary?.value ?? 0;
      const unbilled = charges.lines.reduce((sum, l) => sum.plus(l.estimatedCents ?? 0), new Decimal(0)).toNumber();
      const balanceCents = credit - unbilled;
      return { currency, creditCents: credit, unbilledUsageCents: unbilled, balanceCents, low: settings ? balanceCents < settings.thresholdCents : false };
    },

    /**
     * How much a top-up may be now, in cents: `wanted`, less what would take the balance above the maximum and what
     * would exceed the month's cap, counting as already added `pendingCents` (Checkout top-ups the client may still
     * pay, or has paid before Meterbridge recorded them) and declined top-ups (their invoice stays open: the client
     * may pay it on Stripe's page at any time). @returns the amount and, when it is cut, why (an error code).
     */
    async allowance(locationId: string, settings: repo.WalletSettingsRow, balanceCents: number, wanted: number, checkoutCents = 0) {
      const pendingCents = checkoutCents + (await repo.declinedCents(db, locationId));
      const room = settings.maxBalanceCents - balanceCents - pendingCents;
      const capLeft = settings.monthlyCapCents === null ? Infinity : settings.monthlyCapCents - pendingCents - (await repo.toppedUpSince(db, locationId, monthStart(now())));
      const amount = Math.min(wanted, room, capLeft);
      return { amount, room, capLeft, limitedBy: amount === room ? ('wallet_max_balance' as const) : amount === capLeft ? ('wallet_monthly_cap' as const) : null };
    },
  };
}

export type WalletBalances = ReturnType<typeof walletBalances>;

/**
 * The refusal of a top-up the allowance cut: 422 `wallet_monthly_cap` (what is left of the cap) or
 * `wallet_max_balance` (the most a top-up can add), cents in the message.
 */
export function allowanceRefusal(allowed: Awaited<ReturnType<WalletBalances['allowance']>>, settings: repo.WalletSettingsRow, balanceCents: number): AppError {
  return allowed.limitedBy === 'wallet_monthly_cap'
    ? new AppError('wallet_monthly_cap', `This month's top-ups are capped at ${settings.monthlyCapCents} cents; ${Math.max(0, allowed.capLeft)} cents are left.`)
    : new AppError('wallet_max_balance', `The balance is ${balanceCents} cents; the most a top-up can add is ${Math.max(0, allowed.room)} cents (maximum ${settings.maxBalanceCents}).`);
}
