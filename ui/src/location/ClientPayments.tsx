/** The client's own payments: the card on file (and Stripe's pages to change it), the next invoice, the invoices. */
import { InvoicesTable } from '../agency/InvoicesTable';
import { ErrorNotice, Loading } from '../components/States';
import { useResource } from '../components/useResource';
import { paymentsApi } from '../payments-api';
import { CardOnFile } from './CardOnFile';
import { NextInvoice } from './NextInvoice';
import { WalletCard } from './WalletCard';

/** @param canOpen the user is an admin of the sub-account (HighLevel role "admin"): only they change the card. */
export function ClientPayments({ locationId, canOpen }: { locationId: string; canOpen: boolean }) {
  const payments = useResource(() => paymentsApi.subAccountPayments(locationId), [locationId]);
  const hasCustomer = payments.data?.stripeCustomerId !== null && payments.data !== undefined;
  return (
    <>
      {payments.loading && !payments.data ? <Loading /> : null}
      {payments.error ? <ErrorNotice error={payments.error} onRetry={payments.reload} /> : null}
      <div className="grid two">
        {payments.data ? <CardOnFile locationId={locationId} payments={payments.data} audience="client" canOpen={canOpen} /> : null}
        <NextInvoice locationId={locationId} />
      </div>
      <WalletCard locationId={locationId} canAct={canOpen} audience="client" />
      {hasCustomer ? (
        <section className="card" aria-labelledby="my-invoices-title">
          <h2 id="my-invoices-title">Your invoices</h2>
          <InvoicesTable load={(cursor) => paymentsApi.invoices(locationId, { startingAfter: cursor })} deps={[locationId]} />
        </section>
      ) : null}
    </>
  );
}
