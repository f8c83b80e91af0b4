/**
 * Payment problems from the agency's Stripe account. Each event is only a hint: the invoice or subscription is
 * re-read from Stripe and the sub-account's billing status set from what Stripe says now, so late, repeated or
 * reordered events converge (Stripe webhooks: docs.stripe.com/webhooks, "Handle events asynchronously" and
 * "Only verify events"; signature check: docs.stripe.com/webhooks/signature).
 * - invoice.payment_failed / invoice.payment_action_required / invoice.paid → the invoice (with its payment
 *   attempts) is re-read and the sub-account becomes `delinquent` (attempts, next retry, the decline reason),
 *   `action_required` (the client must authenticate; the hosted invoice link is kept) or back to `ok` (paid);
 *   server/stripe/payment-problem.ts.
 * - checkout.session.completed and every invoice.* event → server/payments first (the saved card made the default
 *   for invoices; cached invoice reads cleared).
 * - customer.subscription.deleted → rebilling `paused` if that was the sub-account's subscription, saying so when
 *   Stripe canceled it for non-payment; audited as Stripe's change (`sub_account.subscription_canceled`).
 * The suspension policy (server/suspension/) is told of each invoice's payment state and of a cancellation for
 * non-payment, after the sub-account's status is set.
 */
import type { Logger } from 'pino';
import type Stripe from 'stripe';
import type { Database, Executor } from '../../models/database';
import type { SecretBox } from '../crypto/secret-box';
import { AppError, badRequest, notFound } from '../http/errors';
import type { BillingStatus } from '../../models/schema';
import { findAgency, findSubAccountByCustomer, setSubAccountBilling } from '../tenancy/accounts-repository';
import { INVOICE_PAYMENT_EXPAND, invoicePaymentState, statusFor, type InvoicePaymentState } from './payment-problem';
import { audited } from '../audit/audited';
import { describeSubAccountBilling } from '../audit/describe';

/** Invoice events that change a sub-account's payment state; each re-reads the invoice. */
const INVOICE_EVENTS = new Set(['invoice.payment_failed', 'invoice.payment_action_required', 'invoice.paid']);

/** What happened with one event. */
export interface PaymentEventOutcome {
  eventId: string;
  type: string;
  /** The sub-account whose status changed, if any. */
  locationId: string | null;
  billingStatus: BillingStatus | null;
}

export function createPaymentEvents(deps: {
  db: Database;
  secretBox: SecretBox;
  stripeForAgency: (companyId: string) => Promise<Stripe>;
  logger: Logger;
  /**
   * Asked first with every verified event (server/payments/payments.ts `handleEvent`: cached invoice reads cleared,
   * a card saved by Checkout made the default); returns the sub-account a completed setup applied to.
   */
  onEvent?: (companyId: string, event: Stripe.Event, stripe: Stripe) => Promise<{ locationId: string } | null>;
  /** Told of every `invoice.*` event first (one-time charges re-read their invoice: server/catalog/one-time-charges.ts). */
  onInvoiceEvent?: (companyId: string, stripe: Stripe, invoiceId: string) => Promise<unknown>;
  /** Told of the re-read payment state of a sub-account's invoice, after its status is set (server/suspension/). */
  onPaymentState?: (companyId: string, locationId: string, invoiceId: string, state: InvoicePaymentState) => Promise<void>;
  /** Told that Stripe canceled the sub-account's subscription for non-payment, after billing is paused (server/suspension/). */
  onCanceledUnpaid?: (companyId: string, locationId: string, subscription: Stripe.Subscription, stripe: Stripe) => Promise<void>;
}) {
  async function customerSub(companyId: string, customer: string | { id: string } | null) {
    const id = typeof customer === 'string' ? customer : customer?.id;
    return id ? findSubAccountByCustomer(deps.db, companyId, id) : null;
  }

  return {
    /**
     * Verifies and applies one delivery to `/webhooks/stripe/:companyId`.
     * @throws AppError 404 unknown agency, 400 `webhook_not_configured`, 401 `invalid_signature`; Stripe read errors
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
        throw new AppError('invalid_signature', `The Stripe signature does not match: ${(err as Error).message}`);
      }
      return apply(companyId, event, stripe);
    },

    apply,
  };

  /**
   * Applies one verified event of the agency's account, re-reading the truth through `stripe` (also used by the
   * platform's Connect webhook, server/stripe/connect-webhook.ts). @throws Stripe read errors.
   */
  async function apply(companyId: string, event: Stripe.Event, stripe: Stripe): Promise<PaymentEventOutcome> {
    const outcome: PaymentEventOutcome = { eventId: event.id, type: event.type, locationId: null, billingStatus: null };
    const invoiceId = event.type.startsWith('invoice.') ? (event.data.object as Stripe.Invoice).id : undefined;
    if (invoiceId && deps.onInvoiceEvent) await deps.onInvoiceEvent(companyId, stripe, invoiceId);
    const applied = deps.onEvent ? await deps.onEvent(companyId, event, stripe) : null;
    if (applied) return { ...outcome, locationId: applied.locationId };

    if (INVOICE_EVENTS.has(event.type)) {
      const hinted = event.data.object as Stripe.Invoice;
      if (!hinted.id) return outcome;
      const invoice = await stripe.invoices.retrieve(hinted.id, { expand: INVOICE_PAYMENT_EXPAND });
      const sub = await customerSub(companyId, invoice.customer as string | { id: string } | null);
      if (!sub) return outcome;
      const state = invoicePaymentState(invoice);
      const next = statusFor(state);
      const told = () => deps.onPaymentState?.(companyId, sub.locationId, invoice.id!, state);
      // A paused sub-account (no subscription) stays paused; a paid invoice clears only a payment problem (for a paused
      // one, the unpaid invoice it still showed).
      if (!next || sub.billingStatus === 'paused' || (next.billingStatus === 'ok' && sub.billingStatus === 'ok')) {
        if (state.kind === 'paid' && sub.paymentProblem?.invoiceId === invoice.id) await setSubAccountBilling(deps.db, sub.locationId, { paymentProblem: null });
        await told();
        return { ...outcome, locationId: sub.locationId, billingStatus: sub.billingStatus };
      }
      await setSubAccountBilling(deps.db, sub.locationId, { billingStatus: next.billingStatus, billingStatusReason: next.reason, paymentProblem: next.problem });
      await told();
      return { ...outcome, locationId: sub.locationId, billingStatus: next.billingStatus };
    }

    if (event.type === 'customer.subscription.deleted') {
      const hinted = event.data.object as Stripe.Subscription;
      const subscription = await stripe.subscriptions.retrieve(hinted.id);
      const sub = await customerSub(companyId, subscription.customer as string | { id: string });
      if (!sub || sub.stripeSubscriptionId !== subscription.id || subscription.status !== 'canceled') return outcome;
      // cancellation_details.reason 'payment_failed': Stripe canceled it after its retries failed
      // (docs.stripe.com/api/subscriptions/object#subscription_object-cancellation_details-reason).
      const unpaid = subscription.cancellation_details?.reason === 'payment_failed';
      // Stripe's change to the sub-account's billing, audited in its transaction (server/audit/audited.ts).
      const audit = { companyId, actor: { type: 'stripe' as const }, action: 'sub_account.subscription_canceled', subject: 'sub_account_billing', describe: (ex: Executor) => describeSubAccountBilling(ex, sub.locationId) };
      await audited(deps.db, audit, () => setSubAccountBilling(deps.db, sub.locationId, {
        billingStatus: 'paused',
        billingStatusReason: unpaid
          ? `The Stripe subscription ${subscription.id} was canceled for non-payment; rebilling is paused until the balance is settled and a new subscription is set up.`
          : `The Stripe subscription ${subscription.id} was canceled; rebilling is paused until a new one is set up.`,
        stripeSubscriptionId: null,
      }));
      deps.logger.info({ companyId, locationId: sub.locationId, subscription: subscription.id }, 'rebilling paused: subscription canceled');
      if (unpaid) await deps.onCanceledUnpaid?.(companyId, sub.locationId, subscription, stripe);
      return { ...outcome, locationId: sub.locationId, billingStatus: 'paused' };
    }
    return outcome;
  }
}

export type PaymentEvents = ReturnType<typeof createPaymentEvents>;
