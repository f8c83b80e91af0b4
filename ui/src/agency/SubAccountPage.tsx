/**
 * One sub-account, for the agency. It opens on a summary (SubAccountSummary: state, card, subscription, this period,
 * next invoice, next step), then, in order of use: rebilling on/off (off ends the subscription at the period's end,
 * after a confirmation) and its Stripe customer (search and map after a confirmation, or create), its subscription,
 * its card and invoices (SubAccountPayments), its plan and discount; then, folded (Fold): its usage over time (open when
 * reports failed), one-time charges, shadow mode and per-metric overrides, backfills of its HighLevel history, the
 * meter-report log with retry (open when reports failed), reconciliation. Every panel is read again after every action
 * on the page. (Sub-account users never reach this page: they get
 * location/SubAccountView.)
 */
import { useState, type FormEvent } from 'react';
import { api, type SubAccountDetail } from '../api';
import { ConfirmedAction } from '../components/ConfirmedAction';
import { ErrorNotice, Loading, Notice } from '../components/States';
import { useResource } from '../components/useResource';
import { Link } from '../router';
import { UsagePanel } from '../usage/UsagePanel';
import { Backfills } from './Backfills';
import { Reconciliation } from './Reconciliation';
import { Overrides } from './Overrides';
import { ReportLog } from './ReportLog';
import { ShadowMode } from './ShadowMode';
import { StatusBadges } from './status';
import { Editing, Writes } from '../components/permissions';
import { Subscription } from './SubscriptionCard';
import { SubAccountPayments } from './SubAccountPayments';
import { SubAccountDiscount } from './SubAccountDiscount';
import { SubAccountCharges } from './SubAccountCharges';
import { SubAccountPlan } from './SubAccountPlan';
import { SubAccountSummary } from './SubAccountSummary';
import { Fold } from '../components/Fold';
import { paymentsApi } from '../payments-api';
import { SuspensionCard } from './SuspensionCard';
import { NicknameEditor } from './NicknameEditor';
import { StripeLink } from '../components/StripeLink';

export function SubAccountPage({ locationId }: { locationId: string }) {
  const detail = useResource(() => api.subAccount(locationId), [locationId]);
  // Bumped after every action on this page (billing, subscription, tax, plan, coupon, one-time charge, overrides,
  // shadow backlog, retry, backfill): every panel reads its figures again, so no card keeps a number the action made
  // stale (the summary's next invoice after a coupon, the report log after billing the backlog).
  const [version, setVersion] = useState(0);
  const refresh = () => {
    setVersion((v) => v + 1);
    detail.reload();
  };
  /** An action answered with the sub-account's new state: shown at once, and every other panel reads again. */
  const saved = (next: SubAccountDetail) => {
    detail.set(next);
    setVersion((v) => v + 1);
  };
  const d = detail.data;
  // The panels that read Stripe follow the billing state as loaded, and every action (`version`).
  const stamp = d ? `${d.stripeCustomerId}-${d.stripeSubscriptionId}-${d.rebillingEnabled}-${d.billingMode}-${d.billingState}-${version}` : '';
  const payments = useResource(() => (d ? paymentsApi.subAccountPayments(locationId).catch(() => null) : Promise.resolve(null)), [locationId, stamp]);
  const charges = useResource(() => (d ? api.subAccountCharges(locationId).catch(() => null) : Promise.resolve(null)), [locationId, stamp]);
  const next = useResource(() => (d ? paymentsApi.nextInvoice(locationId).catch(() => null) : Promise.resolve(null)), [locationId, stamp]);
  return (
    <>
      <p className="breadcrumb">
        <Link to="/sub-accounts">← Sub-accounts</Link>
      </p>
      {detail.loading && !d ? <Loading /> : null}
      {detail.error ? <ErrorNotice error={detail.error} onRetry={detail.reload} /> : null}
      {d ? (
        <>
          <h1>
            {d.name ?? d.locationId} {d.nickname ? <span className="muted">({d.nickname})</span> : null} <StatusBadges sub={d} />
          </h1>
          <p className="muted">
            {d.locationId}
            {d.email ? ` · ${d.email}` : ''}
            {d.billingStatusReason ? ` · ${d.billingStatusReason}` : ''}
          </p>
          <NicknameEditor key={d.nickname ?? ''} detail={d} onSaved={detail.set} />
          <SubAccountSummary detail={d} payments={payments.data ?? null} charges={charges.data ?? null} next={next.data ?? null} />
          {d.paymentProblem?.hostedInvoiceUrl ? (
            <p className="notice notice-error" role="status" id="payment-problem">
              {d.billingStatus === 'action_required' ? 'The client must confirm this payment: ' : 'Unpaid invoice: '}
              <a href={d.paymentProblem.hostedInvoiceUrl} target="_blank" rel="noreferrer">
                invoice {d.paymentProblem.invoiceNumber ?? d.paymentProblem.invoiceId}
              </a>{' '}
              (send this link to the client).
            </p>
          ) : null}
          <SuspensionCard locationId={locationId} invoiceLinkShown={d.paymentProblem?.hostedInvoiceUrl} onResumed={refresh} />
          <div className="grid two">
            <Billing detail={d} customerName={payments.data?.card.customerName ?? null} onSaved={saved} />
            <Subscription detail={d} onSaved={saved} />
          </div>
          <SubAccountPayments key={stamp} locationId={locationId} hasCustomer={Boolean(d.stripeCustomerId)} />
          <div className="grid two">
            <SubAccountPlan locationId={locationId} onChanged={refresh} />
            <SubAccountDiscount locationId={locationId} subscriptionId={d.stripeSubscriptionId} onChanged={refresh} />
          </div>
          <h2 className="section-title">More</h2>
          <Fold id="usage" title="Usage over time" hint="units per metric, charts, CSV" open={d.failedReports + d.rejectedReports > 0}>
            <UsagePanel title="Usage" load={(range) => api.subAccountUsage(locationId, range)} exportFor={locationId} refreshKey={version} />
          </Fold>
          <Fold id="one-time-charges" title="One-time charges" hint="a set-up fee or an extra, charged or invoiced now">
            <SubAccountCharges locationId={locationId} hasCustomer={Boolean(d.stripeCustomerId)} onCharged={refresh} />
          </Fold>
          <Editing>
            <Fold id="shadow" title="Shadow mode and per-metric rules" hint="test pricing without billing; override the defaults" open={d.billingMode === 'shadow'}>
              <ShadowMode detail={d} customerName={payments.data?.card.customerName ?? null} onSaved={saved} onBilled={refresh} />
              <Overrides detail={d} onChanged={refresh} onSaved={saved} />
            </Fold>
            <Fold id="backfill" title="Backfill from HighLevel" hint="count usage from before the install">
              <Backfills locationId={locationId} onChanged={refresh} />
            </Fold>
          </Editing>
          <Fold id="report-log" title="Meter reports" hint="every batch sent to Stripe, retry" open={d.failedReports + d.rejectedReports > 0}>
            <ReportLog locationId={locationId} onRetried={refresh} refreshKey={version} />
          </Fold>
          <Fold id="reconciliation" title="Reconciliation with Stripe" hint="Stripe’s totals against ours">
            <Reconciliation locationId={locationId} />
          </Fold>
        </>
      ) : null}
    </>
  );
}

/**
 * The rebilling switch and the Stripe customer (by name, linked to the Stripe Dashboard, its id on hover), which the
 * agency can map, change or create.
 */
function Billing({ detail, customerName, onSaved }: { detail: SubAccountDetail; customerName: string | null; onSaved: (d: SubAccountDetail) => void }) {
  const [state, setState] = useState<{ busy?: boolean; error?: unknown; message?: string }>({});
  const [confirmOff, setConfirmOff] = useState(false);
  const run = async (message: string, action: () => Promise<SubAccountDetail>) => {
    setState({ busy: true });
    try {
      onSaved(await action());
      setState({ message });
    } catch (error) {
      setState({ error });
    }
  };
  return (
    <section className="card" aria-labelledby="billing-title">
      <h2 id="billing-title">Billing</h2>
      <Editing>
      <label className="checkbox">
        <input
          type="checkbox"
          checked={detail.rebillingEnabled}
          disabled={state.busy || confirmOff}
          onChange={(e) => {
            if (!e.target.checked && detail.stripeSubscriptionId) return setConfirmOff(true);
            run(e.target.checked ? 'Rebilling switched on.' : 'Rebilling switched off.', () => api.setBilling(detail.locationId, { rebillingEnabled: e.target.checked }));
          }}
        />
        Rebill this sub-account’s usage
      </label>
      <p className="muted small">Off: new usage is not billed and the subscription ends with this period (still invoiced). On again before then keeps it.</p>
      {confirmOff ? (
        <span className="confirm" role="group" aria-label="Confirm switching rebilling off">
          <span>End the subscription at the end of this period?</span>
          <button
            type="button"
            className="button danger small"
            onClick={() => {
              setConfirmOff(false);
              run('Rebilling switched off: the subscription ends at the end of the period.', () => api.setBilling(detail.locationId, { rebillingEnabled: false }));
            }}
          >
            Switch off and end it
          </button>
          <button type="button" className="button secondary small" onClick={() => setConfirmOff(false)}>
            Keep billing
          </button>
        </span>
      ) : null}
      </Editing>
      <h3>Stripe customer</h3>
      {detail.stripeCustomerId ? (
        <p>
          Billed to{' '}
          <strong>
            <StripeLink kind="customer" id={detail.stripeCustomerId} testId="customer-link">
              {customerName ?? undefined}
            </StripeLink>
          </strong>
        </p>
      ) : (
        <p className="muted">Not mapped: usage is counted but not billed.</p>
      )}
      <Writes>
      <CustomerSearch current={detail.stripeCustomerId} currentName={customerName} onChoose={(customerId) => run('Customer mapped.', () => api.mapCustomer(detail.locationId, { customerId }))} />
      {!detail.stripeCustomerId ? (
        <button type="button" className="button secondary wrap" disabled={state.busy} onClick={() => run('Customer created in Stripe and mapped.', () => api.mapCustomer(detail.locationId, { create: true }))}>
          Create a Stripe customer from HighLevel’s details
        </button>
      ) : null}
      </Writes>
      {state.error ? <ErrorNotice error={state.error} /> : null}
      {state.message ? <Notice>{state.message}</Notice> : null}
    </section>
  );
}

/**
 * Search the agency's Stripe customers (each by name and email, linked to the Stripe Dashboard); choosing one bills this
 * sub-account to it, after a confirmation. `currentName`: the mapped customer's name, when the page has it.
 */
function CustomerSearch({ onChoose, current, currentName }: { onChoose: (id: string) => Promise<void>; current: string | null; currentName: string | null }) {
  const [q, setQ] = useState('');
  const [state, setState] = useState<{ loading?: boolean; error?: unknown; results?: Array<{ id: string; name: string | null; email: string | null }> }>({});
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setState({ loading: true });
    try {
      setState({ results: (await api.searchCustomers(q.trim())).customers });
    } catch (error) {
      setState({ error });
    }
  };
  return (
    <form onSubmit={submit} className="stack">
      <label htmlFor="customer-search">Find an existing Stripe customer</label>
      <div className="inline">
        <input id="customer-search" type="search" value={q} onChange={(e) => setQ(e.target.value)} placeholder="Email, name or cus_… id" />
        <button type="submit" className="button secondary" disabled={q.trim().length === 0}>
          Search Stripe
        </button>
      </div>
      {state.loading ? <Loading label="Searching Stripe…" /> : null}
      {state.error ? <ErrorNotice error={state.error} /> : null}
      {state.results?.length === 0 ? <p className="muted">No customer matches.</p> : null}
      {state.results && state.results.length > 0 ? (
        <ul className="choices">
          {state.results.map((c) => (
            <li key={c.id}>
              <span>
                {c.name ?? 'Unnamed'} {c.email ? <span className="muted">{c.email}</span> : null}{' '}
                <StripeLink kind="customer" id={c.id}>
                  Open in Stripe
                </StripeLink>
              </span>
              {c.id === current ? (
                <span className="badge ok">Billed to this customer</span>
              ) : (
                <ConfirmedAction
                  label="Use this customer"
                  ariaLabel={`Use ${c.name ?? c.id} (${c.id})`}
                  question={current ? `Bill this sub-account to ${c.name ?? 'this Stripe customer'} instead of ${currentName ?? 'the current Stripe customer'} from now on?` : `Bill this sub-account to ${c.name ?? 'this Stripe customer'} from now on?`}
                  confirmLabel="Yes, bill this customer"
                  groupLabel={`Confirm billing ${c.name ?? c.id}`}
                  run={() => onChoose(c.id)}
                />
              )}
            </li>
          ))}
        </ul>
      ) : null}
    </form>
  );
}
