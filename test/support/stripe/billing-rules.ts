/**
 * Rules Stripe enforces that more than one resource of the double needs: the values of a price's `tax_behavior`,
 * what automatic tax requires (subscriptions and subscription schedules), and the next natural billing date that
 * bounds `billing_cycle_anchor` and gives a schedule phase its default length.
 */
import { taxLocation } from './customers';
import type { Fake, StripeJson } from './types';
import { invalid, str, StripeFakeError, type FormValue } from './wire';

/**
 * `tax_behavior` (docs.stripe.com/api/prices/create, OpenAPI PostPrices): one of `inclusive`, `exclusive`,
 * `unspecified`; undefined when absent. Absent on create means `unspecified` (docs.stripe.com/tax/products-prices-tax-categories-tax-behavior).
 */
export function taxBehaviorParam(value: FormValue | undefined): string | undefined {
  if (value === undefined) return undefined;
  const s = str(value);
  if (s === undefined || !['inclusive', 'exclusive', 'unspecified'].includes(s)) {
    throw invalid(`Invalid tax_behavior: must be one of inclusive, exclusive, or unspecified`, 'tax_behavior');
  }
  return s;
}

/**
 * The next natural billing date of a subscription starting at `start` (Unix seconds) on a price billed every
 * `count` `interval`s: calendar months and years as Stripe counts them (docs.stripe.com/billing/subscriptions/billing-cycle).
 */
export function nextNaturalBillingDate(start: number, interval: string, count: number): number {
  const d = new Date(start * 1000);
  if (interval === 'day') d.setUTCDate(d.getUTCDate() + count);
  else if (interval === 'week') d.setUTCDate(d.getUTCDate() + 7 * count);
  else if (interval === 'month') d.setUTCMonth(d.getUTCMonth() + count);
  else d.setUTCFullYear(d.getUTCFullYear() + count);
  return Math.floor(d.getTime() / 1000);
}

/**
 * Refuses `automatic_tax[enabled]=true` where Stripe refuses it:
 * - Stripe Tax not active (GET /v1/tax/settings `status` ≠ `active`): code `stripe_tax_inactive`
 *   (docs.stripe.com/error-codes) with the message Stripe answers, as quoted in public reports (mozilla/fxa#13960);
 * - a customer without a recognised location (country and postal code; docs.stripe.com/tax/customer-locations):
 *   code `customer_tax_location_invalid` (docs.stripe.com/error-codes), message approximate;
 * - a price with `tax_behavior` `unspecified` while the tax settings give no default (docs.stripe.com/api/prices/create
 *   `tax_behavior`: "Only required if a default tax behavior was not provided in the Stripe Tax settings"), approximate.
 */
export function requireTaxReady(fake: Fake, customer: StripeJson, prices: StripeJson[], param = 'automatic_tax[enabled]'): void {
  if (fake.stub.taxSettings.status !== 'active') {
    throw new StripeFakeError(400, {
      type: 'invalid_request_error',
      code: 'stripe_tax_inactive',
      param,
      message: 'Stripe Tax has not been activated on your account. Please visit https://dashboard.stripe.com/settings/tax/activate to get started.',
    });
  }
  if (!taxLocation(customer)) {
    throw invalid(
      "The customer's location isn't recognized. Set a valid customer address (country and postal code) to calculate tax automatically (approximate).",
      param,
      'customer_tax_location_invalid',
    );
  }
  const unspecified = prices.find((p) => p.tax_behavior === 'unspecified');
  if (unspecified && !fake.stub.taxSettings.defaults?.tax_behavior) {
    throw invalid(`The price ${unspecified.id} has no tax_behavior and your Stripe Tax settings have no default; set one to use automatic tax (approximate).`, param);
  }
}

