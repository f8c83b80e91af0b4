/**
 * HighLevel's OAuth side faked with nock, in HighLevel's documented shapes (token response, installedLocations
 * pages, locationToken), plus the test app's OAuth settings.
 */
import nock from 'nock';

export const HIGHLEVEL_API = 'https://services.leadconnectorhq.com';
export const APP_ID = '6650c3c0d3b1a2f1e0a9b8c7';
export const OAUTH_ENV = {
  APP_URL: 'https://meterbridge.example',
  HIGHLEVEL_CLIENT_ID: `${APP_ID}-mbtest01`,
  HIGHLEVEL_CLIENT_SECRET: 'test-client-secret-0001',
};

/** A token response as HighLevel sends it from POST /oauth/token. */
export function tokenResponse(input: {
  userType: 'Company' | 'Location';
  companyId: string;
  locationId?: string;
  accessToken: string;
  refreshToken: string;
  isBulkInstallation?: boolean;
  expiresIn?: number;
}) {
  return {
    access_token: input.accessToken,
    token_type: 'Bearer',
    expires_in: input.expiresIn ?? 86399,
    refresh_token: input.refreshToken,
    scope: 'conversations/message.readonly locations.readonly oauth.readonly oauth.write voice-ai-dashboard.readonly',
    userType: input.userType,
    companyId: input.companyId,
    ...(input.locationId ? { locationId: input.locationId } : {}),
    userId: 'aF3kQ9wP2xLm7NbV1cZt',
    ...(input.isBulkInstallation !== undefined ? { isBulkInstallation: input.isBulkInstallation } : {}),
  };
}

/**
 * HighLevel's token endpoint for one authorization code, as its docs describe the exchange (apps/oauth.json,
 * `POST /oauth/token`, `GetAccessCodebodyDto`): client_id, client_secret, grant_type=authorization_code, code,
 * redirect_uri, and an optional `user_type`, "the type of token to be requested". The code belongs to one install:
 * an agency install (`Company`) or a sub-account install (`Location`). Asked without `user_type`, or with the
 * install's own type, it answers that install's token; asked for the other type it refuses (400), since that code
 * grants no such token. Expects exactly one exchange; `check` sees the form sent (throw in it to fail the request).
 */
export function serveCodeExchange(
  code: string,
  installKind: 'Company' | 'Location',
  reply: object,
  options: { status?: number; delayMs?: number; check?: (sent: Record<string, string>) => void } = {},
) {
  return nock(HIGHLEVEL_API)
    .post('/oauth/token', (body) => {
      const f = form(body);
      options.check?.(f);
      return f.grant_type === 'authorization_code' && f.code === code && f.client_id === OAUTH_ENV.HIGHLEVEL_CLIENT_ID && f.client_secret === OAUTH_ENV.HIGHLEVEL_CLIENT_SECRET;
    })
    .delay(options.delayMs ?? 0)
    .reply((_uri, body) => {
      const asked = form(body).user_type;
      if (asked !== undefined && asked !== installKind) {
        return [400, { error: 'invalid_request', error_description: `This code was issued for a ${installKind} install, not ${asked}.` }];
      }
      return [options.status ?? 200, reply];
    });
}

/** Parses an x-www-form-urlencoded body as nock hands it over (string or already parsed). */
export function form(body: unknown): Record<string, string> {
  if (typeof body === 'string') return Object.fromEntries(new URLSearchParams(body));
  return body as Record<string, string>;
}

/** Locations in HighLevel's installedLocations shape. */
export function installedLocations(prefix: string, count: number) {
  return Array.from({ length: count }, (_, i) => ({
    _id: `${prefix}${String(i).padStart(6, '0')}`,
    name: `Client ${i}`,
    address: `${i} Main St`,
    isInstalled: true,
  }));
}

/**
 * Serves `locations` as installedLocations pages of `pageSize`, walked by skip/limit, each page once, requiring the
 * Version header (and the bearer token when given).
 */
export function serveInstalledLocations(companyId: string, locations: ReturnType<typeof installedLocations>, pageSize = 100, bearer?: string): void {
  const reqheaders: Record<string, string> = { version: '2021-07-28', ...(bearer ? { authorization: `Bearer ${bearer}` } : {}) };
  for (let skip = 0; skip < Math.max(locations.length, 1); skip += pageSize) {
    nock(HIGHLEVEL_API, { reqheaders })
      .get('/oauth/installedLocations')
      .query({ companyId, appId: APP_ID, isInstalled: 'true', skip: String(skip), limit: String(pageSize) })
      .reply(200, { locations: locations.slice(skip, skip + pageSize), count: locations.length, installToFutureLocations: true });
  }
}
