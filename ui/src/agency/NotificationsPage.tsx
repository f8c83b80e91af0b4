/**
 * Notifications: the agency's alerts (payment failed or recovered, cards, usage, …) newest first, unread ones marked,
 * each linking to its sub-account; "Mark read" / "Mark all read"; the outbound webhook's settings and delivery log
 * (AlertWebhook.tsx). The unread count in the top bar (UnreadBadge) follows the marks.
 */
import { useEffect, useState } from 'react';
import { alertsApi, UNREAD_CHANGED } from '../alerts-api';
import type { AlertKind, Notification } from '../api-types-alerts';
import { Writes } from '../components/permissions';
import { Empty, ErrorNotice, Loading } from '../components/States';
import { useResource } from '../components/useResource';
import { formatInstant } from '../format';
import { Link } from '../router';
import { AlertWebhook } from './AlertWebhook';
import { UsageThresholds } from './UsageThresholds';

/** How each kind reads, and its tone. */
export const KIND_LABELS: Record<AlertKind, { label: string; tone: 'ok' | 'warn' | 'bad' | 'info' }> = {
  payment_failed: { label: 'Payment failed', tone: 'bad' },
  payment_action_required: { label: 'Action required', tone: 'warn' },
  payment_recovered: { label: 'Payment recovered', tone: 'ok' },
  card_missing: { label: 'No card', tone: 'warn' },
  card_expiring: { label: 'Card expiring', tone: 'warn' },
  meter_batch_rejected: { label: 'Batch rejected', tone: 'bad' },
  reconciliation_drift: { label: 'Drift', tone: 'warn' },
  usage_threshold: { label: 'Usage alert', tone: 'info' },
  wallet_low: { label: 'Wallet low', tone: 'warn' },
};

const announce = () => window.dispatchEvent(new Event(UNREAD_CHANGED));

/** The Notifications section. */
export function NotificationsPage() {
  const list = useResource(() => alertsApi.notifications(), []);
  const [error, setError] = useState<unknown>(null);
  const mark = async (work: () => Promise<unknown>) => {
    setError(null);
    try {
      await work();
      list.reload();
      announce();
    } catch (err) {
      setError(err);
    }
  };
  return (
    <>
      <h1>Notifications</h1>
      <section className="card" aria-labelledby="notifications-title">
        <div className="card-head">
          <h2 id="notifications-title">
            Alerts {list.data ? <span className="muted">({list.data.unread} unread)</span> : null}
          </h2>
          <Writes>
            <button type="button" className="button small secondary" onClick={() => mark(alertsApi.markAllRead)} disabled={!list.data?.unread}>
              Mark all read
            </button>
          </Writes>
        </div>
        {error ? <ErrorNotice error={error} /> : null}
        {list.loading && !list.data ? (
          <Loading />
        ) : list.error ? (
          <ErrorNotice error={list.error} onRetry={list.reload} />
        ) : !list.data?.items.length ? (
          <Empty>No alerts yet. Failed payments, cards missing, usage over its threshold and delivery problems appear here.</Empty>
        ) : (
          <ul className="notifications" aria-label="Alerts">
            {list.data.items.map((n) => (
              <NotificationItem key={n.id} notification={n} onRead={() => mark(() => alertsApi.markRead(n.id))} />
            ))}
          </ul>
        )}
      </section>
      <UsageThresholds />
      <AlertWebhook />
    </>
  );
}

function NotificationItem({ notification: n, onRead }: { notification: Notification; onRead: () => void }) {
  const kind = KIND_LABELS[n.kind];
  return (
    <li className={n.read ? 'notification' : 'notification unread'} data-testid="notification">
      <div className="notification-head">
        <span className={`badge ${kind.tone}`}>{kind.label}</span>
        {!n.read ? <span className="badge info">Unread</span> : null}
        <strong>{n.title}</strong>
        <span className="muted notification-time">{formatInstant(n.createdAt)}</span>
      </div>
      <p>{n.message}</p>
      <div className="notification-actions">
        {n.locationId ? <Link to={`/sub-accounts/${encodeURIComponent(n.locationId)}`}>Open {n.subAccountName ?? n.locationId}</Link> : null}
        {!n.read ? (
          <Writes>
            <button type="button" className="button small secondary" onClick={onRead}>
              Mark read
            </button>
          </Writes>
        ) : null}
      </div>
    </li>
  );
}

/** The unread count beside "Notifications" in the top bar: read on every page change and after a mark. */
export function UnreadBadge({ path }: { path: string }) {
  const [unread, setUnread] = useState<number | null>(null);
  useEffect(() => {
    let live = true;
    const load = () =>
      alertsApi.unreadCount().then(
        (r) => live && setUnread(r.unread),
        () => undefined,
      );
    void load();
    window.addEventListener(UNREAD_CHANGED, load);
    const timer = window.setInterval(load, 60_000);
    return () => {
      live = false;
      window.removeEventListener(UNREAD_CHANGED, load);
      window.clearInterval(timer);
    };
  }, [path]);
  if (!unread) return null;
  return (
    <span className="badge bad nav-count" data-testid="unread-badge" aria-label={`${unread} unread`}>
      {unread}
    </span>
  );
}
