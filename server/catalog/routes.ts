/**
 * The catalogue's routes (agency users; only admins write — server/settings/policy.ts): the agency's coupons, and a
 * sub-account's discount. Declared as data like every settings route (server/http/api-route.ts), so the
 * authorization matrix and the OpenAPI document cover them.
 */
import { z } from 'zod';
import { defineRoute, type ApiRoute } from '../http/api-route';
import { locationIdParam } from '../settings/schemas';
import type { Coupons } from './coupons';
import * as s from './schemas';

/** Every catalogue route. */
export function catalogRoutes(deps: { coupons: Coupons }): ApiRoute<any, any, any, any>[] {
  const { coupons } = deps;
  return [
    defineRoute({
      method: 'get', path: '/api/catalog/coupons', tag: 'Catalogue', access: 'agency',
      summary: 'The coupons of the agency’s Stripe account, newest first (100 per page)',
      query: z.object({ startingAfter: z.string().max(200).optional() }), response: s.couponListResponse,
      handler: ({ caller, query }) => coupons.list(caller!.companyId, query.startingAfter),
    }),
    defineRoute({
      method: 'post', path: '/api/catalog/coupons', tag: 'Catalogue', access: 'agency', status: 201,
      summary: 'Create a coupon in Stripe: percent or fixed amount; once, forever or N months; optional limit and expiry',
      body: s.createCouponRequest, response: s.couponSchema,
      handler: ({ caller, body }) => coupons.create(caller!.companyId, body),
    }),
    defineRoute({
      method: 'delete', path: '/api/catalog/coupons/:couponId', tag: 'Catalogue', access: 'agency',
      summary: 'Archive a coupon (deleted in Stripe: no new redemptions; discounts already given keep running)',
      params: s.couponIdParam, response: s.archivedCouponResponse,
      handler: ({ caller, params }) => coupons.archive(caller!.companyId, params.couponId),
    }),
    defineRoute({
      method: 'get', path: '/api/sub-accounts/:locationId/discount', tag: 'Sub-accounts', access: 'sub-account:read',
      summary: 'The discount in force on the sub-account’s subscription, and until when',
      params: locationIdParam, response: s.discountResponse,
      handler: ({ params }) => coupons.discount(params.locationId),
    }),
    defineRoute({
      method: 'put', path: '/api/sub-accounts/:locationId/discount', tag: 'Sub-accounts', access: 'sub-account:write',
      summary: 'Apply a coupon to the sub-account’s subscription (replaces its discount)',
      params: locationIdParam, body: s.applyDiscountRequest, response: s.discountResponse,
      handler: ({ params, body }) => coupons.apply(params.locationId, body.couponId),
    }),
    defineRoute({
      method: 'delete', path: '/api/sub-accounts/:locationId/discount', tag: 'Sub-accounts', access: 'sub-account:write',
      summary: 'Remove the discount from the sub-account’s subscription',
      params: locationIdParam, response: s.discountResponse,
      handler: ({ params }) => coupons.remove(params.locationId),
    }),
  ];
}
