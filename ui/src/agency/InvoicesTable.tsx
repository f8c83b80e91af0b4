/**
 * A list of Stripe invoices, newest first, with Stripe's hosted page and PDF, and "More invoices" following Stripe's
 * cursor. Used for one sub-account (its client's view and the agency's page) and agency-wide (InvoicesPage).
 */
import { useEffect, useState } from 'react';
import type { Invoice, InvoiceList } from '../api-types-payments';
import { Empty, ErrorNotice, Loading } from '../components/States';
import { formatCents, formatDay } from '../format';
import { Link } from '../router';

const STATUS_LABEL: Record<string, string> = { draft: 'Draft', open: 'Open', paid: 'Paid', uncollectible: 'Uncollectible', void: 'Void' };

export function InvoiceStatus({ invoice }: { invoice: Invoice }) {
  if (invoice.pastDue) return <span className="badge bad">Past due</span>;
  const tone = invoice.status === 'paid' ? 'ok' : invoice.status === 'open' ? 'warn' : invoice.status === 'uncollectible' ? 'bad' : '';
  return <span className={`badge ${tone}`}>{STATUS_LABEL[invoice.status ?? ''] ?? invoice.status ?? '—'}</span>;
}

/** @param load one page after `cursor` (undefined: the first). */
export function InvoicesTable({ load, deps, showSubAccount = false, onTotals }: {
  load: (cursor?: string) => Promise<InvoiceList>;
  deps: unknown[];
  showSubAccount?: boolean;
  onTotals?: (totals: InvoiceList['totals']) => void;
}) {
  const [state, setState] = useState<{ invoices: Invoice[]; cursor: string | null; loading: boolean; error?: unknown }>({ invoices: [], cursor: null, loading: true });
  const fetchPage = async (cursor?: string) => {
    setState((s) => ({ ...s, loading: true, error: undefined, ...(cursor ? {} : { invoices: [] }) }));
    try {
      const page = await load(cursor);
      setState((s) => ({ invoices: cursor ? [...s.invoices, ...page.invoices] : page.invoices, cursor: page.nextCursor, loading: false }));
      if (!cursor) onTotals?.(page.totals);
    } catch (error) {
      setState((s) => ({ ...s, loading: false, error }));
    }
  };
  useEffect(() => void fetchPage(), deps);
  return (
    <>
      {state.error ? <ErrorNotice error={state.error} onRetry={() => fetchPage()} /> : null}
      {!state.loading && !state.error && state.invoices.length === 0 ? <Empty>No invoices.</Empty> : null}
      {state.invoices.length > 0 ? (
        <div className="table-wrap">
          <table data-testid="invoices">
            <caption className="visually-hidden">Invoices</caption>
            <thead>
              <tr>
                <th scope="col">Invoice</th>
                {showSubAccount ? <th scope="col">Sub-account</th> : null}
                <th scope="col">Period</th>
                <th scope="col">Status</th>
                <th scope="col" className="num">Total</th>
                <th scope="col" className="num">Paid</th>
                <th scope="col" className="num">Due</th>
                <th scope="col">Links</th>
              </tr>
            </thead>
            <tbody>
              {state.invoices.map((i) => (
                <tr key={i.id} data-invoice={i.id}>
                  <th scope="row">{i.number ?? i.id}</th>
                  {showSubAccount ? (
                    <td>{i.locationId ? <Link to={`/sub-accounts/${encodeURIComponent(i.locationId)}`}>{i.subAccountName ?? i.locationId}</Link> : '—'}</td>
                  ) : null}
                  <td>
                    {formatDay(i.periodStart)} – {formatDay(i.periodEnd)}
                  </td>
                  <td>
                    <InvoiceStatus invoice={i} />
                  </td>
                  <td className="num">{formatCents(i.totalCents, i.currency)}</td>
                  <td className="num">{formatCents(i.amountPaidCents, i.currency)}</td>
                  <td className="num">{formatCents(i.amountDueCents, i.currency)}</td>
                  <td>
                    {i.hostedInvoiceUrl ? (
                      <a href={i.hostedInvoiceUrl} target="_blank" rel="noreferrer">
                        View
                      </a>
                    ) : null}
                    {i.invoicePdf ? (
                      <>
                        {' · '}
                        <a href={i.invoicePdf} target="_blank" rel="noreferrer">
                          PDF
                        </a>
                      </>
                    ) : null}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      {state.loading ? <Loading label="Reading invoices from Stripe…" /> : null}
      {state.cursor && !state.loading ? (
        <button type="button" className="button secondary" onClick={() => fetchPage(state.cursor!)}>
          More invoices
        </button>
      ) : null}
    </>
  );
}
