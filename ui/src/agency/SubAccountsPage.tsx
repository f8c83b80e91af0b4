/**
 * The agency's sub-accounts as a work queue: filtered by state (`?status=`, so other pages link to a filtered list:
 * billing, not billing and why, payment failed, no card, the Overview's numbers), sorted by the server (by name,
 * what needs attention first, or this period's amount across all pages), searchable (debounced, server-side) and
 * paginated by the server. Per row: the one status, this period in money and per metric, subscription, card,
 * invoice, the Stripe customer by name; bulk actions say what they will create before they run.
 * Suspended sub-accounts carry their suspension (and HighLevel's pause, or its refusal).
 */
import { useState } from 'react';
import { NOT_BILLING_WORDS } from '../../../server/billing-setup/billing-state-words';
import { api, type SubAccountList, type SubAccountListQuery } from '../api';
import { Empty, ErrorNotice, Loading } from '../components/States';
import { useDebounced, usePollWhile, useResource } from '../components/useResource';
import { Link, navigate, useLocation } from '../router';
import { RebillingBadge, StatusBadges } from './status';
import { paymentsApi } from '../payments-api';
import { PaymentBadges } from './PaymentBadges';
import { SuspensionBadges } from './SuspensionCard';
import { suspensionApi } from '../suspension-api';
import { BulkActions } from './BulkActions';
import { CardCell, CustomerCell, InvoiceCell, MoneyCell, MonthCell, SubscriptionCell } from './sub-account-cells';
import { CardsFreshness } from './MoneyCockpit';

type Row = SubAccountList['items'][number];

const PAGE_SIZE = 50;

/** The list filters (`?status=`), in words: the billing state and its reasons, payment problems, the Overview's numbers. */
const STATUS_FILTERS: Record<string, string> = {
  billing: 'Billing',
  // The Overview's "needs attention" items (server/money/attention.ts) share these words.
  not_billing: 'Not billing although rebilling is on',
  ...Object.fromEntries(Object.entries(NOT_BILLING_WORDS).map(([state, words]) => [state, `Not billing: ${words}`])),
  payment_failed: 'Payment failed or needs the client’s action',
  no_card: 'Billed without a card on file',
  rebilling: 'Rebilling, customer mapped',
  failed: 'With failed reports',
  rejected: 'With reports rejected by Stripe',
  unconfirmed: 'With unconfirmed reports',
  delinquent: 'Delinquent',
  needs_reinstall: 'Needing a reinstall',
  drift: 'With reconciliation drift',
};
type StatusFilter = NonNullable<SubAccountListQuery['status']>;
type Sort = NonNullable<SubAccountListQuery['sort']>;

export function SubAccountsPage() {
  const [search, setSearch] = useState(() => new URLSearchParams(window.location.search).get('search') ?? '');
  const location = useLocation();
  const asked = location.search.get('status');
  const status = asked && asked in STATUS_FILTERS ? (asked as StatusFilter) : undefined;
  const sort: Sort = (['attention', 'amount'] as const).find((s) => s === location.search.get('sort')) ?? 'name';
  const debounced = useDebounced(search.trim(), 250);
  const query = `${debounced}|${status ?? ''}|${sort}`;
  // The page belongs to a query: a new search starts at page 1 in the same render (one request, not two).
  const [paging, setPaging] = useState({ query, page: 1 });
  const page = paging.query === query ? paging.page : 1;
  const setPage = (n: number) => setPaging({ query, page: n });
  const list = useResource(
    () => api.subAccounts({ search: debounced || undefined, status, sort, page, pageSize: PAGE_SIZE }),
    [query, page],
  );
  const setQuery = (next: { status?: string; sort?: Sort }) => {
    const params = new URLSearchParams();
    const st = 'status' in next ? next.status : status;
    const so = 'sort' in next ? next.sort : sort;
    if (st) params.set('status', st);
    if (so && so !== 'name') params.set('sort', so);
    navigate(`/sub-accounts${params.size ? `?${params}` : ''}`);
  };
  const ids = list.data?.items.map((s) => s.locationId) ?? [];
  const usage = useResource(() => (ids.length ? api.periodUsage(ids) : Promise.resolve(null)), [ids.join(',')]);
  const usageOf = new Map((usage.data?.items ?? []).map((i) => [i.locationId, i.metrics]));
  // Card and held-usage flags per page, the cards as stored on the server (read from Stripe in the background: asked
  // again while some are still being checked); a failure leaves the column empty.
  const flags = useResource(() => (ids.length ? paymentsApi.flags(ids).catch(() => null) : Promise.resolve(null)), [ids.join(',')]);
  const flagOf = new Map((flags.data?.items ?? []).map((f) => [f.locationId, f]));
  usePollWhile(Boolean(flags.data?.items.some((f) => f.checking)), flags.reload, flags.data);
  // The no_card filter itself, while cards behind it are still being read.
  const cardCheck = list.data?.cardCheck;
  usePollWhile(Boolean(cardCheck && cardCheck.checking + cardCheck.refreshing > 0), list.reload, list.data);
  // Suspended sub-accounts (and HighLevel pause errors) of the agency: a short list, read once per page.
  const suspended = useResource(() => suspensionApi.list().catch(() => null), [query, page]);
  const suspensionOf = new Map((suspended.data?.items ?? []).map((s) => [s.locationId, s]));
  const [selected, setSelected] = useState<Map<string, Row>>(new Map());
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
        <div className="toolbar">
          <label htmlFor="sub-filter">Show</label>
          <select id="sub-filter" value={status ?? ''} onChange={(e) => setQuery({ status: e.target.value || undefined })}>
            <option value="">All sub-accounts</option>
            {Object.entries(STATUS_FILTERS).map(([value, words]) => (
              <option key={value} value={value}>
                {words}
              </option>
            ))}
          </select>
          <label htmlFor="sub-sort">Sort by</label>
          <select id="sub-sort" value={sort} onChange={(e) => setQuery({ sort: e.target.value as Sort })}>
            <option value="name">Name</option>
            <option value="attention">Needs attention first</option>
            <option value="amount">This period’s amount, largest first</option>
          </select>
        </div>
        {status ? (
          <p className="filter" data-testid="status-filter">
            Showing: <strong>{STATUS_FILTERS[status]}</strong> <Link to="/sub-accounts">Show all sub-accounts</Link>
            {status === 'no_card' && cardCheck ? <CardsFreshness cards={cardCheck} /> : null}
          </p>
        ) : null}
        <BulkActions selected={[...selected.values()]} onDone={() => (setSelected(new Map()), list.reload())} />
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
                      onChange={(e) => setSelected(e.target.checked ? new Map(list.data!.items.map((s) => [s.locationId, s])) : new Map())}
                    />
                  </th>
                  <th scope="col">Sub-account</th>
                  <th scope="col">Status</th>
                  <th scope="col">This period</th>
                  <th scope="col">Stripe</th>
                  <th scope="col">Rebilling</th>
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
                          const next = new Map(selected);
                          if (e.target.checked) next.set(sub.locationId, sub);
                          else next.delete(sub.locationId);
                          setSelected(next);
                        }}
                      />
                    </td>
                    <th scope="row">
                      <Link to={`/sub-accounts/${encodeURIComponent(sub.locationId)}`}>{sub.name ?? sub.locationId}</Link>
                      <span className="muted small block">
                        {sub.nickname ? `${sub.nickname} · ` : ''}
                        {sub.locationId}
                      </span>
                      <CustomerCell sub={sub} flag={flagOf.get(sub.locationId)} />
                    </th>
                    <td>
                      <StatusBadges sub={sub} />
                      <PaymentBadges flag={flagOf.get(sub.locationId)} />
                      <SuspensionBadges suspension={suspensionOf.get(sub.locationId)} />
                    </td>
                    <td>
                      <MoneyCell sub={sub} />
                      <MonthCell metrics={usageOf.get(sub.locationId)} loading={usage.loading} />
                    </td>
                    <td>
                      <SubscriptionCell sub={sub} />
                      <CardCell flag={flagOf.get(sub.locationId)} hasCustomer={Boolean(sub.stripeCustomerId)} />
                      <InvoiceCell sub={sub} />
                    </td>
                    <td>
                      <RebillingBadge sub={sub} />
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
