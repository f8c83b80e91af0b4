import type Stripe from 'stripe';
import { AppError } from '../http/errors';
import type { AgencyConnections } from '../stripe/agency-connection';

/** The agency's Stripe client. @throws AppError 409 `stripe_not_connected`. */
export type StripeForAgency = (companyId: string) => Promise<Stripe>;

/**
 * Builds `StripeForAgency` from the agency's connection — a pasted key or a Connect grant (`Stripe-Account` header),
 * server/stripe/agency-connection.ts. A Connect agency whose grant was revoked counts as not connected.
 */
export function stripeForAgency(connections: Pick<AgencyConnections, 'clientFor'>): StripeForAgency {
  return async (companyId) => {
    const found = await connections.clientFor(companyId);
    if (!found) throw new AppError('stripe_not_connected', 'Connect your Stripe account first.');
    return found.client;
  };
}

/**
 * The agency's Stripe client, or null when it has not connected Stripe (for jobs that skip such agencies: the
 * reporter, reconciliation). @throws when the stored key cannot be read.
 */
export function stripeIfConnected(connections: Pick<AgencyConnections, 'clientFor'>): (companyId: string) => Promise<Stripe | null> {
  return async (companyId) => (await connections.clientFor(companyId))?.client ?? null;
}

/**
 * For the meter reporter: the agency's Stripe client and whether it is test mode (`sk_test_`/`rk_test_` key or a
 * test-mode Connect platform: meter events then count against Stripe's basic 25/s limit, docs.stripe.com/rate-limits),
 * or null when it has not connected Stripe. @throws when the stored key cannot be read.
 */
export function reporterStripe(connections: Pick<AgencyConnections, 'clientFor'>): (companyId: string) => Promise<{ client: Stripe; testMode: boolean } | null> {
  return (companyId) => connections.clientFor(companyId);
}
