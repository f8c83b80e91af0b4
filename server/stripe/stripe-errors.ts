/**
 * Reading errors thrown by stripe-node without depending on its classes (the project duck-types them, as in
 * meter-event-outcome.ts). stripe-node turns an API error answer `{ error: { type, code?, message, param? } }` into
 * an Error carrying `statusCode`, `code`, `param`, `rawType` and the API's `message`; its class follows the HTTP
 * status: 400/404 StripeInvalidRequestError, 401 StripeAuthenticationError, 403 StripePermissionError, 429
 * StripeRateLimitError, 5xx StripeAPIError (docs.stripe.com/api/errors, docs.stripe.com/error-handling).
 */
import { AppError } from '../http/errors';

/** The fields of a stripe-node error this module reads. `statusCode` is undefined for network failures. */
export interface StripeErrorFields {
  /** stripe-node's class name, e.g. 'StripePermissionError', 'StripeConnectionError'. */
  type?: string;
  /** Stripe's error type: 'invalid_request_error', 'api_error', 'idempotency_error', … */
  rawType?: string;
  statusCode?: number;
  /** docs.stripe.com/error-codes, e.g. 'resource_missing', 'parameter_missing'. */
  code?: string;
  param?: string;
  message?: string;
}

/** The error's stripe-node fields, or an empty object for anything else (never throws). */
export function stripeErrorFields(err: unknown): StripeErrorFields {
  return err !== null && typeof err === 'object' ? (err as StripeErrorFields) : {};
}

/** The HTTP status Stripe answered, or undefined (network error, timeout, not a Stripe error). */
export function stripeStatus(err: unknown): number | undefined {
  const status = stripeErrorFields(err).statusCode;
  return typeof status === 'number' ? status : undefined;
}

/**
 * True when Stripe said the object does not exist: HTTP 404 (or 400) with code `resource_missing`
 * ("No such customer: 'cus_…'"; docs.stripe.com/error-codes#resource-missing).
 */
export function isResourceMissing(err: unknown): boolean {
  const e = stripeErrorFields(err);
  return e.code === 'resource_missing' || (e.statusCode === 404 && /^No such /.test(e.message ?? ''));
}

/**
 * The key was refused by Stripe itself (HTTP 401: unknown, expired or revoked key; docs.stripe.com/keys), or does
 * not look like a server-side key at all. An `AppError` 400 `stripe_key_rejected` so an HTTP route shows it as is;
 * `message` is Stripe's own message (e.g. "Invalid API Key provided: sk_test_****abcd") or, for a malformed key,
 * ours.
 */
export class StripeKeyRejectedError extends AppError {
  constructor(message: string) {
    super('stripe_key_rejected', message);
    this.name = 'StripeKeyRejectedError';
  }
}
