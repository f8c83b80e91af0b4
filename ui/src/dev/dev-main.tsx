/**
 * The development host (/app/dev, served outside production only): plays HighLevel's parent window for a
 * developer. It frames the page and answers its REQUEST_USER_DATA with a payload encrypted here, in the browser,
 * with the Shared Secret the developer types (kept in memory only). Nothing on the server trusts this page: the
 * payload is checked exactly like HighLevel's, so without the right secret it signs nobody in.
 */
import { StrictMode, useEffect, useRef, useState, type FormEvent } from 'react';
import { createRoot } from 'react-dom/client';
import { encryptSsoPayload } from './sso-encrypt';
import '../styles.css';

interface SimulatedUser {
  type: 'agency' | 'location';
  companyId: string;
  activeLocation: string;
  userId: string;
  userName: string;
  role: string;
}

const STORAGE_KEY = 'meterbridge-dev-user';
/** `npm run demo` links here with the demo's user and Shared Secret in the query (`?demo=1&companyId=…&secret=…`). */
const query = new URLSearchParams(window.location.search);
const fromQuery = (): Partial<SimulatedUser> => {
  const picked: Partial<SimulatedUser> = {};
  for (const name of ['type', 'companyId', 'activeLocation', 'userId', 'userName', 'role'] as const) {
    const value = query.get(name);
    if (value) (picked as Record<string, string>)[name] = value;
  }
  return picked;
};
const initialUser = (): SimulatedUser => {
  try {
    return { ...defaults, ...(JSON.parse(localStorage.getItem(STORAGE_KEY) ?? '{}') as Partial<SimulatedUser>), ...fromQuery() };
  } catch {
    return { ...defaults, ...fromQuery() };
  }
};
const isDemo = query.get('demo') === '1';
const defaults: SimulatedUser = { type: 'agency', companyId: '', activeLocation: '', userId: 'dev-user', userName: 'Developer', role: 'admin' };

function DevHost() {
  const [user, setUser] = useState(initialUser);
  const [secret, setSecret] = useState(query.get('secret') ?? '');
  const [session, setSession] = useState<{ user: SimulatedUser; secret: string; key: number } | null>(null);
  const frame = useRef<HTMLIFrameElement>(null);

  useEffect(() => {
    if (!session) return;
    const onMessage = async (event: MessageEvent) => {
      if (event.source !== frame.current?.contentWindow || (event.data as { message?: string })?.message !== 'REQUEST_USER_DATA') return;
      const { user: u } = session;
      const payload = await encryptSsoPayload(
        {
          userId: u.userId,
          companyId: u.companyId,
          role: u.role,
          type: u.type,
          userName: u.userName,
          email: `${u.userId}@example.invalid`,
          ...(u.type === 'location' || u.activeLocation ? { activeLocation: u.activeLocation } : {}),
        },
        session.secret,
      );
      frame.current?.contentWindow?.postMessage({ message: 'REQUEST_USER_DATA_RESPONSE', payload }, window.location.origin);
    };
    window.addEventListener('message', onMessage);
    return () => window.removeEventListener('message', onMessage);
  }, [session]);

  const open = (event: FormEvent) => {
    event.preventDefault();
    localStorage.setItem(STORAGE_KEY, JSON.stringify(user));
    setSession({ user, secret, key: Date.now() });
  };
  const field = (name: keyof SimulatedUser, label: string, required = false) => (
    <div className="row">
      <label htmlFor={`dev-${name}`}>{label}</label>
      <input id={`dev-${name}`} value={user[name]} required={required} onChange={(e) => setUser({ ...user, [name]: e.target.value })} />
    </div>
  );

  return (
    <div className="dev-host">
      <form className="card dev-form" onSubmit={open} aria-labelledby="dev-title">
        {isDemo && (
          <p className="demo-banner" role="note">
            <strong>Demo</strong> — simulated HighLevel and Stripe. The demo agency’s owner is filled in: press “Open the page as this user”.
          </p>
        )}
        <h1 id="dev-title">Development host</h1>
        <p className="muted small">Plays HighLevel: frames the page and signs it in as this user, encrypting with your app’s Shared Secret.</p>
        <div className="row">
          <label htmlFor="dev-type">User type</label>
          <select id="dev-type" value={user.type} onChange={(e) => setUser({ ...user, type: e.target.value as SimulatedUser['type'] })}>
            <option value="agency">Agency user</option>
            <option value="location">Sub-account user</option>
          </select>
        </div>
        {field('companyId', 'Company (agency) id', true)}
        {field('activeLocation', user.type === 'location' ? 'Sub-account (location) id' : 'Active sub-account id (optional)', user.type === 'location')}
        {field('userId', 'User id', true)}
        {field('userName', 'User name')}
        {field('role', 'Role', true)}
        <div className="row">
          <label htmlFor="dev-secret">Shared Secret (HIGHLEVEL_SHARED_SECRET)</label>
          <input id="dev-secret" type="password" autoComplete="off" value={secret} required onChange={(e) => setSecret(e.target.value)} />
        </div>
        <button type="submit" className="button">
          Open the page as this user
        </button>
      </form>
      <div className="dev-frame">
        {session ? <iframe key={session.key} ref={frame} title="Meterbridge settings page" src="/app/" /> : <p className="muted">The page opens here.</p>}
      </div>
    </div>
  );
}

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <DevHost />
  </StrictMode>,
);
