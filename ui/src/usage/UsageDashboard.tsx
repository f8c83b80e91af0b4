/** The agency's usage dashboard: totals in units and in money, one stacked chart over any range, the per-sub-account drill-down, CSV export. */
import { useState } from 'react';
import { api, type DayRange } from '../api';
import { Empty, ErrorNotice, Loading } from '../components/States';
import { useDebounced, useResource } from '../components/useResource';
import { formatNumber, metricLabel } from '../format';
import { moneyApi } from '../money-api';
import { Link } from '../router';
import { defaultRange } from './RangePicker';
import { CsvButton, UsagePanel } from './UsagePanel';

const PAGE_SIZE = 25;

export function UsageDashboard() {
  const [range, setRange] = useState<DayRange>(defaultRange);
  return (
    <>
      <h1>Usage</h1>
      <UsagePanel
        title="All sub-accounts"
        load={(r) => api.usage(r)}
        amounts={(r) => moneyApi.usageAmounts(r)}
        exportFor="agency"
        range={range}
        onRangeChange={setRange}
        idPrefix="agency-usage"
      />
      <DrillDown range={range} />
    </>
  );
}

function DrillDown({ range }: { range: DayRange }) {
  const [search, setSearch] = useState('');
  const query = useDebounced(search.trim(), 250);
  const [paging, setPaging] = useState({ key: '', page: 1 });
  const key = `${query}|${range.from}|${range.to}`;
  const page = paging.key === key ? paging.page : 1;
  const rows = useResource(() => api.usageBySubAccount({ ...range, search: query || undefined, page, pageSize: PAGE_SIZE }), [key, page]);
  const metrics = [...new Set((rows.data?.items ?? []).flatMap((i) => i.metrics.map((m) => m.metric)))].sort();
  const pages = rows.data ? Math.max(1, Math.ceil(rows.data.total / PAGE_SIZE)) : 1;
  return (
    <section className="card" aria-labelledby="drill-title">
      <h2 id="drill-title">By sub-account</h2>
      <div className="toolbar">
        <label htmlFor="drill-search">Search</label>
        <input id="drill-search" type="search" value={search} onChange={(e) => setSearch(e.target.value)} placeholder="Sub-account name or id" />
        <span className="muted" role="status" aria-live="polite">
          {rows.data ? `${rows.data.total} sub-account${rows.data.total === 1 ? '' : 's'} with usage` : ''}
        </span>
      </div>
      {rows.error ? <ErrorNotice error={rows.error} onRetry={rows.reload} /> : null}
      {rows.loading && !rows.data ? <Loading /> : null}
      {rows.data && rows.data.items.length === 0 ? <Empty>No sub-account used anything in this range{query ? ` matching “${query}”` : ''}.</Empty> : null}
      {rows.data && rows.data.items.length > 0 ? (
        <div className="table-wrap" aria-busy={rows.loading}>
          <table className="drill">
            <caption className="visually-hidden">Usage per sub-account</caption>
            <thead>
              <tr>
                <th scope="col">Sub-account</th>
                {metrics.map((m) => (
                  <th scope="col" key={m} className="num">
                    {metricLabel(m)}
                  </th>
                ))}
                <th scope="col">
                  <span className="visually-hidden">Export</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {rows.data.items.map((item) => {
                const by = new Map(item.metrics.map((m) => [m.metric, m]));
                return (
                  <tr key={item.locationId}>
                    <th scope="row">
                      <Link to={`/sub-accounts/${encodeURIComponent(item.locationId)}`}>{item.name ?? item.locationId}</Link>
                    </th>
                    {metrics.map((m) => {
                      const t = by.get(m);
                      return (
                        <td key={m} className="num" data-metric={m}>
                          {t ? formatNumber(t.quantity) : '—'}
                          {t ? (
                            <span className="muted small block">
                              {formatNumber(t.unitsBilled)} billed unit{t.unitsBilled === 1 ? '' : 's'}
                            </span>
                          ) : null}
                        </td>
                      );
                    })}
                    <td>
                      <CsvButton range={range} locationId={item.locationId} label="CSV" ariaLabel={`Export CSV for ${item.name ?? item.locationId}`} />
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      ) : null}
      {pages > 1 ? (
        <nav className="pager" aria-label="Drill-down pages">
          <button type="button" className="button secondary" disabled={page <= 1} onClick={() => setPaging({ key, page: page - 1 })}>
            Previous page
          </button>
          <span>
            Page {page} of {pages}
          </span>
          <button type="button" className="button secondary" disabled={page >= pages} onClick={() => setPaging({ key, page: page + 1 })}>
            Next page
          </button>
        </nav>
      ) : null}
    </section>
  );
}
