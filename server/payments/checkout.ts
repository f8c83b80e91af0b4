/**
 * Adding or changing a client's card on Stripe's hosted page: a Checkout Session in `setup` mode
 * (docs.stripe.com/payments/save-and-reuse?platform=checkout, docs.stripe.com/api/checkout/sessions/create). Checkout
 * saves the card on the customer but does not make it the default for invoices; on `checkout.session.completed`
 * Meterbridge re-reads the session and its SetupIntent (docs.stripe.com/api/setup_intents/object: `status`
 * `succeeded`, `payment_method`) and sets the customer's `invoice_settings.default_payment_method`
 * (docs.stripe.com/api/customers/update), so Stripe charges it for the next invoices.
 */
import type Stripe from 'stripe';
import { stripeCall } from '../billing-setup/pricing';

/** Metadata keys Meterbridge puts on the sessions it makes. */
export const LOCATION_KEY = 'meterbridge_location_id';
export const COMPANY_KEY = 'meterbridge_company_id';

/** Where Stripe sends the client back: a small page of Meterbridge (return-page.ts). */
export const returnUrl = (appUrl: string, outcome: 'card_saved' | 'card_canceled' | 'portal') => `${appUrl}/payments/return?outcome=${outcome}`;

/**
 * Creates the hosted setup page for a customer. The session lives 24 hours (Stripe's default `expires_at`).
 * @param currency the agency's currency: Stripe needs one in setup mode to choose the payment methods it offers.
 * @returns its `url` and `expires_at` (Unix seconds).
 * @throws AppError 400/502 `stripe_error` with Stripe's message.
 */
export async function createSetupSession(
  stripe: Stripe,
  input: { customerId: string; locationId: string; companyId: string; currency: string; appUrl: string },
): Promise<{ id: string; url: string; expiresAt: number }> {
  const metadata = { [LOCATION_KEY]: input.locationId, [COMPANY_KEY]: input.companyId };
  const session = await stripeCall(() =>
    stripe.checkout.sessions.create({
      mode: 'setup',
      customer: input.customerId,
      currency: input.currency,
      client_reference_id: input.locationId,
      success_url: returnUrl(input.appUrl, 'card_saved'),
      cancel_url: returnUrl(input.appUrl, 'card_canceled'),
      metadata,
      setup_intent_data: { metadata },
    }),
  );
  return { id: session.id, url: session.url ?? '', expiresAt: session.expires_at };
}

/** What a completed setup session saved: the customer and the payment method, or null when there is nothing to apply. */
export interface CompletedSetup {
  sessionId: string;
  /** The sub-account Meterbridge made the session for (its metadata); null for a session made elsewhere. */
  locationId: string | null;
  customerId: string;
  paymentMethodId: string;
}

/**
 * Re-reads a session named by a `checkout.session.completed` event (an event is only a hint) and returns what it
 * saved: null for another mode, a session not complete, or a SetupIntent that did not succeed.
 * @throws the stripe-node error when Stripe cannot be read (the webhook answers 5xx and Stripe retries).
 */
export async function completedSetup(stripe: Stripe, sessionId: string): Promise<CompletedSetup | null> {
  const session = await stripe.checkout.sessions.retrieve(sessionId, { expand: ['setup_intent'] });
  if (session.mode !== 'setup' || session.status !== 'complete') return null;
  const customerId = typeof session.customer === 'string' ? session.customer : (session.customer?.id ?? null);
  const intent = session.setup_intent;
  if (!customerId || !intent || typeof intent === 'string' || intent.status !== 'succeeded' || !intent.payment_method) return null;
  const paymentMethodId = typeof intent.payment_method === 'string' ? intent.payment_method : intent.payment_method.id;
  return { sessionId: session.id, locationId: session.metadata?.[LOCATION_KEY] ?? null, customerId, paymentMethodId };
}

/**
 * Makes the saved payment method the customer's default for invoices.
 * @throws the stripe-node error with Stripe's message (e.g. a payment method not attached to the customer).
 */
export async function makeDefaultForInvoices(stripe: Stripe, customerId: string, paymentMethodId: string): Promise<void> {
  await stripe.customers.update(customerId, { invoice_settings: { default_payment_method: paymentMethodId } });
}
