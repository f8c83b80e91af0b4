/**
 * Who may do what in the settings API. Agency users act on their own agency and its sub-accounts; location users
 * read their own sub-account only; everything else is 403. One function, used by the one gatekeeper, so the
 * authorization matrix test covers every route through it.
 */
import type { Access, Caller } from '../http/api-route';
import { forbidden } from '../http/errors';

/** The sub-account a route acts on, as stored (null when the route has none). */
export interface TargetSubAccount {
  locationId: string;
  companyId: string;
}

/**
 * @throws AppError 403 when the caller may not use `access` on `target`.
 */
export function authorize(caller: Caller, access: Exclude<Access, 'public'>, target: TargetSubAccount | null): void {
  if (access === 'agency') {
    if (caller.type !== 'agency') throw forbidden('Only agency users can do this.');
    return;
  }
  if (!target) throw forbidden();
  if (target.companyId !== caller.companyId) throw forbidden('This sub-account belongs to another agency.');
  if (caller.type === 'agency') return;
  if (access === 'sub-account:write') throw forbidden('Sub-account users can only read their own usage.');
  if (caller.activeLocation !== target.locationId) throw forbidden('You can only see your own sub-account.');
}
