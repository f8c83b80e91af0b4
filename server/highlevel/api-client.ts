/**
 * The HighLevel API 2.0 client (https://services.leadconnectorhq.com): one axios instance, a bearer token per
 * call from an `AccessTokenSource`, the per-group `Version` header, and HighLevel's rate limits handled by waiting.
 *
 * Facts about HighLevel, and their sources:
 * - Every call carries a `Version` header naming the API group's version (HighLevel API docs for
 *   services.leadconnectorhq.com, GoHighLevel/highlevel-api-docs): the Conversations endpoints (messages, calls,
 *   Voice AI) use `2021-04-15`; OAuth, Locations and Users use `2021-07-28`. See `API_VERSIONS`.
 * - Rate limits are 100 requests per 10 s and 200,000 per day per Marketplace app per resource (one Location or
 *   Company); a 429 means the request was rejected before processing. Every response carries
 *   `X-RateLimit-Interval-Milliseconds`, `X-RateLimit-Max`, `X-RateLimit-Remaining`, `X-RateLimit-Limit-Daily` and
 *   `X-RateLimit-Daily-Remaining` (marketplace.gohighlevel.com/docs/other/rate-limits).
 *
 * Retry policy (each retry waits `sleep(ms)` first, at most `maxRetries` retries per call):
 * - 429, any method: wait `Retry-After` seconds if present; else, when `X-RateLimit-Remaining` is 0, the
 *   `X-RateLimit-Interval-Milliseconds` window; else exponential backoff (see `backoffMs`).
 * - 502/503/504 and network errors (ECONNRESET, ETIMEDOUT, ECONNABORTED i.e. our timeout, ECONNREFUSED,
 *   EAI_AGAIN, EPIPE): GET only, same waits. Other methods are not retried: the request may have taken effect.
 * - 401 on an authenticated call: `refreshAfterUnauthorized` once, then one immediate retry with the new token
 *   (not counted against `maxRetries`); a second 401 is an `unauthorized` error.
 *
 * Tokens never reach an error: failures become `HighLevelApiError`, built from the status, HighLevel's message (with
 * any token text replaced by `[redacted]`) and the query-less path; the axios error and its config are dropped.
 */
import axios, { type AxiosInstance, type AxiosResponse } from 'axios';
import { errorCodeForStatus, HighLevelApiError, type HttpMethod } from './api-errors';
import { backoffMs, isRetryable, serverRequestedWaitMs, type Attempt } from './api-retry';

export { HighLevelApiError, type HighLevelApiErrorCode, type HttpMethod } from './api-errors';
export { backoffMs, serverRequestedWaitMs } from './api-retry';

/**
 * The `Version` header value for each HighLevel API group. Source: HighLevel API docs
 * (services.leadconnectorhq.com; GoHighLevel/highlevel-api-docs): Conversations endpoints (including calls and
 * Voice AI) use 2021-04-15; OAuth, Locations and Users use 2021-07-28.
 */
export const API_VERSIONS = {
  oauth: '2021-07-28',
  locations: '2021-07-28',
  users: '2021-07-28',
  conversations: '2021-04-15',
  voiceAi: '2021-04-15',
  /** Phone System (`GET /phone-system/numbers/location/{locationId}`): apps/phone-system.json declares 2021-07-28. */
  phoneSystem: '2021-07-28',
  /** SaaS API (`GET /saas/get-saas-subscription/{locationId}`, `POST /saas/pause/{locationId}`): apps/saas-api.json declares 2021-04-15. */
  saas: '2021-04-15',
} as const;

/** A `Version` header value HighLevel accepts; take it from `API_VERSIONS` by API group. */
export type ApiVersion = (typeof API_VERSIONS)[keyof typeof API_VERSIONS];

/** Whose token a call uses: an agency (Company token) or a sub-account (Location token). */
export type ApiAuth = { companyId: string } | { locationId: string };

/** One HighLevel API call. */
export interface ApiCall {
  method: HttpMethod;
  /**
   * Path under the base URL, starting with a single `/`, e.g. `/oauth/installedLocations`. Absolute URLs and
   * `//host` paths are refused (the bearer token must not go to another host). Put query values in `params`.
   */
  path: string;
  /** Query string values; `undefined` entries are left out, numbers and booleans are sent as their text. */
  params?: Record<string, string | number | boolean | undefined>;
  /** A JSON request body. Mutually exclusive with `form`. */
  data?: unknown;
  /** A request body sent as `application/x-www-form-urlencoded` (the OAuth token endpoint). Exclusive with `data`. */
  form?: Record<string, string>;
  /** The API group's version, from `API_VERSIONS`; sent as the `Version` header. */
  version: ApiVersion;
  /** Whose bearer token to send, or 'none' for unauthenticated calls (such as the OAuth token exchange). */
  auth: ApiAuth | 'none';
}

/**
 * Where the client gets bearer tokens (implemented by the token store, which refreshes and persists them).
 */
export interface AccessTokenSource {
  /** A currently valid access token for the agency or sub-account; called before each request attempt. */
  accessToken(auth: ApiAuth): Promise<string>;
  /**
   * Called once when HighLevel answered 401 to `rejectedToken`: return a fresh token (refreshing it, unless another
   * caller already replaced `rejectedToken`). Errors thrown here propagate to the caller of `request` unchanged.
   */
  refreshAfterUnauthorized(auth: ApiAuth, rejectedToken: string): Promise<string>;
}

/** Options for `createHighLevelApiClient`. */
export interface HighLevelApiClientOptions {
  /** API base URL without trailing slash, normally `https://services.leadconnectorhq.com` (config.highLevel.apiUrl). */
  baseUrl: string;
  tokens: AccessTokenSource;
  /** Retries after a 429 (any method) or a 502/503/504/network error (GET only); a non-negative integer, default 5. */
  maxRetries?: number;
  /** Waits the given milliseconds between attempts; default a `setTimeout` promise. Injected by tests. */
  sleep?: (ms: number) => Promise<void>;
  /** Per-attempt timeout in milliseconds, default 30,000; a timeout counts as a network error. */
  timeoutMs?: number;
  /**
   * When given, a call whose `method path` it does not accept is refused with a TypeError before anything is sent:
   * the app passes `isDeclaredEndpoint` (endpoints.ts), so every endpoint it calls has its scope declared there.
   */
  allowedEndpoint?: (method: HttpMethod, path: string) => boolean;
}

/** The client: `request` resolves to the parsed response body (typed by the caller, not validated). */
export interface HighLevelApiClient {
  /**
   * Sends the call, with retries as described in this module's header.
   * @returns the response body of the 2xx response, as parsed by axios (JSON, else text; '' for an empty body).
   * @throws HighLevelApiError for a non-2xx final response or a network failure.
   * @throws TypeError when the call is malformed (bad path, both `data` and `form`) or not an allowed endpoint,
   *   before any request.
   * @throws whatever `tokens.accessToken` / `tokens.refreshAfterUnauthorized` throw, unchanged.
   */
  request<T>(call: ApiCall): Promise<T>;
}

/** Default retry count after 429 / retryable failures. */
export const DEFAULT_MAX_RETRIES = 5;
/** Default per-attempt timeout, milliseconds. */
export const DEFAULT_TIMEOUT_MS = 30_000;
/** HighLevel's message is cut to this many characters in an error. */
const MAX_DETAIL_CHARS = 1_000;

/**
 * Builds a client bound to one base URL and token source.
 * @throws TypeError when `maxRetries` is not a non-negative integer or `timeoutMs` not a positive number.
 */
export function createHighLevelApiClient(options: HighLevelApiClientOptions): HighLevelApiClient {
  const maxRetries = options.maxRetries ?? DEFAULT_MAX_RETRIES;
  if (!Number.isInteger(maxRetries) || maxRetries < 0) throw new TypeError('maxRetries must be a non-negative integer');
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  if (!(timeoutMs > 0)) throw new TypeError('timeoutMs must be a positive number of milliseconds');
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const tokens = options.tokens;

  const http: AxiosInstance = axios.create({
    baseURL: options.baseUrl.replace(/\/+$/, ''),
    timeout: timeoutMs,
    allowAbsoluteUrls: false,
    validateStatus: () => true,
  });

  async function send(call: ApiCall, token: string | undefined): Promise<Attempt> {
    const headers: Record<string, string> = { Accept: 'application/json', Version: call.version };
    if (token !== undefined) headers.Authorization = `Bearer ${token}`;
    let data: unknown = call.data;
    if (call.form !== undefined) {
      data = new URLSearchParams(call.form).toString();
      headers['Content-Type'] = 'application/x-www-form-urlencoded';
    }
    try {
      const response: AxiosResponse = await http.request({
        method: call.method,
        url: call.path,
        params: queryParams(call.params),
        data,
        headers,
      });
      return { kind: 'response', status: response.status, headers: { ...response.headers }, body: response.data };
    } catch (error) {
      // Only the code and text survive; the axios error (and its config.headers with the token) is dropped here.
      if (!axios.isAxiosError(error)) throw error;
      return { kind: 'network', errorCode: error.code, errorMessage: String(error.message ?? '') };
    }
  }

  return {
    async request<T>(call: ApiCall): Promise<T> {
      assertWellFormed(call);
      const method = call.method;
      const path = call.path.split(/[?#]/, 1)[0]!;
      if (options.allowedEndpoint && !options.allowedEndpoint(method, path)) {
        throw new TypeError(`${method} ${path} is not a declared HighLevel endpoint (server/highlevel/endpoints.ts)`);
      }
      const usedTokens: string[] = [];
      let refreshed = false;
      let tokenAfterRefresh: string | undefined;
      let retries = 0;

      for (;;) {
        let token: string | undefined;
        if (call.auth !== 'none') {
          token = tokenAfterRefresh ?? (await tokens.accessToken(call.auth));
          tokenAfterRefresh = undefined;
          usedTokens.push(token);
        }

        const attempt = await send(call, token);
        if (attempt.kind === 'response' && attempt.status >= 200 && attempt.status < 300) return attempt.body as T;

        if (attempt.kind === 'response' && attempt.status === 401 && call.auth !== 'none' && !refreshed) {
          refreshed = true;
          tokenAfterRefresh = await tokens.refreshAfterUnauthorized(call.auth, token!);
          continue;
        }

        if (retries < maxRetries && isRetryable(method, attempt)) {
          const waitMs = attempt.kind === 'response' ? serverRequestedWaitMs(attempt.headers) : undefined;
          await sleep(waitMs ?? backoffMs(retries));
          retries += 1;
          continue;
        }

        throw toApiError(method, path, attempt, usedTokens);
      }
    },
  };
}

function assertWellFormed(call: ApiCall): void {
  if (typeof call.path !== 'string' || !call.path.startsWith('/') || call.path.startsWith('//')) {
    throw new TypeError('HighLevel API path must start with a single "/" (absolute URLs are not allowed)');
  }
  if (call.data !== undefined && call.form !== undefined) {
    throw new TypeError('A HighLevel API call takes either data (JSON) or form (urlencoded), not both');
  }
}

function queryParams(params: ApiCall['params']): URLSearchParams | undefined {
  if (!params) return undefined;
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined) query.append(key, String(value));
  }
  return query;
}

function toApiError(method: HttpMethod, path: string, attempt: Attempt, usedTokens: string[]): HighLevelApiError {
  if (attempt.kind === 'network') {
    const text = attempt.errorMessage.trim();
    const detail = `network error (${attempt.errorCode ?? 'unknown'})${text ? `: ${text}` : ''}`;
    return new HighLevelApiError(0, 'network', method, path, redact(detail, usedTokens));
  }
  const detail = highLevelMessage(attempt.body) ?? `HTTP ${attempt.status}`;
  return new HighLevelApiError(attempt.status, errorCodeForStatus(attempt.status), method, path, redact(detail, usedTokens));
}

/**
 * HighLevel's own error text: `message` (a string, or an array of strings joined with "; "), else
 * `error_description`, else `error`; a short non-HTML text body is used as is.
 */
function highLevelMessage(body: unknown): string | undefined {
  if (typeof body === 'string') {
    const text = body.trim();
    return text !== '' && !text.startsWith('<') ? text : undefined;
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return undefined;
  const fields = body as Record<string, unknown>;
  const message = fields.message;
  if (typeof message === 'string' && message.trim() !== '') return message.trim();
  if (Array.isArray(message)) {
    const parts = message.filter((part): part is string => typeof part === 'string' && part.trim() !== '');
    if (parts.length > 0) return parts.map((part) => part.trim()).join('; ');
  }
  for (const key of ['error_description', 'error'] as const) {
    const value = fields[key];
    if (typeof value === 'string' && value.trim() !== '') return value.trim();
  }
  return undefined;
}

/** Replaces every token sent on this call, and anything after "Bearer ", with [redacted]; cuts to 1,000 chars. */
function redact(text: string, usedTokens: string[]): string {
  let safe = text;
  for (const token of usedTokens) {
    if (token !== '') safe = safe.split(token).join('[redacted]');
  }
  safe = safe.replace(/Bearer\s+[^\s"',;]+/gi, 'Bearer [redacted]');
  return safe.length > MAX_DETAIL_CHARS ? `${safe.slice(0, MAX_DETAIL_CHARS)}…` : safe;
}
