/**
 * Shadow mode of one sub-account, for the agency: the billing-mode switch (live / shadow) and, when shadow mode
 * kept crossings from Stripe, what they would bill per metric and month, with "Bill this backlog".
 */
import { type ReactNode, useState } from 'react';
import { api, type BilledBacklog, type BillingMode, type SubAccountDetail, type WouldBill } from '../api';
import { ErrorNotice, Loading, Notice } from '../components/States';
import { useResource } from '../components/useResource';
import { formatCents, formatInstant, formatNumber, metricLabel } from '../format';
import { StripeLink } from '../components/StripeLink';

/**
 * The client's Stripe customer in words, as the Billing card names it: its name in Stripe when the page has it, else
 * "the client’s Stripe customer", linked to the Stripe Dashboard; the `cus_` id only on hover.
 */
function CustomerName({ id, name }: { id: string; name: string | null }) {
  return (
    <StripeLink kind="customer" id={id}>
      {name ?? 'the client’s Stripe customer'}
    </StripeLink>
  );
}

/**
 * The shadow-mode card of the sub-account page; `onBilled` after the backlog was queued for Stripe (the usage and the
 * report log change). `customerName`: the Stripe customer's name, as the Billing card shows it (null when unknown).
 */
export function ShadowMode({
  detail,
  customerName,
  onSaved,
  onBilled,
}: {
  detail: SubAccountDetail;
  customerName: string | null;
  onSaved: (d: SubAccountDetail) => void;
  onBilled?: () => void;
}) {
  const wouldBill = useResource(() => api.wouldBill(detail.locationId), [detail.locationId, detail.billingMode]);
  const backlog = wouldBill.data && wouldBill.data.metrics.length > 0 ? wouldBill.data : null;
  const [billed, setBilled] = useState<ReactNode>(null);
  return (
    <section className="card" aria-labelledby="shadow-title">
      <h2 id="shadow-title">
        Billing mode <ModeBadge mode={detail.billingMode} />
      </h2>
      <ModeSwitch detail={detail} onSaved={onSaved} onStart={() => setBilled(null)} />
      {wouldBill.error ? <ErrorNotice error={wouldBill.error} onRetry={wouldBill.reload} /> : null}
      {wouldBill.loading && !wouldBill.data ? <Loading /> : null}
      {wouldBill.data && !backlog ? <p className="muted">No shadow backlog: nothing is waiting to be billed.</p> : null}
      {billed ? <Notice>{billed}</Notice> : null}
      {backlog ? (
        <>
          <WouldBillTable wouldBill={backlog} />
          <BillBacklog
            detail={detail}
            customerName={customerName}
            wouldBill={backlog}
            onStart={() => setBilled(null)}
            onBilled={(result) => {
              setBilled(
                <>
                  {formatNumber(result.reports)} report{result.reports === 1 ? '' : 's'} queued for Stripe, to bill <CustomerName id={result.stripeCustomerId} name={customerName} />.
                </>,
              );
              wouldBill.reload();
              onBilled?.();
            }}
          />
        </>
      ) : null}
    </section>
  );
}

function ModeBadge({ mode }: { mode: BillingMode }) {
  return (
    <span className={`badge ${mode === 'shadow' ? 'warn' : 'ok'}`} data-testid="billing-mode">
      {mode === 'shadow' ? 'Shadow' : 'Live'}
    </span>
  );
}

function ModeSwitch({ detail, onSaved, onStart }: { detail: SubAccountDetail; onSaved: (d: SubAccountDetail) => void; onStart: () => void }) {
  const [state, setState] = useState<{ busy?: boolean; error?: unknown; message?: string }>({});
  const change = async (mode: BillingMode) => {
    onStart();
    setState({ busy: true });
    try {
      onSaved(await api.setBillingMode(detail.locationId, mode));
      setState({ message: mode === 'shadow' ? 'Shadow mode on: usage is counted, nothing is sent to Stripe.' : 'Live billing on: new crossings are sent to Stripe.' });
    } catch (error) {
      setState({ error });
    }
  };
  return (
    <>
      <label className="checkbox">
        <input type="checkbox" role="switch" checked={detail.billingMode === 'shadow'} disabled={state.busy} onChange={(e) => change(e.target.checked ? 'shadow' : 'live')} />
        Shadow mode: compute what would be billed, send nothing to Stripe
      </label>
      <p className="muted small">
        {detail.billingMode === 'shadow'
          ? 'Crossings are kept here as “would bill” until you bill them. Switching back to live bills crossings from then on.'
          : 'Crossings are sent to Stripe as they happen.'}
        {detail.billingModeChangedAt ? ` Mode set ${formatInstant(detail.billingModeChangedAt)}.` : ''}
      </p>
      {state.error ? <ErrorNotice error={state.error} /> : null}
      {state.message ? <Notice>{state.message}</Notice> : null}
    </>
  );
}

const monthLabel = (month: string) => new Date(`${month}-01T00:00:00Z`).toLocaleDateString('en-US', { month: 'short', year: 'numeric', timeZone: 'UTC' });

/** A line's name: the metric's label, with the direction for a metric priced per direction ("Call minutes, inbound"). */
function lineLabel(m: WouldBill['metrics'][number]): string {
  return m.direction ? `${metricLabel(m.metric)}, ${m.direction}` : metricLabel(m.metric);
}

/** Units and amounts per metric (per direction for a metric priced per direction), with the window of crossings and the months they fell in. */
export function WouldBillTable({ wouldBill }: { wouldBill: WouldBill }) {
  return (
    <>
      <h3>Would bill</h3>
      <div className="table-wrap">
        <table className="would-bill">
          <caption className="visually-hidden">What the shadow backlog would bill, per metric</caption>
          <thead>
            <tr>
              <th scope="col">Metric</th>
              <th scope="col" className="num">Units</th>
              <th scope="col" className="num">Amount</th>
              <th scope="col">Crossings</th>
              <th scope="col">By month</th>
            </tr>
          </thead>
          <tbody>
            {wouldBill.metrics.map((m) => (
              <tr key={m.meterEventName} data-metric={m.metric} data-direction={m.direction ?? undefined}>
                <th scope="row">{lineLabel(m)}</th>
                <td className="num">{formatNumber(m.units)}</td>
                <td className="num">{m.priced ? formatCents(m.amountCents, m.currency ?? wouldBill.currency) : <span className="badge warn">Not priced</span>}</td>
                <td className="small">
                  {formatInstant(m.firstCrossedAt)}
                  {formatInstant(m.lastCrossedAt) !== formatInstant(m.firstCrossedAt) ? <span className="block">to {formatInstant(m.lastCrossedAt)}</span> : null}
                </td>
                <td className="small">
                  <ul className="inline-list">
                    {m.months.map((month) => (
                      <li key={month.month}>
                        {monthLabel(month.month)}: {formatNumber(month.units)}
                        {month.amountCents !== null ? ` · ${formatCents(month.amountCents, m.currency ?? wouldBill.currency)}` : ''}
                      </li>
                    ))}
                  </ul>
                </td>
              </tr>
            ))}
          </tbody>
          <tfoot>
            <tr>
              <th scope="row" colSpan={2}>
                Total
              </th>
              <td className="num" data-testid="would-bill-total">
                <strong>{formatCents(wouldBill.totalCents, wouldBill.currency)}</strong>
              </td>
              <td colSpan={2} />
            </tr>
          </tfoot>
        </table>
      </div>
      <p className="muted small">An estimate at today’s prices; graduated prices restart each UTC month. Metrics without a price are not in the total.</p>
      {wouldBill.wallet ? (
        <p data-testid="would-bill-wallet">
          On its prepaid wallet (started empty), this backlog would have drawn <strong>{formatCents(wouldBill.wallet.drawnCents, wouldBill.currency)}</strong>, with{' '}
          {wouldBill.wallet.topUps} top-up{wouldBill.wallet.topUps === 1 ? '' : 's'} of the card totalling {formatCents(wouldBill.wallet.topUpCents, wouldBill.currency)} and a
          balance of {formatCents(wouldBill.wallet.endBalanceCents, wouldBill.currency)} left.
        </p>
      ) : null}
    </>
  );
}

/** "Bill this backlog", after a confirmation; only once a Stripe customer is mapped (there is no one to bill before). */
function BillBacklog({
  detail,
  customerName,
  wouldBill,
  onBilled,
  onStart,
}: {
  detail: SubAccountDetail;
  customerName: string | null;
  wouldBill: WouldBill;
  onBilled: (result: BilledBacklog) => void;
  onStart: () => void;
}) {
  const [confirming, setConfirming] = useState(false);
  const [state, setState] = useState<{ busy?: boolean; error?: unknown }>({});
  const lines = wouldBill.metrics.map((m) => `${formatNumber(m.units)} unit${m.units === 1 ? '' : 's'} of ${lineLabel(m)}`).join(', ');
  const bill = async () => {
    onStart();
    setState({ busy: true });
    try {
      const result = await api.billBacklog(detail.locationId);
      setConfirming(false);
      setState({});
      onBilled(result);
    } catch (error) {
      setConfirming(false);
      setState({ error });
    }
  };
  return (
    <div className="actions">
      {confirming ? (
        <span className="confirm" role="group" aria-label="Confirm billing the backlog">
          <span>
            Send {formatCents(wouldBill.totalCents, wouldBill.currency)} ({lines}) to Stripe
            {detail.stripeCustomerId ? (
              <>
                {' '}
                for <CustomerName id={detail.stripeCustomerId} name={customerName} />
              </>
            ) : null}
            ?
          </span>
          {/* Dated when billed (server: meter_reports.billable_from), so Stripe puts it on the open period's invoice. */}
          <span className="muted small" data-testid="backlog-invoice-note">
            It goes on the client’s next invoice.
          </span>
          <button type="button" className="button" disabled={state.busy} onClick={bill}>
            Yes, bill it
          </button>
          <button type="button" className="button secondary" onClick={() => setConfirming(false)}>
            Not now
          </button>
        </span>
      ) : (
        <>
          <button type="button" className="button" disabled={!detail.stripeCustomerId} aria-describedby={detail.stripeCustomerId ? undefined : 'backlog-needs-customer'} onClick={() => (setConfirming(true), setState({}))}>
            Bill this backlog
          </button>
          {!detail.stripeCustomerId ? (
            <span id="backlog-needs-customer" className="muted small">
              Choose or create a Stripe customer in the Billing card first: there is no one to bill yet.
            </span>
          ) : null}
        </>
      )}
      {state.error ? <ErrorNotice error={state.error} /> : null}
    </div>
  );
}
