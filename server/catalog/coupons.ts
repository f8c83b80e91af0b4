/**
 * Coupons on the agency's own Stripe account, and the discount they give a sub-account's subscription.
 *
 * Stripe's rules, as its API reference states them (docs.stripe.com/api/coupons):
 * - create: `percent_off` (0 < p ≤ 100) or `amount_off` (cents, with `currency`); `duration` once / forever /
 *   repeating, `duration_in_months` only with repeating; optional `max_redemptions` and `redeem_by`
 *   (docs.stripe.com/api/coupons/create).
 * - a coupon cannot be edited except its name and metadata ("Other coupon details (currency, duration, amount_off)
 *   are, by design, not editable", docs.stripe.com/api/coupons/update), so the page only creates and archives.
 * - archiving is deleting it: "deleting a coupon does not affect any customers who have already applied the coupon;
 *   it means that new customers can't redeem the coupon" (docs.stripe.com/api/coupons/delete).
 * - a subscription's discounts are its `discounts` list; applying replaces it, removing sends it empty
 *   (docs.stripe.com/api/subscriptions/update#update_subscription-discounts). A discount's `end` is set only for a
 *   repeating coupon (docs.stripe.com/api/discounts/object).
 */
import type Stripe from 'stripe';
import type { z } from 'zod';
import type { Database } from '../../models/database';
import { AppError, notFound } from '../http/errors';
import { stripeCall } from '../billing-setup/pricing';
import type { StripeForAgency } from '../billing-setup/stripe-for-agency';
import type { CustomerChanged } from './catalog';
import { isResourceMissing, stripeErrorFields } from '../stripe/stripe-errors';
import { findSubAccount } from '../tenancy/accounts-repository';
import type { couponSchema, createCouponRequest, discountResponse } from './schemas';

export type NewCoupon = z.output<typeof createCouponRequest>;
export type Coupon = z.output<typeof couponSchema>;
export type SubAccountDiscount = z.output<typeof discountResponse>;

const iso = (seconds: number) => new Date(seconds * 1000).toISOString();

/** Stripe's coupon as the page shows it. */
export function couponView(c: Stripe.Coupon): Coupon {
  return {
    id: c.id,
    name: c.name ?? null,
    percentOff: c.percent_off ?? null,
    amountOff: c.amount_off ?? null,
    currency: c.currency ?? null,
    duration: c.duration as Coupon['duration'],
    durationInMonths: c.duration_in_months ?? null,
    maxRedemptions: c.max_redemptions ?? null,
    timesRedeemed: c.times_redeemed ?? 0,
    redeemBy: c.redeem_by ? iso(c.redeem_by) : null,
    valid: c.valid,
    created: iso(c.created),
  };
}

/** Stripe's discount (with `source.coupon` expanded) as the page shows it; null when it names no coupon. */
function discountView(d: Stripe.Discount | string): SubAccountDiscount['discount'] {
  if (typeof d === 'string') return null;
  const coupon = d.source?.coupon;
  if (!coupon || typeof coupon === 'string') return null;
  const { created: _c, timesRedeemed: _t, maxRedemptions: _m, redeemBy: _r, valid: _v, ...shown } = couponView(coupon);
  return { id: d.id, coupon: shown, start: iso(d.start), end: d.end ? iso(d.end) : null };
}

/**
 * The coupon use cases of one agency's Stripe account, and the discount on one sub-account's subscription.
 * `onCustomerChanged`: called after a discount was applied or removed (the customer's next invoice changes with it).
 */
export function createCoupons(deps: { db: Database; stripeForAgency: StripeForAgency; onCustomerChanged?: CustomerChanged }) {
  async function subscribedSubAccount(locationId: string) {
    const sub = await findSubAccount(deps.db, locationId);
    if (!sub) throw notFound(`No sub-account ${locationId}.`);
    return sub;
  }

  /** The subscription's discount in force (docs.stripe.com/api/subscriptions/retrieve, `discounts.source.coupon` expanded). */
  async function readDiscount(stripe: Stripe, subscriptionId: string): Promise<SubAccountDiscount> {
    const subscription = await stripe.subscriptions.retrieve(subscriptionId, { expand: ['discounts.source.coupon'] });
    const discounts = (subscription.discounts ?? []).map(discountView).filter((d) => d !== null);
    return { subscriptionId, discount: discounts[0] ?? null };
  }

  return {
    /**
     * Creates a coupon (docs.stripe.com/api/coupons/create), tagged `meterbridge_company_id` in its metadata.
     * @throws AppError 409 `stripe_not_connected`; 400 `stripe_error` with Stripe's message (e.g. a `redeem_by` in the past).
     */
    async create(companyId: string, input: NewCoupon): Promise<Coupon> {
      const stripe = await deps.stripeForAgency(companyId);
      const params: Stripe.CouponCreateParams = { name: input.name, duration: input.duration, metadata: { meterbridge_company_id: companyId } };
      if (input.percentOff !== undefined) params.percent_off = input.percentOff;
      if (input.amountOff !== undefined) Object.assign(params, { amount_off: input.amountOff, currency: input.currency });
      if (input.durationInMonths !== undefined) params.duration_in_months = input.durationInMonths;
      if (input.maxRedemptions !== undefined) params.max_redemptions = input.maxRedemptions;
      if (input.redeemBy !== undefined) params.redeem_by = Math.floor(Date.parse(input.redeemBy) / 1000);
      return couponView(await stripeCall(() => stripe.coupons.create(params)));
    },

    /**
     * The account's coupons, newest first, up to 100 per page (docs.stripe.com/api/coupons/list).
     * @throws AppError 409 `stripe_not_connected`; Stripe errors as 400/502.
     */
    async list(companyId: string, startingAfter?: string): Promise<{ coupons: Coupon[]; hasMore: boolean }> {
      const stripe = await deps.stripeForAgency(companyId);
      const page = await stripeCall(() => stripe.coupons.list({ limit: 100, ...(startingAfter ? { starting_after: startingAfter } : {}) }));
      return { coupons: page.data.map(couponView), hasMore: page.has_more };
    },

    /**
     * Archives a coupon: deletes it in Stripe (docs.stripe.com/api/coupons/delete). Subscriptions that have it keep their
     * discount; it can no longer be applied.
     * @throws AppError 404 `coupon_not_found` (unknown or already archived); 409 `stripe_not_connected`; Stripe errors.
     */
    async archive(companyId: string, couponId: string): Promise<{ id: string; archived: true }> {
      const stripe = await deps.stripeForAgency(companyId);
      try {
        await stripe.coupons.del(couponId);
      } catch (err) {
        if (isResourceMissing(err)) throw new AppError(404, 'coupon_not_found', `Stripe has no coupon ${couponId} on this account (it may be archived already).`);
        return stripeCall(() => Promise.reject(err));
      }
      return { id: couponId, archived: true };
    },

    /**
     * The discount in force on the sub-account's subscription and until when.
     * @throws AppError 404 unknown sub-account; 409 `stripe_not_connected`; Stripe errors as 400/502.
     */
    async discount(locationId: string): Promise<SubAccountDiscount> {
      const sub = await subscribedSubAccount(locationId);
      if (!sub.stripeSubscriptionId) return { subscriptionId: null, discount: null };
      const stripe = await deps.stripeForAgency(sub.companyId);
      return stripeCall(() => readDiscount(stripe, sub.stripeSubscriptionId!));
    },

    /**
     * Applies a coupon to the sub-account's subscription, replacing any discount it has (no proration: a discount
     * applies from the next invoice).
     * @throws AppError 409 `no_subscription` (none yet, or only scheduled); 400 `coupon_not_found` for an unknown or
     *   archived coupon; 409 `stripe_not_connected`; other Stripe refusals as 400 `stripe_error` with Stripe's message.
     */
    async apply(locationId: string, couponId: string): Promise<SubAccountDiscount> {
      const sub = await subscribedSubAccount(locationId);
      if (!sub.stripeSubscriptionId) {
        throw new AppError(409, 'no_subscription', 'This sub-account has no running subscription yet: create it (or wait for its scheduled start) before applying a coupon.');
      }
      const stripe = await deps.stripeForAgency(sub.companyId);
      try {
        await stripe.subscriptions.update(sub.stripeSubscriptionId, { discounts: [{ coupon: couponId }] });
      } catch (err) {
        if (isResourceMissing(err) && /coupon/i.test(stripeErrorFields(err).message ?? '')) throw new AppError(400, 'unknown_coupon', `Stripe has no coupon ${couponId} on this account (it may be archived).`);
        return stripeCall(() => Promise.reject(err));
      }
      if (sub.stripeCustomerId) await deps.onCustomerChanged?.(sub.companyId, sub.stripeCustomerId);
      return stripeCall(() => readDiscount(stripe, sub.stripeSubscriptionId!));
    },

    /**
     * Removes every discount from the sub-account's subscription (`discounts` sent empty); the next invoice is full price.
     * @throws AppError 409 `no_subscription`; 409 `stripe_not_connected`; Stripe errors as 400/502.
     */
    async remove(locationId: string): Promise<SubAccountDiscount> {
      const sub = await subscribedSubAccount(locationId);
      if (!sub.stripeSubscriptionId) throw new AppError(409, 'no_subscription', 'This sub-account has no running subscription.');
      const stripe = await deps.stripeForAgency(sub.companyId);
      await stripeCall(() => stripe.subscriptions.update(sub.stripeSubscriptionId!, { discounts: '' }));
      if (sub.stripeCustomerId) await deps.onCustomerChanged?.(sub.companyId, sub.stripeCustomerId);
      return stripeCall(() => readDiscount(stripe, sub.stripeSubscriptionId!));
    },
  };
}

export type Coupons = ReturnType<typeof createCoupons>;
