/**
 * Use cases for agencies and their sub-accounts as billing sees them: registration, the agency's Stripe key
 * (sealed at rest), and the sub-account → Stripe customer mapping. The install and settings capabilities call
 * these; validation of a Stripe key against Stripe belongs to the settings capability.
 */
import type { Database } from '../../models/database';
import type { SecretBox } from '../crypto/secret-box';
import { badRequest, notFound } from '../http/errors';
import {
  findAgencySealedStripeKey,
  findSubAccount,
  setAgencyStripeKey,
  setSubAccountCustomer,
  upsertAgency,
  upsertSubAccount,
} from './accounts-repository';
import { lockAgencyBillingSetup } from './tenancy-lock';

const STRIPE_SECRET_KEY = /^(sk|rk)_(test|live)_[A-Za-z0-9]{8,}$/;
const STRIPE_CUSTOMER_ID = /^cus_[A-Za-z0-9]{1,250}$/;

export function createAccounts({ db, secretBox }: { db: Database; secretBox: SecretBox }) {
  return {
    /** Creates the agency (HighLevel companyId) or updates its name. */
    registerAgency: (companyId: string, name?: string | null) => upsertAgency(db, { companyId, name }),

    /** Creates the sub-account under its agency, or updates its name. The agency must exist. */
    registerSubAccount: (locationId: string, companyId: string, name?: string | null) =>
      upsertSubAccount(db, { locationId, companyId, name }),

    /**
     * Stores the agency's Stripe secret (`sk_`) or restricted (`rk_`) key, sealed with AES-256-GCM.
     * @throws AppError 400 when it does not look like a Stripe secret key.
     */
    async storeStripeKey(companyId: string, secretKey: string, accountId: string | null = null): Promise<void> {
      if (!STRIPE_SECRET_KEY.test(secretKey)) throw badRequest('invalid_stripe_key', 'A Stripe secret key starts with sk_ or rk_.');
      await setAgencyStripeKey(db, companyId, secretBox.seal(secretKey), accountId);
    },

    /** The agency's Stripe key in clear, for the Stripe client only; null when not connected. Never return it to a client. */
    async revealStripeKey(companyId: string): Promise<string | null> {
      const sealed = await findAgencySealedStripeKey(db, companyId);
      return sealed === null ? null : secretBox.open(sealed);
    },

    /**
     * Maps the sub-account to a Stripe customer; from then on its crossings are billed to it.
     * @throws AppError 400 for a malformed customer id, 404 for an unknown sub-account.
     */
    async mapCustomer(locationId: string, stripeCustomerId: string | null): Promise<void> {
      if (stripeCustomerId !== null && !STRIPE_CUSTOMER_ID.test(stripeCustomerId)) {
        throw badRequest('invalid_customer', 'A Stripe customer id starts with cus_.');
      }
      await db.transaction(async (tx) => {
        const sub = await findSubAccount(tx, locationId);
        if (!sub) throw notFound(`Sub-account ${locationId} is not known to Meterbridge.`);
        await lockAgencyBillingSetup(tx, sub.companyId, 'exclusive');
        await setSubAccountCustomer(tx, locationId, stripeCustomerId);
      });
    },
  };
}

export type Accounts = ReturnType<typeof createAccounts>;
