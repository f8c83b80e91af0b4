/**
 * The Stripe connection: paste a key (checked by the server with real Stripe calls) or, when the operator set up a
 * Connect platform, "Connect with Stripe" (OAuth, ConnectWithStripe.tsx); see what it is (test/live, key or Connect,
 * last 4, account) and what it may not do; the payment webhook; replace or disconnect; a revoked grant (billing held).
 */
import { useState, type FormEvent } from 'react';
import { api, type StripeConnection, type StripeConnectionWithConnect } from '../api';
import { ErrorNotice, Loading, Notice } from '../components/States';
import { useResource } from '../components/useResource';
import { Writes } from '../components/permissions';
import { useStripeDashboard } from '../components/StripeLink';
import { ConnectWithStripe, RevokedNotice } from './ConnectWithStripe';

export function StripeCard({ onChange }: { onChange: () => void }) {
  const connection = useResource(() => api.stripeConnection(), []);
  const [replacing, setReplacing] = useState(false);
  const [saved, setSaved] = useState<string | null>(null);
  const dashboard = useStripeDashboard();

  const update = (next: StripeConnection, message: string) => {
    connection.set(next);
    dashboard.reload(); // links into the Stripe Dashboard follow the new mode and account
    setReplacing(false);
    setSaved(message);
    onChange();
  };
  /** After "Connect with Stripe": the connection, and the Dashboard links, read again. */
  const connected = () => {
    connection.reload();
    dashboard.reload();
  };

  const c = connection.data as StripeConnectionWithConnect | null;
  const connect = c?.connect;
  const viaConnect = connect?.method === 'connect';
  return (
    <section className="card" id="stripe" aria-labelledby="stripe-title">
      <h2 id="stripe-title">
        Stripe{' '}
        {c?.connected && c.mode ? <span className={`badge ${c.mode === 'live' ? 'live' : 'test'}`}>{c.mode === 'live' ? 'Live mode' : 'Test mode'}</span> : null}
      </h2>
      {connection.loading && !c ? <Loading /> : null}
      {connection.error ? <ErrorNotice error={connection.error} onRetry={connection.reload} /> : null}
      {saved ? <Notice>{saved}</Notice> : null}
      {c?.connected ? (
        <>
          <dl className="facts">
            <dt>Account</dt>
            <dd>{c.accountName ?? c.accountId ?? 'Not readable with this key'}</dd>
            <dt>{viaConnect ? 'Connected with' : 'Key'}</dt>
            <dd>
              {viaConnect ? (
                'Stripe Connect (no key stored)'
              ) : (
                <>
                  {c.keyType === 'restricted' ? 'Restricted key' : 'Secret key'} ending in <code>{c.keyLast4}</code>
                </>
              )}
            </dd>
            <dt>Payment webhook</dt>
            <dd>{c.webhook.configured ? (c.webhook.createdByMeterbridge ? 'Created by Meterbridge' : 'Signing secret stored') : 'Not set up'}</dd>
            <dt>Meter-event error reports</dt>
            <dd>{c.errorReports.configured ? 'Event destination created by Meterbridge' : 'Not set up yet: Meterbridge retries every 10 minutes'}</dd>
          </dl>
          {c.missingPermissions.length > 0 ? (
            <div className="state state-warn" role="note">
              <p>This restricted key lacks permissions Meterbridge can do without, but you lose a feature:</p>
              <ul>
                {c.missingPermissions.map((p) => (
                  <li key={p.permission}>
                    {p.label} (<code>{p.permission}</code>)
                  </li>
                ))}
              </ul>
            </div>
          ) : null}
          <Writes>
          {!c.webhook.configured ? <WebhookSecretForm connection={c} onSaved={(next) => update(next, 'Webhook signing secret saved.')} /> : null}
          {replacing ? (
            <KeyForm label="New Stripe key" onConnected={(next) => update(next, 'Stripe key replaced.')} onCancel={() => setReplacing(false)} />
          ) : (
            <div className="actions">
              <button type="button" className="button secondary" onClick={() => setReplacing(true)}>
                {viaConnect ? 'Use a key instead' : 'Replace key'}
              </button>
              <DisconnectButton onDone={(next) => update(next, 'Stripe disconnected.')} />
            </div>
          )}
          {connect?.available && !viaConnect && !replacing ? <ConnectWithStripe label="Switch to Connect with Stripe" onDone={connected} /> : null}
          </Writes>
        </>
      ) : c ? (
        <>
          {connect ? <RevokedNotice connect={connect} /> : null}
          <p>Connect your own Stripe account: your clients are invoiced by you, in your account.</p>
          <Writes fallback={<p className="muted">An admin of your agency connects Stripe.</p>}>
            {connect?.available ? <ConnectWithStripe label={connect.deauthorized ? 'Connect with Stripe again' : 'Connect with Stripe'} onDone={connected} /> : null}
            {connect?.available ? <p className="muted">Or paste a key:</p> : null}
            <KeyForm label="Stripe secret or restricted key" onConnected={(next) => update(next, 'Stripe connected.')} />
          </Writes>
        </>
      ) : null}
    </section>
  );
}

function KeyForm({ label, onConnected, onCancel }: { label: string; onConnected: (c: StripeConnection) => void; onCancel?: () => void }) {
  const [key, setKey] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      onConnected(await api.connectStripe(key.trim()));
      setKey('');
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <form onSubmit={submit} className="stack">
      <label htmlFor="stripe-key">{label}</label>
      <input
        id="stripe-key"
        type="password"
        autoComplete="off"
        spellCheck={false}
        placeholder="sk_live_… or rk_live_…"
        value={key}
        onChange={(e) => setKey(e.target.value)}
        aria-describedby="stripe-key-help"
        required
      />
      <p id="stripe-key-help" className="muted">
        Stored encrypted; only its last 4 characters are shown again. A restricted key needs write access to customers, products, prices,
        subscriptions, billing meters and meter events.
      </p>
      {error ? <ErrorNotice error={error} /> : null}
      <div className="actions">
        <button type="submit" className="button" disabled={busy || key.trim() === ''}>
          {busy ? 'Checking with Stripe…' : 'Connect Stripe'}
        </button>
        {onCancel ? (
          <button type="button" className="button secondary" onClick={onCancel}>
            Cancel
          </button>
        ) : null}
      </div>
    </form>
  );
}

function WebhookSecretForm({ connection, onSaved }: { connection: StripeConnection; onSaved: (c: StripeConnection) => void }) {
  const [secret, setSecret] = useState('');
  const [error, setError] = useState<unknown>(null);
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setError(null);
    try {
      onSaved(await api.setWebhookSecret(secret.trim()));
    } catch (err) {
      setError(err);
    }
  };
  return (
    <form onSubmit={submit} className="stack">
      <p>
        To learn about failed payments, add a webhook endpoint in Stripe for <code>{connection.webhook.url}</code> (events invoice.payment_failed,
        invoice.paid, customer.subscription.deleted) and paste its signing secret.
      </p>
      <label htmlFor="webhook-secret">Webhook signing secret</label>
      <input id="webhook-secret" type="password" autoComplete="off" value={secret} onChange={(e) => setSecret(e.target.value)} placeholder="whsec_…" required />
      {error ? <ErrorNotice error={error} /> : null}
      <div className="actions">
        <button type="submit" className="button secondary" disabled={secret.trim() === ''}>
          Save signing secret
        </button>
      </div>
    </form>
  );
}

function DisconnectButton({ onDone }: { onDone: (c: StripeConnection) => void }) {
  const [confirming, setConfirming] = useState(false);
  const [error, setError] = useState<unknown>(null);
  if (!confirming) {
    return (
      <button type="button" className="button danger" onClick={() => setConfirming(true)}>
        Disconnect
      </button>
    );
  }
  return (
    <span className="confirm" role="group" aria-label="Confirm disconnect">
      <span>Stop billing through Stripe?</span>
      <button
        type="button"
        className="button danger"
        onClick={() =>
          api.disconnectStripe().then(onDone, (err: unknown) => {
            setError(err);
            setConfirming(false);
          })
        }
      >
        Yes, disconnect
      </button>
      <button type="button" className="button secondary" onClick={() => setConfirming(false)}>
        Keep it
      </button>
      {error ? <ErrorNotice error={error} /> : null}
    </span>
  );
}
