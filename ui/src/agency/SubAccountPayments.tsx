/**
 * A sub-account's payments, for the agency: the card on file (with links to send), usage held back because no
 * subscription would invoice it, the next invoice and the invoices, all read from Stripe.
 */
import type { HeldUsage } from '../api-types-payments';
import { useCanChange } from '../components/permissions';
import { ErrorNotice, Loading } from '../components/States';
import { useResource } from '../components/useResource';
import { formatDay, formatNumber, metricLabel } from '../format';
import { CardOnFile } from '../location/CardOnFile';
import { NextInvoice } from '../location/NextInvoice';
import { WalletCard } from '../location/WalletCard';
import { paymentsApi } from '../payments-api';
import { InvoicesTable } from './InvoicesTable';

export function SubAccountPayments({ locationId, hasCustomer }: { locationId: string; hasCustomer: boolean }) {
  const payments = useResource(() => paymentsApi.subAccountPayments(locationId), [locationId]);
  const canChange = useCanChange();
  return (
    <>
      {payments.loading && !payments.data ? <Loading label="Reading the card from Stripe…" /> : null}
      {payments.error ? <ErrorNotice error={payments.error} onRetry={payments.reload} /> : null}
      {payments.data && payments.data.held.metrics.length > 0 ? <HeldNotice held={payments.data.held} /> : null}
      <div className="grid two">
        {payments.data ? <CardOnFile locationId={locationId} payments={payments.data} audience="agency" canOpen={canChange} /> : null}
        <NextInvoice locationId={locationId} />
      </div>
      <WalletCard locationId={locationId} canAct={canChange} audience="agency" />
      {hasCustomer ? (
        <section className="card" aria-labelledby="sub-invoices-title">
          <h2 id="sub-invoices-title">Invoices</h2>
          <InvoicesTable load={(cursor) => paymentsApi.invoices(locationId, { startingAfter: cursor })} deps={[locationId]} />
        </section>
      ) : null}
    </>
  );
}

/**
 * Units kept back from Stripe, loudly, per metric (units of different metrics are never added up): they are billed
 * only once a subscription covers them.
 */
export function HeldNotice({ held }: { held: HeldUsage }) {
  return (
    <section className="card state state-error" role="alert" aria-labelledby="held-title" data-testid="held-usage">
      <h2 id="held-title">Not billing: usage held back</h2>
      <ul>
        {held.metrics.map((m) => (
          <li key={m.metric}>
            <strong>{metricLabel(m.metric)}</strong>: {formatNumber(m.units)} unit{m.units === 1 ? '' : 's'} since {formatDay(m.oldestCrossedAt)}. {m.reason}
          </li>
        ))}
      </ul>
    </section>
  );
}
