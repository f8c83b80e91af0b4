/**
 * Keeps the stored next-invoice previews (stored-previews.ts) fresh without making a page wait on Stripe: every read
 * of a preview is stored (the sub-account page's live read too), and the `invoice-previews` job reads the due ones
 * in the background — a few at a time per agency, paced under Stripe's rate limits — when its schedule comes, and
 * soon after a webhook or a change asks for a refresh (`requestRefresh` nudges it).
 *
 * Stripe's limits are per account (docs.stripe.com/rate-limits): 100 requests/s in live mode, 25/s in a sandbox or
 * test mode, and 25/s on any one endpoint such as create_preview. The job stays at PREVIEW_REFRESH.perSecond calls
 * per agency (each agency is its own Stripe account); with the card refresh running beside it, the two together stay
 * at 20 calls a second per account at most, leaving room for the pages' own reads (worked out in card-refresh.ts).
 */
import type Stripe from 'stripe';
import { findAgency } from '../tenancy/accounts-repository';
import { nextInvoice, type NextInvoice } from './invoices';
import { duePreviews, previewsOfAgency, requestRefresh, saveError, saveRead, type PreviewTarget } from './stored-previews';
import { readAndStore, refreshByAgency, type RefreshDeps, type RefreshLimits, type RefreshSummary } from './stored-reads';

/** The scheduler's name of the refresh job (server/jobs/scheduled-jobs.ts). */
export const PREVIEW_REFRESH_JOB = 'invoice-previews';

/**
 * How the job reads (stored-reads.ts `RefreshLimits`): 4 previews in flight and at most 10 started a second per
 * agency (one preview is one Stripe call), 4 agencies at once, at most 2,000 previews a run.
 */
export const PREVIEW_REFRESH: RefreshLimits = { perAgency: 4, perSecond: 10, agencies: 4, perRun: 2000 };

/** What one run did. */
export type PreviewRefreshSummary = RefreshSummary;

/** The invoice-preview refresh; `deps.nudge` asks for a run of PREVIEW_REFRESH_JOB. */
export function createPreviewRefresh(deps: RefreshDeps) {
  const options = { ...PREVIEW_REFRESH, ...deps.options };

  /**
   * Reads the sub-account's next invoice from Stripe and stores it, or stores Stripe's message when the read fails.
   * @param flatFeePriceId the agency's flat-fee price (nextInvoice marks its line as not metered).
   * @param pace awaited before the one Stripe call (the job's pacing).
   * @throws what invoices.ts `nextInvoice` throws (AppError 400/502 with Stripe's message), after storing it.
   */
  function read(stripe: Stripe, target: PreviewTarget, flatFeePriceId: string | null, pace?: () => Promise<void>): Promise<NextInvoice> {
    return readAndStore(
      async () => {
        await pace?.();
        return nextInvoice(stripe, { customerId: target.customerId, subscriptionId: target.subscriptionId, flatFeePriceId });
      },
      (preview, startedAt) => saveRead(deps.db, target, preview, startedAt),
      (message, startedAt) => saveError(deps.db, target, message, startedAt),
    );
  }

  return {
    read,

    /** Every subscribed sub-account of the agency with its stored preview and whether it is due (stored-previews.ts). */
    ofAgency: (companyId: string) => previewsOfAgency(deps.db, companyId),

    /** The job: reads up to `perRun` due previews, agencies side by side. Stripe errors are stored, never thrown. */
    async refreshDue(): Promise<PreviewRefreshSummary> {
      return refreshByAgency(await duePreviews(deps.db, options.perRun), options, { ...deps, what: 'invoice previews' }, async (companyId, stripe, pace) => {
        const flatFeePriceId = (await findAgency(deps.db, companyId))?.flatFeePriceId ?? null;
        return async (target) => read(stripe, target, flatFeePriceId, pace);
      });
    },

    /** Marks the customer's stored previews to be read again and nudges the job (a webhook, a subscription change). */
    async requestRefresh(companyId: string, customerId: string): Promise<void> {
      if ((await requestRefresh(deps.db, companyId, customerId)) > 0) deps.nudge?.();
    },

    /** Asks for a run soon (the Overview found more previews due than it reads itself). */
    nudge: () => deps.nudge?.(),
  };
}

export type PreviewRefresh = ReturnType<typeof createPreviewRefresh>;
