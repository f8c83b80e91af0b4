/**
 * The agency view: a top bar with its sections, and the section the path names. Its Stripe connection is read once
 * for every link into the Stripe Dashboard (StripeDashboardProvider).
 */
import { api, type SessionUser } from '../api';
import { useResource } from '../components/useResource';
import { setCustomMetricLabels } from '../format';
import { ADMIN_ROLE, PermissionsProvider } from '../components/permissions';
import { StripeDashboardProvider } from '../components/StripeLink';
import { Link, useLocation } from '../router';
import { UsageApiPage } from '../usage-api/UsageApiPage';
import { UsageDashboard } from '../usage/UsageDashboard';
import { ActivityPage } from './ActivityPage';
import { InvoicesPage } from './InvoicesPage';
import { NotificationsPage, UnreadBadge } from './NotificationsPage';
import { CataloguePage } from './CataloguePage';
import { Overview } from './Overview';
import { PricingPage } from './PricingPage';
import { ReconciliationPage } from './Reconciliation';
import { SubAccountPage } from './SubAccountPage';
import { SubAccountsPage } from './SubAccountsPage';
import { WalletsPage } from './WalletsPage';

const SECTIONS = [
  { to: '/', label: 'Overview' },
  { to: '/pricing', label: 'Pricing' },
  { to: '/catalogue', label: 'Catalogue' },
  { to: '/sub-accounts', label: 'Sub-accounts' },
  { to: '/invoices', label: 'Invoices' },
  { to: '/wallets', label: 'Wallets' },
  { to: '/usage', label: 'Usage' },
  { to: '/usage-api', label: 'Usage API' },
  { to: '/reconciliation', label: 'Reconciliation' },
  { to: '/activity', label: 'Activity' },
  { to: '/notifications', label: 'Notifications' },
];

export function AgencyApp({ user }: { user: SessionUser }) {
  const { path } = useLocation();
  const section = path === '/' ? '/' : `/${path.split('/')[1] ?? ''}`;
  const subAccount = /^\/sub-accounts\/(.+)$/.exec(path)?.[1];
  const canChange = user.role === ADMIN_ROLE;
  // Custom metrics' labels for every screen (metricLabel); until they arrive (or if they cannot), their keys show.
  const customMetrics = useResource(() => api.customMetrics().catch(() => null), []);
  if (customMetrics.data) setCustomMetricLabels(customMetrics.data.metrics);
  return (
    <PermissionsProvider canChange={canChange}>
      <StripeDashboardProvider>
      <header className="topbar">
        <span className="brand">Meterbridge</span>
        <nav aria-label="Sections">
          <ul>
            {SECTIONS.map((s) => (
              <li key={s.to}>
                <Link to={s.to} aria-current={section === s.to ? 'page' : undefined}>
                  {s.label}
                  {s.to === '/notifications' ? <UnreadBadge path={path} /> : null}
                </Link>
              </li>
            ))}
          </ul>
        </nav>
        <span className="user" title={user.userId}>
          {user.userName ?? 'Agency user'}
        </span>
      </header>
      <main className="page">
        {!canChange && (
          <p className="notice read-only-notice" role="note">
            You can look but not change: only your agency’s admins can change billing (your HighLevel role is “{user.role}”).
          </p>
        )}
        {subAccount ? (
          <SubAccountPage key={subAccount} locationId={decodeURIComponent(subAccount)} />
        ) : section === '/pricing' ? (
          <PricingPage />
        ) : section === '/catalogue' ? (
          <CataloguePage />
        ) : section === '/sub-accounts' ? (
          <SubAccountsPage />
        ) : section === '/invoices' ? (
          <InvoicesPage />
        ) : section === '/wallets' ? (
          <WalletsPage />
        ) : section === '/usage' ? (
          <UsageDashboard />
        ) : section === '/usage-api' ? (
          <UsageApiPage />
        ) : section === '/reconciliation' ? (
          <ReconciliationPage />
        ) : section === '/activity' ? (
          <ActivityPage />
        ) : section === '/notifications' ? (
          <NotificationsPage />
        ) : section === '/' ? (
          <Overview />
        ) : (
          <NotFound />
        )}
      </main>
      </StripeDashboardProvider>
    </PermissionsProvider>
  );
}

function NotFound() {
  return (
    <section className="card">
      <h1>Page not found</h1>
      <p>
        <Link to="/">Back to the overview</Link>
      </p>
    </section>
  );
}
