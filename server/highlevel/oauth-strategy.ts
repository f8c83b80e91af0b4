/**
 * HighLevel's authorization-code flow on passport-oauth2. HighLevel answers errors as `{ error, error_description }`
 * or `{ statusCode, message }`; the token type follows the install (see `tokenParams`).
 * Authorize: {HIGHLEVEL_MARKETPLACE_URL}/v2/oauth/chooselocation; token: {HIGHLEVEL_API_URL}/oauth/token
 * (HighLevel OAuth 2.0 docs). No `state`: installs usually start in the marketplace, not at /oauth/install.
 */
import { Authenticator } from 'passport';
import OAuth2Strategy from 'passport-oauth2';
import { HIGHLEVEL_ENDPOINTS } from './endpoints';
import { tokenResponseSchema, toOAuthError, type TokenResponse } from './oauth-token-endpoint';

export interface HighLevelOAuthOptions {
  marketplaceUrl: string;
  apiUrl: string;
  clientId: string;
  clientSecret: string;
  /** Absolute URL of GET /oauth/callback. */
  callbackUrl: string;
  scopes: string[];
}

/** The strategy name under which the flow is registered. */
export const STRATEGY = 'highlevel';

class HighLevelStrategy extends OAuth2Strategy {
  /**
   * No `user_type` in the code exchange. HighLevel documents it as optional, "The type of token to be requested"
   * (GoHighLevel/highlevel-api-docs apps/oauth.json, `GetAccessCodebodyDto`: only client_id, client_secret and
   * grant_type are required), and its own app template exchanges the code without it. The code already belongs to
   * one install: an agency (bulk) install needs a Company token (for /oauth/installedLocations and
   * /oauth/locationToken), a sub-account install a Location token, and Meterbridge cannot tell which before the
   * exchange. Asking for none gets the install's own kind; the answer's `userType` says which (install.ts).
   */
  override tokenParams(): object {
    return {};
  }

  override parseErrorResponse(body: string, status: number): Error | null {
    try {
      return toOAuthError(HIGHLEVEL_ENDPOINTS.token.path, status, JSON.parse(body));
    } catch {
      return null;
    }
  }
}

/**
 * A Passport instance with the HighLevel strategy; a successful exchange yields HighLevel's whole token response
 * (validated) as the "user".
 */
export function createHighLevelPassport(options: HighLevelOAuthOptions) {
  const passport = new Authenticator();
  const strategy = new HighLevelStrategy(
    {
      authorizationURL: `${options.marketplaceUrl}/v2/oauth/chooselocation`,
      tokenURL: `${options.apiUrl}${HIGHLEVEL_ENDPOINTS.token.path}`,
      clientID: options.clientId,
      clientSecret: options.clientSecret,
      callbackURL: options.callbackUrl,
      scope: options.scopes,
      scopeSeparator: ' ',
    },
    (accessToken: string, refreshToken: string, params: object, _profile: unknown, done: (err: Error | null, grant?: TokenResponse) => void) => {
      // node-oauth removes refresh_token from `params` and hands it over separately: put it back.
      const parsed = tokenResponseSchema.safeParse({ ...params, access_token: accessToken, ...(refreshToken ? { refresh_token: refreshToken } : {}) });
      if (!parsed.success) return done(new Error('HighLevel answered the code exchange without a usable token.'));
      done(null, parsed.data);
    },
  );
  passport.use(STRATEGY, strategy);
  return passport;
}
