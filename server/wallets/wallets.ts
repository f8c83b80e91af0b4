/**
 * The prepaid wallets use cases (issue 17): billing mode and wallet settings (agency default, sub-account override),
 * a sub-account's wallet (balance, top-ups, refunds), "Top up now" (charged to the card on file, or paid by the client
 * on Stripe Checkout: checkout-top-ups.ts), refunds (refunds.ts), the agency's balances, and the wallet check run by
 * the scheduled job and nudged by counted usage (wallet-checks.ts). Balance: wallet-balance.ts.
 *
 * Switching a sub-account between postpaid and prepaid is explicit (its settings' `billingMode`) and changes nothing
 * in Stripe: the metered subscription keeps running and the open period is invoiced at its end as before. In prepaid
 * mode that invoice is reduced by the wallet's credit grants (Stripe applies them to metered prices at finalization);
 * switching back to postpaid stops top-ups, and credit already granted keeps applying until used.
 */
import type { Logger } from 'pino';
import type Stripe from 'stripe';
import type { z } from 'zod';
import type { Database, DatabaseHandle } from '../../models/database';
import { AppError } from '../http/errors';
import type { StripeForAgency } from '../billing-setup/stripe-for-agency';
import { findAgency } from '../tenancy/accounts-repository';
import { agencyBalances } from './agency-balances';
import { checkoutTopUps } from './checkout-top-ups';
import { refundView, walletRefunds } from './refunds';
import type { topUpSchema, walletResponse, walletSettingsRequest, walletSettingsSchema } from './schemas';
import { subAccountOrThrow, topUpStarter } from './start-top-up';
import { advanceTopUp, topUpView } from './top-ups';
import { walletBalances } from './wallet-balance';
import { walletChecks, type WalletLowCrossing } from './wallet-checks';
import { walletLock } from './wallet-lock';
import * as repo from './wallet-repository';

export { RETRY_AFTER_FAILURE_HOURS, type WalletLowCrossing } from './wallet-checks';
export { topUpView } from './top-ups';

type Settings = z.infer<typeof walletSettingsSchema>;
type TopUp = z.infer<typeof topUpSchema>;

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
/**
 * @param deps.locks the database's advisory locks: one wallet operation at a time per sub-account (wallet-lock.ts).
 * @param deps.onWalletLow told of each "wallet low" crossing (wallet-checks.ts `WalletLowCrossing`): the hook for the
 *   HighLevel workflow trigger / alert "Wallet low".
 * @param deps.appUrl where Stripe Checkout sends the client back.
 */
export function createWallets(deps: {
  db: Database;
  stripeForAgency: StripeForAgency;
  logger: Logger;
  now?: () => Date;
  locks?: Pick<DatabaseHandle, 'withAdvisoryLock'>;
  appUrl?: string;
  onWalletLow?: (crossing: WalletLowCrossing) => void | Promise<void>;
}) {
  const db = deps.db;
  const now = deps.now ?? (() => new Date());
  const exclusive = walletLock(deps.locks);
  const balances = walletBalances({ db, now });
  const startTopUp = topUpStarter({ ...deps, balances });
  const refunds = walletRefunds({ ...deps, balances, exclusive });
  const checks = walletChecks({ ...deps, now, balances, startTopUp, exclusive, resumeRefunds: refunds.resumePending, onWalletLow: deps.onWalletLow });
  const checkout = checkoutTopUps({ ...deps, appUrl: deps.appUrl ?? '', balances, exclusive });

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

  return {
    ...checks,
    startCheckout: checkout.startCheckout,
    refundable: refunds.refundable,
    refundTopUp: refunds.refundTopUp,
    /** The agency's prepaid wallets and balances, most urgent first (agency-balances.ts). */
    agencyBalances: (companyId: string) => agencyBalances({ db, stripeForAgency: deps.stripeForAgency, balances }, companyId),

    /**
     * For server/stripe/payment-events.ts `onInvoiceEvent`: a top-up invoice Stripe reports paid (e.g. by the client
     * on its hosted page after a decline) is taken on to its credit grant at once, rather than at the next job run.
     * @returns whether the invoice was a top-up's. @throws Stripe read errors (the webhook answers 5xx; Stripe retries).
     */
    async onInvoiceEvent(companyId: string, stripe: Stripe, invoiceId: string): Promise<boolean> {
      const found = await repo.findTopUpByInvoice(db, companyId, invoiceId);
      if (!found) return false;
      await exclusive(found.locationId, async () => {
        const row = (await repo.findTopUp(db, found.locationId, found.id))!;
        if (row.status === 'granted' || row.status === 'failed') return;
        const inFlight = await repo.findInFlight(db, row.locationId);
        if (inFlight && inFlight.id !== row.id) return;
        if ((await stripe.invoices.retrieve(invoiceId)).status !== 'paid') return;
        const sub = await subAccountOrThrow(db, row.locationId);
        if (sub.stripeCustomerId) await advanceTopUp(deps, stripe, row, sub.stripeCustomerId);
      });
      return true;
    },

    /**
     * For server/stripe/payment-events.ts `onEvent` (after the payments capability): a completed Checkout Session of a
     * wallet top-up becomes its credit grant (checkout-top-ups.ts). @returns the sub-account credited, else null.
     * @throws Stripe read errors (the webhook answers 5xx; Stripe retries).
     */
    async onEvent(companyId: string, event: Stripe.Event, stripe: Stripe): Promise<{ locationId: string } | null> {
      if (event.type !== 'checkout.session.completed' && event.type !== 'checkout.session.async_payment_succeeded') return null;
      return checkout.onCheckoutCompleted(companyId, stripe, event.data.object.id);
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
      const sub = await subAccountOrThrow(db, locationId);
      return settingsView(await repo.saveSettings(db, sub.companyId, locationId, await validated(sub.companyId, input)));
    },

    /**
     * A sub-account's wallet: mode, settings in force, balance (null unless prepaid with a Stripe customer) and the
     * latest 50 top-ups and refunds. @throws AppError 404; `stripe_error`/`stripe_refused` with Stripe's message.
     */
    async wallet(locationId: string): Promise<z.infer<typeof walletResponse>> {
      const sub = await subAccountOrThrow(db, locationId);
      const settings = await balances.effectiveSettings(sub.companyId, locationId);
      const balance =
        settings?.billingMode === 'prepaid' && sub.stripeCustomerId
          ? await balances.balanceOf(await deps.stripeForAgency(sub.companyId), sub.companyId, locationId, sub.stripeCustomerId, settings)
          : null;
      return {
        locationId,
        billingMode: settings?.billingMode ?? 'postpaid',
        settings: settings ? settingsView(settings) : null,
        balance,
        topUps: (await repo.listTopUps(db, locationId)).map(topUpView),
        refunds: (await repo.listRefunds(db, locationId)).map(refundView),
      };
    },

    /**
     * "Top up now" charged to the card on file: `amountCents` (default: the settings' top-up amount, or the initial
     * amount for the first), granted as credit once paid.
     * @throws AppError 404; 409 `no_customer`, `wallet_not_configured`, `wallet_not_prepaid`, `top_up_in_flight`,
     *   `stripe_not_connected`; 422 `wallet_max_balance`, `wallet_monthly_cap`. A decline is no error: the top-up is
     *   answered `payment_failed` with Stripe's message. After a decline, the next "Top up now" pays the declined
     *   top-up's open invoice again (its amount, not `amountCents`).
     */
    async topUpNow(locationId: string, amountCents?: number): Promise<{ topUp: TopUp }> {
      const row = await exclusive(locationId, () => startTopUp(locationId, 'manual', amountCents, true));
      return { topUp: topUpView(row!) };
    },
  };
}

export type Wallets = ReturnType<typeof createWallets>;
