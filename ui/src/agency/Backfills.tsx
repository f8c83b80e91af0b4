/**
 * Backfills of one sub-account, for the agency: start one (date range, channels, bill or hold), follow the jobs'
 * progress (polled while one is queued or running), cancel one, bill what one imported.
 */
import { useEffect, useRef, useState, type FormEvent } from 'react';
import { api, type Backfill, type BackfillChannel, type BackfillStatus } from '../api';
import { Empty, ErrorNotice, Loading, Notice } from '../components/States';
import { useResource } from '../components/useResource';
import { addDays, formatDay, formatInstant, formatNumber, metricLabel, today } from '../format';

const CHANNELS: Array<{ value: BackfillChannel; label: string }> = [
  { value: 'SMS', label: 'SMS' },
  { value: 'Call', label: 'Calls' },
  { value: 'Email', label: 'Email' },
  { value: 'WhatsApp', label: 'WhatsApp' },
];
const STATUS: Record<BackfillStatus, { label: string; tone: 'ok' | 'warn' | 'bad' | '' }> = {
  queued: { label: 'Queued', tone: '' },
  running: { label: 'Running', tone: 'warn' },
  completed: { label: 'Completed', tone: 'ok' },
  failed: { label: 'Failed', tone: 'bad' },
  cancelled: { label: 'Cancelled', tone: '' },
};
/** How often the list is re-read while a backfill is queued or running. */
export const BACKFILL_POLL_MS = 2000;

const isActive = (b: Backfill) => b.status === 'queued' || b.status === 'running';

/** The backfill card of the sub-account page. */
export function Backfills({ locationId, onChanged }: { locationId: string; onChanged?: () => void }) {
  const list = useResource(() => api.backfills(locationId), [locationId]);
  const [message, setMessage] = useState<string | null>(null);
  const active = list.data?.items.some(isActive) ?? false;
  // A backfill that finishes has counted usage: the page's other panels read it again.
  const wasActive = useRef(false);
  useEffect(() => {
    if (wasActive.current && !active) onChanged?.();
    wasActive.current = active;
  }, [active, onChanged]);
  useEffect(() => {
    if (!active) return;
    const timer = window.setInterval(list.reload, BACKFILL_POLL_MS);
    return () => window.clearInterval(timer);
  }, [active, list.reload]);
  const done = (text: string) => {
    setMessage(text);
    list.reload();
    onChanged?.();
  };
  return (
    <section className="card" aria-labelledby="backfill-title">
      <h2 id="backfill-title">Backfill from HighLevel</h2>
      <p className="muted small">
        Import this sub-account’s past SMS, calls, email and WhatsApp from HighLevel’s message export. Messages already counted are skipped. Imported
        usage is held (not billed) unless you bill it.
      </p>
      <StartBackfillForm locationId={locationId} disabled={active} onStarted={(b) => done(`Backfill ${b.id} queued: it starts within a few seconds.`)} />
      {message ? <Notice>{message}</Notice> : null}
      {list.error ? <ErrorNotice error={list.error} onRetry={list.reload} /> : null}
      {list.loading && !list.data ? <Loading /> : null}
      {list.data && list.data.items.length === 0 ? <Empty>No backfill yet.</Empty> : null}
      {list.data && list.data.items.length > 0 ? <BackfillTable locationId={locationId} items={list.data.items} onChanged={done} /> : null}
    </section>
  );
}

/** The range as the API takes it: from the start of `from` to the end of `to` (UTC), never past now. */
function rangeOf(from: string, to: string): { startAt: string; endAt: string } {
  const end = Math.min(Date.parse(`${addDays(to, 1)}T00:00:00Z`), Date.now());
  return { startAt: `${from}T00:00:00.000Z`, endAt: new Date(end).toISOString() };
}

function StartBackfillForm({ locationId, disabled, onStarted }: { locationId: string; disabled: boolean; onStarted: (b: Backfill) => void }) {
  const [from, setFrom] = useState(() => addDays(today(), -30));
  const [to, setTo] = useState(() => addDays(today(), -1));
  const [channels, setChannels] = useState<BackfillChannel[]>(CHANNELS.map((c) => c.value));
  const [bill, setBill] = useState(false);
  const [state, setState] = useState<{ busy?: boolean; error?: unknown }>({});
  const toggle = (channel: BackfillChannel, on: boolean) => setChannels((cs) => (on ? [...cs, channel] : cs.filter((c) => c !== channel)));
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setState({ busy: true });
    try {
      onStarted(await api.startBackfill(locationId, { ...rangeOf(from, to), channels, bill }));
      setState({});
    } catch (error) {
      setState({ error });
    }
  };
  return (
    <form onSubmit={submit} className="backfill-form" aria-label="Start a backfill">
      <div className="range">
        <label htmlFor="backfill-from">From</label>
        <input id="backfill-from" type="date" value={from} max={to} onChange={(e) => setFrom(e.target.value)} required />
        <label htmlFor="backfill-to">To (inclusive)</label>
        <input id="backfill-to" type="date" value={to} min={from} max={today()} onChange={(e) => setTo(e.target.value)} required />
      </div>
      <fieldset className="channels">
        <legend>Channels</legend>
        {CHANNELS.map((c) => (
          <label key={c.value} className="checkbox">
            <input type="checkbox" checked={channels.includes(c.value)} onChange={(e) => toggle(c.value, e.target.checked)} />
            {c.label}
          </label>
        ))}
      </fieldset>
      <label className="checkbox">
        <input type="checkbox" checked={bill} onChange={(e) => setBill(e.target.checked)} />
        Bill imported usage as it is imported (otherwise it is held until you bill it)
      </label>
      {state.error ? <ErrorNotice error={state.error} /> : null}
      <div className="actions">
        <button type="submit" className="button" disabled={state.busy || disabled || channels.length === 0 || !from || !to}>
          Start backfill
        </button>
        {disabled ? <span className="muted small">One backfill at a time: wait for the running one or cancel it.</span> : null}
      </div>
    </form>
  );
}

function BackfillTable({ locationId, items, onChanged }: { locationId: string; items: Backfill[]; onChanged: (message: string) => void }) {
  return (
    <div className="table-wrap">
      <table className="backfills">
        <caption className="visually-hidden">Backfills, newest first</caption>
        <thead>
          <tr>
            <th scope="col">Range</th>
            <th scope="col">Status</th>
            <th scope="col">Progress</th>
            <th scope="col">
              <span className="visually-hidden">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {items.map((b) => (
            <tr key={b.id} data-backfill={b.id} data-status={b.status}>
              <td>
                {formatDay(b.startAt)} – {formatDay(new Date(Date.parse(b.endAt) - 1).toISOString())}
                <span className="muted small block">{b.channels.join(', ')}</span>
              </td>
              <td>
                <span className={`badge ${STATUS[b.status].tone}`} data-testid="backfill-status">
                  {STATUS[b.status].label}
                </span>
                {b.currentChannel && isActive(b) ? <span className="muted small block">Reading {b.currentChannel}</span> : null}
                {b.bill ? <span className="muted small block">{b.billedAt ? `Billed ${formatInstant(b.billedAt)}` : 'Billed as imported'}</span> : <span className="muted small block">Held</span>}
              </td>
              <td>
                <Progress backfill={b} />
              </td>
              <td className="actions-cell">
                <BackfillActions locationId={locationId} backfill={b} onChanged={onChanged} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function Progress({ backfill: b }: { backfill: Backfill }) {
  return (
    <>
      <span className="small" data-testid="backfill-progress">
        {formatNumber(b.pages)} page{b.pages === 1 ? '' : 's'} · {formatNumber(b.messagesSeen)} seen · {formatNumber(b.messagesImported)} imported ·{' '}
        {formatNumber(b.messagesDuplicate)} already known · {formatNumber(b.messagesSkipped)} skipped
      </span>
      {b.lastError ? (
        <span className="error-text small block">
          {b.lastError}
          {b.nextAttemptAt ? ` — retried ${formatInstant(b.nextAttemptAt)}` : ''}
        </span>
      ) : null}
    </>
  );
}

/** Cancel (queued or running) and "Bill imported usage" (held usage of a backfill that is not billing yet). */
function BackfillActions({ locationId, backfill: b, onChanged }: { locationId: string; backfill: Backfill; onChanged: (message: string) => void }) {
  const [state, setState] = useState<{ busy?: boolean; error?: unknown }>({});
  const run = async (action: () => Promise<string>) => {
    setState({ busy: true });
    try {
      onChanged(await action());
      setState({});
    } catch (error) {
      setState({ error });
    }
  };
  const cancel = () => run(async () => (await api.cancelBackfill(locationId, b.id), `Backfill ${b.id} cancelled: what it imported stays.`));
  const bill = () =>
    run(async () => {
      const result = await api.billBackfill(locationId, b.id);
      const due = result.unitsDue.filter((u) => u.units > 0).map((u) => `${formatNumber(u.units)} ${metricLabel(u.metric)}`);
      return `Imported usage of backfill ${b.id} billed: ${formatNumber(result.recordsOffered)} record${result.recordsOffered === 1 ? '' : 's'} offered${due.length ? `; units due: ${due.join(', ')}` : ''}.`;
    });
  return (
    <>
      {isActive(b) ? (
        <button type="button" className="button danger small" disabled={state.busy} onClick={cancel} aria-label={`Cancel backfill ${b.id}`}>
          Cancel
        </button>
      ) : null}
      {!b.bill && b.status !== 'queued' && b.messagesImported > 0 ? (
        <button type="button" className="button small" disabled={state.busy} onClick={bill} aria-label={`Bill imported usage of backfill ${b.id}`}>
          Bill imported usage
        </button>
      ) : null}
      {state.error ? <ErrorNotice error={state.error} /> : null}
    </>
  );
}
