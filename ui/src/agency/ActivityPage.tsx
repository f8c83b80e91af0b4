/**
 * Activity: the audit log of the agency's billing configuration (server/audit). Who changed what and when, with the
 * fields that changed (before → after), filterable by subject, action, user and UTC day, exported as CSV. Every
 * agency user may read it.
 */
import { useState } from 'react';
import type { AuditEntry, AuditFilter } from '../api-types-audit';
import { auditApi } from '../audit-api';
import { Empty, ErrorNotice, Loading } from '../components/States';
import { useResource } from '../components/useResource';
import { formatInstant } from '../format';

/** The subjects the log records, as the filter offers them. */
const SUBJECTS: Record<string, string> = {
  stripe_connection: 'Stripe connection',
  pricing_rule: 'Prices and rules',
  defaults: 'Defaults',
  sub_account_billing: 'Sub-account billing',
  subscription: 'Subscriptions',
  api_key: 'API keys',
  custom_metric: 'Custom metrics',
  ai_senders: 'AI senders',
  email_billing: 'Email billing source',
  backfill: 'Backfills',
  meter_batch: 'Meter batches',
  reconciliation: 'Reconciliation',
  plan: 'Plans',
  coupon: 'Coupons',
  discount: 'Discounts',
  one_time_product: 'One-time products',
  one_time_charge: 'One-time charges',
  payments_settings: 'Payment settings',
  wallet_settings: 'Wallet settings',
  wallet: 'Wallet top-ups',
};

const PAGE = 50;

/** The agency's Activity section. */
export function ActivityPage() {
  const [draft, setDraft] = useState<AuditFilter>({});
  const [filter, setFilter] = useState<AuditFilter>({});
  const [more, setMore] = useState<{ entries: AuditEntry[]; done: boolean; busy?: boolean; error?: unknown }>({ entries: [], done: false });
  const [csv, setCsv] = useState<{ busy?: boolean; error?: unknown }>({});
  const first = useResource(() => auditApi.list(filter, undefined, PAGE), [JSON.stringify(filter)]);
  const entries = [...(first.data?.entries ?? []), ...more.entries];
  const done = (first.data?.entries.length ?? 0) < PAGE || more.done;

  const apply = (event: React.FormEvent) => {
    event.preventDefault();
    setMore({ entries: [], done: false });
    setFilter(Object.fromEntries(Object.entries(draft).filter(([, v]) => v)));
  };
  const loadMore = async () => {
    const last = entries.at(-1);
    if (!last) return;
    setMore((m) => ({ ...m, busy: true }));
    try {
      const page = await auditApi.list(filter, last.id, PAGE);
      setMore((m) => ({ entries: [...m.entries, ...page.entries], done: page.entries.length < PAGE }));
    } catch (error) {
      setMore((m) => ({ ...m, busy: false, error }));
    }
  };
  const exportCsv = async () => {
    setCsv({ busy: true });
    try {
      await auditApi.downloadCsv(filter);
      setCsv({});
    } catch (error) {
      setCsv({ error });
    }
  };
  const users = new Map(entries.flatMap((e) => (e.actor.type === 'user' ? [[e.actor.userId, e.actor.name ?? e.actor.userId] as const] : [])));
  if (filter.userId && !users.has(filter.userId)) users.set(filter.userId, filter.userId);

  return (
    <>
      <h1>Activity</h1>
      <section className="card" aria-labelledby="activity-title">
        <div className="card-head">
          <h2 id="activity-title">Changes to billing</h2>
          <span className="csv">
            <button type="button" className="button secondary small" onClick={exportCsv} disabled={csv.busy}>
              {csv.busy ? 'Exporting…' : 'Export CSV'}
            </button>
          </span>
        </div>
        <p className="muted small">Every change to prices, plans, keys, sub-accounts and the Stripe connection: who made it, when, and what it was before and after. Kept forever.</p>
        <form className="toolbar activity-filters" onSubmit={apply} aria-label="Filter the activity">
          <label htmlFor="activity-subject">What</label>
          <select id="activity-subject" value={draft.subject ?? ''} onChange={(e) => setDraft({ ...draft, subject: e.target.value })}>
            <option value="">Everything</option>
            {Object.entries(SUBJECTS).map(([value, label]) => (
              <option key={value} value={value}>
                {label}
              </option>
            ))}
          </select>
          <label htmlFor="activity-action">Action</label>
          <input id="activity-action" type="text" value={draft.action ?? ''} placeholder="e.g. pricing.rule_set" onChange={(e) => setDraft({ ...draft, action: e.target.value.trim() })} />
          <label htmlFor="activity-user">Who</label>
          <select id="activity-user" value={draft.userId ?? ''} onChange={(e) => setDraft({ ...draft, userId: e.target.value })}>
            <option value="">Anyone</option>
            {[...users].map(([id, name]) => (
              <option key={id} value={id}>
                {name}
              </option>
            ))}
          </select>
          <label htmlFor="activity-from">From</label>
          <input id="activity-from" type="date" value={draft.from ?? ''} max={draft.to || undefined} onChange={(e) => setDraft({ ...draft, from: e.target.value })} />
          <label htmlFor="activity-to">To</label>
          <input id="activity-to" type="date" value={draft.to ?? ''} min={draft.from || undefined} onChange={(e) => setDraft({ ...draft, to: e.target.value })} />
          <button type="submit" className="button small">
            Filter
          </button>
        </form>
        {csv.error ? <ErrorNotice error={csv.error} /> : null}
        {first.error ? <ErrorNotice error={first.error} onRetry={first.reload} /> : null}
        {first.loading && !first.data ? <Loading /> : null}
        {first.data && entries.length === 0 ? <Empty>No change recorded{Object.keys(filter).length ? ' for these filters' : ' yet'}.</Empty> : null}
        {entries.length > 0 ? <ActivityTable entries={entries} /> : null}
        {more.error ? <ErrorNotice error={more.error} onRetry={loadMore} /> : null}
        {entries.length > 0 && !done ? (
          <div className="pager">
            <button type="button" className="button secondary small" onClick={loadMore} disabled={more.busy}>
              {more.busy ? 'Loading…' : 'Older changes'}
            </button>
          </div>
        ) : null}
      </section>
    </>
  );
}

function ActivityTable({ entries }: { entries: AuditEntry[] }) {
  return (
    <div className="table-wrap">
      <table className="log activity">
        <caption className="visually-hidden">Changes to billing, newest first</caption>
        <thead>
          <tr>
            <th scope="col">When</th>
            <th scope="col">Who</th>
            <th scope="col">What</th>
            <th scope="col">Change</th>
          </tr>
        </thead>
        <tbody>
          {entries.map((entry) => (
            <tr key={entry.id} data-entry={entry.id}>
              <td>{formatInstant(entry.occurredAt)}</td>
              <td>{actorText(entry.actor)}</td>
              <td>
                {SUBJECTS[entry.subject] ?? entry.subject}
                <span className="muted small block">{entry.action}</span>
              </td>
              <td>
                <Changes before={entry.before} after={entry.after} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

const actorText = (actor: AuditEntry['actor']) => (actor.type === 'user' ? (actor.name ?? actor.userId) : actor.type === 'stripe' ? 'Stripe' : 'Meterbridge');

const show = (value: unknown) => {
  if (value === undefined) return '—';
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return text.length > 80 ? `${text.slice(0, 79)}…` : text;
};

/** The fields that differ, before → after (all of them for a creation or a removal). */
function Changes({ before, after }: { before: AuditEntry['before']; after: AuditEntry['after'] }) {
  const keys = [...new Set([...Object.keys(before ?? {}), ...Object.keys(after ?? {})])].filter(
    (k) => JSON.stringify(before?.[k]) !== JSON.stringify(after?.[k]) || !before || !after,
  );
  if (keys.length === 0) return <span className="muted">No field changed</span>;
  return (
    <ul className="inline-list changes">
      {!before ? <li className="muted small">Created</li> : null}
      {!after ? <li className="muted small">Removed</li> : null}
      {keys.map((k) => (
        <li key={k}>
          <strong>{k}</strong>: {before ? <span className="muted">{show(before[k])} → </span> : null}
          {after ? show(after[k]) : null}
        </li>
      ))}
    </ul>
  );
}
