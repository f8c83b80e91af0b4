/**
 * Reconciliation with Stripe: the runs that compared what Meterbridge sent with Stripe's own meter totals (nightly,
 * or now on request), what each found per Stripe customer and meter, and what it repaired or left for the agency.
 * Shown for the whole agency (its own section) and for one sub-account (a card of the sub-account's page). A customer
 * shows as the sub-account billed to it, linked to the Stripe Dashboard (its id on hover).
 */
import { useState } from 'react';
import { api, type ReconciliationAction, type ReconciliationRun, type ReconciliationRunDetail } from '../api';
import { Writes } from '../components/permissions';
import { StripeLink } from '../components/StripeLink';
import { Empty, ErrorNotice, Loading, Notice } from '../components/States';
import { useResource } from '../components/useResource';
import { metricDriftWords, runDriftWords } from '../../../server/reconciliation/drift-words';
import { formatDay, formatInstant, formatNumber, metricLabel } from '../format';

const RUN_STATUS: Record<ReconciliationRun['status'], { label: string; tone: 'ok' | 'warn' | 'bad' }> = {
  running: { label: 'Running', tone: 'warn' },
  completed: { label: 'Completed', tone: 'ok' },
  failed: { label: 'Failed', tone: 'bad' },
};
const TRIGGER: Record<ReconciliationRun['trigger'], string> = { scheduled: 'Nightly', on_demand: 'On request', follow_up: 'Check after a repair' };
const PAIR_STATUS: Record<ReconciliationRunDetail['pairs'][number]['status'], { label: string; tone: 'ok' | 'warn' | 'bad' }> = {
  ok: { label: 'Matches', tone: 'ok' },
  corrected: { label: 'Repaired', tone: 'warn' },
  flagged: { label: 'Needs you', tone: 'bad' },
  error: { label: 'Not checked', tone: 'bad' },
};

/** The agency's Reconciliation section. */
/**
 * How far drift that stays reaches, in words: "4 units on 1 customer × meter pair"; for several pairs their count only
 * ("3 customer × meter pairs"), as their meters may be of different metrics, whose units are never added up.
 */
export function driftExtent({ pairs, units }: { pairs: number; units: number }): string {
  return pairs === 1 ? `${formatNumber(units)} unit${units === 1 ? '' : 's'} on 1 customer × meter pair` : `${formatNumber(pairs)} customer × meter pairs`;
}

export function ReconciliationPage() {
  return (
    <>
      <h1>Reconciliation</h1>
      <Reconciliation />
    </>
  );
}

/** Runs, "Reconcile now" and a run's details; `locationId` limits all of it to one sub-account. */
export function Reconciliation({ locationId }: { locationId?: string }) {
  const runs = useResource(() => api.reconciliationRuns(locationId), [locationId]);
  const [selected, setSelected] = useState<number | null>(null);
  const [state, setState] = useState<{ busy?: boolean; error?: unknown; message?: string }>({});
  const reconcileNow = async () => {
    setState({ busy: true });
    try {
      const run = await api.reconcileNow(locationId);
      setState({ message: runDriftWords(run.pairsChecked, run.drift.map((d) => ({ ...d, label: metricLabel(d.metric) }))) });
      setSelected(run.id);
      runs.reload();
    } catch (error) {
      setState({ error });
    }
  };
  const alert = runs.data?.alert;
  return (
    <section className="card" aria-labelledby="reconciliation-title">
      <div className="card-head">
        <h2 id="reconciliation-title">Reconciliation with Stripe</h2>
        <Writes>
          <button type="button" className="button small" onClick={reconcileNow} disabled={state.busy}>
            {state.busy ? 'Reconciling…' : 'Reconcile now'}
          </button>
        </Writes>
      </div>
      <p className="muted small">
        Every night Meterbridge compares the units it sent with what Stripe counted, per customer, meter and UTC day, leaving out the last hours
        (Stripe counts with a delay). Missing units are sent again, events Stripe counted twice are cancelled, and any other excess is shown here for
        you to look at.
      </p>
      {alert && alert.pairs > 0 ? (
        <div className="state state-error" role="alert" data-testid="drift-alert">
          <p>
            Drift that stays: {driftExtent(alert)} that reconciliation could not repair. Open the latest run to see which.
          </p>
        </div>
      ) : null}
      {state.message ? <Notice>{state.message}</Notice> : null}
      {state.error ? <ErrorNotice error={state.error} /> : null}
      {runs.error ? <ErrorNotice error={runs.error} onRetry={runs.reload} /> : null}
      {runs.loading && !runs.data ? <Loading /> : null}
      {runs.data && runs.data.items.length === 0 ? <Empty>No reconciliation yet: the first runs tonight.</Empty> : null}
      {runs.data && runs.data.items.length > 0 ? <RunTable runs={runs.data.items} selected={selected} onSelect={setSelected} /> : null}
      {selected !== null ? <RunDetail key={selected} runId={selected} locationId={locationId} /> : null}
    </section>
  );
}

function RunTable({ runs, selected, onSelect }: { runs: ReconciliationRun[]; selected: number | null; onSelect: (id: number) => void }) {
  return (
    <div className="table-wrap">
      <table className="log">
        <caption className="visually-hidden">Reconciliation runs, newest first</caption>
        <thead>
          <tr>
            <th scope="col">Started</th>
            <th scope="col">Status</th>
            <th scope="col" className="num">Pairs checked</th>
            <th scope="col">Drift per metric</th>
            <th scope="col">
              <span className="visually-hidden">Details</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {runs.map((run) => (
            <tr key={run.id} data-run={run.id} aria-selected={selected === run.id}>
              <td>
                {formatInstant(run.startedAt)}
                <span className="muted small block">
                  {TRIGGER[run.trigger]} · {run.locationId ? 'one sub-account' : 'all sub-accounts'} · up to{' '}
                  {formatInstant(run.settledBefore)}
                </span>
              </td>
              <td>
                <span className={`badge ${RUN_STATUS[run.status].tone}`}>{RUN_STATUS[run.status].label}</span>
                {run.error ? <span className="error-text small block">{run.error}</span> : null}
              </td>
              <td className="num">{formatNumber(run.pairsChecked)}</td>
              <td className="small" data-testid="run-drift">
                {run.drift.length === 0 ? (
                  <span className="muted">None</span>
                ) : (
                  <ul className="plain">
                    {run.drift.map((d) => (
                      <li key={d.metric}>{metricDriftWords(metricLabel(d.metric), d)}</li>
                    ))}
                  </ul>
                )}
              </td>
              <td>
                <button type="button" className="button secondary small" onClick={() => onSelect(run.id)} aria-label={`Details of the run of ${formatInstant(run.startedAt)}`}>
                  Details
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function RunDetail({ runId, locationId }: { runId: number; locationId?: string }) {
  const run = useResource(() => api.reconciliationRun(runId, locationId), [runId, locationId]);
  if (run.error) return <ErrorNotice error={run.error} onRetry={run.reload} />;
  if (!run.data) return <Loading />;
  const { pairs } = run.data;
  // A sub-account's card counts its own pairs; the run's totals cover every pair it compared.
  const sum = (pick: (p: (typeof pairs)[number]) => number) => pairs.reduce((total, p) => total + pick(p), 0);
  const windowsChecked = locationId ? sum((p) => p.windowsChecked) : run.data.windowsChecked;
  const windowsSkipped = locationId ? sum((p) => p.windowsSkipped) : run.data.windowsSkipped;
  return (
    <div className="run-detail" aria-labelledby="run-detail-title">
      <h3 id="run-detail-title">Run of {formatInstant(run.data.startedAt)}</h3>
      <p className="muted small">
        {formatNumber(windowsChecked)} customer-day{windowsChecked === 1 ? '' : 's'} compared, {formatNumber(windowsSkipped)} left for the next run (sent
        too recently){run.data.unconfirmedSettled > 0 ? `, ${formatNumber(run.data.unconfirmedSettled)} unconfirmed meter events found in Stripe` : ''}.
      </p>
      {pairs.length === 0 ? <Empty>Nothing was sent to Stripe in the compared days.</Empty> : null}
      {pairs.length > 0 ? (
        <div className="table-wrap">
          <table className="log">
            <caption className="visually-hidden">Per Stripe customer and meter</caption>
            <thead>
              <tr>
                <th scope="col">Customer · metric</th>
                <th scope="col">Result</th>
                <th scope="col" className="num">Sent</th>
                <th scope="col" className="num">Stripe counted</th>
                <th scope="col">What was done</th>
              </tr>
            </thead>
            <tbody>
              {pairs.map((p) => (
                <tr key={`${p.stripeCustomerId}|${p.meterEventName}`} data-pair={p.stripeCustomerId} data-status={p.status}>
                  <td>
                    <StripeLink kind="customer" id={p.stripeCustomerId} testId="pair-customer">
                      {p.subAccountName ?? undefined}
                    </StripeLink>
                    <span className="muted small block" title={`Stripe meter event ${p.meterEventName}`}>
                      {metricLabel(p.metric)}
                    </span>
                  </td>
                  <td>
                    <span className={`badge ${PAIR_STATUS[p.status].tone}`}>{PAIR_STATUS[p.status].label}</span>
                    {p.message ? <span className="error-text small block">{p.message}</span> : null}
                  </td>
                  <td className="num">{formatNumber(p.ourUnits)}</td>
                  <td className="num">{formatNumber(p.stripeUnits)}</td>
                  <td>
                    {p.windows.length === 0 ? <span className="muted small">{p.status === 'ok' ? 'Nothing to do' : ''}</span> : null}
                    <ul className="plain small">
                      {p.windows.flatMap((w) =>
                        w.skipped
                          ? [<li key={`${w.start}-skip`}>{dayOf(w.start)}: not compared yet</li>]
                          : w.actions.map((a, i) => <li key={`${w.start}-${i}`}>{dayOf(w.start)}: {actionText(a)}</li>),
                      )}
                    </ul>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
    </div>
  );
}

const dayOf = (seconds: number) => formatDay(new Date(seconds * 1000).toISOString());

function actionText(a: ReconciliationAction): string {
  const units = `${formatNumber(a.units)} unit${a.units === 1 ? '' : 's'}`;
  switch (a.kind) {
    case 'confirm':
      return `found in Stripe: ${units} marked sent`;
    case 'resend':
      return `${units} missing in Stripe, sent again with a new identifier`;
    case 'correct':
      return `${units} missing in Stripe, a corrective meter event sent`;
    case 'cancel':
      return `${units} counted twice, the extra event cancelled`;
    case 'flag':
      return `${units} left for you${a.message ? ` — ${a.message}` : ''}`;
    default:
      return `${units} waiting for the next run${a.message ? ` — ${a.message}` : ''}`;
  }
}
