/**
 * The head of a sub-account's page: its state (billing, or not billing and why — the server's one state), the card
 * Stripe would charge, the subscription, this period's amount so far, the next invoice, and the one next step that
 * matters most, as a link to the part of the page where it is done.
 */
import { NOT_BILLING_EXPLAINED, billingStateLabel } from '../../../server/billing-setup/billing-state-words';
import type { PeriodCharges, SubAccountDetail } from '../api';
import type { NextInvoice, SubAccountPayments } from '../api-types-payments';
import { formatCents, formatDay } from '../format';
import { describeCard } from '../location/CardOnFile';

/** The one action that matters most now, and where on the page it is done. */
export function nextStep(d: SubAccountDetail, payments: SubAccountPayments | null): { text: string; href: string | null } {
  switch (d.billingState) {
    case 'uninstalled':
      return { text: 'Reinstall Meterbridge in this sub-account from HighLevel’s marketplace: new usage is not counted.', href: null };
    case 'rebilling_off':
      return { text: 'Switch rebilling on to bill this client’s usage.', href: '#billing-title' };
    case 'no_customer':
      return { text: 'Map this sub-account to a Stripe customer, or create one from HighLevel’s details.', href: '#billing-title' };
    case 'shadow':
      return { text: 'Check what would be billed, then switch to live billing.', href: '#shadow' };
    case 'paused':
    case 'no_subscription':
      return { text: 'Create the Stripe subscription: usage is held until one invoices it.', href: '#subscription-title' };
    case 'metric_not_covered':
      return { text: 'Update the subscription so it covers every priced metric: some usage is held.', href: '#subscription-title' };
    default:
  }
  if (d.paymentProblem) return { text: 'Send the client the unpaid invoice’s link (below) so they can pay it.', href: '#payment-problem' };
  if (payments && !payments.card.usable) return { text: 'Ask the client for a card: copy the card link and send it to them.', href: '#card-title' };
  if (d.failedReports + d.rejectedReports > 0) return { text: 'Resend the usage Stripe refused, from the meter-report log.', href: '#report-log' };
  return { text: 'Nothing to do: usage is billed by the subscription as it comes.', href: null };
}

export function SubAccountSummary({
  detail: d,
  payments,
  charges,
  next,
}: {
  detail: SubAccountDetail;
  payments: SubAccountPayments | null;
  charges: PeriodCharges | null;
  next: NextInvoice | null;
}) {
  const billing = d.billingState === 'billing';
  const step = nextStep(d, payments);
  const subscription = d.scheduled
    ? `Starts ${d.subscriptionStartsAt ? formatDay(d.subscriptionStartsAt) : 'later'}`
    : d.billingStatus === 'paused'
      ? 'Canceled'
      : d.stripeSubscriptionId
        ? `Active${d.automaticTax ? ', Stripe Tax on' : ''}`
        : 'None';
  return (
    <section className="card summary" aria-labelledby="summary-title" data-testid="sub-account-summary">
      <h2 id="summary-title" className="visually-hidden">
        Summary
      </h2>
      <dl className="summary-grid">
        <div>
          <dt>State</dt>
          <dd>
            <span className={`badge ${billing ? 'ok' : 'warn'}`} data-testid="summary-state">
              {billingStateLabel(d.billingState)}
            </span>
            {d.billingState !== 'billing' ? <span className="small block">{NOT_BILLING_EXPLAINED[d.billingState]}</span> : null}
          </dd>
        </div>
        <div>
          <dt>Card</dt>
          <dd data-testid="summary-card">{payments ? describeCard(payments.card) : '…'}</dd>
        </div>
        <div>
          <dt>Subscription</dt>
          <dd data-testid="summary-subscription" title={d.stripeSubscriptionId ?? undefined}>
            {subscription}
          </dd>
        </div>
        <div>
          <dt>This period so far</dt>
          <dd data-testid="summary-period">{charges ? formatCents(charges.estimatedTotalCents, charges.currency) : '…'}</dd>
        </div>
        <div>
          <dt>Next invoice</dt>
          <dd data-testid="summary-next-invoice">
            {!next ? '…' : next.invoice ? `${formatCents(next.invoice.totalCents, next.invoice.currency)} so far${next.invoice.nextPaymentAttempt ? `, around ${formatDay(next.invoice.nextPaymentAttempt)}` : ''}` : 'None'}
          </dd>
        </div>
      </dl>
      <p className="next-step" data-testid="next-step">
        <strong>Next step:</strong> {step.href ? <a href={step.href}>{step.text}</a> : step.text}
      </p>
    </section>
  );
}
