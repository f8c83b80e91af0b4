/**
 * The agency's invoices across its sub-accounts, read from Stripe: filtered by status (open, paid, past due,
 * uncollectible) with the totals of what is shown, in cents; and the agency's payment options: the card option and
 * the suspension policy for non-payment.
 */
import { useState } from 'react';
import type { InvoiceList, InvoiceStatusFilter } from '../api-types-payments';
import { Editing } from '../components/permissions';
import { ErrorNotice, Notice } from '../components/States';
import { useResource } from '../components/useResource';
import { formatCents } from '../format';
import { paymentsApi } from '../payments-api';
import { InvoicesTable } from './InvoicesTable';
import { SuspensionOption } from './SuspensionOption';

const FILTERS: Array<{ value: InvoiceStatusFilter | ''; label: string }> = [
  { value: '', label: 'All' },
  { value: 'open', label: 'Open' },
  { value: 'past_due', label: 'Past due' },
  { value: 'paid', label: 'Paid' },
  { value: 'uncollectible', label: 'Uncollectible' },
];

export function InvoicesPage() {
  const [status, setStatus] = useState<InvoiceStatusFilter | ''>('');
  const [totals, setTotals] = useState<InvoiceList['totals']>([]);
  return (
    <>
      <h1>Invoices</h1>
      <CardOption />
      <SuspensionOption />
      <section className="card" aria-labelledby="invoices-title">
        <h2 id="invoices-title">Invoices of your sub-accounts</h2>
        <div className="inline" role="group" aria-label="Status">
          {FILTERS.map((f) => (
            <button key={f.value} type="button" className={`button small ${status === f.value ? '' : 'secondary'}`} aria-pressed={status === f.value} onClick={() => setStatus(f.value)}>
              {f.label}
            </button>
          ))}
        </div>
        <p className="muted small">
          Past due: open and past its due date, or charged automatically and failed at least once. Read from Stripe (at most 30 seconds old).
        </p>
        {totals.length > 0 ? (
          <p data-testid="invoice-totals">
            {totals.map((t) => (
              <span key={t.currency} className="block">
                {t.count} invoice{t.count === 1 ? '' : 's'} shown: total <strong>{formatCents(t.totalCents, t.currency)}</strong>, paid {formatCents(t.amountPaidCents, t.currency)}, due{' '}
                <strong>{formatCents(t.amountDueCents, t.currency)}</strong>
              </span>
            ))}
          </p>
        ) : null}
        <InvoicesTable load={(cursor) => paymentsApi.agencyInvoices({ status: status || undefined, startingAfter: cursor })} deps={[status]} showSubAccount onTotals={setTotals} />
      </section>
    </>
  );
}

function CardOption() {
  const settings = useResource(() => paymentsApi.settings(), []);
  const [state, setState] = useState<{ error?: unknown; message?: string }>({});
  if (!settings.data) return settings.error ? <ErrorNotice error={settings.error} onRetry={settings.reload} /> : null;
  const change = async (value: boolean) => {
    try {
      settings.set(await paymentsApi.setSettings({ requireCardBeforeSubscription: value }));
      setState({ message: value ? 'A card is now required before a subscription starts.' : 'Subscriptions start without a card.' });
    } catch (error) {
      setState({ error });
    }
  };
  return (
    <section className="card" aria-labelledby="card-option-title">
      <h2 id="card-option-title">Cards</h2>
      <Editing>
        <label className="checkbox">
          <input type="checkbox" checked={settings.data.requireCardBeforeSubscription} onChange={(e) => change(e.target.checked)} />
          Require a card on file before a subscription starts
        </label>
      </Editing>
      <p className="muted small">
        Until the client adds a card (from their page in HighLevel, or a link you send), saving their subscription is refused; it starts by itself once the card is saved.
      </p>
      {state.error ? <ErrorNotice error={state.error} /> : null}
      {state.message ? <Notice>{state.message}</Notice> : null}
    </section>
  );
}
