/**
 * The agency's sub-accounts: searchable (debounced, server-side), paginated by the server, so an agency with
 * hundreds of sub-accounts gets one page of rows at a time. This month's usage fills in per page, and so do the
 * payment flags: billed without a card, card expiring, usage held back for want of a subscription.
 */
import { useState } from 'react';
import { api, type MetricTotal } from '../api';
import { Empty, ErrorNotice, Loading, Notice } from '../components/States';
import { useDebounced, useResource } from '../components/useResource';
import { formatCents, formatNumber, metricLabel } from '../format';
import { Link, useLocation } from '../router';
import { notBillingReason, RebillingBadge, StatusBadges } from './status';
import { Writes } from '../components/permissions';
import { paymentsApi } from '../payments-api';
import { PaymentBadges } from './PaymentBadges';

const PAGE_SIZE = 50;

/** The Overview's numbers as list filters (`?status=`), in words. */
const STATUS_FILTERS = {
  rebilling: 'Rebilling, customer mapped',
  failed: 'With failed reports',
  rejected: 'With reports rejected by Stripe',
  unconfirmed: 'With unconfirmed reports',
  delinquent: 'Delinquent',
  needs_reinstall: 'Needing a reinstall',
  // The Overview's "needs attention" items (server/money/attention.ts).
  not_billing: 'Not billing although rebilling is on',
  no_card: 'Billed without a card on file',
  payment_failed: 'Payment failed or needs the client’s action',
  drift: 'With reconciliation drift',
} as const;
type StatusFilter = keyof typeof STATUS_FILTERS;

export function SubAccountsPage() {
  const [search, setSearch] = useState(() => new URLSearchParams(window.location.search).get('search') ?? '');
  const location = useLocation();
  const asked = location.search.get('status');
  const status = asked && asked in STATUS_FILTERS ? (asked as StatusFilter) : undefined;
  const debounced = useDebounced(search.trim(), 250);
  const query = `${debounced}${status ? `|${status}` : ''}`;
  // The page belongs to a query: a new search starts at page 1 in the same render (one request, not two).
  const [paging, setPaging] = useState({ query, page: 1 });
  const page = paging.query === query ? paging.page : 1;
  const setPage = (n: number) => setPaging({ query, page: n });
  const list = useResource(() => api.subAccounts({ search: debounced || undefined, status, page, pageSize: PAGE_SIZE }), [query, page]);
  const ids = list.data?.items.map((s) => s.locationId) ?? [];
  const usage = useResource(() => (ids.length ? api.periodUsage(ids) : Promise.resolve(null)), [ids.join(',')]);
  const usageOf = new Map((usage.data?.items ?? []).map((i) => [i.locationId, i.metrics]));
  // Card and held-usage flags per page, read from Stripe (cached 30 s); a failure leaves the column empty.
  const flags = useResource(() => (ids.length ? paymentsApi.flags(ids).catch(() => null) : Promise.resolve(null)), [ids.join(',')]);
  const flagOf = new Map((flags.data?.items ?? []).map((f) => [f.locationId, f]));
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const pages = list.data ? Math.max(1, Math.ceil(list.data.total / list.data.pageSize)) : 1;

  return (
    <>
      <h1>Sub-accounts</h1>
      <section className="card" aria-labelledby="subs-title">
        <h2 id="subs-title" className="visually-hidden">
          All sub-accounts
        </h2>
        <div className="toolbar">
          <label htmlFor="sub-search">Search sub-accounts</label>
          <input id="sub-search" type="search" value={search} onChange={(e) => setSearch(e.target.value)} placeholder="Name, email or id" aria-controls="subs-table" />
          <span className="muted" role="status" aria-live="polite" data-testid="sub-count">
            {list.data ? summary(list.data.total, list.data.page, list.data.pageSize) : ''}
          </span>
        </div>
        {status ? (
          <p className="filter" data-testid="status-filter">
            Showing: <strong>{STATUS_FILTERS[status]}</strong> <Link to="/sub-accounts">Show all sub-accounts</Link>
          </p>
        ) : null}
        <BulkApply selected={selected} onDone={() => (setSelected(new Set()), list.reload())} />
        {list.error ? <ErrorNotice error={list.error} onRetry={list.reload} /> : null}
        {list.loading && !list.data ? <Loading /> : null}
        {list.data && list.data.items.length === 0 ? (
          <Empty>
            {debounced ? `No sub-account matches “${debounced}”.` : status ? 'No sub-account is in this state.' : 'No sub-accounts yet: they appear when Meterbridge is installed in them.'}
          </Empty>
        ) : null}
        {list.data && list.data.items.length > 0 ? (
          <div className="table-wrap" aria-busy={list.loading}>
            <table id="subs-table" className="subs">
              <caption className="visually-hidden">Sub-accounts, page {list.data.page} of {pages}</caption>
              <thead>
                <tr>
                  <th scope="col">
                    <input
                      type="checkbox"
                      aria-label="Select all on this page"
                      checked={list.data.items.every((s) => selected.has(s.locationId))}
                      onChange={(e) => setSelected(e.target.checked ? new Set(ids) : new Set())}
                    />
                  </th>
                  <th scope="col">Sub-account</th>
                  <th scope="col">Rebilling</th>
                  <th scope="col">Stripe customer</th>
                  <th scope="col">This month</th>
                  <th scope="col">Status</th>
                </tr>
              </thead>
              <tbody>
                {list.data.items.map((sub) => (
                  <tr key={sub.locationId}>
                    <td>
                      <input
                        type="checkbox"
                        aria-label={`Select ${sub.name ?? sub.locationId}`}
                        checked={selected.has(sub.locationId)}
                        onChange={(e) => {
                          const next = new Set(selected);
                          if (e.target.checked) next.add(sub.locationId);
                          else next.delete(sub.locationId);
                          setSelected(next);
                        }}
                      />
                    </td>
                    <th scope="row">
                      <Link to={`/sub-accounts/${encodeURIComponent(sub.locationId)}`}>{sub.name ?? sub.locationId}</Link>
                      <span className="muted small block">{sub.locationId}</span>
                    </th>
                    <td>
                      <RebillingBadge sub={sub} />
                    </td>
                    <td>{sub.stripeCustomerId ? <code>{sub.stripeCustomerId}</code> : <span className="muted">Not mapped</span>}</td>
                    <td>
                      {notBillingReason(sub) === null ? <MoneyCell locationId={sub.locationId} /> : null}
                      <MonthCell metrics={usageOf.get(sub.locationId)} loading={usage.loading} />
                    </td>
                    <td>
                      <StatusBadges sub={sub} />
                      <PaymentBadges flag={flagOf.get(sub.locationId)} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        ) : null}
        {list.data && pages > 1 ? (
          <nav className="pager" aria-label="Pages">
            <button type="button" className="button secondary" disabled={page <= 1} onClick={() => setPage(page - 1)}>
              Previous page
            </button>
            <span>
              Page {page} of {pages}
            </span>
            <button type="button" className="button secondary" disabled={page >= pages} onClick={() => setPage(page + 1)}>
              Next page
            </button>
          </nav>
        ) : null}
      </section>
    </>
  );
}

const summary = (total: number, page: number, pageSize: number) =>
  total === 0 ? '0 sub-accounts' : `${(page - 1) * pageSize + 1}–${Math.min(total, page * pageSize)} of ${total} sub-account${total === 1 ? '' : 's'}`;

/**
 * What a billed sub-account's period comes to so far, in money: the server's estimate at the prices in force (usage
 * and the flat fee), the same figure as its page's next invoice estimate. Only for sub-accounts that are billed.
 */
function MoneyCell({ locationId }: { locationId: string }) {
  const charges = useResource(() => api.subAccountCharges(locationId).catch(() => null), [locationId]);
  if (!charges.data) return null;
  return (
    <strong className="block" data-testid="period-amount" title={`Estimated at the prices in force, ${charges.data.periodStart.slice(0, 10)} to today.`}>
      {formatCents(charges.data.estimatedTotalCents, charges.data.currency)} so far
    </strong>
  );
}

/**
 * This month's usage per metric, each with its own billed units (and how many reached Stripe): units of different
 * metrics (a call minute, an SMS) are never added together.
 */
function MonthCell({ metrics, loading }: { metrics: MetricTotal[] | undefined; loading: boolean }) {
  if (!metrics) return <span className="muted">{loading ? '…' : '—'}</span>;
  const used = metrics.filter((m) => Number(m.quantity) > 0);
  if (used.length === 0) return <span className="muted">No usage</span>;
  return (
    <ul className="metric-lines">
      {used.map((m) => (
        <li key={m.metric} data-metric={m.metric}>
          {formatNumber(m.quantity)} {metricLabel(m.metric)}{' '}
          <span className="muted small">
            ({formatNumber(m.unitsBilled)} billed unit{m.unitsBilled === 1 ? '' : 's'}
            {m.unitsSent !== m.unitsBilled ? `, ${formatNumber(m.unitsSent)} sent` : ''})
          </span>
        </li>
      ))}
    </ul>
  );
}

function BulkApply({ selected, onDone }: { selected: Set<string>; onDone: () => void }) {
  const [state, setState] = useState<{ busy?: boolean; error?: unknown; message?: string }>({});
  if (selected.size === 0 && !state.message && !state.error) return null;
  const apply = async () => {
    setState({ busy: true });
    try {
      const { results } = await api.applyDefaults([...selected]);
      const failed = results.filter((r) => !r.ok);
      setState({ message: `Defaults applied to ${results.length - failed.length} sub-account(s).${failed.length ? ` Failed: ${failed.map((f) => `${f.locationId} (${f.error})`).join('; ')}` : ''}` });
      onDone();
    } catch (error) {
      setState({ error });
    }
  };
  return (
    <div className="bulk">
      {selected.size > 0 ? (
        <Writes>
          <button type="button" className="button" onClick={apply} disabled={state.busy}>
            Apply defaults to {selected.size} selected
          </button>
        </Writes>
      ) : null}
      {state.error ? <ErrorNotice error={state.error} /> : null}
      {state.message ? <Notice>{state.message}</Notice> : null}
    </div>
  );
}
