/**
 * Payment problems from the agency's Stripe account. Each event is only a hint: the invoice or subscription is
 * re-read from Stripe and the sub-account's billing status set from what Stripe says now, so late, repeated or
 * reordered events converge (Stripe webhooks: docs.stripe.com/webhooks, "Handle events asynchronously" and
 * "Only verify events"; signature check: docs.stripe.com/webhooks/signature).
 * - invoice.payment_failed / invoice.paid → the invoice's customer's sub-account is `delinquent` (unpaid, attempted)
 *   or back to `ok` (paid).
 * - customer.subscription.deleted → rebilling `paused` if that was the sub-account's subscription.
 */
import type { Logger } from 'pino';
import type Stripe from 'stripe';
import type { Database } from '../../models/database';
import type { SecretBox } from '../crypto/secret-box';
import { AppError, badRequest, notFound } from '../http/errors';
import { findAgency, findSubAccountByCustomer, setSubAccountBilling } from '../tenancy/accounts-repository';

/** What happened with one event. */
export interface PaymentEventOutcome {
  eventId: string;
  type: string;
  /** The sub-account whose status changed, if any. */
  locationId: string | null;
  billingStatus: 'ok' | 'delinquent' | 'paused' | null;
}

export function createPaymentEvents(deps: {
  db: Database;
  secretBox: SecretBox;
  stripeForAgency: (companyId: string) => Promise<Stripe>;
  logger: Logger;
}) {
  async function customerSub(companyId: string, customer: string | { id: string } | null) {
    const id = typeof customer === 'string' ? customer : customer?.id;
    return id ? findSubAccountByCustomer(deps.db, companyId, id) : null;
  }

  return {
    /**
     * Verifies and applies one delivery to `/webhooks/stripe/:companyId`.
     * @throws AppError 404 unknown agency, 400 `webhook_not_configured` / `invalid_signature`; Stripe read errors
     *   propagate (the route answers 5xx and Stripe retries).
     */
    async handle(companyId: string, rawBody: Buffer, signature: string | undefined): Promise<PaymentEventOutcome> {
      const agency = await findAgency(deps.db, companyId);
      if (!agency) throw notFound('Unknown agency.');
      if (!agency.stripeWebhookSecret) throw badRequest('webhook_not_configured', 'No Stripe webhook signing secret is configured for this agency.');
      const stripe = await deps.stripeForAgency(companyId);
      let event: Stripe.Event;
      try {
        event = stripe.webhooks.constructEvent(rawBody, signature ?? '', deps.secretBox.open(agency.stripeWebhookSecret));
      } catch (err) {
        throw new AppError(400, 'invalid_signature', `The Stripe signature does not match: ${(err as Error).message}`);
      }
      const outcome: PaymentEventOutcome = { eventId: event.id, type: event.type, locationId: null, billingStatus: null };

      if (event.type === 'invoice.payment_failed' || event.type === 'invoice.paid') {
        const hinted = event.data.object as Stripe.Invoice;
        if (!hinted.id) return outcome;
        const invoice = await stripe.invoices.retrieve(hinted.id);
        const sub = await customerSub(companyId, invoice.customer as string | { id: string } | null);
        if (!sub) return outcome;
        if (invoice.status === 'paid') {
          if (sub.billingStatus === 'delinquent') await setSubAccountBilling(deps.db, sub.locationId, { billingStatus: 'ok', billingStatusReason: null });
          return { ...outcome, locationId: sub.locationId, billingStatus: sub.billingStatus === 'paused' ? 'paused' : 'ok' };
        }
        if (invoice.status === 'open' && (invoice.attempt_count ?? 0) > 0 && sub.billingStatus !== 'paused') {
          const reason = `Payment of invoice ${invoice.number ?? invoice.id} failed after ${invoice.attempt_count} attempt${invoice.attempt_count === 1 ? '' : 's'}${
            invoice.last_finalization_error?.message ? `: ${invoice.last_finalization_error.message}` : '.'
          }`;
          await setSubAccountBilling(deps.db, sub.locationId, { billingStatus: 'delinquent', billingStatusReason: reason });
          return { ...outcome, locationId: sub.locationId, billingStatus: 'delinquent' };
        }
        return { ...outcome, locationId: sub.locationId, billingStatus: sub.billingStatus };
      }

      if (event.type === 'customer.subscription.deleted') {
        const hinted = event.data.object as Stripe.Subscription;
        const subscription = await stripe.subscriptions.retrieve(hinted.id);
        const sub = await customerSub(companyId, subscription.customer as string | { id: string });
        if (!sub || sub.stripeSubscriptionId !== subscription.id || subscription.status !== 'canceled') return outcome;
        await setSubAccountBilling(deps.db, sub.locationId, {
          billingStatus: 'paused',
          billingStatusReason: `The Stripe subscription ${subscription.id} was canceled; rebilling is paused until a new one is set up.`,
          stripeSubscriptionId: null,
        });
        deps.logger.info({ companyId, locationId: sub.locationId, subscription: subscription.id }, 'rebilling paused: subscription canceled');
        return { ...outcome, locationId: sub.locationId, billingStatus: 'paused' };
      }
      return outcome;
    },
  };
}

export type PaymentEvents = ReturnType<typeof createPaymentEvents>;
