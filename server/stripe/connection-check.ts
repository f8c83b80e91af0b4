/**
 * Checks a pasted Stripe key with real calls before it is stored: what it is (test/live, secret/restricted), whose
 * account it opens, and — for restricted keys — which permissions Meterbridge needs that it lacks.
 *
 * How a permission is told apart (docs.stripe.com/keys/restricted-api-keys): a restricted key without the
 * permission an endpoint needs gets HTTP 403, type `invalid_request_error`, message "The provided key 'rk_…' does
 * not have the required permissions for this endpoint on account 'acct_…'. Having the 'rak_…' permission would
 * allow this request to continue." (stripe-node: StripePermissionError). The check is per endpoint, before the
 * request is looked at, so:
 * - read permissions are probed with a list call of one object (harmless);
 * - write permissions are probed with a write that cannot change anything: an update with no parameters of an
 *   object that does not exist (`…/meterbridge_permission_probe`), answered 404 `resource_missing` when permitted,
 *   and for meter events (which have no read endpoint) a meter event without a payload, answered 400 "Missing
 *   required param: payload." when permitted (docs.stripe.com/api/billing/meter-event/create). Any 400/404 — or a
 *   2xx, should such an object exist: an empty update changes nothing — counts as permitted; only 403 as missing.
 */
import type Stripe from 'stripe';
import { StripeKeyRejectedError, stripeErrorFields, stripeStatus } from './stripe-errors';

export { StripeKeyRejectedError } from './stripe-errors';

/** A permission the key lacks: Stripe's name (e.g. 'rak_subscription_write') and a label for people. */
export interface MissingPermission {
  permission: string;
  /** e.g. "Billing meter events: write" — the resource and access level as Stripe's key editor names them. */
  label: string;
}

/** What a key is and what it may do. Never carries the key. */
export interface StripeKeyCheck {
  /** From the key's prefix: `sk_test_`/`rk_test_` → test, `sk_live_`/`rk_live_` → live (docs.stripe.com/keys). */
  mode: 'test' | 'live';
  /** `sk_` → secret (may do anything), `rk_` → restricted (docs.stripe.com/keys/restricted-api-keys). */
  keyType: 'secret' | 'restricted';
  /** `acct_…` from GET /v1/account, or from a 403 message when the account itself may not be read; null if neither. */
  accountId: string | null;
  /** The account's dashboard display name, else its business name (docs.stripe.com/api/accounts/object). */
  accountName: string | null;
  /** In check order; empty for a secret key. Entries whose `permission` mentions "webhook" are optional to Meterbridge. */
  missing: MissingPermission[];
}

/** An id no real object has; updates of it with no parameters change nothing. */
const PROBE = 'meterbridge_permission_probe';

type Probe = (stripe: Stripe) => Promise<unknown>;

interface Requirement extends MissingPermission {
  /** Tried in order; the first 403 makes the permission missing. */
  probes: Probe[];
}

/**
 * What Meterbridge needs, in the order it is reported. Each probe names the page of the call it makes.
 * Write access implies read access in Stripe's key editor, so a "write" requirement is probed with its list too.
 */
const REQUIREMENTS: Requirement[] = [
  {
    permission: 'rak_customer_write',
    label: 'Customers: write',
    probes: [
      (s) => s.customers.list({ limit: 1 }), // docs.stripe.com/api/customers/list
      (s) => s.customers.update(`cus_${PROBE}`, {}), // docs.stripe.com/api/customers/update
    ],
  },
  {
    permission: 'rak_product_write',
    label: 'Products: write',
    probes: [
      (s) => s.products.list({ limit: 1 }), // docs.stripe.com/api/products/list
      (s) => s.products.update(`prod_${PROBE}`, {}), // docs.stripe.com/api/products/update
    ],
  },
  {
    permission: 'rak_price_write',
    label: 'Prices: write',
    probes: [
      (s) => s.prices.list({ limit: 1 }), // docs.stripe.com/api/prices/list
      (s) => s.prices.update(`price_${PROBE}`, {}), // docs.stripe.com/api/prices/update
    ],
  },
  {
    permission: 'rak_billing_meter_write',
    label: 'Billing meters: write',
    probes: [
      (s) => s.billing.meters.list({ limit: 1 }), // docs.stripe.com/api/billing/meter/list
      (s) => s.billing.meters.update(`mtr_${PROBE}`, {}), // docs.stripe.com/api/billing/meter/update
    ],
  },
  {
    permission: 'rak_billing_meter_event_write',
    label: 'Billing meter events: write',
    // docs.stripe.com/api/billing/meter-event/create: `payload` is required, so no event is ever recorded.
    probes: [(s) => s.billing.meterEvents.create({ event_name: PROBE, payload: {} })],
  },
  {
    permission: 'rak_subscription_write',
    label: 'Subscriptions: write',
    probes: [
      (s) => s.subscriptions.list({ limit: 1 }), // docs.stripe.com/api/subscriptions/list
      (s) => s.subscriptions.update(`sub_${PROBE}`, {}), // docs.stripe.com/api/subscriptions/update
    ],
  },
  {
    permission: 'rak_invoice_read',
    label: 'Invoices: read',
    probes: [(s) => s.invoices.list({ limit: 1 })], // docs.stripe.com/api/invoices/list
  },
  {
    permission: 'rak_webhook_write',
    label: 'Webhook endpoints: write',
    probes: [
      (s) => s.webhookEndpoints.list({ limit: 1 }), // docs.stripe.com/api/webhook_endpoints/list
      (s) => s.webhookEndpoints.update(`we_${PROBE}`, {}), // docs.stripe.com/api/webhook_endpoints/update
    ],
  },
];

/**
 * Reading the own account (GET /v1/account, docs.stripe.com/api/accounts/retrieve). Stripe's permission name for
 * it is taken from the 403 message when there is one; the fallback name is unverified.
 */
const ACCOUNT_REQUIREMENT: MissingPermission = { permission: 'rak_accounts_kyc_basic_read', label: 'Account details: read' };

const KEY_PREFIX = /^(sk|rk)_(test|live)_/;

/**
 * Checks `secretKey` (the key `stripe` was built with) against Stripe: GET /v1/account first, then every
 * requirement's probes (read lists of one object, harmless write probes — see the module comment), requirements
 * concurrently (about 15 calls in all, within Stripe's rate limits of docs.stripe.com/rate-limits).
 *
 * @returns the key's mode and type, the account, and every missing permission (`missing` is empty for a secret key
 *   and for a restricted key with everything Meterbridge uses).
 * @throws StripeKeyRejectedError when Stripe answers 401 (unknown, expired or revoked key; carries Stripe's
 *   message), or when the key is not an `sk_`/`rk_` key of test or live mode.
 * @throws the stripe-node error itself, with Stripe's message, for anything else (network, 429, 5xx, …).
 */
export async function checkStripeKey(stripe: Stripe, secretKey: string): Promise<StripeKeyCheck> {
  const prefix = KEY_PREFIX.exec(secretKey);
  if (!prefix) throw new StripeKeyRejectedError('Not a Stripe secret key (sk_test_…, sk_live_…) or restricted key (rk_test_…, rk_live_…).');
  const check: StripeKeyCheck = {
    mode: prefix[2] === 'live' ? 'live' : 'test',
    keyType: prefix[1] === 'rk' ? 'restricted' : 'secret',
    accountId: null,
    accountName: null,
    missing: [],
  };

  const forbiddenMessages: string[] = [];
  const permitted = async (probe: Probe): Promise<boolean> => {
    try {
      await probe(stripe);
      return true;
    } catch (err) {
      const status = stripeStatus(err);
      const message = stripeErrorFields(err).message ?? String(err);
      if (status === 401) throw new StripeKeyRejectedError(message);
      if (status === 403) {
        forbiddenMessages.push(message);
        return false;
      }
      if (status === 400 || status === 404) return true; // passed the permission check, then refused the request
      throw err;
    }
  };

  // One call first: a refused key stops here instead of after fifteen.
  let account: Stripe.Account | null = null;
  const accountReadable = await permitted(async (s) => {
    account = await s.accounts.retrieveCurrent(); // docs.stripe.com/api/accounts/retrieve
  });
  if (!accountReadable) {
    const named = /Having the '([^']+)' permission/.exec(forbiddenMessages.at(-1) ?? '')?.[1];
    check.missing.push({ permission: named ?? ACCOUNT_REQUIREMENT.permission, label: ACCOUNT_REQUIREMENT.label });
  }

  const outcomes = await Promise.all(
    REQUIREMENTS.map(async (requirement) => {
      for (const probe of requirement.probes) if (!(await permitted(probe))) return false;
      return true;
    }),
  );
  REQUIREMENTS.forEach(({ permission, label }, i) => {
    if (!outcomes[i]) check.missing.push({ permission, label });
  });

  const found = account as Stripe.Account | null;
  check.accountId = found?.id ?? forbiddenMessages.map((m) => /on account '(acct_[A-Za-z0-9]+)'/.exec(m)?.[1]).find(Boolean) ?? null;
  check.accountName = found?.settings?.dashboard?.display_name || found?.business_profile?.name || null;
  return check;
}
