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
    if (!key) throw new AppError(409, 'stripe_not_connected', 'Connect your Stripe account first.');
    return clients(key);
  };
}
