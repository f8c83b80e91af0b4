/**
 * What went wrong with an invoice's payment, read from Stripe itself (an event is only a hint):
 * - the invoice (docs.stripe.com/api/invoices/object): `status`, `attempt_count`, `next_payment_attempt` (Unix
 *   seconds; null when Stripe will not retry), `hosted_invoice_url` (where the client pays or authenticates),
 *   `amount_due`, `number`;
 * - its payment attempts: `payments` (InvoicePayment, docs.stripe.com/api/invoice-payment/object) is not included
 *   by default and is asked for with `expand`; each carries `payment.payment_intent`, whose `last_payment_error`
 *   has the decline (`decline_code` such as insufficient_funds, `code` such as card_declined, `message`) and whose
 *   `status` `requires_action` means the client must authenticate (3-D Secure,
 *   docs.stripe.com/payments/paymentintents/lifecycle). `last_finalization_error` is about finalizing the invoice,
 *   not paying it, so it is not the decline reason.
 */
import type Stripe from 'stripe';
import type { BillingStatus, PaymentProblem } from '../../models/schema';

/** The `expand` that brings each payment attempt's PaymentIntent along with the invoice. */
export const INVOICE_PAYMENT_EXPAND = ['payments.data.payment.payment_intent'];

/** An invoice's payment state as Meterbridge acts on it. */
export type InvoicePaymentState =
  | { kind: 'paid' }
  /** Nothing to act on: a draft, a void or uncollectible invoice, or one not attempted yet. */
  | { kind: 'none' }
  | { kind: 'failed' | 'action_required'; problem: PaymentProblem };

/**
 * Classifies an invoice retrieved with `INVOICE_PAYMENT_EXPAND`.
 * `action_required` when the latest attempt's PaymentIntent waits for the customer (`requires_action` or
 * `requires_confirmation`); `failed` when an open invoice has been attempted at least once otherwise.
 */
export function invoicePaymentState(invoice: Stripe.Invoice): InvoicePaymentState {
  if (invoice.status === 'paid') return { kind: 'paid' };
  if (invoice.status !== 'open' || (invoice.attempt_count ?? 0) === 0) return { kind: 'none' };
  const intent = latestPaymentIntent(invoice);
  const error = intent?.last_payment_error ?? null;
  const problem: PaymentProblem = {
    invoiceId: invoice.id!,
    invoiceNumber: invoice.number ?? null,
    amountDueCents: invoice.amount_due,
    currency: invoice.currency,
    attemptCount: invoice.attempt_count,
    nextPaymentAttempt: invoice.next_payment_attempt ? new Date(invoice.next_payment_attempt * 1000).toISOString() : null,
    declineCode: error?.decline_code ?? null,
    failureCode: error?.code ?? null,
    failureMessage: error?.message ?? null,
    hostedInvoiceUrl: invoice.hosted_invoice_url ?? null,
  };
  const waiting = intent?.status === 'requires_action' || intent?.status === 'requires_confirmation';
  return { kind: waiting ? 'action_required' : 'failed', problem };
}

/** The billing status and the sentence the agency reads for a payment state (null: leave the status as it is). */
export function statusFor(state: InvoicePaymentState): { billingStatus: BillingStatus; reason: string | null; problem: PaymentProblem | null } | null {
  if (state.kind === 'paid') return { billingStatus: 'ok', reason: null, problem: null };
  if (state.kind === 'none') return null;
  const p = state.problem;
  const invoice = `invoice ${p.invoiceNumber ?? p.invoiceId}`;
  if (state.kind === 'action_required') {
    return { billingStatus: 'action_required', reason: `The client must confirm the payment of ${invoice} (card authentication); send them the invoice link.`, problem: p };
  }
  const decline = p.failureMessage ? `: ${p.failureMessage}${p.declineCode ? ` (${p.declineCode})` : ''}` : '.';
  const retry = p.nextPaymentAttempt ? ` Stripe retries on ${p.nextPaymentAttempt.slice(0, 10)}.` : ' Stripe will not retry it automatically.';
  return {
    billingStatus: 'delinquent',
    reason: `Payment of ${invoice} failed after ${p.attemptCount} attempt${p.attemptCount === 1 ? '' : 's'}${decline}${retry}`,
    problem: p,
  };
}

/** The PaymentIntent of the most recent payment attempt, when expanded. */
function latestPaymentIntent(invoice: Stripe.Invoice): Stripe.PaymentIntent | null {
  const attempts = [...(invoice.payments?.data ?? [])].sort((a, b) => b.created - a.created);
  for (const attempt of attempts) {
    const intent = attempt.payment?.payment_intent;
    if (intent && typeof intent === 'object') return intent;
  }
  return null;
}
