/**
 * API keys and the account they belong to. Cross-cutting behaviour, as Stripe documents it:
 * - API keys (docs.stripe.com/keys): `apiKeys` non-empty → any other Bearer key gets 401 "Invalid API Key provided".
 * - Restricted keys (docs.stripe.com/keys/restricted-api-keys): a key with an entry in `keyPermissions` that lacks
 *   the endpoint's resource gets 403 `invalid_request_error` "The provided key 'rk_test_***…abc123' does not have
 *   the required permissions for this endpoint on account 'acct_…'. Having the 'rak_…' permission would allow this
 *   request to continue." (stripe-node raises StripePermissionError for 403). Grant names: a resource
 *   (`customers`, `products`, `prices`, `subscriptions`, `billing_meters`, `meter_events`, `invoices`,
 *   `webhook_endpoints`, `coupons`, `account`) grants read and write; `<resource>_read` grants read only.
 * - The account: GET /v1/account (docs.stripe.com/api/accounts/retrieve).
 */
import type { Access, Fake, Resource, Route, StripeJson, StripeStub } from './types';
import { maskKey, StripeFakeError } from './wire';

/**
 * Permission names as Stripe spells them in 403 messages (e.g. "Having the 'rak_subscription_read' permission would
 * allow this request to continue", seen in stripe-node issue #2246 and user reports). The account one is a guess.
 */
const RAK: Record<Resource, Record<Access, string>> = {
  account: { read: 'rak_accounts_kyc_basic_read', write: 'rak_accounts_kyc_basic_write' },
  customers: { read: 'rak_customer_read', write: 'rak_customer_write' },
  products: { read: 'rak_product_read', write: 'rak_product_write' },
  prices: { read: 'rak_price_read', write: 'rak_price_write' },
  subscriptions: { read: 'rak_subscription_read', write: 'rak_subscription_write' },
  billing_meters: { read: 'rak_billing_meter_read', write: 'rak_billing_meter_write' },
  meter_events: { read: 'rak_billing_meter_event_read', write: 'rak_billing_meter_event_write' },
  invoices: { read: 'rak_invoice_read', write: 'rak_invoice_write' },
  webhook_endpoints: { read: 'rak_webhook_read', write: 'rak_webhook_write' },
  coupons: { read: 'rak_coupon_read', write: 'rak_coupon_write' },
  // A guess, like the account's: Stripe's docs name no permission for v2 event destinations.
  event_destinations: { read: 'rak_event_destination_read', write: 'rak_event_destination_write' },
  // Guesses too, by the same pattern: the names of these permissions are not in Stripe's docs.
  checkout_sessions: { read: 'rak_checkout_session_read', write: 'rak_checkout_session_write' },
  setup_intents: { read: 'rak_setup_intent_read', write: 'rak_setup_intent_write' },
  payment_methods: { read: 'rak_payment_method_read', write: 'rak_payment_method_write' },
  billing_portal: { read: 'rak_billing_portal_read', write: 'rak_billing_portal_write' },
  // A guess by the same pattern: Stripe's docs name no permission for billing credits.
  billing_credits: { read: 'rak_billing_credit_read', write: 'rak_billing_credit_write' },
  payment_intents: { read: 'rak_payment_intent_read', write: 'rak_payment_intent_write' },
  refunds: { read: 'rak_refund_read', write: 'rak_refund_write' },
};


/** The 403 a restricted key gets, or null when the key may use the resource. */
export function permissionError(stub: StripeStub, apiKey: string, resource: Resource, access: Access): StripeFakeError | null {
  const granted = stub.keyPermissions.get(apiKey);
  if (!granted || granted.has(resource) || (access === 'read' && granted.has(`${resource}_read`))) return null;
  return new StripeFakeError(403, {
    type: 'invalid_request_error',
    message:
      `The provided key '${maskKey(apiKey)}' does not have the required permissions for this endpoint on account ` +
      `'${stub.account.id}'. Having the '${RAK[resource][access]}' permission would allow this request to continue.`,
  });
}

/** True when the stub knows its keys (`apiKeys` non-empty) and this is not one of them. */
export const unknownKey = (stub: StripeStub, apiKey: string) => stub.apiKeys.size > 0 && !stub.apiKeys.has(apiKey);

/** The 401 body for an unknown key (docs.stripe.com/keys). */
export const invalidKeyBody = (apiKey: string) => ({
  error: { type: 'invalid_request_error', message: `Invalid API Key provided: ${apiKey.slice(0, 8)}****` },
});

/** The account every key belongs to, as GET /v1/account answers it (docs.stripe.com/api/accounts/object). */
export function defaultAccount(): StripeJson {
  return {
    id: 'acct_1MeterbridgeStub01',
    object: 'account',
    business_profile: { name: 'Stub Agency LLC', url: null, support_email: null },
    settings: { dashboard: { display_name: 'Stub Agency', timezone: 'Etc/UTC' } },
    charges_enabled: true,
    payouts_enabled: true,
    details_submitted: true,
    country: 'US',
    default_currency: 'usd',
    email: 'owner@stub-agency.test',
    type: 'standard',
    livemode: false,
  };
}

/** The account route. */
export function accountRoutes({ stub }: Fake): Route[] {
  return [
    // docs.stripe.com/api/accounts/retrieve (own account: GET /v1/account)
    { method: 'GET', pattern: /^\/v1\/account$/, resource: 'account', access: 'read', accepts: [], handle: () => ({ body: stub.account }) },
  ];
}
