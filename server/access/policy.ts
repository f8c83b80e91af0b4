/**
 * Who may do what in the settings API. Agency users act on their own agency and its sub-accounts — its admins
 * change things, its other users only read; location users read their own sub-account only, and its admins also open
 * its card pages (`sub-account:client`); everything else is 403. One function, used by the one gatekeeper, so the
 * authorization matrix test covers every route through it.
 */
import type { Access, Caller } from '../http/api-route';
import { AppError, forbidden } from '../http/errors';

/** The sub-account a route acts on, as stored (null when the route has none). */
export interface TargetSubAccount {
  locationId: string;
  companyId: string;
}

/** Whether a request reads or changes something: GET and HEAD read, every other method writes. */
export type Intent = 'read' | 'write';

/**
 * HighLevel's SSO `role` that may change billing: "admin". HighLevel's user-context payload carries `role`
 * ("admin" or "user", marketplace docs "User Context in Marketplace Apps"); an agency's admins manage its
 * billing, its other users (and any role HighLevel may add) read it.
 */
export const BILLING_ADMIN_ROLE = 'admin';

/**
 * @throws AppError 403 `forbidden` when the caller may not use `access` on `target`, and 403 `admin_required` when an
 *   agency user who is not an admin tries to change something (`intent` write), or a location user who is not an
 *   admin writes on a `sub-account:client` route.
 */
export function authorize(caller: Caller, access: Exclude<Access, 'public'>, target: TargetSubAccount | null, intent: Intent = 'read'): void {
  if (access === 'agency') {
    if (caller.type !== 'agency') throw forbidden('Only agency users can do this.');
    requireAdminToWrite(caller, intent);
    return;
  }
  if (!target) throw forbidden();
  if (target.companyId !== caller.companyId) throw forbidden('This sub-account belongs to another agency.');
  if (caller.type === 'agency') return requireAdminToWrite(caller, intent);
  if (access === 'sub-account:client') {
    if (caller.activeLocation !== target.locationId) throw forbidden('You can only see your own sub-account.');
    if (intent === 'write' && caller.role !== BILLING_ADMIN_ROLE) {
      throw new AppError(403, 'admin_required', `Only an admin of this sub-account can change its card; your HighLevel role is "${caller.role}".`);
    }
    return;
  }
  if (access === 'sub-account:write' || intent === 'write') throw forbidden('Sub-account users can only read their own usage.');
  if (caller.activeLocation !== target.locationId) throw forbidden('You can only see your own sub-account.');
}

function requireAdminToWrite(caller: Caller, intent: Intent): void {
  if (intent === 'write' && caller.role !== BILLING_ADMIN_ROLE) {
    throw new AppError(
      'admin_required',
      `Only an agency admin can change billing settings; your HighLevel role is "${caller.role}". Ask an admin of your agency.`,
    );
  }
}
