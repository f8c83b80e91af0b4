/**
 * The page's types for the catalogue (coupons, discounts, one-time products and charges), inferred from the server's
 * own contract (server/catalog/schemas.ts, zod only): type imports, erased from the bundle.
 */
import type { z } from 'zod';
import type * as b from '../../server/billing-setup/schemas';
import type * as s from '../../server/catalog/schemas';

/** A coupon of the agency's Stripe account; `amountOff` in cents. */
export type Coupon = z.infer<typeof s.couponSchema>;
/** The body of "create a coupon" (what the page sends). */
export type NewCoupon = z.input<typeof s.createCouponRequest>;
export type CouponList = z.infer<typeof s.couponListResponse>;
/** A sub-account's discount in force (null when none), and its subscription. */
export type SubAccountDiscount = z.infer<typeof s.discountResponse>;
export type Discount = NonNullable<SubAccountDiscount['discount']>;
/** A one-time product; `amount` in cents. */
export type OneTimeProduct = z.infer<typeof s.oneTimeProductSchema>;
export type NewOneTimeProduct = z.input<typeof s.createOneTimeProductRequest>;
/** A one-time charge of a sub-account and its invoice's status. */
export type OneTimeCharge = z.infer<typeof s.chargeSchema>;
export type NewCharge = z.input<typeof s.createChargeRequest>;
/** A plan: base fee (cents per interval) and per-metric allowance with its overage price (cents per unit, decimal). */
export type Plan = z.infer<typeof s.planSchema>;
export type NewPlan = z.input<typeof s.createPlanRequest>;
/** The sub-account's own plan id (null: the default) and the plan in force. */
export type SubAccountPlan = z.infer<typeof s.subAccountPlanResponse>;
export type PlanChange = z.input<typeof s.setPlanRequest>;
/** A metered price's terms as a request gives them: currency, interval, a unit amount or graduated tiers (cents). */
export type PriceTermsInput = z.input<typeof b.priceTermsSchema>;
/** One tier of graduated terms: up to `upTo` units (or `'inf'`), at `unitAmountDecimal` cents each. */
export type PriceTierInput = NonNullable<PriceTermsInput['tiers']>[number];
/** PUT /api/pricing/:metric/directions/:direction body: one direction's default rule and price. */
export type DirectionalPricingInput = z.input<typeof b.directionalPricingRequest>;
/** An override row of PUT …/billing that sets a rule (not `inherit`), with its own price when given. */
export type RuleOverrideInput = Extract<NonNullable<z.input<typeof b.subAccountBillingRequest>['overrides']>[number], { threshold: unknown }>;
/** The pricing grid's row type (GET /api/pricing), for the inbound and outbound rows. */
export type DirectionalRow = z.infer<typeof b.pricingRowSchema>;
