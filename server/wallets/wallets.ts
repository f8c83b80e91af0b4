/**
 * The prepaid wallets use cases (issue 17): billing mode and wallet settings (agency default, sub-account override),
 * a sub-account's wallet (balance and top-ups), "Top up now", and the auto top-up run by the scheduled job.
 *
 * Switching a sub-account between postpaid and prepaid is explicit (its settings' `billingMode`) and changes nothing
 * in Stripe: the metered subscription keeps running and the open period is invoiced at its end as before. In prepaid
 * mode that invoice is reduced by the wallet's credit grants (Stripe applies them to metered prices at finalization);
 * switching back to postpaid stops top-ups, and credit already granted keeps applying until used.
 *
 * Balance (cents) = Stripe's available credit balance for metered prices (GET /v1/billing/credit_balance_summary,
 * docs.stripe.com/api/billing/credit-balance-summary/retrieve) − the current period's usage not yet invoiced at
 * today's prices: the metered lines of usage-queries.ts `currentPeriodCharges` (the running estimate the usage pages
 * show; the flat fee is left out — credits apply to metered prices only). The period is the calendar month (UTC), an
 * estimate of Stripe's own period, as on the usage pages.
 */
import Decimal from 'decimal.js';
import type { Logger } from 'pino';
import type Stripe from 'stripe';
import type { z } from 'zod';
import type { Database } from '../../models/database';
import { AppError, notFound } from '../http/errors';
import type { StripeForAgency } from '../billing-setup/stripe-for-agency';
import { stripeCall } from '../billing-setup/pricing';
import { currentPeriodCharges } from '../reporting/usage-queries';
import { findAgency, findSubAccount } from '../tenancy/accounts-repository';
import type { topUpSchema, walletBalanceSchema, walletResponse, walletSettingsRequest, walletSettingsSchema } from './schemas';
import { advanceTopUp } from './top-ups';
import * as repo from './wallet-repository';
import { recordAuditStep } from '../audit/ambient-transaction';

type Settings = z.infer<typeof walletSettingsSchema>;
type Balance = z.infer<typeof walletBalanceSchema>;
type TopUp = z.infer<typeof topUpSchema>;
/** Hours the auto top-up waits after a failed top-up before charging the card again. */
export const RETRY_AFTER_FAILURE_HOURS = 24;

const settingsView = (row: repo.WalletSettingsRow): Settings => ({
  billingMode: row.billingMode,
  currency: row.currency,
  initialTopUpCents: row.initialTopUpCents,
  thresholdCents: row.thresholdCents,
  topUpCents: row.topUpCents,
  maxBalanceCents: row.maxBalanceCents,
  monthlyCapCents: row.monthlyCapCents,
  source: row.locationId === null ? 'agency' : 'sub-account',
});
/** A ledger row as the API answers it. */
export const topUpView = (row: repo.TopUpRow): TopUp => ({
  id: row.id,
  trigger: row.trigger,
  amountCents: row.amountCents,
  currency: row.currency,
  status: row.status,
  balanceBeforeCents: row.balanceBeforeCents,
  stripeInvoiceId: row.stripeInvoiceId,
  stripeCreditGrantId: row.stripeCreditGrantId,
  error: row.error,
  createdAt: row.createdAt.toISOString(),
});
const monthStart = (now: Date) => new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1));

export function createWallets(deps: { db: Database; stripeForAgency: StripeForAgency; logger: Logger; now?: () => Date }) {
  const db = deps.db;
  const now = deps.now ?? (() => new Date());

  async function subAccountOrThrow(locationId: string) {
    const sub = await findSubAccount(db, locationId);
    if (!sub) throw notFound(`No sub-account ${locationId}.`);
    return sub;
  }
  /** The settings in force: the sub-account's own, else the agency default, else null. */
  async function effectiveSettings(companyId: string, locationId: string) {
    return (await repo.findSettings(db, companyId, locationId)) ?? (await repo.findSettings(db, companyId, null));
  }
  /** @throws AppError 400 `invalid_wallet_settings`. */
  async function validated(companyId: string, input: z.infer<typeof walletSettingsRequest>) {
    if (input.thresholdCents >= input.maxBalanceCents) throw new AppError('invalid_wallet_settings', 'The minimum balance (threshold) must be below the maximum balance.');
    if (input.topUpCents > input.maxBalanceCents || input.initialTopUpCents > input.maxBalanceCents) {
      throw new AppError('invalid_wallet_settings', 'A top-up amount cannot exceed the maximum balance.');
    }
    const agency = await findAgency(db, companyId);
    if (agency && agency.currency !== input.currency) throw new AppError('invalid_wallet_settings', `The wallet's currency must be the agency's (${agency.currency}).`);
    return input;
  }

  /** Stripe's credit and the unbilled estimate for a mapped sub-account. @throws AppError `stripe_error` / `stripe_refused`. */
  async function balanceOf(stripe: Stripe, companyId: string, locationId: string, customer: string, settings: repo.WalletSettingsRow | null): Promise<Balance> {
    const summary = await stripeCall(() =>
      stripe.billing.creditBalanceSummaries.retrieve({ customer, filter: { type: 'applicability_scope', applicability_scope: { price_type: 'metered' } } }),
    );
    const charges = await currentPeriodCharges(db, companyId, locationId, now());
    const currency = settings?.currency ?? charges.currency;
    const credit = summary.balances.find((b) => b.available_balance.monetary?.currency === currency)?.available_balance.monetary?.value ?? 0;
    const unbilled = charges.lines.reduce((sum, l) => sum.plus(l.estimatedCents ?? 0), new Decimal(0)).toNumber();
    const balanceCents = credit - unbilled;
    return { currency, creditCents: credit, unbilledUsageCents: unbilled, balanceCents, low: settings ? balanceCents < settings.thresholdCents : false };
  }

  /**
   * How much a top-up may be now, in cents: `wanted`, less what would take the balance above the maximum and what
   * would exceed the month's cap. @returns the amount and, when it is cut to 0, why (an error code).
   */
  async function allowance(locationId: string, settings: repo.WalletSettingsRow, balanceCents: number, wanted: number) {
    const room = settings.maxBalanceCents - balanceCents;
    const capLeft = settings.monthlyCapCents === null ? Infinity : settings.monthlyCapCents - (await repo.toppedUpSince(db, locationId, monthStart(now())));
    const amount = Math.min(wanted, room, capLeft);
    return { amount, room, capLeft, limitedBy: amount === room ? ('wallet_max_balance' as const) : amount === capLeft ? ('wallet_monthly_cap' as const) : null };
  }

  async function startTopUp(locationId: string, trigger: 'manual' | 'auto' | 'initial', wanted: number | undefined, strict: boolean): Promise<repo.TopUpRow | null> {
    const sub = await subAccountOrThrow(locationId);
    if (!sub.stripeCustomerId) throw new AppError('no_customer', 'Map the sub-account to a Stripe customer first.');
    const settings = await effectiveSettings(sub.companyId, locationId);
    if (!settings) throw new AppError('wallet_not_configured', 'Set the wallet settings (agency default or this sub-account’s) first.');
    if (settings.billingMode !== 'prepaid') throw new AppError('wallet_not_prepaid', 'The sub-account is billed postpaid.');
    const stripe = await deps.stripeForAgency(sub.companyId);
    const inFlight = await repo.findInFlight(db, locationId);
    if (inFlight) {
      if (strict) throw new AppError('top_up_in_flight', `Top-up ${inFlight.id} is still being charged.`);
      return advanceTopUp(deps, stripe, inFlight, sub.stripeCustomerId);
    }
    // A declined top-up's invoice is still open: the next top-up pays that invoice again rather than making another.
    const last = await repo.latestTopUp(db, locationId);
    if (last?.status === 'payment_failed') return advanceTopUp(deps, stripe, last, sub.stripeCustomerId);
    const balance = await balanceOf(stripe, sub.companyId, locationId, sub.stripeCustomerId, settings);
    const first = !(await repo.hasGrantedTopUp(db, locationId));
    const kind = trigger === 'auto' && first ? 'initial' : trigger;
    const asked = wanted ?? (first ? settings.initialTopUpCents : settings.topUpCents);
    const allowed = await allowance(locationId, settings, balance.balanceCents, asked);
    if (allowed.amount < asked && strict) {
      throw allowed.limitedBy === 'wallet_monthly_cap'
        ? new AppError('wallet_monthly_cap', `This month's top-ups are capped at ${settings.monthlyCapCents} cents; ${Math.max(0, allowed.capLeft)} cents are left.`)
        : new AppError('wallet_max_balance', `The balance is ${balance.balanceCents} cents; the most a top-up can add is ${Math.max(0, allowed.room)} cents (maximum ${settings.maxBalanceCents}).`);
    }
    if (allowed.amount <= 0) return null;
    // "Top up now"'s audit entry commits with the top-up's row (server/audit/audited.ts).
    const row = await db.transaction(async (tx) => {
      const inserted = await repo.insertTopUp(tx, { companyId: sub.companyId, locationId, trigger: kind, amountCents: allowed.amount, currency: settings.currency, balanceBeforeCents: balance.balanceCents });
      if (inserted) await recordAuditStep(tx, inserted);
      return inserted;
    });
    if (!row) {
      if (strict) throw new AppError('top_up_in_flight', 'Another top-up of this wallet has just started.');
      return null;
    }
    return advanceTopUp(deps, stripe, row, sub.stripeCustomerId);
  }

  return {
    /**
     * For server/stripe/payment-events.ts `onInvoiceEvent`: a top-up invoice Stripe reports paid (e.g. by the client
     * on its hosted page after a decline) is taken on to its credit grant at once, rather than at the next job run.
     * @returns whether the invoice was a top-up's. @throws Stripe read errors (the webhook answers 5xx; Stripe retries).
     */
    async onInvoiceEvent(companyId: string, stripe: Stripe, invoiceId: string): Promise<boolean> {
      const row = await repo.findTopUpByInvoice(db, companyId, invoiceId);
      if (!row) return false;
      if (row.status === 'granted' || row.status === 'failed') return true;
      const inFlight = await repo.findInFlight(db, row.locationId);
      if (inFlight && inFlight.id !== row.id) return true;
      if ((await stripe.invoices.retrieve(invoiceId)).status !== 'paid') return true;
      const sub = await subAccountOrThrow(row.locationId);
      if (sub.stripeCustomerId) await advanceTopUp(deps, stripe, row, sub.stripeCustomerId);
      return true;
    },

    /** The agency's default wallet settings, or null. */
    async agencySettings(companyId: string): Promise<{ settings: Settings | null }> {
      const row = await repo.findSettings(db, companyId, null);
      return { settings: row ? settingsView(row) : null };
    },

    /** Sets the agency default (mode and wallet settings). @throws AppError 400 `invalid_wallet_settings`. */
    async setAgencySettings(companyId: string, input: z.infer<typeof walletSettingsRequest>): Promise<{ settings: Settings | null }> {
      return { settings: settingsView(await repo.saveSettings(db, companyId, null, await validated(companyId, input))) };
    },

    /** Sets one sub-account's own mode and settings (the explicit switch). @throws AppError 404, 400 `invalid_wallet_settings`. */
    async setSubAccountSettings(locationId: string, input: z.infer<typeof walletSettingsRequest>): Promise<Settings> {
      const sub = await subAccountOrThrow(locationId);
      return settingsView(await repo.saveSettings(db, sub.companyId, locationId, await validated(sub.companyId, input)));
    },

    /**
     * A sub-account's wallet: mode, settings in force, balance (null unless prepaid with a Stripe customer) and the
     * latest 50 top-ups. @throws AppError 404; `stripe_error`/`stripe_refused` with Stripe's message.
     */
    async wallet(locationId: string): Promise<z.infer<typeof walletResponse>> {
      const sub = await subAccountOrThrow(locationId);
      const settings = await effectiveSettings(sub.companyId, locationId);
      const balance = settings?.billingMode === 'prepaid' && sub.stripeCustomerId ? await balanceOf(await deps.stripeForAgency(sub.companyId), sub.companyId, locationId, sub.stripeCustomerId, settings) : null;
      return {
        locationId,
        billingMode: settings?.billingMode ?? 'postpaid',
        settings: settings ? settingsView(settings) : null,
        balance,
        topUps: (await repo.listTopUps(db, locationId)).map(topUpView),
      };
    },

    /**
     * "Top up now": charges `amountCents` (default: the settings' top-up amount, or the initial amount for the first)
     * to the card on file and grants it as credit once paid.
     * @throws AppError 404; 409 `no_customer`, `wallet_not_configured`, `wallet_not_prepaid`, `top_up_in_flight`,
     *   `stripe_not_connected`; 422 `wallet_max_balance`, `wallet_monthly_cap`. A decline is no error: the top-up is
     *   answered `payment_failed` with Stripe's message. After a decline, the next "Top up now" pays the declined
     *   top-up's open invoice again (its amount, not `amountCents`).
     */
    async topUpNow(locationId: string, amountCents?: number): Promise<{ topUp: TopUp }> {
      const row = await startTopUp(locationId, 'manual', amountCents, true);
      return { topUp: topUpView(row!) };
    },

    /**
     * The auto top-up (scheduled job): for each prepaid sub-account, resumes a top-up in flight, else when the balance
     * is below the threshold starts one (within the maximum balance and the monthly cap). A declined top-up is retried
     * on its own open invoice RETRY_AFTER_FAILURE_HOURS after the decline (sooner only to grant it when the client paid
     * that invoice meanwhile); a failed one waits as long before a new top-up. One sub-account's failure never stops
     * the rest.
     * @returns counts of what happened.
     */
    async autoTopUp(): Promise<{ checked: number; started: number; failed: number }> {
      const result = { checked: 0, started: 0, failed: 0 };
      for (const { locationId } of await repo.listPrepaidSubAccounts(db)) {
        result.checked += 1;
        try {
          const failedAt = await repo.lastFailureAt(db, locationId);
          const inFlight = await repo.findInFlight(db, locationId);
          const waiting = !inFlight && failedAt !== null && now().getTime() - failedAt.getTime() < RETRY_AFTER_FAILURE_HOURS * 3_600_000;
          if (!inFlight) {
            const sub = await subAccountOrThrow(locationId);
            const stripe = await deps.stripeForAgency(sub.companyId);
            const last = await repo.latestTopUp(db, locationId);
            if (waiting) {
              // During the pause, only a declined invoice the client has paid meanwhile (its hosted page) moves on: to its grant.
              if (last?.status === 'payment_failed' && last.stripeInvoiceId && (await stripe.invoices.retrieve(last.stripeInvoiceId)).status === 'paid') {
                await advanceTopUp(deps, stripe, last, sub.stripeCustomerId!);
              }
              continue;
            }
            const settings = await effectiveSettings(sub.companyId, locationId);
            const balance = await balanceOf(stripe, sub.companyId, locationId, sub.stripeCustomerId!, settings);
            if (!balance.low && last?.status !== 'payment_failed') continue;
          }
          const row = await startTopUp(locationId, 'auto', undefined, false);
          if (row) result.started += 1;
          if (row && (row.status === 'payment_failed' || row.status === 'failed')) result.failed += 1;
        } catch (err) {
          result.failed += 1;
          deps.logger.warn({ locationId, err: (err as Error).message }, 'wallet auto top-up failed');
        }
      }
      return result;
    },
  };
}

export type Wallets = ReturnType<typeof createWallets>;
