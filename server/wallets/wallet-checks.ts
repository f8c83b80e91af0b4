/**
 * The wallet check: the one decision whether a prepaid sub-account is topped up now, run by the scheduled job
 * `wallet-auto-top-up` for every prepaid sub-account and, between its runs, by the inbox processor's nudge for the
 * sub-accounts whose usage it just counted (a fast-draining wallet is topped up within moments, not at the next run).
 * Each check holds the sub-account's wallet lock (wallet-lock.ts) and the database allows one top-up in flight per
 * sub-account, so a job run and a nudge checking together charge at most once.
 *
 * A check records its balance estimate (wallet_states); when a wallet goes from not low to low (balance below the
 * threshold) it is a "wallet low" crossing, told once to `onWalletLow` — the hook for the HighLevel workflow trigger
 * and alert "Wallet low" (server/alerts/, wired at the composition root). It is told again only after a check found
 * the wallet above the threshold once more.
 */
import type { Logger } from 'pino';
import type { Database } from '../../models/database';
import type { StripeForAgency } from '../billing-setup/stripe-for-agency';
import { subAccountOrThrow, type StartTopUp } from './start-top-up';
import { advanceTopUp } from './top-ups';
import type { WalletBalances } from './wallet-balance';
import type { WalletLock } from './wallet-lock';
import * as repo from './wallet-repository';

/** Hours the auto top-up waits after a failed top-up before charging the card again. */
export const RETRY_AFTER_FAILURE_HOURS = 24;

/**
 * A "wallet low" crossing: a check found the balance estimate (cents) below the threshold (cents) where the previous
 * check had not. `at`: the check's time.
 */
export interface WalletLowCrossing {
  companyId: string;
  locationId: string;
  currency: string;
  balanceCents: number;
  thresholdCents: number;
  at: Date;
}

/** What one check did. */
export type CheckOutcome = 'skipped' | 'not_low' | 'topped_up' | 'failed' | 'nothing_allowed';

/** The wallet check and its two callers (the job's run over every prepaid sub-account, the counted-usage nudge). */
export function walletChecks(deps: {
  db: Database;
  stripeForAgency: StripeForAgency;
  logger: Logger;
  now: () => Date;
  balances: WalletBalances;
  startTopUp: StartTopUp;
  exclusive: WalletLock;
  /** Pending refunds of the sub-account are taken on first (refunds.ts); never throws for a Stripe failure. */
  resumeRefunds?: (locationId: string) => Promise<void>;
  /** Told of each "wallet low" crossing; its failure is logged, never stops the check. */
  onWalletLow?: (crossing: WalletLowCrossing) => void | Promise<void>;
}) {
  const { db, now, balances } = deps;
  /** Sub-accounts nudged and not yet checked, and the run checking them. */
  const nudged = new Set<string>();
  let running: Promise<void> | null = null;
  /** Prepaid filters of nudges not yet answered. */
  const filtering = new Set<Promise<void>>();

  /** The check itself (the caller holds the lock). */
  async function check(locationId: string): Promise<CheckOutcome> {
    await deps.resumeRefunds?.(locationId);
    const failedAt = await repo.lastFailureAt(db, locationId);
    const inFlight = await repo.findInFlight(db, locationId);
    const waiting = !inFlight && failedAt !== null && now().getTime() - failedAt.getTime() < RETRY_AFTER_FAILURE_HOURS * 3_600_000;
    if (!inFlight) {
      const sub = await subAccountOrThrow(db, locationId);
      const settings = await balances.effectiveSettings(sub.companyId, locationId);
      if (!sub.stripeCustomerId || settings?.billingMode !== 'prepaid') return 'skipped';
      const stripe = await deps.stripeForAgency(sub.companyId);
      const declined = await repo.latestDeclined(db, locationId);
      if (waiting) {
        // During the pause, only a declined invoice the client has paid meanwhile (its hosted page) moves on: to its grant.
        if (declined?.stripeInvoiceId && (await stripe.invoices.retrieve(declined.stripeInvoiceId)).status === 'paid') {
          await advanceTopUp(deps, stripe, declined, sub.stripeCustomerId);
        }
        return 'skipped';
      }
      const balance = await balances.balanceOf(stripe, sub.companyId, locationId, sub.stripeCustomerId, settings);
      if (await repo.recordCheck(db, locationId, balance.balanceCents, balance.low)) {
        const crossing = { companyId: sub.companyId, locationId, currency: balance.currency, balanceCents: balance.balanceCents, thresholdCents: settings.thresholdCents, at: now() };
        await Promise.resolve(deps.onWalletLow?.(crossing)).catch((err: Error) => deps.logger.warn({ locationId, err: err.message }, 'wallet low: the hook failed'));
      }
      if (!balance.low && !declined) return 'not_low';
    }
    const row = await deps.startTopUp(locationId, 'auto', undefined, false);
    if (!row) return 'nothing_allowed';
    return row.status === 'payment_failed' || row.status === 'failed' ? 'failed' : 'topped_up';
  }

  /**
   * Checks one prepaid sub-account under its wallet lock: resumes its pending refunds and a top-up in flight, else
   * when the balance is below the threshold starts one (within the maximum balance and the monthly cap). A declined
   * top-up is retried on its own open invoice RETRY_AFTER_FAILURE_HOURS after the decline (sooner only to grant it
   * when the client paid that invoice meanwhile); a failed one waits as long before a new top-up.
   * @throws AppError 404; Stripe read errors (AppError `stripe_error` / `stripe_refused`); database errors.
   */
  function checkWallet(locationId: string): Promise<CheckOutcome> {
    return deps.exclusive(locationId, () => check(locationId));
  }

  async function drainNudged(): Promise<void> {
    while (nudged.size > 0) {
      const [locationId] = nudged;
      nudged.delete(locationId!);
      await checkWallet(locationId!).catch((err: Error) => deps.logger.warn({ locationId, err: err.message }, 'wallet check after counted usage failed'));
    }
  }

  return {
    checkWallet,

    /**
     * The auto top-up (scheduled job): `checkWallet` for each prepaid sub-account. One sub-account's failure never
     * stops the rest. @returns counts of what happened.
     */
    async autoTopUp(): Promise<{ checked: number; started: number; failed: number }> {
      const result = { checked: 0, started: 0, failed: 0 };
      for (const { locationId } of await repo.listPrepaidSubAccounts(db)) {
        result.checked += 1;
        try {
          const outcome = await checkWallet(locationId);
          if (outcome === 'topped_up' || outcome === 'failed') result.started += 1;
          if (outcome === 'failed') result.failed += 1;
        } catch (err) {
          result.failed += 1;
          deps.logger.warn({ locationId, err: (err as Error).message }, 'wallet auto top-up failed');
        }
      }
      return result;
    },

    /**
     * From the inbox processor, after a batch counted usage of these sub-accounts: the prepaid ones among them are
     * checked in the background, one after another (a sub-account nudged again before its check is checked once).
     * Never throws and never waits: the processor's transaction is already committed.
     */
    nudge(locationIds: readonly string[]): void {
      if (locationIds.length === 0) return;
      const filter: Promise<void> = repo
        .prepaidAmong(db, locationIds)
        .then((prepaid) => {
          for (const id of prepaid) nudged.add(id);
          if (prepaid.length > 0 && !running) running = drainNudged().finally(() => (running = null));
        })
        .catch((err: Error) => deps.logger.warn({ err: err.message }, 'wallet nudge failed'))
        .finally(() => filtering.delete(filter));
      filtering.add(filter);
    },

    /** Resolves once the checks nudged so far are done (tests, shutdown). */
    async idle(): Promise<void> {
      while (filtering.size > 0 || running) await Promise.all([...filtering, running]);
    },
  };
}

export type WalletChecks = ReturnType<typeof walletChecks>;
