/**
 * What a meter-event call's result means for its batch. Sources: Stripe API errors
 * (docs.stripe.com/api/errors, docs.stripe.com/error-low-level) and the meter event identifier's uniqueness rule
 * (docs.stripe.com/api/billing/meter-event/create: an identifier already seen is rejected with
 * "An event already exists with identifier …", which proves the first send was delivered).
 */

/** sent: Stripe has the event. retry: transient (429, 409, 5xx, network, timeout). failed: Stripe refused it. */
export type MeterEventOutcome = { kind: 'sent'; duplicate: boolean } | { kind: 'retry'; message: string } | { kind: 'failed'; message: string };

interface StripeLikeError {
  type?: string;
  statusCode?: number;
  code?: string;
  message?: string;
  headers?: Record<string, string | undefined>;
}

/** Classifies an error thrown by `stripe.billing.meterEvents.create`. Never throws. */
export function classifyMeterEventError(err: unknown): MeterEventOutcome {
  const e = (err ?? {}) as StripeLikeError;
  const message = typeof e.message === 'string' && e.message ? e.message : String(err);
  if (isDuplicateIdentifier(e)) return { kind: 'sent', duplicate: true };
  const status = e.statusCode;
  if (e.type === 'StripeConnectionError' || status === undefined) return { kind: 'retry', message };
  if (status === 429 || status === 409 || status >= 500) return { kind: 'retry', message };
  if (e.headers?.['stripe-should-retry'] === 'true') return { kind: 'retry', message };
  return { kind: 'failed', message };
}

function isDuplicateIdentifier(e: StripeLikeError): boolean {
  if (e.statusCode !== 400) return false;
  return e.code === 'duplicate_meter_event' || /already exists with identifier/i.test(e.message ?? '');
}

/**
 * Exponential backoff with jitter: base × 2^(attempt−1), capped, then scaled by a random factor in [0.5, 1).
 * @param attempt 1 for the first retry. @returns seconds.
 */
export function retryDelaySeconds(attempt: number, baseSeconds: number, maxSeconds: number, random = Math.random): number {
  const exponential = Math.min(maxSeconds, baseSeconds * 2 ** Math.max(0, attempt - 1));
  return exponential * (0.5 + random() * 0.5);
}
