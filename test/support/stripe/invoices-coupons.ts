/**
 * Invoices (docs.stripe.com/api/invoices: retrieve, list) and coupons (docs.stripe.com/api/coupons/retrieve), both
 * seeded by tests (`seedInvoice`, `seedCoupon` in stripe-stub.ts).
 */
import type { Fake, Route } from './types';
import { byId, ID, list, noSuch, str } from './wire';

/** The invoice and coupon routes (read only; tests seed them). */
export function invoiceAndCouponRoutes({ stub, state }: Fake): Route[] {
  const couponById = byId(state.coupons, 'coupon');

  return [
    // docs.stripe.com/api/invoices/retrieve
    {
      method: 'GET',
      pattern: new RegExp(`^/v1/invoices/${ID}$`),
      resource: 'invoices',
      access: 'read',
      accepts: [],
      handle: (_ctx, id) => {
        const invoice = state.invoices.get(id);
        if (!invoice) throw noSuch('invoice', id);
        return { body: invoice };
      },
    },
    // docs.stripe.com/api/invoices/list
    {
      method: 'GET',
      pattern: /^\/v1\/invoices$/,
      resource: 'invoices',
      access: 'read',
      accepts: ['customer', 'subscription', 'status', 'limit', 'starting_after', 'ending_before', 'created', 'collection_method'],
      handle: ({ params }) => {
        const customer = str(params.customer);
        const subscription = str(params.subscription);
        const status = str(params.status);
        const items = [...state.invoices.values()].filter(
          (i) =>
            (customer === undefined || i.customer === customer) &&
            (subscription === undefined || i.subscription === subscription || i.parent?.subscription_details?.subscription === subscription) &&
            (status === undefined || i.status === status),
        );
        return { body: list(items, params, '/v1/invoices') };
      },
    },

    // docs.stripe.com/api/coupons/retrieve
    { method: 'GET', pattern: new RegExp(`^/v1/coupons/${ID}$`), resource: 'coupons', access: 'read', accepts: [], handle: (_ctx, id) => ({ body: couponById(id) }) },
  ];
}
