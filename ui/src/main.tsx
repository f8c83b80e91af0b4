/**
 * The settings page HighLevel embeds. Sign-in is HighLevel's SSO (./sso.ts): outside HighLevel the page explains
 * how to open it; inside, agency users get the agency view and sub-account users their own sub-account, read-only.
 */
import { StrictMode, useEffect, useState } from 'react';
import { createRoot } from 'react-dom/client';
import { ApiError, installSession, type Session } from './api';
import { AgencyApp } from './agency/AgencyApp';
import { Loading } from './components/States';
import { SubAccountView } from './location/SubAccountView';
import { OutsideHighLevel, SignInFailed } from './Standalone';
import { isFramed, signIn, SsoError } from './sso';
import './styles.css';

type State = { kind: 'signing-in' } | { kind: 'outside' } | { kind: 'failed'; error: unknown } | { kind: 'ready'; session: Session };

function Root() {
  const [state, setState] = useState<State>(() => (isFramed() ? { kind: 'signing-in' } : { kind: 'outside' }));
  useEffect(() => {
    if (state.kind !== 'signing-in') return;
    signIn().then(
      (session) => {
        installSession(session, signIn);
        setState({ kind: 'ready', session });
      },
      (error: unknown) => setState(error instanceof SsoError && error.reason === 'outside-highlevel' ? { kind: 'outside' } : { kind: 'failed', error }),
    );
  }, [state.kind]);

  switch (state.kind) {
    case 'outside':
      return <OutsideHighLevel />;
    case 'signing-in':
      return (
        <main className="page narrow">
          <Loading label="Signing you in through HighLevel…" />
        </main>
      );
    case 'failed':
      return <SignInFailed error={state.error} onRetry={() => setState({ kind: 'signing-in' })} />;
    case 'ready': {
      const { user, demo } = state.session;
      const view = user.type === 'location' && user.activeLocation ? <SubAccountView locationId={user.activeLocation} userName={user.userName} role={user.role} /> : <AgencyApp user={user} />;
      return (
        <>
          {demo && <DemoBanner />}
          {view}
        </>
      );
    }
  }
}

/** Shown on every screen while the server runs `npm run demo`, so nobody mistakes it for real billing. */
function DemoBanner() {
  return (
    <div className="demo-banner" role="note">
      <strong>Demo</strong> — HighLevel and Stripe are simulated (a Stripe test double): nothing here is billed.
    </div>
  );
}

// Errors reaching here are programming errors; show them rather than a blank frame.
window.addEventListener('unhandledrejection', (event) => {
  if (event.reason instanceof ApiError) return;
  console.error(event.reason);
});

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <Root />
  </StrictMode>,
);
