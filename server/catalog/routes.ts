/**
 * The catalogue's routes (agency users; only admins write — server/access/policy.ts): the agency's plans, coupons
 * and one-time products; a sub-account's plan, discount and one-time charges. Declared as data like every settings route (server/http/api-route.ts), so the
 * authorization matrix and the OpenAPI document cover them.
 */
import { z } from 'zod';
import { defineRoute, type ApiRoute } from '../http/api-route';
import { locationIdParam } from '../billing-setup/schemas';
import type { Coupons } from './coupons';
import type { OneTimeCharges } from './one-time-charges';
import type { OneTimeProducts } from './one-time-products';
import type { Plans } from './plans';
import * as s from './schemas';

const chargeParams = locationIdParam.extend({ chargeId: z.coerce.number().int().positive().max(Number.MAX_SAFE_INTEGER) });

/** Every catalogue route. */
export function catalogRoutes(deps: { coupons: Coupons; products: OneTimeProducts; charges: OneTimeCharges; plans: Plans }): ApiRoute<any, any, any, any>[] {
  const { coupons, products, charges, plans } = deps;
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
    defineRoute({
      method: 'get', path: '/api/catalog/one-time-products', tag: 'Catalogue', access: 'agency',
      summary: 'The agency’s one-time products (amounts in cents), active first',
      response: s.oneTimeProductListResponse,
      handler: ({ caller }) => products.list(caller!.companyId),
    }),
    defineRoute({
      method: 'post', path: '/api/catalog/one-time-products', tag: 'Catalogue', access: 'agency', status: 201,
      summary: 'Create a one-time product (a Stripe product with a one-time price)',
      body: s.createOneTimeProductRequest, response: s.oneTimeProductSchema,
      handler: ({ caller, body }) => products.create(caller!.companyId, body),
    }),
    defineRoute({
      method: 'delete', path: '/api/catalog/one-time-products/:productId', tag: 'Catalogue', access: 'agency',
      summary: 'Archive a one-time product (no new charges; its Stripe price and product set inactive)',
      params: s.productIdParam, response: s.oneTimeProductSchema,
      handler: ({ caller, params }) => products.archive(caller!.companyId, params.productId),
    }),
    defineRoute({
      method: 'get', path: '/api/sub-accounts/:locationId/one-time-charges', tag: 'Sub-accounts', access: 'sub-account:read',
      summary: 'The sub-account’s one-time charges and their invoices’ status, newest first',
      params: locationIdParam, response: s.chargeListResponse,
      handler: ({ params }) => charges.list(params.locationId),
    }),
    defineRoute({
      method: 'post', path: '/api/sub-accounts/:locationId/one-time-charges', tag: 'Sub-accounts', access: 'sub-account:write', status: 201,
      summary: 'Charge a one-time product now (card on file) or send it as an invoice due in N days',
      params: locationIdParam, body: s.createChargeRequest, response: s.chargeSchema,
      handler: ({ params, body }) => charges.charge(params.locationId, body),
    }),
    defineRoute({
      method: 'post', path: '/api/sub-accounts/:locationId/one-time-charges/:chargeId/retry', tag: 'Sub-accounts', access: 'sub-account:write',
      summary: 'Retry a pending, failed or declined one-time charge from where its Stripe invoice stands (never a second item or payment)',
      params: chargeParams, response: s.chargeSchema,
      handler: ({ params }) => charges.retry(params.locationId, params.chargeId),
    }),
    defineRoute({
      method: 'get', path: '/api/catalog/plans', tag: 'Catalogue', access: 'agency',
      summary: 'The agency’s plans: base fee and per-metric allowance with overage price (cents), default first',
      response: s.planListResponse,
      handler: ({ caller }) => plans.list(caller!.companyId),
    }),
    defineRoute({
      method: 'post', path: '/api/catalog/plans', tag: 'Catalogue', access: 'agency', status: 201,
      summary: 'Create a plan: a base fee and, per metric, an included allowance then an overage price (graduated tiers, first tier free)',
      body: s.createPlanRequest, response: s.planSchema,
      handler: ({ caller, body }) => plans.create(caller!.companyId, body),
    }),
    defineRoute({
      method: 'delete', path: '/api/catalog/plans/:planId', tag: 'Catalogue', access: 'agency',
      summary: 'Archive a plan: no longer assignable; sub-accounts on it stay; its Stripe prices not used elsewhere set inactive',
      params: s.planIdParam, response: s.planSchema,
      errors: ['plan_not_found', 'plan_is_default', 'plan_archived'],
      handler: ({ caller, params }) => plans.archive(caller!.companyId, params.planId),
    }),
    defineRoute({
      method: 'get', path: '/api/sub-accounts/:locationId/plan', tag: 'Sub-accounts', access: 'sub-account:read',
      summary: 'The sub-account’s own plan (none: the default plan) and the plan in force',
      params: locationIdParam, response: s.subAccountPlanResponse,
      handler: ({ params }) => plans.ofSubAccount(params.locationId),
    }),
    defineRoute({
      method: 'put', path: '/api/sub-accounts/:locationId/plan', tag: 'Sub-accounts', access: 'sub-account:write',
      summary: 'Put the sub-account on a plan (or back on the default) and update its subscription with the chosen proration',
      params: locationIdParam, body: s.setPlanRequest, response: s.subAccountPlanResponse,
      handler: ({ params, body }) => plans.assign(params.locationId, body),
    }),
  ];
}
