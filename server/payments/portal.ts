/**
 * Stripe's Customer Portal for a client's cards, invoices and receipts. Meterbridge creates one portal configuration
 * per agency Stripe account (docs.stripe.com/api/customer_portal/configurations/create: invoice history, payment
 * method update, customer details; no cancellation or plan change, which the agency decides) and opens short-lived
 * sessions with it (docs.stripe.com/api/customer_portal/sessions/create), so nothing depends on the agency having
 * saved portal settings in its Dashboard (without a `configuration`, Stripe refuses a session until it has).
 */
import type Stripe from 'stripe';
import type { Database } from '../../models/database';
import { agencies } from '../../models/schema';
import { eq, sql } from 'drizzle-orm';
import { stripeCall } from '../billing-setup/pricing';
import { isResourceMissing, stripeErrorFields } from '../stripe/stripe-errors';
import { findAgency } from '../tenancy/accounts-repository';
import { COMPANY_KEY, returnUrl } from './checkout';

/** The configuration Meterbridge asks Stripe for. */
export function portalConfiguration(companyId: string, appUrl: string): Stripe.BillingPortal.ConfigurationCreateParams {
  return {
    name: 'Meterbridge: client cards and invoices',
    business_profile: { headline: 'Your payment details and invoices' },
    default_return_url: returnUrl(appUrl, 'portal'),
    features: {
      invoice_history: { enabled: true },
      payment_method_update: { enabled: true },
      customer_update: { enabled: true, allowed_updates: ['email', 'address', 'tax_id'] },
      subscription_cancel: { enabled: false },
    },
    metadata: { [COMPANY_KEY]: companyId },
  };
}

/**
 * Opens a portal session for a customer with the agency's configuration, creating the configuration the first time
 * (and again if it was deleted or deactivated in Stripe).
 * @returns the session's `url` (short-lived: open it at once; the client asks for a new one later).
 * @throws AppError 400/502 `stripe_error` with Stripe's message.
 */
export async function openPortalSession(
  db: Database,
  stripe: Stripe,
  input: { companyId: string; customerId: string; appUrl: string },
): Promise<{ url: string }> {
  const agency = await findAgency(db, input.companyId);
  let configuration = agency?.billingPortalConfigurationId ?? null;
  const create = async (attempt: string) => {
    const created = await stripe.billingPortal.configurations.create(portalConfiguration(input.companyId, input.appUrl), {
      // One configuration per agency even when two sessions race or the store below fails: Stripe replays the answer.
      idempotencyKey: `meterbridge-portal-configuration-${input.companyId}-${attempt}`,
    });
    await db.update(agencies).set({ billingPortalConfigurationId: created.id, updatedAt: sql`now()` }).where(eq(agencies.companyId, input.companyId));
    return created.id;
  };
  return stripeCall(async () => {
    configuration ??= await create('1');
    const session = (id: string) => stripe.billingPortal.sessions.create({ customer: input.customerId, configuration: id, return_url: returnUrl(input.appUrl, 'portal') });
    try {
      return { url: (await session(configuration)).url };
    } catch (err) {
      // Deleted in Stripe (resource_missing) or deactivated there (a 400 naming the configuration): make a new one.
      const gone = isResourceMissing(err) || stripeErrorFields(err).param === 'configuration';
      if (!gone) throw err;
      return { url: (await session(await create(String(Date.now())))).url };
    }
  });
}
