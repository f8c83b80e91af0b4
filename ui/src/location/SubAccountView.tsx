/**
 * What a sub-account's own user sees, under the agency's name (white-label: HighLevel's `companyName` for the agency,
 * never Meterbridge's): this month's usage per metric, the units billed and the estimated charges in money, its card,
 * next invoice and invoices, and its usage over time (ClientUsage: no Stripe plumbing). Custom metrics carry the
 * agency's labels. Read-only, except that the sub-account's admins open Stripe's pages to add or change the card
 * (ClientPayments); the API refuses this user anything else. An unpaid invoice (or a suspension for non-payment)
 * comes first, with the link to pay it.
 */
import { useEffect } from 'react';
import { api, type SubAccountDetail } from '../api';
import { Empty, ErrorNotice, Loading } from '../components/States';
import { useResource } from '../components/useResource';
import { formatCents, formatDay, formatNumber, metricLabel, setCustomMetricLabels } from '../format';
import { ClientPayments } from './ClientPayments';
import { ClientUsage } from './ClientUsage';
import { SuspensionNotice } from './SuspensionNotice';
import { suspensionApi } from '../suspension-api';

export function SubAccountView({ locationId, userName, role }: { locationId: string; userName?: string; role?: string }) {
  const sub = useResource(() => api.subAccount(locationId), [locationId]);
  const charges = useResource(() => api.subAccountCharges(locationId), [locationId]);
  // A failure to read it leaves the payment problem (if any) shown as before.
  const suspension = useResource(() => suspensionApi.subAccount(locationId).catch(() => null), [locationId]);
  const suspended = suspension.data?.suspension?.active ? suspension.data.suspension : null;
  // The agency's labels for its custom metrics, before anything names a metric.
  if (sub.data) setCustomMetricLabels(Object.entries(sub.data.metricLabels).map(([key, label]) => ({ key, label })));
  const c = sub.data ? charges.data : undefined;
  const agencyName = sub.data?.agencyName ?? null;
  useEffect(() => {
    document.title = agencyName ? `${agencyName} — usage and billing` : 'Usage and billing';
  }, [agencyName]);
  const lastDay = c ? new Date(Date.parse(c.periodEnd) - 1).toISOString() : null;
  return (
    <>
      <header className="topbar">
        <span className="brand" data-testid="agency-brand">
          {sub.data?.agencyName ?? ''}
        </span>
        <span className="user">{userName ?? 'Sub-account user'}</span>
      </header>
      <main className="page">
        <h1 data-testid="sub-account-name">{sub.data ? (sub.data.name ?? sub.data.locationId) : 'Your usage'}</h1>
        {sub.error ? <ErrorNotice error={sub.error} onRetry={sub.reload} /> : null}
        {suspended ? (
          <SuspensionNotice suspension={suspended} problem={sub.data?.paymentProblem ?? null} />
        ) : sub.data?.paymentProblem ? (
          <PaymentRequired problem={sub.data.paymentProblem} actionRequired={sub.data.billingStatus === 'action_required'} />
        ) : null}
        <section className="card" aria-labelledby="period-title">
          <h2 id="period-title">This month{c && lastDay ? `: ${formatDay(c.periodStart)} – ${formatDay(lastDay)}` : ''}</h2>
          {charges.loading && !c ? <Loading /> : null}
          {charges.error ? <ErrorNotice error={charges.error} onRetry={charges.reload} /> : null}
          {c && c.lines.length === 0 && c.flatFeeCents === null ? <Empty>No usage yet this month.</Empty> : null}
          {c && (c.lines.length > 0 || c.flatFeeCents !== null) ? (
            <div className="table-wrap">
              <table className="charges">
                <caption className="visually-hidden">Usage and estimated charges this month</caption>
                <thead>
                  <tr>
                    <th scope="col">Metric</th>
                    <th scope="col" className="num">Used</th>
                    <th scope="col" className="num">Units billed</th>
                    <th scope="col" className="num">Estimated charge</th>
                  </tr>
                </thead>
                <tbody>
                  {c.lines.map((line) => (
                    <tr key={line.metric} data-metric={line.metric}>
                      <th scope="row">{metricLabel(line.metric)}</th>
                      <td className="num">{formatNumber(line.quantity)}</td>
                      <td className="num">
                        {formatNumber(line.unitsBilled)}
                        {line.threshold && Number(line.threshold) !== 1 ? <span className="muted small"> (1 unit per {formatNumber(line.threshold)})</span> : null}
                      </td>
                      <td className="num">{formatCents(line.estimatedCents, line.currency ?? c.currency)}</td>
                    </tr>
                  ))}
                  {c.flatFeeCents !== null ? (
                    <tr>
                      <th scope="row">Monthly fee</th>
                      <td />
                      <td />
                      <td className="num">{formatCents(c.flatFeeCents, c.currency)}</td>
                    </tr>
                  ) : null}
                </tbody>
                <tfoot>
                  <tr>
                    <th scope="row" colSpan={3}>
                      Estimated total
                    </th>
                    <td className="num" data-testid="estimated-total">
                      <strong>{formatCents(c.estimatedTotalCents, c.currency)}</strong>
                    </td>
                  </tr>
                </tfoot>
              </table>
            </div>
          ) : null}
          <p className="muted small">Estimated at the current prices, before tax and discounts. Your invoice is the final amount.</p>
        </section>
        <ClientPayments locationId={locationId} canOpen={role === 'admin'} />
        <ClientUsage locationId={locationId} />
      </main>
    </>
  );
}

/** The client's unpaid invoice: what is due and the link where they pay it (or confirm the payment with their bank). */
function PaymentRequired({ problem, actionRequired }: { problem: NonNullable<SubAccountDetail['paymentProblem']>; actionRequired: boolean }) {
  return (
    <section className="card state state-error" aria-labelledby="payment-title" role="alert">
      <h2 id="payment-title">{actionRequired ? 'Your bank asks you to confirm a payment' : 'Payment required'}</h2>
      <p>
        Invoice {problem.invoiceNumber ?? problem.invoiceId}: {formatCents(String(problem.amountDueCents), problem.currency)} due
        {problem.failureMessage ? ` — ${problem.failureMessage.replace(/\.$/, '')}` : ''}.
      </p>
      {problem.hostedInvoiceUrl ? (
        <p>
          <a className="button" href={problem.hostedInvoiceUrl} target="_blank" rel="noreferrer">
            {actionRequired ? 'Confirm the payment' : 'Pay the invoice'}
          </a>
        </p>
      ) : null}
    </section>
  );
}
