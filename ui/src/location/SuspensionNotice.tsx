/**
 * What the client sees while its sub-account is suspended for non-payment (the agency's policy, server/suspension/):
 * payment required, since when, what is due, and the link to Stripe's hosted invoice page where they pay — paying
 * resumes the service.
 */
import type { SubAccountDetail } from '../api';
import type { SuspensionState } from '../api-types-suspension';
import { formatCents, formatInstant } from '../format';

/** @param problem the sub-account's payment problem (amount due, decline), shown when it is the suspension's invoice. */
export function SuspensionNotice({ suspension, problem }: { suspension: SuspensionState; problem: SubAccountDetail['paymentProblem'] }) {
  const url = suspension.hostedInvoiceUrl ?? problem?.hostedInvoiceUrl ?? null;
  const invoice = problem && (problem.invoiceId === suspension.invoiceId || !suspension.invoiceId) ? problem : null;
  return (
    <section className="card state state-error" aria-labelledby="suspended-title" role="alert" data-testid="payment-required">
      <h2 id="suspended-title">Payment required: your account is suspended</h2>
      <p>
        Suspended for non-payment since {formatInstant(suspension.suspendedAt)}
        {suspension.highLevel.state === 'paused' ? '; the account is paused until the invoice is paid' : ''}.
      </p>
      {invoice ? (
        <p>
          Invoice {invoice.invoiceNumber ?? invoice.invoiceId}: {formatCents(String(invoice.amountDueCents), invoice.currency)} due
          {invoice.failureMessage ? ` — ${invoice.failureMessage.replace(/\.$/, '')}` : ''}.
        </p>
      ) : null}
      {url ? (
        <p>
          <a className="button" href={url} target="_blank" rel="noreferrer" data-testid="pay-link">
            Pay the invoice
          </a>
        </p>
      ) : (
        <p>Contact your agency to settle the balance.</p>
      )}
      <p className="small">Once it is paid, the service resumes by itself.</p>
    </section>
  );
}
