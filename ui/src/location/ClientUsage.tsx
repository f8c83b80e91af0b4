/**
 * The client's usage over a range, in its own words: what it used per metric and the units it is billed for (one
 * per N of the metric) — never the agency's plumbing (what reached Stripe, what failed) — and the charts.
 * Units of different metrics are never added together.
 */
import { lazy, Suspense, useState } from 'react';
import { api } from '../api';
import { Empty, ErrorNotice, Loading } from '../components/States';
import { useResource } from '../components/useResource';
import { formatDay, formatNumber, metricLabel } from '../format';
import { defaultRange, RangePicker } from '../usage/RangePicker';

const UsageCharts = lazy(() => import('../usage/UsageCharts'));

export function ClientUsage({ locationId }: { locationId: string }) {
  const [range, setRange] = useState(defaultRange);
  const usage = useResource(() => api.subAccountUsage(locationId, range), [locationId, range.from, range.to]);
  const u = usage.data;
  return (
    <section className="card" aria-labelledby="client-usage-title">
      <h2 id="client-usage-title">Usage over time</h2>
      <RangePicker value={range} onChange={setRange} idPrefix="my-usage" />
      {usage.error ? <ErrorNotice error={usage.error} onRetry={usage.reload} /> : null}
      {usage.loading ? <Loading /> : null}
      {u && !usage.loading && u.totals.length === 0 ? (
        <Empty>
          No usage between {formatDay(u.from)} and {formatDay(u.to)}.
        </Empty>
      ) : null}
      {u && !usage.loading && u.totals.length > 0 ? (
        <>
          <div className="table-wrap">
            <table className="client-usage">
              <caption className="visually-hidden">
                Usage from {formatDay(u.from)} to {formatDay(u.to)}
              </caption>
              <thead>
                <tr>
                  <th scope="col">Metric</th>
                  <th scope="col" className="num">
                    Used
                  </th>
                  <th scope="col" className="num">
                    Billed units
                  </th>
                </tr>
              </thead>
              <tbody>
                {u.totals.map((t) => (
                  <tr key={t.metric} data-metric={t.metric}>
                    <th scope="row">{metricLabel(t.metric)}</th>
                    <td className="num">{formatNumber(t.quantity)}</td>
                    <td className="num">{formatNumber(t.unitsBilled)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <Suspense fallback={<Loading label="Loading charts…" />}>
            <UsageCharts usage={u} />
          </Suspense>
        </>
      ) : null}
    </section>
  );
}
