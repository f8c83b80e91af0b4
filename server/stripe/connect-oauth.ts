/**
 * Stripe Connect OAuth for Standard accounts, as Stripe documents it (docs.stripe.com/connect/oauth-reference,
 * docs.stripe.com/connect/oauth-standard-accounts):
 * - the agency is sent to `GET https://connect.stripe.com/oauth/authorize?response_type=code&client_id=ca_…
 *   &scope=read_write&state=…&redirect_uri=…`; Stripe sends it back to `redirect_uri` with `code` and `state`, or
 *   with `error` (e.g. `access_denied`, "The user denied your request") and `error_description`;
 * - the code is exchanged with the platform's secret key: `POST https://connect.stripe.com/oauth/token`
 *   `grant_type=authorization_code&code=ac_…` (stripe-node `stripe.oauth.token`) → `{ stripe_user_id, livemode,
 *   scope, access_token, refresh_token, … }`. A code is single-use and short-lived; a used, unknown or expired one is
 *   `400 { error: 'invalid_grant' }`. Only `stripe_user_id` is kept: Meterbridge acts with the platform key and
 *   `Stripe-Account`, so the access and refresh tokens are dropped unread (never stored, logged or returned);
 * - `POST https://connect.stripe.com/oauth/deauthorize` `client_id&stripe_user_id` revokes the grant.
 * The `state` ("an arbitrary string value we will pass back to you, useful for CSRF protection") is a random nonce
 * stored with the agency, the HighLevel user of the SSO session and an expiry, plus an HMAC over all of them: the
 * callback refuses a forged, expired, or already used state (server/stripe/connect-repository.ts).
 */
import { createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';
import type Stripe from 'stripe';
import type { Database } from '../../models/database';
import type { StripeConnectConfig } from '../config-fields';
import { AppError, badRequest } from '../http/errors';
import { upsertAgency } from '../tenancy/accounts-repository';
import { consumeConnectState, findConnectState, insertConnectState, purgeConnectStates, type StoredConnectState } from './connect-repository';

/** How long an authorization may take, from "Connect with Stripe" to the callback: 15 minutes. */
export const STATE_TTL_MS = 15 * 60 * 1000;
const STATE_FORMAT = /^([A-Za-z0-9_-]{43})\.([A-Za-z0-9_-]{43})$/;

/** What Stripe's token endpoint told us, without its tokens. */
export interface ConnectGrant {
  accountId: string;
  livemode: boolean;
  scope: string | null;
}

/**
 * @param deps.encryptionKey ENCRYPTION_KEY; the state's HMAC key is derived from it (HKDF, its own label).
 * @param deps.now the clock (tests).
 */
export function createConnectOAuth(deps: { db: Database; encryptionKey: Buffer; platform: StripeConnectConfig; platformClient: Stripe; now?: () => number }) {
  const { db, platform } = deps;
  const now = deps.now ?? (() => Date.now());
  const hmacKey = Buffer.from(hkdfSync('sha256', deps.encryptionKey, Buffer.alloc(0), 'meterbridge stripe-connect state v1', 32));
  const sign = (s: Omit<StoredConnectState, 'usedAt' | 'userName'>) =>
    createHmac('sha256', hmacKey).update([s.nonce, s.companyId, s.userId, String(s.expiresAt.getTime())].join('\n')).digest('base64url');

  /**
   * Reads and checks a state presented by a browser, without using it up.
   * @throws AppError 400 `stripe_connect_state_invalid` (missing, malformed, unknown or forged), 400
   *   `stripe_connect_state_expired`, 409 `stripe_connect_state_used`.
   */
  async function check(state: unknown): Promise<StoredConnectState> {
    const match = typeof state === 'string' ? STATE_FORMAT.exec(state) : null;
    const invalid = badRequest('stripe_connect_state_invalid', 'This Stripe connection link is not valid. Start again from "Connect with Stripe" in Meterbridge.');
    if (!match) throw invalid;
    const stored = await findConnectState(db, match[1]!);
    if (!stored) throw invalid;
    const expected = Buffer.from(sign(stored));
    const given = Buffer.from(match[2]!);
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) throw invalid;
    if (stored.usedAt) throw new AppError(409, 'stripe_connect_state_used', 'This Stripe connection link was already used. Start again from "Connect with Stripe" in Meterbridge.');
    if (stored.expiresAt.getTime() <= now()) throw badRequest('stripe_connect_state_expired', 'This Stripe connection link has expired (15 minutes). Start again from "Connect with Stripe" in Meterbridge.');
    return stored;
  }

  return {
    /** A new signed state for the agency and the user of the SSO session (their name kept for the audit log); expires in STATE_TTL_MS. */
    async createState(companyId: string, userId: string, userName: string | null = null): Promise<{ state: string; nonce: string; expiresAt: Date }> {
      await purgeConnectStates(db);
      await upsertAgency(db, { companyId }); // a session can precede the agency's row (the state references it)
      const row = { nonce: randomBytes(32).toString('base64url'), companyId, userId, userName, expiresAt: new Date(now() + STATE_TTL_MS) };
      await insertConnectState(db, row);
      return { state: `${row.nonce}.${sign(row)}`, nonce: row.nonce, expiresAt: row.expiresAt };
    },

    check,

    /** `check`, then uses the state up (a second callback with it gets 409). @throws as `check`. */
    async consume(state: unknown): Promise<StoredConnectState> {
      const stored = await check(state);
      if (!(await consumeConnectState(db, stored.nonce))) {
        throw new AppError(409, 'stripe_connect_state_used', 'This Stripe connection link was already used. Start again from "Connect with Stripe" in Meterbridge.');
      }
      return stored;
    },

    /** Stripe's authorize URL for a state (docs.stripe.com/connect/oauth-reference, "Authorize the account"). */
    authorizeUrl(state: string): string {
      const query = new URLSearchParams({ response_type: 'code', client_id: platform.clientId, scope: 'read_write', state, redirect_uri: platform.redirectUri });
      return `https://connect.stripe.com/oauth/authorize?${query.toString()}`;
    },

    /**
     * Exchanges an authorization code for the connected account id (the tokens are dropped).
     * @throws AppError 400 `stripe_connect_code_invalid` (Stripe's `invalid_grant`/`invalid_request`, with its
     *   description), 502 `stripe_unavailable` when Stripe cannot be reached or answers otherwise.
     */
    async exchange(code: string): Promise<ConnectGrant> {
      let token: Stripe.OAuthToken;
      try {
        token = await deps.platformClient.oauth.token({ grant_type: 'authorization_code', code });
      } catch (err) {
        const e = err as { type?: string; code?: string; message?: string };
        if (e.type === 'StripeInvalidGrantError' || e.type === 'StripeOAuthInvalidRequestError') {
          throw badRequest('stripe_connect_code_invalid', `Stripe refused the authorization code: ${e.message ?? 'invalid_grant'}. Start again from "Connect with Stripe".`);
        }
        throw new AppError(502, 'stripe_unavailable', `Stripe could not complete the connection: ${e.message ?? 'no answer'}`);
      }
      if (!token.stripe_user_id) throw new AppError(502, 'stripe_unavailable', 'Stripe did not name the connected account.');
      return { accountId: token.stripe_user_id, livemode: token.livemode === true, scope: token.scope ?? null };
    },

    /** Revokes the platform's access to the account (best effort is the caller's choice). @throws Stripe's error. */
    async revoke(accountId: string): Promise<void> {
      await deps.platformClient.oauth.deauthorize({ client_id: platform.clientId, stripe_user_id: accountId });
    },
  };
}

/** The Connect OAuth helpers (see `createConnectOAuth`). */
export type ConnectOAuth = ReturnType<typeof createConnectOAuth>;
