/**
 * Signing in, declared as data (server/http/api-route.ts): HighLevel's SSO payload exchanged for a session token.
 * Every other session route is checked by the gatekeeper (gatekeeper.ts) against the policy (policy.ts).
 */
import { defineRoute, type ApiRoute } from '../http/api-route';
import * as s from './schemas';
import type { createSessionExchange } from './session';

export interface AccessServices {
  session: ReturnType<typeof createSessionExchange>;
  /** `npm run demo` is running (config `DEMO`): sessions say so, and the page shows a demo banner. */
  demo: boolean;
}

/** The sign-in route. */
export function accessRoutes(services: AccessServices): ApiRoute<any, any, any, any>[] {
  return [
    defineRoute({
      method: 'post', path: '/api/session', tag: 'Session', access: 'public',
      summary: 'Exchange HighLevel’s encrypted SSO payload for a short-lived session token',
      body: s.sessionRequest, response: s.sessionResponse,
      errors: ['invalid_sso_payload', 'install_required', 'rate_limited', 'sso_not_configured'],
      handler: async ({ body }) => {
        const grant = await services.session.exchange(body.payload);
        return { ...grant, expiresAt: grant.expiresAt.toISOString(), demo: services.demo };
      },
    }),
  ];
}
