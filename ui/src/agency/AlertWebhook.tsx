/**
 * The outbound webhook of the Notifications page: its https URL, on/off and events; the Standard Webhooks signing
 * secret shown once when generated; and the delivery log (each alert sent to the webhook or a HighLevel workflow
 * trigger: status, attempts, last response code, next retry).
 */
import { type FormEvent, useEffect, useState } from 'react';
import { alertsApi } from '../alerts-api';
import type { AlertDelivery, AlertKind } from '../api-types-alerts';
import { Writes } from '../components/permissions';
import { Empty, ErrorNotice, Loading, Notice } from '../components/States';
import { useResource } from '../components/useResource';
import { formatInstant } from '../format';
import { KIND_LABELS } from './NotificationsPage';

const STATUS: Record<AlertDelivery['status'], { label: string; tone: 'ok' | 'warn' | 'bad' }> = {
  pending: { label: 'Retrying', tone: 'warn' },
  delivered: { label: 'Delivered', tone: 'ok' },
  failed: { label: 'Gave up', tone: 'bad' },
};
const CHANNEL: Record<AlertDelivery['channel'], string> = { webhook: 'Webhook', highlevel_trigger: 'HighLevel workflow' };

export function AlertWebhook() {
  const settings = useResource(() => alertsApi.settings(), []);
  const log = useResource(() => alertsApi.deliveries(), []);
  const [url, setUrl] = useState('');
  const [enabled, setEnabled] = useState(false);
  const [events, setEvents] = useState<AlertKind[]>([]);
  const [state, setState] = useState<{ busy?: boolean; error?: unknown; saved?: boolean; secret?: string }>({});
  useEffect(() => {
    if (!settings.data) return;
    setUrl(settings.data.webhookUrl ?? '');
    setEnabled(settings.data.webhookEnabled);
    setEvents(settings.data.webhookUrl ? settings.data.webhookEvents : (Object.keys(KIND_LABELS) as AlertKind[]));
  }, [settings.data]);
  const toggle = (kind: AlertKind) => setEvents((list) => (list.includes(kind) ? list.filter((k) => k !== kind) : [...list, kind]));
  const save = async (event: FormEvent) => {
    event.preventDefault();
    setState({ busy: true });
    try {
      const saved = await alertsApi.setSettings({ webhookUrl: url.trim() || null, webhookEnabled: enabled, webhookEvents: events });
      setState({ saved: true, secret: saved.signingSecret });
      settings.set(saved);
    } catch (error) {
      setState({ error });
    }
  };
  return (
    <>
      <section className="card" aria-labelledby="webhook-title">
        <h2 id="webhook-title">Outbound webhook</h2>
        <p className="muted">
          Meterbridge posts each alert to your URL, signed per the Standard Webhooks specification (headers webhook-id, webhook-timestamp,
          webhook-signature; verify with any Standard Webhooks library). It retries with a growing delay until your endpoint answers 2xx.
        </p>
        {settings.loading && !settings.data ? (
          <Loading />
        ) : settings.error ? (
          <ErrorNotice error={settings.error} onRetry={settings.reload} />
        ) : (
          <form onSubmit={save} className="stack">
            <label htmlFor="webhook-url">Endpoint URL (https)</label>
            <input id="webhook-url" type="url" value={url} maxLength={2000} placeholder="https://hooks.example.com/meterbridge" onChange={(e) => setUrl(e.target.value)} />
            <label className="checkbox">
              <input type="checkbox" checked={enabled} onChange={(e) => setEnabled(e.target.checked)} /> Send alerts to this URL
            </label>
            <fieldset className="event-choices">
              <legend>Events</legend>
              {(Object.keys(KIND_LABELS) as AlertKind[]).map((kind) => (
                <label key={kind} className="checkbox">
                  <input type="checkbox" checked={events.includes(kind)} onChange={() => toggle(kind)} /> {KIND_LABELS[kind].label}
                </label>
              ))}
            </fieldset>
            <p className="muted">{settings.data?.hasSigningSecret ? 'A signing secret exists (it was shown once when generated).' : 'A signing secret is generated on the first save.'}</p>
            <Writes>
              <div className="actions">
                <button type="submit" className="button" disabled={state.busy}>
                  {state.busy ? 'Saving…' : 'Save webhook'}
                </button>
              </div>
            </Writes>
            {state.error ? <ErrorNotice error={state.error} /> : null}
            {state.saved && !state.secret ? <Notice>Saved.</Notice> : null}
          </form>
        )}
        {state.secret ? <SecretOnce secret={state.secret} onDismiss={() => setState({})} /> : null}
      </section>
      <section className="card" aria-labelledby="deliveries-title">
        <div className="card-head">
          <h2 id="deliveries-title">Delivery log</h2>
          <button type="button" className="button small secondary" onClick={log.reload}>
            Refresh
          </button>
        </div>
        {log.loading && !log.data ? (
          <Loading />
        ) : log.error ? (
          <ErrorNotice error={log.error} onRetry={log.reload} />
        ) : !log.data?.items.length ? (
          <Empty>Nothing sent yet.</Empty>
        ) : (
          <DeliveryTable items={log.data.items} />
        )}
      </section>
    </>
  );
}

function SecretOnce({ secret, onDismiss }: { secret: string; onDismiss: () => void }) {
  return (
    <div className="new-key" role="region" aria-labelledby="secret-title">
      <h3 id="secret-title">New signing secret</h3>
      <p className="state-warn">
        <strong>Copy it now: you will not see it again.</strong> Your endpoint verifies each message with it.
      </p>
      <label htmlFor="signing-secret">Your signing secret (whsec_…)</label>
      <input id="signing-secret" className="mono" readOnly value={secret} onFocus={(e) => e.target.select()} spellCheck={false} />
      <div className="actions">
        <button type="button" className="button secondary small" onClick={onDismiss}>
          I have stored it
        </button>
      </div>
    </div>
  );
}

function DeliveryTable({ items }: { items: AlertDelivery[] }) {
  return (
    <div className="table-wrap">
      <table className="deliveries" data-testid="delivery-log">
        <caption className="visually-hidden">Deliveries, newest first</caption>
        <thead>
          <tr>
            <th scope="col">Alert</th>
            <th scope="col">Channel</th>
            <th scope="col">Status</th>
            <th scope="col">Attempts</th>
            <th scope="col">Last response</th>
            <th scope="col">Next retry</th>
          </tr>
        </thead>
        <tbody>
          {items.map((d) => (
            <tr key={d.id}>
              <th scope="row">{d.alertTitle}</th>
              <td title={d.target}>{CHANNEL[d.channel]}</td>
              <td>
                <span className={`badge ${STATUS[d.status].tone}`}>{STATUS[d.status].label}</span>
              </td>
              <td>{d.attempts}</td>
              <td title={d.lastError ?? undefined}>{d.lastStatusCode ?? (d.lastError ? 'No response' : '—')}</td>
              <td>{d.nextAttemptAt ? formatInstant(d.nextAttemptAt) : '—'}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
