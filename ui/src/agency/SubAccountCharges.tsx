/**
 * A sub-account's one-time charges: charge a one-time product now (the invoice is paid with the card on file) or
 * send it as an invoice Stripe emails, due in N days (needs the client's billing email in Stripe); the list shows
 * each charge's invoice status (updated from Stripe's invoice events), its invoice link, and a retry when Stripe
 * refused or the card was declined.
 */
import { useState, type FormEvent } from 'react';
import { catalogApi, type OneTimeCharge } from '../api-catalog';
import { Empty, ErrorNotice, Loading, Notice } from '../components/States';
import { Editing, Writes } from '../components/permissions';
import { useResource } from '../components/useResource';
import { formatCents, formatDay } from '../format';

const STATUS_TEXT: Record<OneTimeCharge['status'], string> = {
  pending: 'Being made',
  open: 'Invoice sent',
  paid: 'Paid',
  payment_failed: 'Card declined',
  void: 'Voided',
  uncollectible: 'Uncollectible',
  failed: 'Stripe refused',
};

const TONE: Record<OneTimeCharge['status'], 'ok' | 'warn' | 'bad'> = {
  pending: 'warn',
  open: 'warn',
  paid: 'ok',
  payment_failed: 'bad',
  void: 'warn',
  uncollectible: 'bad',
  failed: 'bad',
};

/** `onCharged`: after a charge or an invoice was made, paid or not (the invoices list changes with it). */
export function SubAccountCharges({ locationId, hasCustomer, onCharged }: { locationId: string; hasCustomer: boolean; onCharged?: () => void }) {
  const charges = useResource(() => catalogApi.charges(locationId), [locationId]);
  const products = useResource(() => catalogApi.oneTimeProducts(), []);
  const [productId, setProductId] = useState('');
  const [mode, setMode] = useState<'charge_now' | 'send_invoice'>('charge_now');
  const [days, setDays] = useState('30');
  const [state, setState] = useState<{ busy?: boolean; error?: unknown; message?: string }>({});
  const act = async (work: () => Promise<OneTimeCharge>) => {
    setState({ busy: true });
    try {
      const charge = await work();
      setState({ message: charge.status === 'paid' ? `Charged ${formatCents(charge.amount, charge.currency)}: paid.` : charge.status === 'open' ? 'Invoice sent by Stripe.' : (charge.error ?? STATUS_TEXT[charge.status]) });
    } catch (error) {
      setState({ error });
    }
    charges.reload();
    onCharged?.();
  };
  const submit = (event: FormEvent) => {
    event.preventDefault();
    void act(() =>
      catalogApi.charge(locationId, mode === 'charge_now' ? { mode, productId: Number(productId) } : { mode, productId: Number(productId), daysUntilDue: Number(days) }),
    );
  };
  const active = (products.data?.products ?? []).filter((p) => !p.archived);
  return (
    <section className="card" aria-labelledby="charges-title">
      <h2 id="charges-title">One-time charges</h2>
      {!hasCustomer ? <p className="muted">Map a Stripe customer first.</p> : null}
      {hasCustomer ? (
        <Editing>
          <form onSubmit={submit} className="stack" aria-label="New one-time charge">
            <div className="row">
              <label htmlFor="charge-product">Product</label>
              <select id="charge-product" value={productId} required onChange={(e) => setProductId(e.target.value)}>
                <option value="">Choose a product…</option>
                {active.map((p) => (
                  <option key={p.id} value={p.id}>
                    {p.name} — {formatCents(p.amount, p.currency)}
                  </option>
                ))}
              </select>
            </div>
            <div className="row">
              <label className="checkbox">
                <input type="radio" name="charge-mode" checked={mode === 'charge_now'} onChange={() => setMode('charge_now')} /> Charge now (card on file)
              </label>
              <label className="checkbox">
                <input type="radio" name="charge-mode" checked={mode === 'send_invoice'} onChange={() => setMode('send_invoice')} /> Send invoice (needs the client’s email)
              </label>
              {mode === 'send_invoice' ? (
                <>
                  <label htmlFor="charge-days">Due in (days)</label>
                  <input id="charge-days" className="short" type="number" min={0} max={365} value={days} onChange={(e) => setDays(e.target.value)} />
                </>
              ) : null}
            </div>
            <Writes>
              <button type="submit" className="button" disabled={state.busy || !productId}>
                {mode === 'charge_now' ? 'Charge now' : 'Send invoice'}
              </button>
            </Writes>
          </form>
        </Editing>
      ) : null}
      {state.error ? <ErrorNotice error={state.error} /> : null}
      {state.message ? <Notice>{state.message}</Notice> : null}
      {charges.error ? <ErrorNotice error={charges.error} onRetry={charges.reload} /> : null}
      {charges.loading && !charges.data ? <Loading /> : null}
      {charges.data && charges.data.charges.length === 0 ? <Empty>No one-time charge yet.</Empty> : null}
      {charges.data && charges.data.charges.length > 0 ? (
        <div className="table-wrap">
          <table aria-label="One-time charges">
            <thead>
              <tr>
                <th>When</th>
                <th>Product</th>
                <th className="num">Amount</th>
                <th>Status</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {charges.data.charges.map((c) => (
                <tr key={c.id} data-charge={c.id}>
                  <td>{formatDay(c.createdAt)}</td>
                  <td>
                    {c.productName} <span className="muted small">{c.mode === 'charge_now' ? 'card' : `invoice${c.dueDate ? `, due ${c.dueDate.slice(0, 10)}` : ''}`}</span>
                  </td>
                  <td className="num">{formatCents(c.amount, c.currency)}</td>
                  <td>
                    <span className={`badge ${TONE[c.status]}`}>{STATUS_TEXT[c.status]}</span>
                    {c.error ? <div className="muted small">{c.error}</div> : null}
                  </td>
                  <td>
                    {c.hostedInvoiceUrl ? (
                      <a href={c.hostedInvoiceUrl} target="_blank" rel="noreferrer">
                        Invoice
                      </a>
                    ) : null}{' '}
                    {c.status === 'failed' || c.status === 'payment_failed' ? (
                      <Writes>
                        <button type="button" className="button secondary small" disabled={state.busy} onClick={() => act(() => catalogApi.retryCharge(locationId, c.id))}>
                          Retry
                        </button>
                      </Writes>
                    ) : null}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
    </section>
  );
}
