/**
 * "Connect with Stripe" (Stripe Connect OAuth, server/stripe/connect-routes.ts): asks the server for a single-use link
 * (15 minutes) and opens it in a new tab — Stripe's authorize page cannot be shown inside HighLevel's frame. The
 * agency approves there and comes back to a page saying it is connected; "I'm done" reloads the status here.
 * Also the notice of a Connect grant the agency revoked in Stripe: billing held, usage kept.
 */
import { useState } from 'react';
import { api } from '../api';
import type { StripeConnectInfo } from '../api-types-connect';
import { ErrorNotice } from '../components/States';

export function ConnectWithStripe({ onDone, label = 'Connect with Stripe' }: { onDone: () => void; label?: string }) {
  const [opened, setOpened] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const start = async () => {
    setBusy(true);
    setError(null);
    // Opened before the request so the browser treats it as the click's own window (no pop-up blocker).
    const tab = window.open('about:blank', '_blank');
    try {
      const { authorizeUrl } = await api.startStripeConnect();
      if (tab) tab.location.href = authorizeUrl;
      else window.open(authorizeUrl, '_blank', 'noopener');
      setOpened(true);
    } catch (err) {
      tab?.close();
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <div className="stack">
      <div className="actions">
        <button type="button" className="button" onClick={start} disabled={busy}>
          {busy ? 'Opening Stripe…' : label}
        </button>
        {opened ? (
          <button type="button" className="button secondary" onClick={onDone}>
            I’ve finished on Stripe
          </button>
        ) : null}
      </div>
      <p className="muted">
        {opened
          ? 'Approve Meterbridge on Stripe’s page (new tab), then come back here. The link works for 15 minutes.'
          : 'You log in to Stripe and approve Meterbridge; no key is pasted or stored.'}
      </p>
      {error ? <ErrorNotice error={error} /> : null}
    </div>
  );
}

/** Shown when the agency revoked Meterbridge's access in Stripe. */
export function RevokedNotice({ connect }: { connect: StripeConnectInfo }) {
  if (!connect.deauthorized) return null;
  const when = connect.deauthorizedAt ? new Date(connect.deauthorizedAt).toLocaleString() : 'recently';
  return (
    <div className="state state-warn" role="alert">
      <p>
        Meterbridge’s access to your Stripe account was revoked in Stripe ({when}). Billing is on hold: usage is still counted and will be sent to Stripe
        once you connect the same account again.
      </p>
    </div>
  );
}
