/**
 * Stripe objects by name, linked to the Stripe Dashboard: the agency's connection (mode and account) is read once
 * for the agency view (StripeDashboardProvider) and every link is built by ui/src/stripe-dashboard.ts. The raw id
 * (`cus_…`, `sub_…`) is never the visible text: it is the link's title, shown on hover. A link opens a new tab, which
 * its arrow says (styles.css `a.stripe-link`, with words for screen readers).
 */
import { createContext, useContext, useMemo, type ReactNode } from 'react';
import { api } from '../api';
import { stripeDashboardTarget, stripeDashboardUrl, type StripeDashboardTarget, type StripeObjectKind } from '../stripe-dashboard';
import { useResource } from './useResource';

/** What the agency view knows of its Stripe Dashboard, and how to read it again after the connection changed. */
interface StripeDashboardState {
  target: StripeDashboardTarget | null;
  reload: () => void;
}

const StripeDashboardContext = createContext<StripeDashboardState>({ target: null, reload: () => undefined });

/** Reads the agency's Stripe connection once for everything inside (a failure leaves links as plain names). */
export function StripeDashboardProvider({ children }: { children: ReactNode }) {
  const connection = useResource(() => api.stripeConnection().catch(() => null), []);
  const target = stripeDashboardTarget(connection.data);
  const mode = target?.mode;
  const accountId = target?.accountId;
  const value = useMemo(
    () => ({ target: mode ? { mode, accountId: accountId ?? null } : null, reload: connection.reload }),
    [mode, accountId, connection.reload],
  );
  return <StripeDashboardContext.Provider value={value}>{children}</StripeDashboardContext.Provider>;
}

/** The agency's Stripe Dashboard (null while unknown or not connected) and `reload` for after a connection change. */
export function useStripeDashboard(): StripeDashboardState {
  return useContext(StripeDashboardContext);
}

/** The words a link shows when the page has no name for the object. */
const UNNAMED: Record<StripeObjectKind, string> = { customer: 'Stripe customer', subscription: 'Open in Stripe' };

/**
 * One Stripe object: `children` (its name; else "Stripe customer" / "Open in Stripe") linking to its Dashboard page in
 * a new tab, the id as title. While the Dashboard is unknown (not connected), the same words without a link.
 */
export function StripeLink({ kind, id, children, testId }: { kind: StripeObjectKind; id: string; children?: ReactNode; testId?: string }) {
  const { target } = useStripeDashboard();
  const text = children ?? UNNAMED[kind];
  if (!target) {
    return (
      <span title={id} data-testid={testId}>
        {text}
      </span>
    );
  }
  return (
    <a href={stripeDashboardUrl(target, kind, id)} target="_blank" rel="noopener noreferrer" title={id} data-testid={testId} className="stripe-link">
      {text}
    </a>
  );
}
