/**
 * The meter-report log of a sub-account: every threshold crossing, the Stripe meter event that carried it, its
 * status and Stripe's message. A failed one can be sent again (same identifier, so Stripe never counts it twice); a
 * rejected one (Stripe refused it in an error report after taking it, so never counted it) is resent with a new
 * identifier once the cause is fixed; an unconfirmed one is left for reconciliation.
 */
import { useState } from 'react';
import { ApiError, api, type MeterReport, type ReportStatus } from '../api';
import { Empty, ErrorNotice, Loading, Notice } from '../components/States';
import { useResource } from '../components/useResource';
import { formatInstant, formatNumber, metricLabel } from '../format';
import { useCanChange } from '../components/permissions';

const STATUS_LABEL: Record<ReportStatus, string> = {
  pending: 'Pending',
  batched: 'Sending',
  sent: 'Sent',
  failed: 'Failed',
  rejected: 'Rejected',
  unconfirmed: 'Unconfirmed',
  held: 'Held: no subscription bills it',
};
const BAD: ReportStatus[] = ['failed', 'rejected', 'held'];
const PAGE_SIZE = 25;

/** What to say when a retry is refused, by the server's error code. */
function retryRefusal(err: unknown): string {
  if (!(err instanceof ApiError)) return (err as Error).message;
  switch (err.code) {
    case 'no_stripe_customer':
      return `${err.message} Choose a customer in the Billing card above, then retry.`;
    case 'not_retryable':
      return `${err.message} The log now shows where it stands.`;
    default:
      return err.message;
  }
}

/** The sub-account’s meter-report log (agency users): filter by status, page, retry a failed or rejected batch. */
export function ReportLog({ locationId, onRetried, refreshKey = 0 }: { locationId: string; onRetried: () => void; refreshKey?: number }) {
  const canChange = useCanChange();
  const [status, setStatus] = useState<ReportStatus | ''>('');
  const [page, setPage] = useState(1);
  const log = useResource(() => api.meterReports(locationId, { status: status || undefined, page, pageSize: PAGE_SIZE }), [locationId, status, page, refreshKey]);
  const [message, setMessage] = useState<{ tone: 'ok' | 'error'; text: string } | null>(null);
  const pages = log.data ? Math.max(1, Math.ceil(log.data.total / PAGE_SIZE)) : 1;

  const retry = async (report: MeterReport) => {
    setMessage(null);
    try {
      const result = await api.retryBatch(locationId, report.batchId!);
      setMessage({
        tone: 'ok',
        text: result.newIdentifier
          ? 'Queued: Stripe never counted the rejected event, so its units are sent again within a few seconds, with a new identifier, to the customer the sub-account is mapped to now.'
          : 'Queued: the meter event is sent again within a few seconds, with the same identifier.',
      });
      onRetried();
    } catch (err) {
      if (err instanceof ApiError && err.code === 'not_retryable') log.reload();
      setMessage({ tone: 'error', text: retryRefusal(err) });
    }
  };

  return (
    <section className="card" aria-labelledby="log-title">
      <h2 id="log-title">Meter reports</h2>
      <div className="toolbar">
        <label htmlFor="log-status">Show</label>
        <select
          id="log-status"
          value={status}
          onChange={(e) => {
            setStatus(e.target.value as ReportStatus | '');
            setPage(1);
          }}
        >
          <option value="">All ({log.data ? Object.values(log.data.counts).reduce((a, b) => a + b, 0) : '…'})</option>
          {(Object.keys(STATUS_LABEL) as ReportStatus[]).map((s) => (
            <option key={s} value={s}>
              {STATUS_LABEL[s]} ({log.data?.counts[s] ?? '…'})
            </option>
          ))}
        </select>
        <button type="button" className="button secondary small" onClick={onRetried}>
          Refresh
        </button>
      </div>
      {message ? <Notice tone={message.tone}>{message.text}</Notice> : null}
      {log.error ? <ErrorNotice error={log.error} onRetry={log.reload} /> : null}
      {log.loading && !log.data ? <Loading /> : null}
      {log.data && log.data.items.length === 0 ? <Empty>No meter report{status ? ` with status “${STATUS_LABEL[status]}”` : ''} yet.</Empty> : null}
      {log.data && log.data.items.length > 0 ? (
        <div className="table-wrap">
          <table className="log">
            <caption className="visually-hidden">Meter reports, newest first</caption>
            <thead>
              <tr>
                <th scope="col">Crossed at</th>
                <th scope="col">Metric</th>
                <th scope="col" className="num">Units</th>
                <th scope="col">Status</th>
                <th scope="col">Stripe</th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {log.data.items.map((r) => (
                <tr key={r.id} data-status={r.status}>
                  <td>{formatInstant(r.crossedAt)}</td>
                  <td>{metricLabel(r.metric)}</td>
                  <td className="num">{formatNumber(r.units)}</td>
                  <td>
                    <span className={`badge ${r.status === 'sent' ? 'ok' : BAD.includes(r.status) ? 'bad' : 'warn'}`}>{STATUS_LABEL[r.status]}</span>
                  </td>
                  <td className="stripe-cell">
                    {r.lastError ? (
                      <span className="error-text">
                        {r.status === 'rejected' ? `Stripe rejected this event${r.rejectedCode ? ` (${r.rejectedCode})` : ''}: ` : ''}
                        {r.lastError}
                      </span>
                    ) : null}
                    {r.identifier ? (
                      <span className="muted small block">
                        {r.meterEventName} · <code>{r.identifier}</code>
                        {r.attempts ? ` · ${r.attempts} attempt${r.attempts === 1 ? '' : 's'}` : ''}
                        {r.sentAt ? ` · sent ${formatInstant(r.sentAt)}` : ''}
                      </span>
                    ) : (
                      <span className="muted small">Not sent yet</span>
                    )}
                  </td>
                  <td>
                    {BAD.includes(r.status) && r.batchId !== null && canChange ? (
                      <button
                        type="button"
                        className="button small"
                        onClick={() => retry(r)}
                        aria-label={`${r.status === 'rejected' ? 'Resend' : 'Retry'} the ${metricLabel(r.metric)} report of ${formatInstant(r.crossedAt)}`}
                      >
                        {r.status === 'rejected' ? 'Resend' : 'Retry'}
                      </button>
                    ) : null}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      {pages > 1 ? (
        <nav className="pager" aria-label="Meter report pages">
          <button type="button" className="button secondary" disabled={page <= 1} onClick={() => setPage(page - 1)}>
            Newer
          </button>
          <span>
            Page {page} of {pages}
          </span>
          <button type="button" className="button secondary" disabled={page >= pages} onClick={() => setPage(page + 1)}>
            Older
          </button>
        </nav>
      ) : null}
    </section>
  );
}
