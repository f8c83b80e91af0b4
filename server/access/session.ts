/**
 * The session exchange behind `POST /api/session`: HighLevel's encrypted SSO payload in, a short-lived bearer
 * token out. The agency must have an active installation (Company grant, or a Location grant for the user's
 * sub-account); a location user's sub-account must be one of that agency's.
 */
import { sql } from 'drizzle-orm';
import { selectRows, type Database } from '../../models/database';
import { AppError, unauthorized } from '../http/errors';
import type { SessionClaims, SessionTokens } from './session-token';
import { decryptSsoPayload, SsoPayloadError } from './sso-payload';

/** What the page gets back: the token, its expiry and who it is for. */
export interface SessionGrant {
  token: string;
  expiresAt: Date;
  user: SessionClaims;
}

const SSO_MESSAGES: Record<SsoPayloadError['reason'], string> = {
  malformed: 'The SSO payload is not in HighLevel’s format; open this page from inside HighLevel.',
  wrong_secret: 'The SSO payload could not be decrypted: the app’s Shared Secret does not match HIGHLEVEL_SHARED_SECRET.',
  invalid_user: 'The SSO payload does not describe a HighLevel user.',
};

export function createSessionExchange(deps: { db: Database; sharedSecret: string | undefined; tokens: SessionTokens }) {
  return {
    /**
     * @throws AppError 401 `invalid_sso_payload` (with the reason), 403 `install_required` when the agency (or the
     * user's sub-account) has no active installation, 503 `sso_not_configured` without HIGHLEVEL_SHARED_SECRET.
     */
    async exchange(payload: string): Promise<SessionGrant> {
      if (!deps.sharedSecret) throw new AppError('sso_not_configured', 'HIGHLEVEL_SHARED_SECRET is not configured on this server.');
      let user;
      try {
        user = decryptSsoPayload(payload, deps.sharedSecret);
      } catch (err) {
        if (err instanceof SsoPayloadError) throw unauthorized('invalid_sso_payload', `${SSO_MESSAGES[err.reason]} (${err.message})`);
        throw err;
      }
      // An agency user opening the page inside a sub-account also carries activeLocation (HighLevel's "location
      // context"): it is kept as context, while only `type` decides what the user may do (server/access/policy.ts).
      const activeLocation = user.activeLocation ?? null;
      const ownLocation = user.type === 'location' ? activeLocation : null;
      const [installed] = await selectRows<{ ok: boolean }>(
        deps.db,
        sql`select exists (
              select 1 from installations i
              where i.company_id = ${user.companyId} and i.status = 'active'
                and (i.user_type = 'Company' or ${ownLocation}::text is null or i.location_id = ${ownLocation})
            ) and (${ownLocation}::text is null or exists (
              select 1 from sub_accounts s where s.location_id = ${ownLocation} and s.company_id = ${user.companyId} and s.status = 'active'
            )) as ok`,
      );
      if (!installed?.ok) {
        throw new AppError('install_required', 'Meterbridge is not installed for this agency or sub-account. Install it from the HighLevel marketplace.');
      }
      const claims: SessionClaims = {
        userId: user.userId,
        companyId: user.companyId,
        type: user.type,
        role: user.role,
        activeLocation,
        ...(user.userName ? { userName: user.userName } : {}),
      };
      const { token, expiresAt } = await deps.tokens.issue(claims);
      return { token, expiresAt, user: claims };
    },
  };
}
