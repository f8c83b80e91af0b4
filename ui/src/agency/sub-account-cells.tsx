/**
 * The cells of the sub-accounts work queue: this period in money and per metric (units of different metrics never
 * added), the subscription, the card, the invoice that needs attention, and the Stripe customer by name (and a link to
 * it in the Stripe Dashboard, its id on hover).
 */
import type { MetricTotal, SubAccountList } from '../api';
import type { PaymentFlag } from '../api-types-payments';
import { formatCents, formatDay, formatNumber, metricLabel } from '../format';
import { StripeLink } from '../components/StripeLink';

type Row = SubAccountList['items'][number];

/** A billed sub-account's period so far, in money (the server's estimate at the prices in force). */
export function MoneyCell({ sub }: { sub: Row }) {
  if (!sub.periodAmount) return null;
  return (
    <strong className="block" data-testid="period-amount" title="Estimated at the prices in force, from the first of the month to today; the Stripe invoice is the final amount.">
      {formatCents(sub.periodAmount.cents, sub.periodAmount.currency)} so far
    </strong>
  );
}

/**
 * This month's usage per metric, each with its own billed units (and how many reached Stripe): units of different
 * metrics (a call minute, an SMS) are never added together.
 */
export function MonthCell({ metrics, loading }: { metrics: MetricTotal[] | undefined; loading: boolean }) {
  if (!metrics) return <span className="muted">{loading ? '…' : '—'}</span>;
  const used = metrics.filter((m) => Number(m.quantity) > 0);
  if (used.length === 0) return <span className="muted">No usage</span>;
  return (
    <ul className="metric-lines">
      {used.map((m) => (
        <li key={m.metric} data-metric={m.metric}>
          {formatNumber(m.quantity)} {metricLabel(m.metric)}{' '}
          <span className="muted small">
            ({formatNumber(m.unitsBilled)} billed unit{m.unitsBilled === 1 ? '' : 's'}
            {m.unitsSent !== m.unitsBilled ? `, ${formatNumber(m.unitsSent)} sent` : ''})
          </span>
        </li>
      ))}
    </ul>
  );
}

/** The subscription: active, scheduled (and when), or none. */
export function SubscriptionCell({ sub }: { sub: Row }) {
  const [text, tone] = sub.scheduled
    ? [`Starts ${sub.subscriptionStartsAt ? formatDay(sub.subscriptionStartsAt) : 'later'}`, 'warn']
    : sub.billingStatus === 'paused'
      ? ['Canceled', 'warn']
      : sub.stripeSubscriptionId
        ? ['Active', 'ok']
        : ['None', ''];
  return (
    <span className="block small">
      Subscription:{' '}
      <span className={tone ? `badge ${tone}` : 'muted'} data-testid="subscription-status">
        {text}
      </span>
    </span>
  );
}

/**
 * The card Stripe would charge, as stored on the server (read from Stripe in the background; its title says when):
 * "Checking…" while it has not been read yet, "Unreadable" (Stripe's message as title) when Stripe refused.
 */
export function CardCell({ flag, hasCustomer }: { flag: PaymentFlag | undefined; hasCustomer: boolean }) {
  return (
    <span className="block small">
      Card: <CardText flag={flag} hasCustomer={hasCustomer} />
    </span>
  );
}

function CardText({ flag, hasCustomer }: { flag: PaymentFlag | undefined; hasCustomer: boolean }) {
  if (!hasCustomer) return <span className="muted">—</span>;
  if (!flag) return <span className="muted">…</span>;
  if (flag.error) return <span className="muted" title={flag.error}>Unreadable</span>;
  if (flag.checking) {
    return (
      <span className="muted" title="Being read from Stripe" data-testid="card-status">
        Checking…
      </span>
    );
  }
  const card = flag.card;
  if (!card || card.status === 'no_card') return <span className="badge bad" data-testid="card-status">No card</span>;
  if (card.status === 'customer_deleted') return <span className="badge bad" data-testid="card-status">Customer deleted in Stripe</span>;
  const name = card.brand ? `${card.brand[0]!.toUpperCase()}${card.brand.slice(1)} •••• ${card.last4}` : (card.type ?? 'Payment method');
  if (card.expired) return <span className="badge bad" data-testid="card-status">{name} expired</span>;
  return (
    <span data-testid="card-status">
      {name}
      {card.expiringSoon ? <span className="badge warn block">Expires soon</span> : null}
    </span>
  );
}

/** The invoice that needs attention: payment failed (amount due, link to send), or waiting for the client's bank. */
export function InvoiceCell({ sub }: { sub: Row }) {
  const problem = sub.paymentProblem;
  if (!problem) return sub.billingStatus === 'delinquent' ? <span className="negative block small">Payment failed</span> : null;
  const due = formatCents(String(problem.amountDueCents), problem.currency);
  const text = sub.billingStatus === 'action_required' ? `Waiting for the client’s bank: ${due}` : `Payment failed: ${due} due`;
  return problem.hostedInvoiceUrl ? (
    <a className="negative block small" href={problem.hostedInvoiceUrl} target="_blank" rel="noreferrer" title={problem.failureMessage ?? undefined}>
      {text}
    </a>
  ) : (
    <span className="negative block small">{text}</span>
  );
}

/** The customer's name as Stripe has it; "no name in Stripe" once read without one; "Stripe customer" until read. */
function customerLabel(flag: PaymentFlag | undefined): string {
  if (flag?.card) return flag.card.customerName ?? 'no name in Stripe';
  return 'Stripe customer';
}

/**
 * The Stripe customer by name (read with the card; see `customerLabel`) and "Open in Stripe",
 * a link to its page in the Stripe Dashboard with its id on hover (not the name again: the row's name already links to
 * the sub-account).
 */
export function CustomerCell({ sub, flag }: { sub: Row; flag: PaymentFlag | undefined }) {
  const id = sub.stripeCustomerId;
  if (!id) return <span className="muted small block">No Stripe customer</span>;
  return (
    <span className="small block">
      Customer: <span data-testid="customer-name">{customerLabel(flag)}</span>{' '}
      <StripeLink kind="customer" id={id} testId="customer-link">
        Open in Stripe
      </StripeLink>
    </span>
  );
}
