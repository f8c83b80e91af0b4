/**
 * What Stripe Tax needs before a subscription may calculate tax automatically (docs.stripe.com/tax/subscriptions):
 * tax settings that are `active` on the agency's account (docs.stripe.com/api/tax/settings) and a customer location
 * Stripe Tax recognises — "Collect and set both the country and the postal_code fields on your customer objects"
 * (docs.stripe.com/tax/customer-locations). Checked here first so the agency gets a clear message naming what to do,
 * rather than Stripe's refusal of the subscription (codes `stripe_tax_inactive`, `customer_tax_location_invalid`;
 * docs.stripe.com/error-codes).
 */
import type Stripe from 'stripe';
import { AppError } from '../http/errors';
import { stripeErrorFields } from './stripe-errors';

/**
 * A customer's billing address, as the settings API takes it. `country` is a two-letter ISO 3166-1 alpha-2 code
 * ('US', 'DE'); `postalCode` the postal or ZIP code. The other lines are optional.
 */
export interface BillingAddress {
  country: string;
  postalCode: string;
  line1?: string;
  line2?: string;
  city?: string;
  /** State, county, province or region. */
  state?: string;
}

/**
 * Reads GET /v1/tax/settings (docs.stripe.com/api/tax/settings/retrieve) and refuses unless `status` is `active`.
 * Stripe's `status_details.pending.missing_fields` (e.g. `head_office`) are named in the message.
 *
 * @throws AppError 409 `stripe_tax_inactive` when the settings are pending.
 * @throws the stripe-node error (Stripe's message) when the call fails (e.g. a restricted key without tax access).
 */
export async function requireStripeTaxActive(stripe: Stripe): Promise<void> {
  const settings = await stripe.tax.settings.retrieve();
  if (settings.status === 'active') return;
  const missing = settings.status_details.pending?.missing_fields ?? [];
  throw new AppError(
    'stripe_tax_inactive',
    `Stripe Tax is not active on this Stripe account (status "${settings.status}"${missing.length > 0 ? `, missing: ${missing.join(', ')}` : ''}). ` +
      'In the Stripe Dashboard, open Settings → Tax, add your head office address and the registrations where you collect tax, then switch automatic tax on again.',
  );
}

/**
 * Makes sure Stripe Tax can locate the customer. With `address`, sets it on the customer first
 * (docs.stripe.com/api/customers/update `address`) with `tax[validate_location]=immediately`, so Stripe refuses an
 * address it cannot use now rather than at invoice finalization (docs.stripe.com/tax/customer-locations). Without,
 * the customer's own address must carry a country and a postal code.
 *
 * @throws AppError 422 `customer_location_required` when the customer has no country and postal code and none is given.
 * @throws AppError 422 `customer_location_invalid` with Stripe's message when Stripe refuses the address
 *   (`customer_tax_location_invalid`).
 * @throws the stripe-node error (Stripe's message) for any other failure.
 */
export async function ensureCustomerTaxLocation(stripe: Stripe, customerId: string, address?: BillingAddress): Promise<void> {
  if (address) {
    try {
      await stripe.customers.update(customerId, {
        address: {
          country: address.country,
          postal_code: address.postalCode,
          ...(address.line1 ? { line1: address.line1 } : {}),
          ...(address.line2 ? { line2: address.line2 } : {}),
          ...(address.city ? { city: address.city } : {}),
          ...(address.state ? { state: address.state } : {}),
        },
        tax: { validate_location: 'immediately' },
      });
    } catch (err) {
      const e = stripeErrorFields(err);
      if (e.code === 'customer_tax_location_invalid') {
        throw new AppError('customer_location_invalid', `Stripe Tax cannot locate this billing address: ${e.message ?? 'invalid location'}`);
      }
      throw err;
    }
    return;
  }
  const customer = await stripe.customers.retrieve(customerId);
  const known = !customer.deleted && customer.address?.country && customer.address.postal_code;
  if (!known) {
    throw new AppError(
      'customer_location_required',
      `Stripe Tax needs the customer's location: the Stripe customer ${customerId} has no address country and postal code. ` +
        'Send subscription.billingAddress { country, postalCode } with the request, or set the address on the customer in Stripe.',
    );
  }
}
