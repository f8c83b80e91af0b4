/**
 * Keeps the stored cards (stored-cards.ts) fresh without making a page wait on Stripe: every card read is stored (the
 * sub-account page's live read too), and the `card-summaries` job reads the due ones in the background — a few at a
 * time per agency, paced — when its schedule comes, and soon after a webhook or a change made here says a card
 * changed (`requestRefresh` nudges it). The pages read the stored cards (`current`), reading only a few never read
 * themselves (stored-reads.ts `withFewDueRead`).
 *
 * Stripe's rate limits (docs.stripe.com/rate-limits) are per account, and each agency is its own account: 100
 * requests a second in live mode, 25 in a sandbox or test mode, and 25 a second on any one endpoint. Two background
 * jobs read each account, side by side (each job runs once at a time across replicas, under its advisory lock), and
 * split a budget of 20 calls a second per account between them, each pacing every call it makes
 * (server/jobs/concurrently.ts `pacer`, evenly spaced, so no rolling second holds more):
 * - the invoice-preview refresh (preview-refresh.ts): PREVIEW_REFRESH.perSecond = 10 calls a second;
 * - this card refresh: CARD_REFRESH.perSecond = 10 calls a second (a card read is the customer and its
 *   subscription, two calls, a third when a payment method is not expanded: cards.ts `readCard`).
 * Together at most 20 a second, under the 25 of test mode and of any one endpoint, leaving at least 5 a second for
 * the pages' own reads and Meterbridge's writes; and at most 4 + 4 calls in flight per account.
 */
import type Stripe from 'stripe';
import { readCard, type CardSummary } from './cards';
import { cardsOfAgency, dueCards, requestCardRefresh, saveCardError, saveCardRead, type CardTarget, type StoredCard } from './stored-cards';
import { readAndStore, refreshByAgency, withFewDueRead, type RefreshDeps, type RefreshLimits, type RefreshSummary } from './stored-reads';

/** The scheduler's name of the refresh job (server/jobs/scheduled-jobs.ts). */
export const CARD_REFRESH_JOB = 'card-summaries';

/**
 * How the job reads (stored-reads.ts `RefreshLimits`): 4 cards in flight and at most 10 Stripe calls started a second
 * per agency, 4 agencies at once, at most 2,000 cards a run.
 */
export const CARD_REFRESH: RefreshLimits = { perAgency: 4, perSecond: 10, agencies: 4, perRun: 2000 };

/** The card refresh; `deps.nudge` asks for a run of CARD_REFRESH_JOB. */
export function createCardRefresh(deps: RefreshDeps) {
  const options = { ...CARD_REFRESH, ...deps.options };
  const nudge = () => deps.nudge?.();

  /**
   * Reads the sub-account's card from Stripe and stores it, or stores Stripe's message when the read fails.
   * @param pace awaited before each Stripe call (the job's pacing).
   * @throws what cards.ts `readCard` throws (AppError 400/502 with Stripe's message), after storing it.
   */
  function read(stripe: Stripe, target: CardTarget, pace?: () => Promise<void>): Promise<CardSummary> {
    return readAndStore(
      () => readCard(stripe, target.customerId, target.subscriptionId, pace),
      (card, startedAt) => saveCardRead(deps.db, target, card, startedAt),
      (message, startedAt) => saveCardError(deps.db, target, message, startedAt),
    );
  }

  return {
    read,

    /**
     * The agency's sub-accounts with a customer (or only `locationIds` of them) with their stored cards. A card stored
     * is answered as stored, however due (the job, nudged, reads it again: no card call on the request); cards never
     * read are read on the request when there are few (a small agency's first look), else left to the job and said
     * to be being checked. `stripeError`: why Stripe cannot be used for the agency (not connected, key unreadable);
     * nothing is read then.
     */
    async current(companyId: string, locationIds?: string[]): Promise<{ rows: StoredCard[]; stripeError: string | null }> {
      const load = () => cardsOfAgency(deps.db, companyId, locationIds);
      let stripe: Stripe;
      try {
        stripe = await deps.stripeForAgency(companyId);
      } catch (err) {
        return { rows: await load(), stripeError: (err as Error).message };
      }
      return { rows: await withFewDueRead(load, (row) => read(stripe, row), nudge, (row) => !row.stored), stripeError: null };
    },

    /** The job: reads up to `perRun` due cards, agencies side by side. Stripe errors are stored, never thrown. */
    async refreshDue(): Promise<RefreshSummary> {
      return refreshByAgency(await dueCards(deps.db, options.perRun), options, { ...deps, what: 'cards' }, async (_companyId, stripe, pace) => (target) => read(stripe, target, pace));
    },

    /**
     * Marks for a read the stored cards of the customer, and any showing the payment method, and nudges the job (a
     * webhook said a card changed, or Meterbridge changed one).
     */
    async requestRefresh(companyId: string, changed: { customerId: string | null; paymentMethodId?: string | null }): Promise<void> {
      if ((await requestCardRefresh(deps.db, companyId, { customerId: changed.customerId, paymentMethodId: changed.paymentMethodId ?? null })) > 0) nudge();
    },
  };
}

/** The card refresh as payments.ts exposes it (`payments.cards`). */
export type CardRefresh = ReturnType<typeof createCardRefresh>;
