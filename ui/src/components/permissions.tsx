/**
 * What the signed-in user may change. The server decides (403 `admin_required` for an agency user who is not an
 * admin, server/access/policy.ts); the page follows it so nobody is shown a control that can only fail: an agency
 * admin (HighLevel SSO `role` "admin") sees every control, other agency users see the same page without them.
 */
import { createContext, useContext, type ReactNode } from 'react';

/** HighLevel's SSO role that may change billing (the server's BILLING_ADMIN_ROLE). */
export const ADMIN_ROLE = 'admin';

const CanChange = createContext(true);

/** Provides whether the user may change billing to everything below it. */
export function PermissionsProvider({ canChange, children }: { canChange: boolean; children: ReactNode }) {
  return <CanChange.Provider value={canChange}>{children}</CanChange.Provider>;
}

/** True when the user may change billing (agency admins). */
export function useCanChange(): boolean {
  return useContext(CanChange);
}

/** Renders `children` (controls that change something) only for users who may change billing, else `fallback`. */
export function Writes({ children, fallback = null }: { children: ReactNode; fallback?: ReactNode }) {
  return <>{useCanChange() ? children : fallback}</>;
}

/**
 * Editing controls that also show current values (inputs, checkboxes, selects): for users who may not change
 * billing they stay visible but disabled (a native `<fieldset disabled>`), so the page still reads as it is.
 */
export function Editing({ children }: { children: ReactNode }) {
  return (
    <fieldset className="plain" disabled={!useCanChange()}>
      {children}
    </fieldset>
  );
}
