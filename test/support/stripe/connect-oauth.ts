/**
 * Stripe Connect as the double plays it: the platform's OAuth endpoints (connect.stripe.com — stripe-node sends them
 * to the overridden host, so they share the stub's port) and the connected accounts a platform key reaches with the
 * `Stripe-Account` header. As Stripe documents it (docs.stripe.com/connect/oauth-reference,
 * docs.stripe.com/connect/authentication):
 * - `authorize()` stands for the agency approving on Stripe's authorize page: it mints a single-use authorization
 *   code (`ac_…`) for an account (a new Standard account, or one given), valid 5 minutes (approximate: Stripe says
 *   codes are short-lived and single-use, not how long). `deny()` is the other button: the redirect carries
 *   `error=access_denied`.
 * - `POST /oauth/token` (`grant_type=authorization_code&code=…`, authenticated with the platform's secret key) →
 *   `{ access_token, livemode, refresh_token, scope, stripe_publishable_key, stripe_user_id, token_type: 'bearer' }`.
 *   Errors are OAuth-shaped, `400 { error, error_description }`: `invalid_request` (no grant type or code),
 *   `unsupported_grant_type`, `invalid_grant` for a code that does not exist, expired, was already used (Stripe
 *   then also revokes what the code granted — OAuth 2.0, RFC 6749 §4.1.2) or belongs to another mode; a key that is
 *   not the platform's gets `invalid_client`. Descriptions are approximate.
 * - `POST /oauth/deauthorize` (`client_id`, `stripe_user_id`) → `{ stripe_user_id }`; `invalid_client` for another
 *   client id or an account not connected to the platform.
 * - A request with `Stripe-Account: acct_…` and the platform's key acts on that account's own objects (its own
 *   double: customers, meters, meter events…). An account not connected (never, or revoked) gets 403
 *   "The provided key '…' does not have access to account '…' (or that account does not exist). Application access
 *   may have been revoked." (wording approximate, `account_invalid` code as in docs.stripe.com/error-codes).
 * - `deauthorizedEvent(acct)` builds the `account.application.deauthorized` event the platform's Connect webhook
 *   receives (docs.stripe.com/api/events/types), with `account` set, for a test to sign and deliver.
 */
import type { ServerResponse } from 'node:http';
import type { AccountDouble } from '../stripe-stub';
import type { StripeJson, StripeStub } from './types';
import { json, maskKey, newId, now, parseForm, str } from './wire';

/** How long a code lives (approximate). */
const CODE_TTL_MS = 5 * 60 * 1000;

/** One grant: the account, whether it is still connected, the codes and tokens it was made from. */
interface Grant {
  accountId: string;
  status: 'active' | 'revoked';
}

/** What tests drive and read. */
export interface ConnectControl {
  /** The platform's client id (`ca_…`) and secret key; requests with another key cannot use OAuth or `Stripe-Account`. */
  clientId: string;
  platformKey: string;
  /** The connected accounts' doubles by account id (their `events`, `state`, `requestLog`). */
  accounts: Map<string, StripeStub>;
  /** Grants by account id. */
  grants: Map<string, Grant>;
  /** The agency approves on Stripe's page: a code for `accountId` (a new account when omitted). */
  authorize(options?: { accountId?: string; livemode?: boolean }): { code: string; accountId: string };
  /** The query Stripe's redirect carries when the agency declines. */
  deny(): { error: string; error_description: string };
  /** The agency disconnects the platform in its Dashboard (Stripe then sends `account.application.deauthorized`). */
  revoke(accountId: string): void;
  /** The `account.application.deauthorized` event of `accountId`, as the Connect webhook receives it. */
  deauthorizedEvent(accountId: string): StripeJson;
}

/**
 * Builds the Connect part of one stub.
 * @param platform the platform's own account double (the stub itself).
 * @param newAccount makes the double of a newly connected account.
 */
export function connectDouble(platform: StripeStub, newAccount: () => AccountDouble) {
  const doubles = new Map<string, AccountDouble>();
  /** code → its grant, expiry, mode, and whether it was used. */
  const codes = new Map<string, { accountId: string; expiresAt: number; livemode: boolean; used: boolean }>();
  const control: ConnectControl = {
    clientId: 'ca_MeterbridgeStubPlatform01',
    platformKey: 'sk_test_MeterbridgeStubPlatformKey01',
    accounts: new Map(),
    grants: new Map(),
    authorize(options = {}) {
      const accountId = options.accountId ?? newId('acct');
      if (!doubles.has(accountId)) {
        const double = newAccount();
        double.stub.account = { ...double.stub.account, id: accountId, settings: { dashboard: { display_name: `Connected ${accountId.slice(-6)}`, timezone: 'Etc/UTC' } } };
        double.stub.url = platform.url;
        doubles.set(accountId, double);
        control.accounts.set(accountId, double.stub);
      }
      const code = newId('ac');
      codes.set(code, { accountId, expiresAt: Date.now() + CODE_TTL_MS, livemode: options.livemode ?? false, used: false });
      return { code, accountId };
    },
    deny: () => ({ error: 'access_denied', error_description: 'The user denied your request' }),
    revoke(accountId) {
      const grant = control.grants.get(accountId);
      if (grant) grant.status = 'revoked';
    },
    deauthorizedEvent: (accountId) => ({
      id: newId('evt'),
      object: 'event',
      account: accountId,
      api_version: '2026-10-28.endive',
      created: now(),
      data: { object: { id: control.clientId, object: 'application', name: 'Meterbridge (stub platform)' } },
      livemode: false,
      pending_webhooks: 1,
      request: { id: null, idempotency_key: null },
      type: 'account.application.deauthorized',
    }),
  };

  const oauthError = (res: ServerResponse, status: number, error: string, description: string) => json(res, status, { error, error_description: description });

  /** POST /oauth/token and /oauth/deauthorize. */
  function oauth(method: string, path: string, raw: string, apiKey: string, res: ServerResponse): void {
    const params = parseForm(raw);
    platform.requestLog.push({ method, path, apiKey, status: 0, params, idempotencyKey: null, stripeAccount: null });
    const log = platform.requestLog.at(-1)!;
    const fail = (status: number, error: string, description: string) => {
      log.status = status;
      oauthError(res, status, error, description);
    };
    if (method !== 'POST' || (path !== '/oauth/token' && path !== '/oauth/deauthorize')) return fail(404, 'invalid_request', `Unrecognized request URL (${method}: ${path}).`);
    if (apiKey !== control.platformKey) return fail(401, 'invalid_client', `No such API key: ${maskKey(apiKey)} (approximate).`);
    if (path === '/oauth/deauthorize') {
      const clientId = str(params.client_id);
      const accountId = str(params.stripe_user_id);
      if (!clientId || !accountId) return fail(400, 'invalid_request', `No ${clientId ? 'stripe_user_id' : 'client_id'} provided (approximate).`);
      if (clientId !== control.clientId) return fail(401, 'invalid_client', `No such application: '${clientId}' (approximate).`);
      const grant = control.grants.get(accountId);
      if (grant?.status !== 'active') return fail(401, 'invalid_client', `This application is not connected to stripe account ${accountId}, or that account does not exist (approximate).`);
      grant.status = 'revoked';
      log.status = 200;
      return json(res, 200, { stripe_user_id: accountId });
    }
    const grantType = str(params.grant_type);
    if (!grantType) return fail(400, 'invalid_request', 'No grant type specified (approximate).');
    if (grantType !== 'authorization_code') return fail(400, 'unsupported_grant_type', `Unsupported grant type: ${grantType} (approximate; the double only does authorization_code).`);
    const code = str(params.code);
    if (!code) return fail(400, 'invalid_request', 'No authorization code provided (approximate).');
    const issued = codes.get(code);
    if (!issued) return fail(400, 'invalid_grant', `Authorization code does not exist: ${code} (approximate).`);
    if (issued.used) {
      control.revoke(issued.accountId);
      return fail(400, 'invalid_grant', `This authorization code has already been used. All tokens issued with this code have been revoked (approximate).`);
    }
    if (issued.expiresAt <= Date.now()) return fail(400, 'invalid_grant', `Authorization code expired: ${code} (approximate).`);
    if (issued.livemode !== control.platformKey.startsWith('sk_live_')) return fail(400, 'invalid_grant', 'The authorization code was issued in a different mode than the key used (approximate).');
    issued.used = true;
    control.grants.set(issued.accountId, { accountId: issued.accountId, status: 'active' });
    log.status = 200;
    const mode = issued.livemode ? 'live' : 'test';
    json(res, 200, {
      access_token: `sk_${mode}_${newId('x').slice(2)}`,
      livemode: issued.livemode,
      refresh_token: newId('rt'),
      scope: 'read_write',
      stripe_publishable_key: `pk_${mode}_${newId('x').slice(2)}`,
      stripe_user_id: issued.accountId,
      token_type: 'bearer',
    });
  }

  /** The connected account a `Stripe-Account` request may act on, or null after answering 403 itself. */
  function accountFor(apiKey: string, accountId: string, res: ServerResponse): AccountDouble | null {
    const double = doubles.get(accountId);
    if (apiKey === control.platformKey && double && control.grants.get(accountId)?.status === 'active') return double;
    json(res, 403, {
      error: {
        type: 'invalid_request_error',
        code: 'account_invalid',
        message: `The provided key '${maskKey(apiKey)}' does not have access to account '${accountId}' (or that account does not exist). Application access may have been revoked.`,
      },
    });
    return null;
  }

  return { control, oauth, accountFor };
}
