/**
 * The catalogue of error codes: every `error.code` the service answers with, what it means and its HTTP status.
 * The status is looked up here at the boundary (server/http/error-middleware.ts), never chosen where the error is
 * thrown; `AppError` and its helpers (server/http/errors.ts) take only codes listed here, so an unknown code does
 * not compile. The page switches on the same `ErrorCode` type (ui/src/api.ts), and the OpenAPI document lists each
 * route's codes by status (server/http/openapi.ts). Plain data, no imports: the page's type check reads this file.
 * (Modelled on documenso's `AppErrorCode` and its code → status map.)
 */

/** The HTTP statuses an error code may carry. */
export type ErrorStatus = 400 | 401 | 403 | 404 | 409 | 413 | 415 | 422 | 429 | 500 | 502 | 503;

/** One entry: the HTTP status answered and what the code means, for the reader of the OpenAPI document. */
export interface ErrorCodeEntry {
  status: ErrorStatus;
  meaning: string;
}

/** Every error code, by name (snake_case). Add a code here before throwing it. */
export const ERROR_CODES = {
  // 400: the request itself is wrong.
  unknown_coupon: { status: 400, meaning: 'Stripe has no such coupon on the agency’s account (deleted or archived): it cannot be applied.' },
  stripe_connect_state_invalid: { status: 400, meaning: 'The "Connect with Stripe" link or its state is not one Meterbridge issued.' },
  stripe_connect_state_expired: { status: 400, meaning: 'The "Connect with Stripe" link is older than 15 minutes; start again.' },
  stripe_connect_browser_mismatch: { status: 400, meaning: 'The Stripe callback came back to another browser than the one that started connecting.' },
  stripe_connect_declined: { status: 400, meaning: 'The agency declined on Stripe’s page (error=access_denied).' },
  stripe_connect_failed: { status: 400, meaning: 'Stripe answered the connect callback with an error; the message quotes it.' },
  stripe_connect_code_missing: { status: 400, meaning: 'The Stripe callback carries no authorization code.' },
  stripe_connect_code_invalid: { status: 400, meaning: 'Stripe refused the authorization code (unknown, expired or used: invalid_grant).' },
  invalid_request: { status: 400, meaning: 'A parameter, query or body does not match its schema; the message names the fields.' },
  invalid_json: { status: 400, meaning: 'The request body is not valid JSON.' },
  request_aborted: { status: 400, meaning: 'The client aborted the request before its body arrived.' },
  invalid_event: { status: 400, meaning: 'A HighLevel webhook body is not an event of its declared type.' },
  invalid_text: { status: 400, meaning: 'A HighLevel webhook body holds text that cannot be stored (e.g. a NUL character).' },
  invalid_field: { status: 400, meaning: 'A workflow-action field (quantity, metric, idempotency key) is not valid.' },
  invalid_marker: { status: 400, meaning: 'An AI-sender marker is not user:, provider:, source: or unattended, or there are too many.' },
  invalid_alert_settings: { status: 400, meaning: 'Alert settings are not valid: the webhook URL must be https, and an enabled webhook needs a URL and at least one event.' },
  invalid_trigger_subscription: { status: 400, meaning: 'A HighLevel workflow trigger subscription call whose payload is not HighLevel’s, names an unknown trigger, or whose targetUrl is not on HighLevel’s API host.' },
  invalid_wallet_settings: { status: 400, meaning: 'Wallet settings are not valid: amounts must be positive whole cents, the threshold below the maximum balance, the currency the agency’s.' },
  invalid_rule: { status: 400, meaning: 'A rebilling rule (threshold, direction) is not valid.' },
  unknown_metric: { status: 400, meaning: 'The metric is neither built in nor an active custom metric of the agency.' },
  invalid_range: { status: 400, meaning: 'A backfill range is empty, in the future, or longer than allowed.' },
  invalid_stripe_key: { status: 400, meaning: 'The text is not a Stripe secret (sk_) or restricted (rk_) key.' },
  stripe_key_rejected: { status: 400, meaning: 'Stripe refused the key (revoked, wrong account, mistyped).' },
  invalid_webhook_secret: { status: 400, meaning: 'The text is not a Stripe webhook signing secret (whsec_).' },
  invalid_customer: { status: 400, meaning: 'The text is not a Stripe customer id (cus_).' },
  unknown_customer: { status: 400, meaning: 'Stripe has no such customer on the agency’s account.' },
  invalid_meter: { status: 400, meaning: 'A Stripe meter’s event name or display name has the wrong length.' },
  invalid_price_terms: { status: 400, meaning: 'A price’s currency, interval, amount or tiers are not valid.' },
  invalid_subscription_prices: { status: 400, meaning: 'A subscription would have no price, or more than Stripe allows.' },
  invalid_idempotency_key: { status: 400, meaning: 'An idempotency key for Stripe is empty or too long.' },
  invalid_start_date: { status: 400, meaning: 'A scheduled subscription would start in the past.' },
  invalid_grant: { status: 400, meaning: 'HighLevel’s OAuth answer lacks what an install needs (a companyId).' },
  webhook_not_configured: { status: 400, meaning: 'A Stripe webhook arrived for an agency that has no signing secret stored.' },
  event_destination_not_configured: { status: 400, meaning: 'A Stripe event arrived for an agency that has no event destination secret stored.' },
  stripe_refused: { status: 400, meaning: 'Stripe refused the request as invalid; the message carries Stripe’s own.' },
  // 401: no valid credential.
  unauthenticated: { status: 401, meaning: 'No credential was sent (session token, API key or workflow-action secret).' },
  session_expired: { status: 401, meaning: 'The session token has expired; sign in again through HighLevel.' },
  invalid_session: { status: 401, meaning: 'The session token is not valid.' },
  invalid_sso_payload: { status: 401, meaning: 'HighLevel’s SSO payload could not be decrypted or read.' },
  invalid_api_key: { status: 401, meaning: 'The API key is unknown.' },
  api_key_revoked: { status: 401, meaning: 'The API key has been revoked.' },
  invalid_signature: { status: 401, meaning: 'A webhook’s signature (HighLevel or Stripe) is missing or does not match the body.' },
  workflow_action_not_configured: { status: 401, meaning: 'This server has no workflow-action secret, so it accepts no workflow action calls.' },
  // 403: known caller, not allowed.
  forbidden: { status: 403, meaning: 'The caller may not act on this resource (another agency, another sub-account, a location user).' },
  admin_required: { status: 403, meaning: 'Only an agency admin may change billing settings.' },
  install_required: { status: 403, meaning: 'Meterbridge is not installed for the agency or sub-account signing in.' },
  // 404.
  coupon_not_found: { status: 404, meaning: 'Stripe has no such coupon on the agency’s account (archived already?).' },
  product_not_found: { status: 404, meaning: 'No such one-time product in the agency’s catalogue.' },
  charge_not_found: { status: 404, meaning: 'No such one-time charge on this sub-account.' },
  top_up_not_found: { status: 404, meaning: 'No such wallet top-up on this sub-account.' },
  plan_not_found: { status: 404, meaning: 'No such plan in the agency’s catalogue.' },
  stripe_connect_not_configured: { status: 404, meaning: 'This deployment has no Stripe Connect platform (STRIPE_CONNECT_*): paste a key instead.' },
  not_found: { status: 404, meaning: 'No such resource, or none the caller may see.' },
  // 409: the state of things does not allow it now.
  no_subscription: { status: 409, meaning: 'The sub-account has no running Stripe subscription yet.' },
  product_archived: { status: 409, meaning: 'The one-time product is archived.' },
  charge_not_retryable: { status: 409, meaning: 'The one-time charge is paid, void or uncollectible: nothing to retry.' },
  plan_archived: { status: 409, meaning: 'The plan is archived.' },
  plan_is_default: { status: 409, meaning: 'The agency’s default plan cannot be archived; make another plan the default first.' },
  stripe_connect_state_used: { status: 409, meaning: 'The "Connect with Stripe" link was used already.' },
  stripe_account_mismatch: { status: 409, meaning: 'Another Stripe account than the one the sub-accounts are mapped on; unmap them first.' },
  stripe_account_in_use: { status: 409, meaning: 'That Stripe account is connected to another agency.' },
  stripe_not_connected: { status: 409, meaning: 'The agency has not connected Stripe yet.' },
  reinstall_required: { status: 409, meaning: 'No working HighLevel grant for the agency or sub-account: reinstall the app.' },
  no_customer: { status: 409, meaning: 'The sub-account is not mapped to a Stripe customer.' },
  card_required: { status: 409, meaning: 'The agency requires a card before a subscription starts, and Stripe has no usable card for the customer.' },
  no_stripe_customer: { status: 409, meaning: 'The sub-account is not mapped to a Stripe customer, so its usage cannot be resent.' },
  not_retryable: { status: 409, meaning: 'The meter event is not failed or rejected, is being sent, or was resent already.' },
  not_installed: { status: 409, meaning: 'The sub-account uninstalled Meterbridge, so its HighLevel history cannot be read.' },
  backfill_active: { status: 409, meaning: 'A backfill of the sub-account is still queued or running.' },
  not_cancellable: { status: 409, meaning: 'The backfill has already completed or failed.' },
  reconciliation_running: { status: 409, meaning: 'A reconciliation of the agency is already running.' },
  too_many_api_keys: { status: 409, meaning: 'The agency holds the most active API keys allowed.' },
  metric_exists: { status: 409, meaning: 'The custom metric key exists already, or is a built-in metric.' },
  too_many_metrics: { status: 409, meaning: 'The agency has the most active custom metrics allowed.' },
  idempotency_conflict: { status: 409, meaning: 'The idempotency key was already used for different usage.' },
  stripe_meter_incompatible: { status: 409, meaning: 'The agency’s active Stripe meter for the event name does not sum by customer.' },
  subscription_customer_mismatch: { status: 409, meaning: 'The Stripe subscription belongs to another customer.' },
  stripe_tax_inactive: { status: 409, meaning: 'Stripe Tax is not active on the agency’s Stripe account.' },
  wallet_not_configured: { status: 409, meaning: 'Neither the agency nor the sub-account has wallet settings yet.' },
  wallet_not_prepaid: { status: 409, meaning: 'The sub-account is billed postpaid: switch it to the prepaid wallet first.' },
  top_up_in_flight: { status: 409, meaning: 'A top-up of this wallet is already being charged; wait for it to finish.' },
  top_up_not_refundable: { status: 409, meaning: 'Only a granted top-up (its credit in Stripe) can be refunded.' },
  // 413, 415.
  payload_too_large: { status: 413, meaning: 'The request body is larger than the route accepts.' },
  unsupported_encoding: { status: 415, meaning: 'The request body’s content encoding is not supported.' },
  // 422: understood, but not acceptable as it is.
  customer_email_required: { status: 422, meaning: 'The Stripe customer has no email, so Stripe cannot send it an invoice.' },
  invalid_events: { status: 422, meaning: 'Some usage events are invalid (listed by index in error.events); nothing was stored.' },
  unknown_location: { status: 422, meaning: 'The workflow action names a sub-account Meterbridge does not know.' },
  stripe_permissions_missing: { status: 422, meaning: 'The restricted Stripe key lacks permissions Meterbridge needs (listed in the message).' },
  customer_location_required: { status: 422, meaning: 'Stripe Tax needs the customer’s country and postal code.' },
  customer_location_invalid: { status: 422, meaning: 'Stripe Tax cannot locate the customer’s billing address.' },
  wallet_max_balance: { status: 422, meaning: 'The top-up would take the wallet above its maximum balance (the message gives the most it can take).' },
  wallet_monthly_cap: { status: 422, meaning: 'The top-up would exceed the wallet’s cap on top-ups this month.' },
  refund_above_unused: { status: 422, meaning: 'A refund cannot exceed the unused part of the top-up: what remains of its credit, no more than the wallet’s balance after unbilled usage (the message gives the most).' },
  // 429.
  rate_limited: { status: 429, meaning: 'Too many requests; retry after the Retry-After header’s seconds.' },
  // 5xx: our side or a dependency.
  internal: { status: 500, meaning: 'Something went wrong on our side; the message never says what.' },
  stripe_error: { status: 502, meaning: 'Stripe failed, timed out or rate-limited the call; retry later.' },
  stripe_unavailable: { status: 502, meaning: 'Stripe could not be reached to check the key.' },
  unavailable: { status: 503, meaning: 'A dependency (the database) is unavailable; retry later.' },
  not_ready: { status: 503, meaning: 'The service is up but cannot serve yet (database unreachable or not migrated).' },
  sso_not_configured: { status: 503, meaning: 'The server has no HIGHLEVEL_SHARED_SECRET, so sign-in through HighLevel cannot work.' },
  oauth_not_configured: { status: 503, meaning: 'The server has no HighLevel OAuth client id and secret.' },
} as const satisfies Record<string, ErrorCodeEntry>;

/** An error code of the catalogue. */
export type ErrorCode = keyof typeof ERROR_CODES;

/** The status the catalogue gives code `C`. */
export type StatusOf<C extends ErrorCode> = (typeof ERROR_CODES)[C]['status'];

/** The codes whose status is `S`, e.g. `CodeWithStatus<400>` for `badRequest`. */
export type CodeWithStatus<S extends ErrorStatus> = { [C in ErrorCode]: StatusOf<C> extends S ? C : never }[ErrorCode];

/** The HTTP status of a code, from the catalogue. */
export function statusOf(code: ErrorCode): ErrorStatus {
  return ERROR_CODES[code].status;
}

/** True when `value` is a code of the catalogue (for answers read back, e.g. by the page). */
export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.hasOwn(ERROR_CODES, value);
}
