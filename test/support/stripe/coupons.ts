/**
 * Coupons (docs.stripe.com/api/coupons: create, retrieve, update, list, delete) and the discounts they give
 * (docs.stripe.com/api/discounts/object), as Stripe behaves where Meterbridge depends on it:
 * - create refuses `percent_off` with `amount_off`, neither of them, `amount_off` without `currency`, a repeating
 *   duration without `duration_in_months` (and `duration_in_months` on another duration), a percentage outside
 *   (0, 100], a `redeem_by` in the past, a name over 40 characters, an id already taken;
 * - update takes only `name` and `metadata` ("Other coupon details … are, by design, not editable"): anything else is
 *   an unknown parameter;
 * - delete answers `{ id, object: 'coupon', deleted: true }`; the coupon is gone for retrieve, list and new
 *   discounts (404 / 400 `resource_missing`), while discounts already given keep it (expandable on them);
 * - applying a coupon counts a redemption; one past `max_redemptions` or `redeem_by` is invalid (`valid: false`) and
 *   refused with `coupon_expired`; a discount's `end` is set for repeating coupons only (start + N months).
 * Messages marked "approximate" are the stub's wording.
 */
import type { Fake, Route, StripeFakeState, StripeJson } from './types';
import { byId, ID, integer, invalid, list, mergeMetadata, missingParam, newId, noSuch, now, str, StripeFakeError, type FormObject } from './wire';

/** Coupons deleted through the API, per fake: discounts already given still show them. */
const deletedCoupons = new WeakMap<StripeFakeState, Map<string, StripeJson>>();
const deletedOf = (state: StripeFakeState) => {
  let map = deletedCoupons.get(state);
  if (!map) deletedCoupons.set(state, (map = new Map()));
  return map;
};

/** Unix seconds `months` calendar months after `start` (UTC), as a repeating coupon's discount ends. */
export function addMonths(start: number, months: number): number {
  const d = new Date(start * 1000);
  d.setUTCMonth(d.getUTCMonth() + months);
  return Math.floor(d.getTime() / 1000);
}

/** Whether a coupon can still be redeemed now: under its redemption limit and before its redeem-by time. */
function stillValid(coupon: StripeJson): boolean {
  if (coupon.max_redemptions !== null && coupon.times_redeemed >= coupon.max_redemptions) return false;
  return coupon.redeem_by === null || coupon.redeem_by > now();
}

/**
 * A new discount from `couponId` for a subscription (or invoice), counting the redemption.
 * @throws 400 `resource_missing` for an unknown or deleted coupon, 400 `coupon_expired` for an invalid one.
 */
export function redeemCoupon(state: StripeFakeState, couponId: string, param: string, target: { customer: string; subscription?: string | null; invoice?: string | null }): StripeJson {
  const coupon = state.coupons.get(couponId);
  if (!coupon) throw noSuch('coupon', couponId, param, 400);
  if (coupon.valid === false || !stillValid(coupon)) {
    coupon.valid = false;
    throw new StripeFakeError(400, { type: 'invalid_request_error', code: 'coupon_expired', param, message: `Coupon expired: ${couponId}` });
  }
  coupon.times_redeemed += 1;
  coupon.valid = stillValid(coupon);
  const start = now();
  return {
    id: newId('di'),
    object: 'discount',
    checkout_session: null,
    customer: target.customer,
    end: coupon.duration === 'repeating' ? addMonths(start, coupon.duration_in_months) : null,
    invoice: target.invoice ?? null,
    invoice_item: null,
    promotion_code: null,
    source: { coupon: couponId, type: 'coupon' },
    start,
    subscription: target.subscription ?? null,
    subscription_item: null,
  };
}

/** A discount as answered: `source.coupon` is the coupon object (deleted ones too) when `expand` names it. */
export function discountView(state: StripeFakeState, discount: StripeJson, expand: string[]): StripeJson {
  if (!expand.some((e) => /(^|\.)discounts\.source\.coupon$/.test(e))) return discount;
  const id = discount.source.coupon as string;
  const coupon = state.coupons.get(id) ?? deletedOf(state).get(id) ?? id;
  return { ...discount, source: { ...discount.source, coupon } };
}

const DURATIONS = ['once', 'forever', 'repeating'];

function createCoupon(state: StripeFakeState, params: FormObject): StripeJson {
  const percent = str(params.percent_off);
  const amountOff = integer(params.amount_off, 'amount_off', 1);
  const currency = str(params.currency)?.toLowerCase();
  if (percent !== undefined && amountOff !== undefined) throw invalid('Coupons cannot have both percent_off and amount_off (approximate).', 'percent_off');
  if (percent === undefined && amountOff === undefined) throw invalid('You must pass either percent_off or amount_off (approximate).', 'percent_off');
  const percentOff = percent === undefined ? null : Number(percent);
  if (percentOff !== null && (!Number.isFinite(percentOff) || percentOff <= 0 || percentOff > 100)) {
    throw invalid('percent_off must be a number greater than 0 and at most 100 (approximate).', 'percent_off');
  }
  if (amountOff !== undefined && !currency) throw invalid('You must pass currency when passing amount_off (approximate).', 'currency');
  const duration = str(params.duration) ?? 'once';
  if (!DURATIONS.includes(duration)) throw invalid(`Invalid duration: must be one of once, forever, or repeating`, 'duration');
  const months = integer(params.duration_in_months, 'duration_in_months', 1);
  if (duration === 'repeating' && months === undefined) throw missingParam('duration_in_months');
  if (duration !== 'repeating' && months !== undefined) throw invalid('duration_in_months can only be set when duration is repeating (approximate).', 'duration_in_months');
  const redeemBy = integer(params.redeem_by, 'redeem_by', 1);
  if (redeemBy !== undefined && redeemBy <= now()) throw invalid('Redeem by date must be in the future (approximate).', 'redeem_by');
  const name = str(params.name);
  if (name !== undefined && name.length > 40) throw invalid('Invalid string: name must be at most 40 characters (approximate).', 'name');
  const id = str(params.id) ?? newId('').slice(1, 9);
  if (state.coupons.has(id)) throw new StripeFakeError(400, { type: 'invalid_request_error', code: 'resource_already_exists', param: 'id', message: 'Coupon already exists.' });
  const coupon: StripeJson = {
    id,
    object: 'coupon',
    amount_off: amountOff ?? null,
    created: now(),
    currency: amountOff !== undefined ? currency : null,
    duration,
    duration_in_months: months ?? null,
    livemode: false,
    max_redemptions: integer(params.max_redemptions, 'max_redemptions', 1) ?? null,
    metadata: mergeMetadata({}, params.metadata),
    name: name ?? null,
    percent_off: percentOff,
    redeem_by: redeemBy ?? null,
    times_redeemed: 0,
    valid: true,
  };
  state.coupons.set(id, coupon);
  return coupon;
}

/** The coupon routes. */
export function couponRoutes({ state }: Fake): Route[] {
  const couponById = byId(state.coupons, 'coupon');
  return [
    // docs.stripe.com/api/coupons/create
    {
      method: 'POST',
      pattern: /^\/v1\/coupons$/,
      resource: 'coupons',
      access: 'write',
      accepts: ['id', 'name', 'percent_off', 'amount_off', 'currency', 'duration', 'duration_in_months', 'max_redemptions', 'redeem_by', 'metadata', 'applies_to'],
      handle: ({ params }) => ({ body: createCoupon(state, params) }),
    },
    // docs.stripe.com/api/coupons/retrieve
    { method: 'GET', pattern: new RegExp(`^/v1/coupons/${ID}$`), resource: 'coupons', access: 'read', accepts: [], handle: (_ctx, id) => ({ body: couponById(id) }) },
    // docs.stripe.com/api/coupons/update: name and metadata only
    {
      method: 'POST',
      pattern: new RegExp(`^/v1/coupons/${ID}$`),
      resource: 'coupons',
      access: 'write',
      accepts: ['name', 'metadata'],
      handle: ({ params }, id) => {
        const coupon = couponById(id);
        const name = str(params.name);
        if (name !== undefined) coupon.name = name || null;
        coupon.metadata = mergeMetadata(coupon.metadata, params.metadata);
        return { body: coupon };
      },
    },
    // docs.stripe.com/api/coupons/list
    {
      method: 'GET',
      pattern: /^\/v1\/coupons$/,
      resource: 'coupons',
      access: 'read',
      accepts: ['limit', 'starting_after', 'ending_before', 'created'],
      handle: ({ params }) => ({ body: list([...state.coupons.values()], params, '/v1/coupons') }),
    },
    // docs.stripe.com/api/coupons/delete
    {
      method: 'DELETE',
      pattern: new RegExp(`^/v1/coupons/${ID}$`),
      resource: 'coupons',
      access: 'write',
      accepts: [],
      handle: (_ctx, id) => {
        const coupon = couponById(id);
        state.coupons.delete(id);
        deletedOf(state).set(id, coupon);
        return { body: { id, object: 'coupon', deleted: true } };
      },
    },
  ];
}
