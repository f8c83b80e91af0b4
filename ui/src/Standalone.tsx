/** What the page shows when it cannot sign in: opened outside HighLevel, or HighLevel's details were refused. */
import { useEffect, useState } from 'react';
import { ApiError } from './api';
import { SsoError } from './sso';

/** Opened directly in a tab: explains where the page lives. Offers the development host when the server has one. */
export function OutsideHighLevel() {
  const [devHost, setDevHost] = useState(false);
  useEffect(() => {
    fetch('/app/dev', { method: 'HEAD' }).then((res) => setDevHost(res.ok), () => undefined);
  }, []);
  return (
    <main className="page narrow">
      <h1>Open Meterbridge from HighLevel</h1>
      <p className="lead">This page runs inside HighLevel, which tells it who you are. Opened on its own, it cannot sign you in.</p>
      <ol className="steps">
        <li>Sign in to HighLevel (app.gohighlevel.com or your agency’s white-label domain).</li>
        <li>
          In the <strong>agency view</strong>, choose <strong>Usage billing</strong> in the left menu to connect Stripe, set prices and map
          sub-accounts.
        </li>
        <li>
          Inside a <strong>sub-account</strong>, the same menu entry shows that sub-account’s usage and charges.
        </li>
      </ol>
      <p>Not in the menu? Install Meterbridge from the HighLevel marketplace first.</p>
      {devHost ? (
        <p className="notice notice-ok">
          Developing locally? <a href="/app/dev">Open the development host</a> to use the page as a simulated HighLevel user.
        </p>
      ) : null}
    </main>
  );
}

/** What to tell a user whose sign-in the server refused, by the server's error code. */
function signInRefusal(error: ApiError): string {
  switch (error.code) {
    case 'install_required':
      return `${error.message} Then open Meterbridge from HighLevel’s menu again.`;
    case 'invalid_sso_payload':
      return `${error.message} Check that the app’s Shared Secret in HighLevel matches HIGHLEVEL_SHARED_SECRET on this server.`;
    case 'rate_limited':
      return 'Too many sign-ins from this address in the last minute; wait a minute, then try again.';
    default:
      return error.message;
  }
}

/** Sign-in failed: HighLevel did not answer, or the server refused the payload (not installed, wrong secret). */
export function SignInFailed({ error, onRetry }: { error: unknown; onRetry: () => void }) {
  const message =
    error instanceof SsoError
      ? 'HighLevel did not send your user details. Reload the page inside HighLevel; if it keeps happening, check that the app’s custom page points at this server.'
      : error instanceof ApiError
        ? signInRefusal(error)
        : 'Signing in failed.';
  return (
    <main className="page narrow">
      <h1>We could not sign you in</h1>
      <div className="state state-error" role="alert">
        <p>{message}</p>
      </div>
      <button type="button" className="button" onClick={onRetry}>
        Try again
      </button>
    </main>
  );
}
