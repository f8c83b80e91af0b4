/** The next invoice as Stripe previews it: metered usage so far, the flat fee, discounts, tax. Amounts in cents. */
import type { NextInvoice as Next } from '../api-types-payments';
import { Empty, ErrorNotice, Loading } from '../components/States';
import { useResource } from '../components/useResource';
import { formatCents, formatDay, formatNumber } from '../format';
import { paymentsApi } from '../payments-api';

export function NextInvoice({ locationId }: { locationId: string }) {
  const next = useResource(() => paymentsApi.nextInvoice(locationId), [locationId]);
  return (
    <section className="card" aria-labelledby="next-invoice-title" data-testid="next-invoice">
      <h2 id="next-invoice-title">Next invoice</h2>
      {next.loading && !next.data ? <Loading /> : null}
      {next.error ? <ErrorNotice error={next.error} onRetry={next.reload} /> : null}
      {next.data && !next.data.available ? <Empty>{next.data.reason}</Empty> : null}
      {next.data?.invoice ? <Lines invoice={next.data.invoice} /> : null}
    </section>
  );
}

function Lines({ invoice }: { invoice: NonNullable<Next['invoice']> }) {
  const c = invoice.currency;
  return (
    <>
      <p className="muted small">
        Usage from {formatDay(invoice.periodStart)} to {formatDay(invoice.periodEnd)}
        {invoice.nextPaymentAttempt ? `; Stripe charges it around ${formatDay(invoice.nextPaymentAttempt)}` : ''}. So far: it grows with your usage until then.
      </p>
      <div className="table-wrap">
        <table>
          <caption className="visually-hidden">Next invoice lines</caption>
          <thead>
            <tr>
              <th scope="col">Line</th>
              <th scope="col" className="num">Quantity</th>
              <th scope="col" className="num">Amount</th>
            </tr>
          </thead>
          <tbody>
            {invoice.lines.map((line, i) => (
              <tr key={i}>
                <th scope="row" style={{ overflowWrap: 'anywhere' }}>{line.description ?? (line.metered ? 'Usage' : 'Monthly fee')}</th>
                <td className="num">{line.quantity === null ? '' : formatNumber(String(line.quantity))}</td>
                <td className="num" style={{ whiteSpace: 'nowrap' }}>{formatCents(line.amountCents, c)}</td>
              </tr>
            ))}
          </tbody>
          <tfoot>
            {invoice.discountCents > 0 ? (
              <tr>
                <th scope="row" colSpan={2}>Discounts</th>
                <td className="num">−{formatCents(invoice.discountCents, c)}</td>
              </tr>
            ) : null}
            {invoice.taxCents > 0 ? (
              <tr>
                <th scope="row" colSpan={2}>Tax</th>
                <td className="num">{formatCents(invoice.taxCents, c)}</td>
              </tr>
            ) : null}
            <tr>
              <th scope="row" colSpan={2}>Total so far</th>
              <td className="num" data-testid="next-invoice-total">
                <strong>{formatCents(invoice.totalCents, c)}</strong>
              </td>
            </tr>
          </tfoot>
        </table>
      </div>
    </>
  );
}
