/**
 * HighLevel's token endpoints (HighLevel OAuth 2.0 docs, marketplace.gohighlevel.com/docs/Authorization/OAuth2.0):
 * - `POST {HIGHLEVEL_API_URL}/oauth/token`, form-encoded: client_id, client_secret, grant_type
 *   (authorization_code | refresh_token), code or refresh_token, user_type (Company | Location), redirect_uri.
 *   Access tokens live about a day (`expires_in`, seconds); the refresh token ROTATES: the old one stops working,
 *   so the new pair must be saved before use.
 * - `POST {HIGHLEVEL_API_URL}/oauth/locationToken` (Version 2021-07-28), form-encoded companyId + locationId,
 *   with a Company access token: a Location token for one sub-account of the agency.
 * The code exchange itself runs through passport-oauth2 (server/highlevel/oauth-strategy.ts); this module does
 * the rest with axios.
 */
import axios from 'axios';
import { z } from 'zod';
import { HIGHLEVEL_ENDPOINTS } from './endpoints';

/** HighLevel's token response. `expires_in` is seconds; `scope` is space-separated. */
export const tokenResponseSchema = z.looseObject({
  access_token: z.string().min(1),
  refresh_token: z.string().min(1).optional(),
  expires_in: z.coerce.number().positive(),
  scope: z.string().optional(),
  userType: z.enum(['Company', 'Location']).optional(),
  companyId: z.string().min(1).optional(),
  locationId: z.string().optional(),
  userId: z.string().optional(),
  isBulkInstallation: z.boolean().optional(),
});
export type TokenResponse = z.infer<typeof tokenResponseSchema>;

/**
 * HighLevel refused a token request. `reinstallRequired` when the grant is gone for good (invalid_grant, an
 * inactive location, an unauthorized client): retrying cannot help, a human must reinstall.
 */
export class HighLevelOAuthError extends Error {
  override name = 'HighLevelOAuthError';
  constructor(
    readonly status: number,
    readonly error: string,
    message: string,
    readonly reinstallRequired: boolean,
  ) {
    super(message);
  }
}

/** Version header of the OAuth endpoints. */
const OAUTH_VERSION = HIGHLEVEL_ENDPOINTS.token.version;

export interface TokenEndpointOptions {
  apiUrl: string;
  clientId: string;
  clientSecret: string;
  timeoutMs?: number;
}

/**
 * Exchanges a refresh token for a new pair.
 * @throws HighLevelOAuthError with HighLevel's message (reinstallRequired for invalid_grant and friends).
 */
export async function refreshGrant(options: TokenEndpointOptions, refreshToken: string, userType: 'Company' | 'Location'): Promise<TokenResponse> {
  return postForm(options, HIGHLEVEL_ENDPOINTS.token.path, {
    client_id: options.clientId,
    client_secret: options.clientSecret,
    grant_type: 'refresh_token',
    refresh_token: refreshToken,
    user_type: userType,
  });
}

/**
 * Mints a Location token for one sub-account from the agency's Company token.
 * @throws HighLevelOAuthError (status 401 when the Company token itself was refused).
 */
export async function mintLocationToken(
  options: Pick<TokenEndpointOptions, 'apiUrl' | 'timeoutMs'>,
  companyAccessToken: string,
  companyId: string,
  locationId: string,
): Promise<TokenResponse> {
  return postForm(options, HIGHLEVEL_ENDPOINTS.locationToken.path, { companyId, locationId }, companyAccessToken);
}

async function postForm(
  options: Pick<TokenEndpointOptions, 'apiUrl' | 'timeoutMs'>,
  path: string,
  form: Record<string, string>,
  bearer?: string,
): Promise<TokenResponse> {
  let response;
  try {
    response = await axios.post(`${options.apiUrl}${path}`, new URLSearchParams(form).toString(), {
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        accept: 'application/json',
        Version: OAUTH_VERSION,
        ...(bearer ? { authorization: `Bearer ${bearer}` } : {}),
      },
      timeout: options.timeoutMs ?? 15_000,
      validateStatus: () => true,
    });
  } catch (err) {
    // Network failure: say where, never echo the request (it carries secrets).
    throw new HighLevelOAuthError(0, 'network', `POST ${path}: ${(err as { code?: string }).code ?? 'network error'}`, false);
  }
  if (response.status >= 200 && response.status < 300) {
    const parsed = tokenResponseSchema.safeParse(response.data);
    if (parsed.success) return parsed.data;
    throw new HighLevelOAuthError(response.status, 'invalid_response', `POST ${path}: HighLevel answered without a usable token.`, false);
  }
  throw toOAuthError(path, response.status, response.data);
}

/** Reads HighLevel's error body: `{ error, error_description }` or `{ statusCode, message }` (string or array). */
export function toOAuthError(path: string, status: number, body: unknown): HighLevelOAuthError {
  const b = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
  const error = typeof b.error === 'string' ? b.error : status === 401 ? 'unauthorized' : 'http_' + status;
  const rawMessage = b.error_description ?? b.message ?? b.error ?? `HTTP ${status}`;
  const message = Array.isArray(rawMessage) ? rawMessage.join('; ') : String(rawMessage);
  const reinstallRequired =
    ['invalid_grant', 'unauthorized_client', 'invalid_client'].includes(error) || /location is not active|not installed|uninstalled/i.test(message);
  return new HighLevelOAuthError(status, error, `POST ${path}: ${message}`, reinstallRequired);
}
