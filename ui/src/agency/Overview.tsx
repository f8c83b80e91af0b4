/**
 * The agency's start page, the owner's cockpit: money this month (billed, HighLevel cost, profit, next invoices) with
 * the trend against last month, what needs attention, money by month (chart, table, CSV), then the onboarding
 * checklist (one line once every step is done), the Stripe connection and the headline numbers.
 */
import { api, type Overview as OverviewData } from '../api';
import { moneyApi } from '../money-api';
import { MoneyByClient } from './MoneyByClient';
import { MoneyByMonth } from './MoneyByMonth';
import { MoneyTiles, NeedsAttention } from './MoneyCockpit';
import { ErrorNotice, Loading } from '../components/States';
import { useResource } from '../components/useResource';
import { formatInstant, formatNumber, metricLabel, today } from '../format';
import { Link } from '../router';
import { StripeCard } from './StripeCard';
import { driftExtent } from './Reconciliation';

interface Step {
  label: string;
  done: boolean;
  detail: string;
  to: string | null;
  action: string;
}

function steps(o: OverviewData): Step[] {
  return [
    { label: 'Installed in HighLevel', done: o.installed, detail: o.installed ? 'Meterbridge receives your sub-accounts’ activity.' : 'Install Meterbridge from the HighLevel marketplace.', to: null, action: '' },
    {
      label: 'Stripe connected',
      done: o.stripeConnected,
      detail: o.stripeConnected ? 'Your clients are invoiced from your own Stripe account.' : 'Paste a secret or restricted key of your own Stripe account.',
      to: '#stripe',
      action: 'Connect Stripe',
    },
    { label: 'Default prices set', done: o.pricedMetrics > 0, detail: `${o.pricedMetrics} metric${o.pricedMetrics === 1 ? '' : 's'} priced.`, to: '/pricing', action: 'Set prices' },
    { label: 'First sub-account mapped', done: o.mapped > 0, detail: `${o.mapped} of ${o.subAccounts} sub-accounts have a Stripe customer.`, to: '/sub-accounts', action: 'Map sub-accounts' },
    {
      label: 'First unit sent to Stripe',
      done: o.unitsSent > 0,
      // No total: units of different metrics (a call minute, an SMS) are never added together.
      detail: o.lastUnitSentAt ? `Usage reaches Stripe; last sent ${formatInstant(o.lastUnitSentAt)}.` : 'Units appear once usage crosses a threshold.',
      to: '/usage',
      action: 'See usage',
    },
  ];
}

export function Overview() {
  const overview = useResource(() => api.overview(), []);
  const money = useResource(() => moneyApi.months(6), []);
  const attention = useResource(() => moneyApi.attention(), []);
  const all = overview.data ? steps(overview.data) : null;
  const setUp = all !== null && all.every((s) => s.done);
  return (
    <>
      <h1>Usage billing</h1>
      {setUp ? <Checklist steps={all} collapsed /> : null}
      {!setUp ? (
        <div className="grid two">
          <section className="card" aria-labelledby="checklist-title">
            <h2 id="checklist-title">Getting started</h2>
            {overview.loading && !overview.data ? <Loading /> : null}
            {overview.error ? <ErrorNotice error={overview.error} onRetry={overview.reload} /> : null}
            {all ? <Checklist steps={all} /> : null}
          </section>
          <StripeCard onChange={overview.reload} />
        </div>
      ) : null}
      <MoneyTiles money={money} />
      <div className="grid two cockpit">
        <div className="column">
          <NeedsAttention attention={attention} />
          <MoneyByClient months={money.data?.months} />
        </div>
        <MoneyByMonth money={money} />
      </div>
      {overview.data && overview.data.reconciliation.pairs > 0 ? <DriftAlert o={overview.data} /> : null}
      {overview.data ? <Numbers o={overview.data} /> : null}
      <div className="grid two">
        <ThisMonth />
        {setUp ? <StripeCard onChange={overview.reload} /> : null}
      </div>
    </>
  );
}

/** The steps; once all are done (`collapsed`), one line that opens to them. */
function Checklist({ steps, collapsed = false }: { steps: Step[]; collapsed?: boolean }) {
  const done = steps.filter((s) => s.done).length;
  if (collapsed) {
    return (
      <details className="card setup-done" data-testid="setup-done">
        <summary>
          <span className="check-done" aria-hidden="true">
            ✓
          </span>{' '}
          Set-up complete: <span className="progress-label">{done} of {steps.length} done</span>
          <span className="muted small"> · show the steps</span>
        </summary>
        <ol className="checklist">
          {steps.map((step) => (
            <li key={step.label} className="done">
              <span className="check" aria-hidden="true">
                ✓
              </span>
              <div>
                <strong>{step.label}</strong>
                <p className="muted">{step.detail}</p>
              </div>
            </li>
          ))}
        </ol>
      </details>
    );
  }
  return (
    <>
      <p className="progress-label" id="checklist-progress">
        {done} of {steps.length} done
      </p>
      <progress max={steps.length} value={done} aria-labelledby="checklist-progress" />
      <ol className="checklist">
        {steps.map((step) => (
          <li key={step.label} className={step.done ? 'done' : 'todo'}>
            <span className="check" aria-hidden="true">
              {step.done ? '✓' : ''}
            </span>
            <div>
              <strong>{step.label}</strong>
              <span className="visually-hidden">{step.done ? ' (done)' : ' (to do)'}</span>
              <p className="muted">{step.detail}</p>
            </div>
            {step.to && !step.done ? (
              step.to.startsWith('#') ? (
                <a className="button small" href={step.to} onClick={() => window.setTimeout(() => document.getElementById('stripe-key')?.focus(), 0)}>
                  {step.action}
                </a>
              ) : (
                <Link className="button small" to={step.to}>
                  {step.action}
                </Link>
              )
            ) : null}
          </li>
        ))}
      </ol>
    </>
  );
}

/** Drift against Stripe's totals that reconciliation could not repair (server/reconciliation/). */
function DriftAlert({ o }: { o: OverviewData }) {
  return (
    <div className="state state-error" role="alert" data-testid="overview-drift-alert">
      <p>
        Stripe’s totals differ from what Meterbridge sent {o.reconciliation.pairs === 1 ? 'by' : 'on'} {driftExtent(o.reconciliation)}, and reconciliation could
        not repair it.
      </p>
      <Link className="button small" to="/reconciliation">
        Review reconciliation
      </Link>
    </div>
  );
}

function Numbers({ o }: { o: OverviewData }) {
  // Each number links to the list filtered to what it counts (server/settings/sub-account-queries.ts STATUS_FILTERS).
  const items = [
    { label: 'Sub-accounts', value: o.subAccounts, to: '/sub-accounts' },
    // The one billing state (server/billing-setup/billing-state.ts), counted as the list shows it.
    { label: 'Billing', value: o.billingStates.billing ?? 0, to: '/sub-accounts?status=billing' },
    // Sub-accounts, not reports: the number equals the rows the link shows.
    { label: 'Sub-accounts with failed reports', value: o.subAccountsWith.failedReports, to: '/sub-accounts?status=failed', warn: o.subAccountsWith.failedReports > 0 },
    { label: 'Sub-accounts with reports rejected by Stripe', value: o.subAccountsWith.rejectedReports, to: '/sub-accounts?status=rejected', warn: o.subAccountsWith.rejectedReports > 0 },
    { label: 'Sub-accounts with unconfirmed reports', value: o.subAccountsWith.unconfirmedReports, to: '/sub-accounts?status=unconfirmed', warn: o.subAccountsWith.unconfirmedReports > 0 },
    { label: 'Delinquent', value: o.delinquent, to: '/sub-accounts?status=delinquent', warn: o.delinquent > 0 },
    { label: 'Need reinstall', value: o.needsReinstall, to: '/sub-accounts?status=needs_reinstall', warn: o.needsReinstall > 0 },
  ];
  return (
    <section aria-label="Headline numbers" className="stats">
      {items.map((item) => (
        <Link key={item.label} to={item.to} className={`stat${item.warn ? ' warn' : ''}`}>
          <span className="stat-value">{formatNumber(item.value)}</span>
          <span className="stat-label">{item.label}</span>
        </Link>
      ))}
    </section>
  );
}

/** The agency's usage this month at a glance; the dashboard has the rest. */
function ThisMonth() {
  const to = today();
  const usage = useResource(() => api.usage({ from: `${to.slice(0, 7)}-01`, to }), [to]);
  return (
    <section className="card" aria-labelledby="month-title">
      <div className="card-head">
        <h2 id="month-title">This month</h2>
        <Link to="/usage">Usage dashboard</Link>
      </div>
      {usage.loading && !usage.data ? <Loading /> : null}
      {usage.error ? <ErrorNotice error={usage.error} onRetry={usage.reload} /> : null}
      {usage.data && usage.data.totals.length === 0 ? <p className="muted">No usage yet this month.</p> : null}
      {usage.data && usage.data.totals.length > 0 ? (
        <table className="month">
          <caption className="visually-hidden">Usage this month, all sub-accounts</caption>
          <thead>
            <tr>
              <th scope="col">Metric</th>
              <th scope="col" className="num">
                Used
              </th>
              <th scope="col" className="num">
                Units sent
              </th>
            </tr>
          </thead>
          <tbody>
            {usage.data.totals.map((t) => (
              <tr key={t.metric}>
                <th scope="row">{metricLabel(t.metric)}</th>
                <td className="num">{formatNumber(t.quantity)}</td>
                <td className="num">{formatNumber(t.unitsSent)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
    </section>
  );
}
