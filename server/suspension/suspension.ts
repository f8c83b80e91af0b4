/**
 * The suspension policy (issue 16, item 6), per agency and off by default. When a client does not pay — an invoice's
 * failed attempts reach the agency's N (Stripe's `attempt_count`, re-read on `invoice.payment_failed`), or Stripe
 * cancels the subscription for non-payment (`cancellation_details.reason` `payment_failed`) — the sub-account is
 * suspended:
 * - billing of new usage stops: usage is still received, stored and counted, and its meter reports are HELD with the
 *   reason "suspended for non-payment" (the one held mechanism, server/payments/held-usage.ts; a sub-account whose
 *   subscription Stripe canceled keeps counting while suspended: server/metering/billing-rule.ts `BILLABLE`);
 * - with `stop_billing_and_pause`, the sub-account is also paused in HighLevel (highlevel-pause.ts). HighLevel's
 *   refusal is stored with its message and shown; billing stays stopped all the same.
 * It is resumed when the unpaid invoice is paid (`invoice.paid`, re-read from Stripe) or by an agency admin ("Resume
 * now"): HighLevel is asked to resume a sub-account it paused, and the held usage IS billed — the client used the
 * service — dated at the resume so Stripe invoices it in the open period (suspension-repository.ts `endSuspension`).
 */
import type { Logger } from 'pino';
import type Stripe from 'stripe';
import type { z } from 'zod';
import { sql } from 'drizzle-orm';
import { selectRows, type Database } from '../../models/database';
import type { HighLevelApiClient } from '../highlevel/api-client';
import { HIGHLEVEL_ENDPOINTS } from '../highlevel/endpoints';
import { notFound } from '../http/errors';
import type { InvoicePaymentState } from '../stripe/payment-problem';
import { findSubAccount } from '../tenancy/accounts-repository';
import { setPausedInHighLevel } from './highlevel-pause';
import type { subAccountSuspensionResponse, suspensionSchema, suspensionSettingsRequest, suspensionSettingsResponse } from './schemas';
import { endSuspension, findPolicy, findSuspension, listSuspensions, recordHighLevel, savePolicy, startSuspension, type SuspensionRow, type SuspensionStart } from './suspension-repository';

type SuspensionView = z.infer<typeof suspensionSchema>;

/**
 * Builds the suspension use cases over the database and the HighLevel API client (the agency's token). Stripe is read
 * only through the client the payment events hand over.
 */
export function createSuspension(deps: {
  db: Database;
  api: HighLevelApiClient;
  logger: Logger;
  /** Called after a resume, so the reporter sends the released units without waiting for its next tick. */
  onResumed?: () => void;
}) {
  /** Pauses in HighLevel when the row asks for it and HighLevel has not paused it yet (a failed pause is retried). */
  async function pauseIfAsked(row: SuspensionRow): Promise<void> {
    if (!row.pauseInHighLevel || row.resumedAt || row.highLevelState === 'paused') return;
    const outcome = await setPausedInHighLevel(deps.api, { companyId: row.companyId, locationId: row.locationId, paused: true });
    await recordHighLevel(deps.db, row.locationId, outcome.ok ? 'paused' : 'pause_failed', outcome.ok ? null : outcome.error);
    if (!outcome.ok) deps.logger.warn({ companyId: row.companyId, locationId: row.locationId, reason: outcome.error }, 'HighLevel refused to pause the sub-account');
  }

  async function suspend(start: Omit<SuspensionStart, 'pauseInHighLevel'>): Promise<void> {
    const { policy } = await findPolicy(deps.db, start.companyId);
    if (policy === 'off') return;
    const started = await startSuspension(deps.db, { ...start, pauseInHighLevel: policy === 'stop_billing_and_pause' });
    if (started) deps.logger.info({ companyId: start.companyId, locationId: start.locationId, trigger: start.trigger, invoice: start.invoiceId }, 'sub-account suspended for non-payment');
    const row = started ?? (await findSuspension(deps.db, start.locationId));
    if (row) await pauseIfAsked(row);
  }

  /** Ends the suspension in force (if any), resumes in HighLevel what was paused there, and nudges the reporter. */
  async function resume(locationId: string, by: 'invoice_paid' | 'manual'): Promise<SuspensionRow | null> {
    const ended = await deps.db.transaction((tx) => endSuspension(tx, locationId, by));
    const row = ended ?? (by === 'manual' ? await findSuspension(deps.db, locationId) : null);
    if (!row) return null;
    // A resume HighLevel refused earlier is asked again by "Resume now".
    if (row.highLevelState === 'paused' || row.highLevelState === 'resume_failed') {
      const outcome = await setPausedInHighLevel(deps.api, { companyId: row.companyId, locationId, paused: false });
      await recordHighLevel(deps.db, locationId, outcome.ok ? 'resumed' : 'resume_failed', outcome.ok ? null : outcome.error);
      if (!outcome.ok) deps.logger.warn({ companyId: row.companyId, locationId, reason: outcome.error }, 'HighLevel refused to resume the sub-account');
    }
    if (ended) {
      deps.logger.info({ companyId: row.companyId, locationId, by }, 'sub-account suspension ended; held usage released');
      deps.onResumed?.();
    }
    return findSuspension(deps.db, locationId);
  }

  /** One sub-account's suspension as its page shows it. @throws AppError 404 for an unknown sub-account. */
  async function state(locationId: string): Promise<z.infer<typeof subAccountSuspensionResponse>> {
    const sub = await findSubAccount(deps.db, locationId);
    if (!sub) throw notFound(`No sub-account ${locationId}.`);
    const row = await findSuspension(deps.db, locationId);
    return { locationId, policy: (await findPolicy(deps.db, sub.companyId)).policy, suspension: row ? view(row) : null };
  }

  /** The policy, and whether the agency's HighLevel grant carries the pause call's scope. */
  async function settings(companyId: string): Promise<z.infer<typeof suspensionSettingsResponse>> {
    const [grant] = await selectRows<{ scoped: boolean }>(
      deps.db,
      sql`select exists (select 1 from installations i where i.company_id = ${companyId} and i.user_type = 'Company' and i.status = 'active'
            and ${HIGHLEVEL_ENDPOINTS.pauseLocation.scope} = any(regexp_split_to_array(i.scopes, '[\\s,]+'))) as scoped`,
    );
    return { ...(await findPolicy(deps.db, companyId)), highLevelPauseScope: grant?.scoped ?? false };
  }

  return {
    state,
    settings,
    /**
     * Told by the payment events (server/stripe/payment-events.ts) of an invoice's payment state, re-read from Stripe.
     * A failed (or waiting) payment whose attempts reach the policy's N suspends; a paid invoice resumes a suspension
     * for that invoice (or one whose invoice is unknown).
     */
    async onInvoiceState(companyId: string, locationId: string, invoiceId: string, state: InvoicePaymentState): Promise<void> {
      if (state.kind === 'paid') {
        const row = await findSuspension(deps.db, locationId);
        if (row && !row.resumedAt && (row.invoiceId === null || row.invoiceId === invoiceId)) await resume(locationId, 'invoice_paid');
        return;
      }
      if (state.kind === 'none') return;
      const { policy, afterAttempts } = await findPolicy(deps.db, companyId);
      if (policy === 'off' || state.problem.attemptCount < afterAttempts) return;
      await suspend({
        locationId, companyId, trigger: 'payment_failed', invoiceId, hostedInvoiceUrl: state.problem.hostedInvoiceUrl, attemptCount: state.problem.attemptCount });
    },

    /**
     * Told that Stripe canceled the sub-account's subscription for non-payment. The unpaid invoice is the
     * subscription's `latest_invoice` (docs.stripe.com/api/subscriptions/object#subscription_object-latest_invoice),
     * re-read for its hosted page. @throws the stripe-node error when it cannot be read (the webhook is retried).
     */
    async onSubscriptionCanceledUnpaid(companyId: string, locationId: string, subscription: Stripe.Subscription, stripe: Stripe): Promise<void> {
      if ((await findPolicy(deps.db, companyId)).policy === 'off') return;
      const latest = subscription.latest_invoice;
      const invoice = typeof latest === 'string' ? await stripe.invoices.retrieve(latest) : (latest ?? null);
      const paid = invoice?.status === 'paid';
      await suspend({
        locationId, companyId, trigger: 'subscription_canceled', invoiceId: paid ? null : (invoice?.id ?? null),
        hostedInvoiceUrl: paid ? null : (invoice?.hosted_invoice_url ?? null), attemptCount: paid ? null : (invoice?.attempt_count ?? null) });
    },

    /** "Resume now" (agency admin). @throws AppError 404 for an unknown sub-account. */
    async resumeNow(locationId: string): Promise<z.infer<typeof subAccountSuspensionResponse>> {
      await resume(locationId, 'manual');
      return state(locationId);
    },

    /** The agency's suspensions in force, or whose HighLevel pause or resume failed (for its list). */
    async list(companyId: string) {
      return { items: (await listSuspensions(deps.db, companyId)).map(view) };
    },

    /** Saves the policy; sub-accounts suspended already stay so until paid or resumed by hand. */
    async setSettings(companyId: string, input: z.infer<typeof suspensionSettingsRequest>) {
      await savePolicy(deps.db, companyId, input);
      return settings(companyId);
    },
  };
}

/** The suspension use cases (see `createSuspension`). */
export type Suspension = ReturnType<typeof createSuspension>;

const iso = (d: Date | null) => (d ? d.toISOString() : null);

/** The row as the API shows it, with its summary in words. */
function view(row: SuspensionRow): SuspensionView {
  const since = row.suspendedAt.toISOString().slice(0, 16).replace('T', ' ');
  const why = row.trigger === 'subscription_canceled' ? 'the subscription was canceled for non-payment' : `${row.attemptCount ?? 'several'} failed payment attempts`;
  const summary = row.resumedAt
    ? `Was suspended for non-payment from ${since} UTC to ${row.resumedAt.toISOString().slice(0, 16).replace('T', ' ')} UTC (${row.resumedBy === 'manual' ? 'resumed by hand' : 'invoice paid'}).`
    : `Suspended for non-payment since ${since} UTC (${why}): new usage is held, not billed, until the invoice is paid.`;
  return {
    locationId: row.locationId,
    active: row.resumedAt === null,
    trigger: row.trigger,
    summary,
    suspendedAt: row.suspendedAt.toISOString(),
    invoiceId: row.invoiceId,
    hostedInvoiceUrl: row.hostedInvoiceUrl,
    attemptCount: row.attemptCount,
    highLevel: { requested: row.pauseInHighLevel, state: row.highLevelState, error: row.highLevelError, at: iso(row.highLevelAt) },
    resumedAt: iso(row.resumedAt),
    resumedBy: row.resumedBy,
  };
}
