/**
 * Usage over a range for the agency or one sub-account: the range, totals per metric (used, units billed and sent)
 * and the charts; optionally the CSV export.
 */
import { lazy, Suspense, useState } from 'react';
import { api, type DayRange, type Usage } from '../api';
import { Empty, ErrorNotice, Loading, Notice } from '../components/States';
import { useResource } from '../components/useResource';
import { formatDay, formatNumber, metricLabel } from '../format';
import { defaultRange, RangePicker } from './RangePicker';

const UsageCharts = lazy(() => import('./UsageCharts'));

export function UsagePanel({
  title,
  load,
  exportFor,
  range: controlled,
  onRangeChange,
  idPrefix = 'usage',
  refreshKey = 0,
}: {
  title: string;
  load: (range: DayRange) => Promise<Usage>;
  /** Show the CSV export: `agency` for every sub-account, or one sub-account's id. */
  exportFor?: string;
  range?: DayRange;
  onRangeChange?: (range: DayRange) => void;
  idPrefix?: string;
  /** A change reads the usage again (after an action elsewhere on the page changed it). */
  refreshKey?: number;
}) {
  const [own, setOwn] = useState(defaultRange);
  const range = controlled ?? own;
  const setRange = onRangeChange ?? setOwn;
  const usage = useResource(() => load(range), [range.from, range.to, refreshKey]);
  const u = usage.data;
  return (
    <section className="card" aria-labelledby={`${idPrefix}-title`}>
      <div className="card-head">
        <h2 id={`${idPrefix}-title`}>{title}</h2>
        {exportFor ? <CsvButton range={range} locationId={exportFor === 'agency' ? undefined : exportFor} /> : null}
      </div>
      <RangePicker value={range} onChange={setRange} idPrefix={idPrefix} />
      {usage.error ? <ErrorNotice error={usage.error} onRetry={usage.reload} /> : null}
      {usage.loading ? <Loading /> : null}
      {u && !usage.loading ? (
        u.totals.length === 0 ? (
          <Empty>
            No usage between {formatDay(u.from)} and {formatDay(u.to)}.
          </Empty>
        ) : (
          <>
            <div className="table-wrap">
              <table className="totals">
                <caption className="visually-hidden">
                  Totals from {formatDay(u.from)} to {formatDay(u.to)}
                </caption>
                <thead>
                  <tr>
                    <th scope="col">Metric</th>
                    <th scope="col" className="num">Used</th>
                    <th scope="col" className="num">Units billed</th>
                    <th scope="col" className="num">Units sent to Stripe</th>
                    <th scope="col" className="num">Failed</th>
                  </tr>
                </thead>
                <tbody>
                  {u.totals.map((t) => (
                    <tr key={t.metric} data-metric={t.metric}>
                      <th scope="row">{metricLabel(t.metric)}</th>
                      <td className="num">{formatNumber(t.quantity)}</td>
                      <td className="num">{formatNumber(t.unitsBilled)}</td>
                      <td className="num">{formatNumber(t.unitsSent)}</td>
                      <td className="num">{t.unitsFailed > 0 ? <span className="negative">{formatNumber(t.unitsFailed)}</span> : '0'}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
            <Suspense fallback={<Loading label="Loading charts…" />}>
              <UsageCharts usage={u} />
            </Suspense>
          </>
        )
      ) : null}
    </section>
  );
}

/** Fetches the streamed CSV with the session and hands it to the browser as a download. */
export function CsvButton({ range, locationId, label = 'Export CSV', ariaLabel }: { range: DayRange; locationId?: string; label?: string; ariaLabel?: string }) {
  const [state, setState] = useState<{ busy?: boolean; error?: unknown; saved?: string }>({});
  const run = async () => {
    setState({ busy: true });
    try {
      setState({ saved: await api.downloadUsageCsv(range, locationId) });
    } catch (error) {
      setState({ error });
    }
  };
  return (
    <span className="csv">
      <button type="button" className="button secondary small" onClick={run} disabled={state.busy} aria-label={ariaLabel}>
        {state.busy ? 'Exporting…' : label}
      </button>
      {state.saved ? <Notice>Downloaded {state.saved}.</Notice> : null}
      {state.error ? <ErrorNotice error={state.error} /> : null}
    </span>
  );
}
