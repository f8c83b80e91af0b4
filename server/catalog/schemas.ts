/**
 * The catalogue's request and response contract (coupons, one-time products and charges, a sub-account's discount).
 * Imports zod only: the page takes its types from here (`import type` + `z.infer` in ui/src/api-types-catalog.ts),
 * so server and page cannot drift. Money is always an integer in the currency's smallest unit (cents); times are
 * ISO 8601 UTC.
 */
import { z } from 'zod';

const currency = z.string().regex(/^[a-z]{3}$/, 'must be an ISO currency code in lowercase');
/** Cents: a positive whole number, at most Stripe's 8 digits (docs.stripe.com/currencies#minimum-and-maximum-charge-amounts). */
const cents = z.number().int().positive().max(99_999_999);

export const couponIdParam = z.object({ couponId: z.string().regex(/^[A-Za-z0-9_-]{1,200}$/) });

/**
 * POST /api/catalog/coupons. Either `percentOff` (0 < p ≤ 100, at most 2 decimals) or `amountOff` (cents) with its
 * `currency`; `durationInMonths` only, and always, with `duration: 'repeating'` (docs.stripe.com/api/coupons/create).
 */
export const createCouponRequest = z
  .object({
    name: z.string().trim().min(1).max(40).describe('Shown to the client on invoices (Stripe allows 40 characters)'),
    percentOff: z.number().positive().max(100).multipleOf(0.01).optional(),
    amountOff: cents.optional().describe('In cents'),
    currency: currency.optional().describe('Required with amountOff'),
    duration: z.enum(['once', 'forever', 'repeating']),
    durationInMonths: z.number().int().positive().max(120).optional(),
    maxRedemptions: z.number().int().positive().optional(),
    redeemBy: z.iso.datetime().optional().describe('Last time the coupon can be redeemed (future, at most 5 years ahead)'),
  })
  .refine((c) => (c.percentOff === undefined) !== (c.amountOff === undefined), { message: 'give either percentOff or amountOff', path: ['percentOff'] })
  .refine((c) => c.amountOff === undefined || c.currency !== undefined, { message: 'amountOff needs a currency', path: ['currency'] })
  .refine((c) => (c.duration === 'repeating') === (c.durationInMonths !== undefined), {
    message: 'durationInMonths is required with duration "repeating", and only then',
    path: ['durationInMonths'],
  });

/** A coupon as the page shows it. `valid` is false once its redemption limit or redeem-by date is reached. */
export const couponSchema = z.object({
  id: z.string(),
  name: z.string().nullable(),
  percentOff: z.number().nullable(),
  amountOff: z.number().int().nullable().describe('In cents'),
  currency: z.string().nullable(),
  duration: z.enum(['once', 'forever', 'repeating']),
  durationInMonths: z.number().int().nullable(),
  maxRedemptions: z.number().int().nullable(),
  timesRedeemed: z.number().int(),
  redeemBy: z.iso.datetime().nullable(),
  valid: z.boolean(),
  created: z.iso.datetime(),
});
export const couponListResponse = z.object({ coupons: z.array(couponSchema), hasMore: z.boolean() });
export const archivedCouponResponse = z.object({ id: z.string(), archived: z.literal(true) });

/** PUT /api/sub-accounts/:locationId/discount: the coupon to apply (replaces any discount on the subscription). */
export const applyDiscountRequest = z.object({ couponId: couponIdParam.shape.couponId });

/**
 * The discount in force on a sub-account's subscription (docs.stripe.com/api/discounts/object): `end` null means it
 * runs for as long as the subscription (forever) or for one invoice (once); a repeating coupon ends then.
 */
export const discountSchema = z.object({
  id: z.string(),
  coupon: couponSchema.omit({ created: true, timesRedeemed: true, maxRedemptions: true, redeemBy: true, valid: true }),
  start: z.iso.datetime(),
  end: z.iso.datetime().nullable(),
});
export const discountResponse = z.object({
  subscriptionId: z.string().nullable(),
  discount: discountSchema.nullable(),
});

const taxBehavior = z.enum(['inclusive', 'exclusive']);

/** POST /api/catalog/one-time-products (docs.stripe.com/api/products/create with `default_price_data`). */
export const createOneTimeProductRequest = z.object({
  name: z.string().trim().min(1).max(250),
  description: z.string().trim().max(1000).optional(),
  amount: cents.describe('In cents'),
  currency,
  taxBehavior: taxBehavior.default('exclusive'),
});
export const oneTimeProductSchema = z.object({
  id: z.number().int(),
  name: z.string(),
  description: z.string().nullable(),
  amount: z.number().int().describe('In cents'),
  currency: z.string(),
  taxBehavior,
  stripeProductId: z.string(),
  stripePriceId: z.string(),
  archived: z.boolean(),
  createdAt: z.iso.datetime(),
});
export const oneTimeProductListResponse = z.object({ products: z.array(oneTimeProductSchema) });
export const productIdParam = z.object({ productId: z.coerce.number().int().positive() });

/**
 * POST /api/sub-accounts/:locationId/one-time-charges: `charge_now` pays the invoice at once with the card on file;
 * `send_invoice` has Stripe email it, due in `daysUntilDue` days (needs the customer's email).
 */
export const createChargeRequest = z.discriminatedUnion('mode', [
  z.object({ mode: z.literal('charge_now'), productId: z.number().int().positive() }),
  z.object({ mode: z.literal('send_invoice'), productId: z.number().int().positive(), daysUntilDue: z.number().int().min(0).max(365).default(30) }),
]);

export const CHARGE_STATUSES = ['pending', 'open', 'paid', 'payment_failed', 'void', 'uncollectible', 'failed'] as const;
export const chargeSchema = z.object({
  id: z.number().int(),
  locationId: z.string(),
  productId: z.number().int(),
  productName: z.string(),
  amount: z.number().int().describe('In cents'),
  currency: z.string(),
  mode: z.enum(['charge_now', 'send_invoice']),
  status: z.enum(CHARGE_STATUSES).describe('pending: not yet in Stripe; failed: Stripe refused before an invoice was open'),
  stripeInvoiceId: z.string().nullable(),
  hostedInvoiceUrl: z.string().nullable(),
  dueDate: z.iso.datetime().nullable(),
  error: z.string().nullable(),
  createdAt: z.iso.datetime(),
});
export const chargeListResponse = z.object({ charges: z.array(chargeSchema) });

const metricKey = z.string().regex(/^[a-z][a-z0-9_]{0,62}$/);
const decimalCents = z.string().regex(/^\d{1,12}(\.\d{1,12})?$/, 'must be a non-negative decimal amount in cents');

/**
 * POST /api/catalog/plans: a base fee (cents per interval; 0 = none) and, per metric, units included each period
 * then the overage price (cents per unit, a decimal string: sub-cent prices are common). `isDefault` makes it the
 * plan of every sub-account without one (its base fee becomes the agency's flat fee).
 */
export const createPlanRequest = z.object({
  name: z.string().trim().min(1).max(100),
  currency,
  interval: z.enum(['day', 'week', 'month', 'year']).default('month'),
  baseFeeAmount: z.number().int().min(0).max(99_999_999).describe('In cents per interval; 0 = no base fee'),
  metrics: z
    .array(z.object({ metric: metricKey, includedUnits: z.number().int().min(0).max(1_000_000_000), overageUnitAmountDecimal: decimalCents }))
    .max(20)
    .default([])
    .refine((m) => new Set(m.map((x) => x.metric)).size === m.length, 'each metric at most once'),
  isDefault: z.boolean().default(false),
  trialDays: z
    .number()
    .int()
    .min(1)
    .max(730)
    .optional()
    .describe('Free days before a new subscription on the plan is first invoiced (Stripe trial_period_days, at most 730)'),
});
export const planSchema = z.object({
  id: z.number().int(),
  name: z.string(),
  currency: z.string(),
  interval: z.enum(['day', 'week', 'month', 'year']),
  baseFeeAmount: z.number().int().describe('In cents per interval'),
  stripeBasePriceId: z.string().nullable(),
  isDefault: z.boolean(),
  archived: z.boolean(),
  trialDays: z.number().int().nullable().describe('Trial of a new subscription on the plan, in days; null = none'),
  metrics: z.array(z.object({ metric: z.string(), includedUnits: z.number().int(), overageUnitAmountDecimal: z.string(), stripePriceId: z.string() })),
});
export const planIdParam = z.object({ planId: z.coerce.number().int().positive().max(Number.MAX_SAFE_INTEGER) });
export const planListResponse = z.object({ plans: z.array(planSchema) });

/**
 * PUT /api/sub-accounts/:locationId/plan: `planId` null = back to the agency's default plan. `proration` is how
 * Stripe settles the change mid-period (docs.stripe.com/billing/subscriptions/prorations): `create_prorations` credits
 * and charges the difference on the next invoice, `always_invoice` invoices it now, `none` changes from the next period.
 */
export const setPlanRequest = z.object({
  planId: z.number().int().positive().nullable(),
  proration: z.enum(['create_prorations', 'always_invoice', 'none']).default('create_prorations'),
});
export const subAccountPlanResponse = z.object({
  planId: z.number().int().nullable().describe('The sub-account’s own plan; null = it follows the default plan'),
  plan: planSchema.nullable().describe('The plan in force (its own, else the default), or none'),
  stripeSubscriptionId: z.string().nullable(),
});
