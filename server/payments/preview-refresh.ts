/**
 * Keeps the stored next-invoice previews (stored-previews.ts) fresh without making a page wait on Stripe: every read
 * of a preview is stored (the sub-account page's live read too), and the `invoice-previews` job reads the due ones
 * in the background — a few at a time per agency, paced under Stripe's rate limits — when its schedule comes, and
 * soon after a webhook or a change asks for a refresh (`requestRefresh` nudges it).
 *
 * Stripe's limits are per account (docs.stripe.com/rate-limits): 100 requests/s in live mode, 25/s in a sandbox or
 * test mode, and 25/s on any one endpoint such as create_preview. The job stays at PREVIEW_REFRESH.perSecond per
 * agency (each agency is its own Stripe account), well under them, leaving room for the pages' own reads.
 */
import type { Logger } from 'pino';
import type Stripe from 'stripe';
import type { Database } from '../../models/database';
import type { StripeForAgency } from '../billing-setup/stripe-for-agency';
import { forEachConcurrently } from '../jobs/concurrently';
import { findAgency } from '../tenancy/accounts-repository';
import { nextInvoice, type NextInvoice } from './invoices';
import { duePreviews, previewsOfAgency, requestRefresh, saveError, saveRead, type PreviewTarget, type StoredPreview } from './stored-previews';

/** The scheduler's name of the refresh job (server/jobs/scheduled-jobs.ts). */
export const PREVIEW_REFRESH_JOB = 'invoice-previews';

/**
 * How the job reads: `perAgency` previews in flight at once per agency, at most `perSecond` started per second per
 * agency, `agencies` agencies at once, and at most `perRun` previews per run (the next run goes on).
 */
export const PREVIEW_REFRESH = { perAgency: 4, perSecond: 10, agencies: 4, perRun: 2000 };

/** What one run did. */
export interface PreviewRefreshSummary {
  read: number;
  failed: number;
  /** Agencies skipped: Stripe not connected, or its key unreadable. */
  skippedAgencies: number;
}

/**
 * Starts calls at most `perSecond` per second (evenly spaced, so no rolling second holds more), waiting as needed.
 * @returns a function to await before each call.
 */
function pacer(perSecond: number): () => Promise<void> {
  const gapMs = 1000 / perSecond;
  let nextAt = 0;
  return async () => {
    const now = Date.now();
    const at = Math.max(now, nextAt);
    nextAt = at + gapMs;
    if (at > now) await new Promise((resolve) => setTimeout(resolve, at - now));
  };
}

export function createPreviewRefresh(deps: {
  db: Database;
  stripeForAgency: StripeForAgency;
  logger: Logger;
  /** Asks the scheduler for a run of PREVIEW_REFRESH_JOB soon (server/main.ts); must not throw. */
  nudge?: () => void;
  options?: Partial<typeof PREVIEW_REFRESH>;
}) {
  const options = { ...PREVIEW_REFRESH, ...deps.options };

  /**
   * Reads the sub-account's next invoice from Stripe and stores it, or stores Stripe's message when the read fails.
   * @param flatFeePriceId the agency's flat-fee price (nextInvoice marks its line as not metered).
   * @throws what invoices.ts `nextInvoice` throws (AppError 400/502 with Stripe's message), after storing it.
   */
  async function read(stripe: Stripe, target: PreviewTarget, flatFeePriceId: string | null): Promise<NextInvoice> {
    const startedAt = new Date();
    try {
      const preview = await nextInvoice(stripe, { customerId: target.customerId, subscriptionId: target.subscriptionId, flatFeePriceId });
      await saveRead(deps.db, target, preview, startedAt);
      return preview;
    } catch (err) {
      await saveError(deps.db, target, (err as Error).message, startedAt);
      throw err;
    }
  }

  /** Reads one agency's due previews, bounded and paced. */
  async function refreshAgency(companyId: string, due: StoredPreview[], summary: PreviewRefreshSummary): Promise<void> {
    let stripe: Stripe;
    try {
      stripe = await deps.stripeForAgency(companyId);
    } catch (err) {
      summary.skippedAgencies += 1;
      deps.logger.debug({ companyId, reason: (err as Error).message }, 'invoice previews not refreshed: Stripe cannot be used');
      return;
    }
    const flatFeePriceId = (await findAgency(deps.db, companyId))?.flatFeePriceId ?? null;
    const pace = pacer(options.perSecond);
    await forEachConcurrently(due, options.perAgency, async (target) => {
      await pace();
      try {
        await read(stripe, target, flatFeePriceId);
        summary.read += 1;
      } catch {
        summary.failed += 1; // stored with Stripe's message; tried again after PREVIEW_RETRY_SECONDS
      }
    });
  }

  return {
    read,

    /** Every subscribed sub-account of the agency with its stored preview and whether it is due (stored-previews.ts). */
    ofAgency: (companyId: string) => previewsOfAgency(deps.db, companyId),

    /** The job: reads up to `perRun` due previews, agencies side by side. Stripe errors are stored, never thrown. */
    async refreshDue(): Promise<PreviewRefreshSummary> {
      const due = await duePreviews(deps.db, options.perRun);
      const byAgency = new Map<string, StoredPreview[]>();
      for (const row of due) byAgency.set(row.companyId, byAgency.get(row.companyId) ?? []).get(row.companyId)!.push(row);
      const summary: PreviewRefreshSummary = { read: 0, failed: 0, skippedAgencies: 0 };
      await forEachConcurrently([...byAgency], options.agencies, ([companyId, rows]) => refreshAgency(companyId, rows, summary));
      return summary;
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
