/**
 * The suspension API, declared as data (server/http/api-route.ts) so the authorization matrix and the OpenAPI
 * document cover it: the agency's policy (read by its users, changed by its admins), the suspended sub-accounts of
 * its list, one sub-account's suspension (read by the agency and by the client's own users: their page shows the
 * payment-required state), and "Resume now" (agency admins).
 */
import { defineRoute, type ApiRoute } from '../http/api-route';
import * as s from './schemas';
import type { Suspension } from './suspension';

export { createSuspension } from './suspension';

/** The suspension routes (see the module comment), for the composition root. */
export function suspensionRoutes(deps: { suspension: Suspension }): ApiRoute<any, any, any, any>[] {
  const { suspension } = deps;
  return [
    defineRoute({
      method: 'get', path: '/api/suspension/settings', tag: 'Suspension', access: 'agency',
      summary: 'The agency’s suspension policy for non-payment (off, stop billing, stop billing and pause in HighLevel) and its number of failed attempts',
      response: s.suspensionSettingsResponse,
      handler: ({ caller }) => suspension.settings(caller!.companyId),
    }),
    defineRoute({
      method: 'put', path: '/api/suspension/settings', tag: 'Suspension', access: 'agency',
      summary: 'Set the suspension policy: after N failed payment attempts (1–10) or a subscription canceled for non-payment, hold new usage, and optionally pause the sub-account in HighLevel',
      body: s.suspensionSettingsRequest, response: s.suspensionSettingsResponse,
      handler: ({ caller, body }) => suspension.setSettings(caller!.companyId, body),
    }),
    defineRoute({
      method: 'get', path: '/api/suspensions', tag: 'Suspension', access: 'agency',
      summary: 'The agency’s sub-accounts suspended for non-payment now, or whose pause or resume in HighLevel failed (with HighLevel’s message)',
      response: s.suspensionListResponse,
      handler: ({ caller }) => suspension.list(caller!.companyId),
    }),
    defineRoute({
      method: 'get', path: '/api/sub-accounts/:locationId/suspension', tag: 'Suspension', access: 'sub-account:read',
      summary: 'The sub-account’s suspension for non-payment (in force or the last one): since when, the invoice to pay and its link, the HighLevel pause and its error',
      params: s.locationIdParam, response: s.subAccountSuspensionResponse,
      handler: ({ params }) => suspension.state(params.locationId),
    }),
    defineRoute({
      method: 'post', path: '/api/sub-accounts/:locationId/suspension/resume', tag: 'Suspension', access: 'sub-account:write',
      summary: 'Resume now: end the suspension (held usage is billed, dated now) and resume the sub-account in HighLevel if it was paused there; the same unpaid invoice does not suspend it again',
      params: s.locationIdParam, response: s.subAccountSuspensionResponse,
      handler: ({ params }) => suspension.resumeNow(params.locationId),
    }),
  ];
}
