/**
 * How Meterbridge reaches an agency's Stripe account — the one place that knows there are two ways:
 * - `key`: the agency pasted a secret or restricted key (stored sealed, server/crypto/secret-box.ts);
 * - `connect`: the agency authorized the operator's Connect platform through OAuth (Standard account,
 *   docs.stripe.com/connect/oauth-reference). Requests then use the PLATFORM's secret key with the
 *   `Stripe-Account: acct_…` header (docs.stripe.com/connect/authentication); nothing secret of the agency is stored.
 * A Connect agency that revoked access (`account.application.deauthorized`, server/stripe/connect-webhook.ts) is
 * *held*: no credentials, so every use case answers "not connected" and the reporter leaves its reports pending.
 */
import { eq } from 'drizzle-orm';
import type Stripe from 'stripe';
import type { Database } from '../../models/database';
import { agencies } from '../../models/schema';
import type { StripeConnectConfig } from '../config-fields';
import type { SecretBox } from '../crypto/secret-box';
import type { StripeClientFactory } from './stripe-client';

/**
 * What a client is made from. `testMode`: the requests are test-mode ones (a `sk_test_`/`rk_test_` key, or a test-mode
 * platform key), whose meter events count against Stripe's basic 25/s limit (docs.stripe.com/rate-limits).
 */
export type AgencyStripeCredentials =
  | { kind: 'key'; key: string; testMode: boolean }
  | { kind: 'connect'; accountId: string; testMode: boolean };

/**
 * The mode of a pasted key from its prefix: `sk_test_`/`rk_test_` → test, `sk_live_`/`rk_live_` → live
 * (docs.stripe.com/keys: test and live keys, secret `sk_` and restricted `rk_`).
 */
export function stripeKeyMode(key: string): 'test' | 'live' {
  return /^(sk|rk)_test_/.test(key) ? 'test' : 'live';
}

/**
 * Builds the resolver.
 * @param deps.platform the Connect platform (config `stripeConnect`); null: Connect agencies have no client (held).
 */
export function createAgencyConnections(deps: { db: Database; secretBox: SecretBox; clients: StripeClientFactory; platform: StripeConnectConfig | null }) {
  const { db, secretBox, clients, platform } = deps;

  /**
   * The agency's credentials, or null when it has no usable connection (never connected, disconnected, a Connect
   * grant revoked, or Connect no longer configured). Secrets returned here go to a Stripe client only.
   * @throws SecretDecryptionError when a stored key cannot be opened.
   */
  async function credentials(companyId: string): Promise<AgencyStripeCredentials | null> {
    const [row] = await db
      .select({
        key: agencies.stripeSecretKey,
        type: agencies.stripeConnectionType,
        accountId: agencies.stripeAccountId,
        deauthorizedAt: agencies.stripeDeauthorizedAt,
      })
      .from(agencies)
      .where(eq(agencies.companyId, companyId));
    if (!row) return null;
    if (row.type === 'connect') {
      if (row.deauthorizedAt || !row.accountId || !platform) return null;
      return { kind: 'connect', accountId: row.accountId, testMode: platform.secretKey.startsWith('sk_test_') };
    }
    if (!row.key) return null;
    const key = secretBox.open(row.key);
    return { kind: 'key', key, testMode: stripeKeyMode(key) === 'test' };
  }

  /** The Stripe client for credentials: the agency's key, or the platform's key acting on the connected account. */
  function client(c: AgencyStripeCredentials): Stripe {
    if (c.kind === 'key') return clients(c.key);
    if (!platform) throw new Error('Stripe Connect is not configured');
    return clients(platform.secretKey, c.accountId);
  }

  return {
    credentials,
    client,
    /** The agency's client and whether it is test mode, or null (see `credentials`). */
    async clientFor(companyId: string): Promise<{ client: Stripe; testMode: boolean } | null> {
      const c = await credentials(companyId);
      return c ? { client: client(c), testMode: c.testMode } : null;
    },
    /** The platform's own client (OAuth token exchange, deauthorize, Connect webhook signatures), or null. */
    platformClient: (): Stripe | null => (platform ? clients(platform.secretKey) : null),
    platform,
  };
}

/** The agency connection resolver (see `createAgencyConnections`). */
export type AgencyConnections = ReturnType<typeof createAgencyConnections>;
