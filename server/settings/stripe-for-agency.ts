import type Stripe from 'stripe';
import { AppError } from '../http/errors';
import type { Accounts } from '../tenancy/accounts';
import type { StripeClientFactory } from '../stripe/stripe-client';

/** The agency's Stripe client. @throws AppError 409 `stripe_not_connected`. */
export type StripeForAgency = (companyId: string) => Promise<Stripe>;

/** Builds `StripeForAgency` from the sealed key store and the client factory. */
export function stripeForAgency(accounts: Pick<Accounts, 'revealStripeKey'>, clients: StripeClientFactory): StripeForAgency {
  return async (companyId) => {
    const key = await accounts.revealStripeKey(companyId);
    if (!key) throw new AppError('stripe_not_connected', 'Connect your Stripe account first.');
    return clients(key);
  };
}

/**
 * The agency's Stripe client, or null when it has not connected Stripe (for jobs that skip such agencies: the
 * reporter, reconciliation). @throws when the stored key cannot be read.
 */
export function stripeIfConnected(accounts: Pick<Accounts, 'revealStripeKey'>, clients: StripeClientFactory): (companyId: string) => Promise<Stripe | null> {
  return async (companyId) => {
    const key = await accounts.revealStripeKey(companyId);
    return key === null ? null : clients(key);
  };
}

/**
 * For the meter reporter: the agency's Stripe client and whether its key is a test-mode one (`sk_test_`/`rk_test_`:
 * meter events then count against Stripe's basic 25/s limit, docs.stripe.com/rate-limits), or null when it has not
 * connected Stripe. @throws when the stored key cannot be read.
 */
export function reporterStripe(
  accounts: Pick<Accounts, 'revealStripeKey'>,
  clients: StripeClientFactory,
): (companyId: string) => Promise<{ client: Stripe; testMode: boolean } | null> {
  return async (companyId) => {
    const key = await accounts.revealStripeKey(companyId);
    return key === null ? null : { client: clients(key), testMode: /^(sk|rk)_test_/.test(key) };
  };
}
