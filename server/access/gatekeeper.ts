/**
 * The one authentication and authorization step of the settings API: bearer token → caller (401 when missing,
 * expired or invalid), then the policy (server/access/policy.ts) against the sub-account the route names.
 */
import type { Request } from 'express';
import type { Database } from '../../models/database';
import type { Caller, Gatekeeper } from '../http/api-route';
import type { CodeWithStatus } from '../http/error-codes';
import { notFound, unauthorized } from '../http/errors';
import { findSubAccount } from '../tenancy/accounts-repository';
import { authorize } from './policy';
import { SessionTokenError, type SessionTokens } from './session-token';

const MESSAGES: Record<SessionTokenError['reason'], [CodeWithStatus<401>, string]> = {
  missing: ['unauthenticated', 'Sign in through HighLevel: send the session token as "Authorization: Bearer <token>".'],
  expired: ['session_expired', 'The session has expired; reload the page inside HighLevel.'],
  invalid: ['invalid_session', 'The session token is not valid.'],
};

/**
 * @param deps.apiKeys resolves an API-key caller for `api-key` routes (server/usage-api/api-key-gate.ts); without
 *   it those routes answer 401.
 */
export function createGatekeeper(deps: { db: Database; tokens: SessionTokens; apiKeys?: (req: Request) => Promise<Caller> }): Gatekeeper {
  return async (req: Request, access, params) => {
    if (access === 'api-key') {
      if (!deps.apiKeys) throw unauthorized('unauthenticated', 'API keys are not accepted here.');
      return deps.apiKeys(req);
    }
    const header = req.get('authorization') ?? '';
    const token = /^Bearer\s+(\S+)$/i.exec(header)?.[1];
    let claims;
    try {
      claims = await deps.tokens.verify(token);
    } catch (err) {
      if (err instanceof SessionTokenError) throw unauthorized(...MESSAGES[err.reason]);
      throw err;
    }
    const caller = { userId: claims.userId, companyId: claims.companyId, type: claims.type, role: claims.role, activeLocation: claims.activeLocation, userName: claims.userName };
    let target = null;
    if (access !== 'agency') {
      const locationId = typeof params.locationId === 'string' ? params.locationId : '';
      const sub = locationId ? await findSubAccount(deps.db, locationId) : null;
      if (!sub) throw notFound(`No sub-account ${locationId}.`);
      target = { locationId: sub.locationId, companyId: sub.companyId };
    }
    authorize(caller, access, target, req.method === 'GET' || req.method === 'HEAD' ? 'read' : 'write');
    return caller;
  };
}
