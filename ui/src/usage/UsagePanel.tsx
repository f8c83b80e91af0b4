/**
 * Usage over a range for the agency or one sub-account: the range, totals per metric (used, units billed and sent)
 * and the charts; optionally the CSV export. With `amounts` (the agency's usage dashboard): the same range in money
 * with a totals row, one stacked chart with metric toggles instead of one chart per metric, and the current billing
 * period as a preset.
 */
import { lazy, Suspense, useState } from 'react';
import { api, type DayRange, type Usage } from '../api';
import type { UsageAmounts } from '../api-types-money';
import { AmountsTable } from './AmountsTable';
import { Empty, ErrorNotice, Loading, Notice } from '../components/States';
import { useResource } from '../components/useResource';
import { formatDay, formatNumber, metricLabel } from '../format';
import { defaultRange, RangePicker } from './RangePicker';

const UsageCharts = lazy(() => import('./UsageCharts'));
const StackedUsageChart = lazy(() => import('./StackedUsageChart'));

export function UsagePanel({
  title,
  load,
  exportFor,
  range: controlled,
  onRangeChange,
  idPrefix = 'usage',
  refreshKey = 0,
  amounts: loadAmounts,
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
  /** Usage in money over the same range (GET /api/usage/amounts). */
  amounts?: (range: DayRange) => Promise<UsageAmounts>;
}) {
  const [own, setOwn] = useState(defaultRange);
  const range = controlled ?? own;
  const setRange = onRangeChange ?? setOwn;
  const usage = useResource(() => load(range), [range.from, range.to, refreshKey]);
  // Money is extra: without it (an error) the units still show, and the money table says nothing.
  const money = useResource(() => (loadAmounts ? loadAmounts(range).catch(() => null) : Promise.resolve(null)), [range.from, range.to, refreshKey]);
  const u = usage.data;
  return (
    <section className="card" aria-labelledby={`${idPrefix}-title`}>
      <div className="card-head">
        <h2 id={`${idPrefix}-title`}>{title}</h2>
        {exportFor ? <CsvButton range={range} locationId={exportFor === 'agency' ? undefined : exportFor} /> : null}
      </div>
      <RangePicker value={range} onChange={setRange} idPrefix={idPrefix} billingPeriod={loadAmounts !== undefined} />
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
            {money.data ? <AmountsTable usage={u} amounts={money.data} /> : null}
            <Suspense fallback={<Loading label="Loading charts…" />}>
              {loadAmounts ? <StackedUsageChart key={`${u.from}|${u.to}|${money.data ? 'money' : 'units'}`} usage={u} amounts={money.data ?? null} /> : <UsageCharts usage={u} />}
            </Suspense>
          </>
        )
      ) : null}
    </section>
  );
}

/** Fetches the streamed CSV with the session and hands it to the browser as a download. */
export function CsvButton({ range, locationId, label = 'Export CSV', ariaLabel }: { range: DayRange; locationId?: string; label?: string; ariaLabel?: string }) {
  return <DownloadButton run={() => api.downloadUsageCsv(range, locationId)} label={label} ariaLabel={ariaLabel} />;
}

/** A button that runs a download (`run` resolves to the saved file's name) and says what it saved, or the error. */
export function DownloadButton({ run, label, ariaLabel }: { run: () => Promise<string>; label: string; ariaLabel?: string }) {
  const [state, setState] = useState<{ busy?: boolean; error?: unknown; saved?: string }>({});
  const start = async () => {
    setState({ busy: true });
    try {
      setState({ saved: await run() });
    } catch (error) {
      setState({ error });
    }
  };
  return (
    <span className="csv">
      <button type="button" className="button secondary small" onClick={start} disabled={state.busy} aria-label={ariaLabel}>
        {state.busy ? 'Exporting…' : label}
      </button>
      {state.saved ? <Notice>Downloaded {state.saved}.</Notice> : null}
      {state.error ? <ErrorNotice error={state.error} /> : null}
    </span>
  );
}
