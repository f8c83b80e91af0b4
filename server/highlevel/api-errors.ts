/**
 * The one error type the HighLevel API client throws for a failed call (server/highlevel/api-client.ts).
 *
 * It is built from plain values only: never from the axios error, whose `config.headers` carry the
 * `Authorization: Bearer …` token. Nothing on it (own properties, message, stack) holds a token, so it is safe to
 * log whole or serialise with `JSON.stringify`.
 */

/** The HTTP methods the client sends. */
export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'DELETE';

/**
 * Why the call failed:
 * - `rate_limited`: 429 on every attempt (HighLevel's 100 requests / 10 s or 200,000 / day per app per resource).
 * - `unauthorized`: 401 again after one token refresh, a 401 on a call without auth, or a 403.
 * - `not_found`: 404.
 * - `bad_request`: any other 4xx (400, 409, 422, …); retrying the same request will not help.
 * - `server_error`: a 5xx (or an unexpected non-2xx status); for GETs, 502/503/504 only after the retries.
 * - `network`: no HTTP response at all (connection reset, timeout, DNS); `status` is 0.
 */
export type HighLevelApiErrorCode = 'rate_limited' | 'unauthorized' | 'not_found' | 'bad_request' | 'server_error' | 'network';

/**
 * A HighLevel API call that did not succeed.
 * `message` reads `"<METHOD> <path>: <HighLevel's own message>"`, e.g.
 * `"GET /oauth/installedLocations: Location is not active"`; when the body carries no message it is `HTTP <status>`
 * (or the network error code). `path` never includes the query string.
 */
export class HighLevelApiError extends Error {
  override name = 'HighLevelApiError';

  /**
   * @param status the HTTP status of the last response, or 0 when no response arrived.
   * @param code the stable category (see `HighLevelApiErrorCode`).
   * @param method the HTTP method of the call.
   * @param path the request path without query string, e.g. `/oauth/installedLocations`.
   * @param detail HighLevel's message (already free of tokens); prefixed with method and path to form `message`.
   */
  constructor(
    readonly status: number,
    readonly code: HighLevelApiErrorCode,
    readonly method: HttpMethod,
    readonly path: string,
    detail: string,
  ) {
    super(`${method} ${path}: ${detail}`);
  }
}

/**
 * The error code for a non-2xx HTTP status: 429 rate_limited, 401/403 unauthorized, 404 not_found, other 4xx
 * bad_request, everything else (5xx, unexpected 1xx/3xx) server_error.
 */
export function errorCodeForStatus(status: number): HighLevelApiErrorCode {
  if (status === 429) return 'rate_limited';
  if (status === 401 || status === 403) return 'unauthorized';
  if (status === 404) return 'not_found';
  if (status >= 400 && status < 500) return 'bad_request';
  return 'server_error';
}
