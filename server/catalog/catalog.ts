/**
 * The catalogue capability wired from its narrow dependencies (the composition root calls this once): its routes,
 * and the hook the Stripe webhook calls for invoice events (one-time charges follow their invoice).
 */
import type Stripe from 'stripe';
import type { Database } from '../../models/database';
import type { ApiRoute } from '../http/api-route';
import type { StripeForAgency } from '../billing-setup/stripe-for-agency';
import type { SubAccountBilling } from '../billing-setup/sub-account-billing';
import { createCoupons } from './coupons';
import { createOneTimeCharges } from './one-time-charges';
import { createOneTimeProducts } from './one-time-products';
import { createPlans } from './plans';
import { catalogRoutes } from './routes';

/**
 * Meterbridge just changed what Stripe bills a customer (a discount, a one-time invoice): whatever was read from
 * Stripe about that customer is stale (the composition root passes `payments.customerChanged`: it drops the cached
 * reads, server/payments/read-cache.ts, and asks for the stored invoice preview to be read again).
 */
export type CustomerChanged = (companyId: string, customerId: string) => void | Promise<void>;

export interface Catalogue {
  routes: ApiRoute<any, any, any, any>[];
  /** For server/stripe/payment-events.ts `onInvoiceEvent`: re-reads the invoice of a one-time charge. */
  onInvoiceEvent: (companyId: string, stripe: Stripe, invoiceId: string) => Promise<boolean>;
}

export function createCatalogue(deps: {
  db: Database;
  stripeForAgency: StripeForAgency;
  billing: Pick<SubAccountBilling, 'syncSubscription' | 'resyncSubscriptions'>;
  onCustomerChanged?: CustomerChanged;
}): Catalogue {
  const { db, stripeForAgency, billing, onCustomerChanged } = deps;
  const charges = createOneTimeCharges({ db, stripeForAgency, onCustomerChanged });
  return {
    routes: catalogRoutes({
      coupons: createCoupons({ db, stripeForAgency, onCustomerChanged }),
      products: createOneTimeProducts({ db, stripeForAgency }),
      charges,
      plans: createPlans({ db, stripeForAgency, syncSubscription: billing.syncSubscription, resyncSubscriptions: billing.resyncSubscriptions }),
    }),
    onInvoiceEvent: charges.syncFromInvoice,
  };
}
