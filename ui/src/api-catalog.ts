/**
 * The catalogue's calls (server/catalog/routes.ts): coupons of the agency's Stripe account, a sub-account's discount,
 * one-time products and charges. Same client, session and errors as api.ts.
 */
import { request, type SubAccountDetail } from './api';
import type {
  Coupon,
  CouponList,
  NewCharge,
  NewCoupon,
  NewOneTimeProduct,
  OneTimeCharge,
  OneTimeProduct,
  NewPlan,
  Plan,
  PlanChange,
  SubAccountDiscount,
  SubAccountPlan,
  DirectionalPricingInput,
  DirectionalRow,
  PriceTermsInput,
  RuleOverrideInput,
} from './api-types-catalog';

export type * from './api-types-catalog';

const enc = encodeURIComponent;

/** A per-sub-account override with its own price (PUT /api/sub-accounts/:id/billing; cents, decimal strings). */
export type PricedOverride = RuleOverrideInput & { price: PriceTermsInput };

export const catalogApi = {
  /** Saves one override with its own price: Meterbridge finds or makes the metered price in Stripe. */
  setPricedOverride: (locationId: string, override: PricedOverride) =>
    request<SubAccountDetail>('PUT', `/api/sub-accounts/${enc(locationId)}/billing`, { overrides: [override] }),

  /** Sets the default rule and price of one direction of a directional metric (its own Stripe meter and price). */
  setDirectionalPricing: (metric: string, direction: 'inbound' | 'outbound', input: DirectionalPricingInput) =>
    request<{ rows: DirectionalRow[] }>('PUT', `/api/pricing/${enc(metric)}/directions/${direction}`, input),
  /** The agency's own name for the client; null removes it. */
  setNickname: (locationId: string, nickname: string | null) =>
    request<SubAccountDetail>('PUT', `/api/sub-accounts/${enc(locationId)}/nickname`, { nickname }),

  plans: () => request<{ plans: Plan[] }>('GET', '/api/catalog/plans'),
  createPlan: (input: NewPlan) => request<Plan>('POST', '/api/catalog/plans', input),
  archivePlan: (id: number) => request<Plan>('DELETE', `/api/catalog/plans/${id}`),
  subAccountPlan: (locationId: string) => request<SubAccountPlan>('GET', `/api/sub-accounts/${enc(locationId)}/plan`),
  setSubAccountPlan: (locationId: string, change: PlanChange) => request<SubAccountPlan>('PUT', `/api/sub-accounts/${enc(locationId)}/plan`, change),

  coupons: () => request<CouponList>('GET', '/api/catalog/coupons'),
  createCoupon: (input: NewCoupon) => request<Coupon>('POST', '/api/catalog/coupons', input),
  archiveCoupon: (id: string) => request<{ id: string; archived: true }>('DELETE', `/api/catalog/coupons/${enc(id)}`),

  discount: (locationId: string) => request<SubAccountDiscount>('GET', `/api/sub-accounts/${enc(locationId)}/discount`),
  applyDiscount: (locationId: string, couponId: string) =>
    request<SubAccountDiscount>('PUT', `/api/sub-accounts/${enc(locationId)}/discount`, { couponId }),
  removeDiscount: (locationId: string) => request<SubAccountDiscount>('DELETE', `/api/sub-accounts/${enc(locationId)}/discount`),

  oneTimeProducts: () => request<{ products: OneTimeProduct[] }>('GET', '/api/catalog/one-time-products'),
  createOneTimeProduct: (input: NewOneTimeProduct) => request<OneTimeProduct>('POST', '/api/catalog/one-time-products', input),
  archiveOneTimeProduct: (id: number) => request<OneTimeProduct>('DELETE', `/api/catalog/one-time-products/${id}`),

  charges: (locationId: string) => request<{ charges: OneTimeCharge[] }>('GET', `/api/sub-accounts/${enc(locationId)}/one-time-charges`),
  charge: (locationId: string, input: NewCharge) => request<OneTimeCharge>('POST', `/api/sub-accounts/${enc(locationId)}/one-time-charges`, input),
  retryCharge: (locationId: string, chargeId: number) =>
    request<OneTimeCharge>('POST', `/api/sub-accounts/${enc(locationId)}/one-time-charges/${chargeId}/retry`),
};
