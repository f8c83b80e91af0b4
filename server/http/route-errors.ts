/**
 * Which error codes a route may answer with, for the OpenAPI document: those of every route (validation, our own
 * failure, the database), of its access level (server/access/gatekeeper.ts, server/usage-api/api-key-gate.ts),
 * of a JSON body (server/http/error-middleware.ts), and those its declaration lists for its use case.
 */
import type { ApiRoute } from './api-route';
import { ERROR_CODES, type ErrorCode, type ErrorStatus } from './error-codes';

/** Every route: a bad parameter, query or body, a failure on our side, the database away. */
const ALWAYS: readonly ErrorCode[] = ['invalid_request', 'internal', 'unavailable'];
/** A route that reads a JSON body. */
const BODY: readonly ErrorCode[] = ['invalid_json', 'payload_too_large', 'unsupported_encoding', 'request_aborted'];
/** A session route: the token (server/access/session-token.ts) and the policy (server/access/policy.ts). */
const SESSION: readonly ErrorCode[] = ['unauthenticated', 'session_expired', 'invalid_session', 'forbidden'];
/** An API-key route: the key and its rate limit (server/http/rate-limits.ts). */
const API_KEY: readonly ErrorCode[] = ['unauthenticated', 'invalid_api_key', 'api_key_revoked', 'rate_limited'];

/** What a use case calling the agency's Stripe may answer (server/billing-setup/stripe-for-agency.ts, `stripeCall`). */
export const STRIPE_CALL = ['stripe_not_connected', 'stripe_refused', 'stripe_error'] as const satisfies readonly ErrorCode[];
/** What creating or changing a subscription may answer (server/billing-setup/subscription-sync.ts, server/stripe/). */
export const SUBSCRIPTION_CHANGE = [
  ...STRIPE_CALL,
  'no_customer',
  'invalid_start_date',
  'invalid_subscription_prices',
  'subscription_customer_mismatch',
  'stripe_tax_inactive',
  'customer_location_required',
  'customer_location_invalid',
] as const satisfies readonly ErrorCode[];

/** The route's possible error codes, in catalogue order. */
export function routeErrorCodes(route: ApiRoute<any, any, any, any>): ErrorCode[] {
  const codes = new Set<ErrorCode>([...ALWAYS, ...(route.errors ?? [])]);
  if (route.body || route.bodyReader) for (const code of BODY) codes.add(code);
  if (route.access === 'api-key') for (const code of API_KEY) codes.add(code);
  if (route.access === 'agency' || route.access.startsWith('sub-account')) {
    for (const code of SESSION) codes.add(code);
    // Agency users who are not admins may read but not change (server/access/policy.ts).
    if (route.method !== 'get') codes.add('admin_required');
  }
  // The gatekeeper answers 404 for a sub-account it does not know.
  if (route.access.startsWith('sub-account')) codes.add('not_found');
  return (Object.keys(ERROR_CODES) as ErrorCode[]).filter((code) => codes.has(code));
}

/** The codes grouped by their catalogue status, e.g. `{ 401: ['unauthenticated', …] }`. */
export function codesByStatus(codes: readonly ErrorCode[]): Map<ErrorStatus, ErrorCode[]> {
  const byStatus = new Map<ErrorStatus, ErrorCode[]>();
  for (const code of codes) {
    const status = ERROR_CODES[code].status;
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  return byStatus;
}
