/** How a coupon reads on the page: "25% off, once", "$15.00 off, forever", "12.5% off, for 3 months". */
import type { Coupon, Discount } from '../api-catalog';
import { formatCents } from '../format';

type Terms = Pick<Coupon, 'percentOff' | 'amountOff' | 'currency' | 'duration' | 'durationInMonths'>;

export function couponOff(c: Terms): string {
  return c.percentOff !== null ? `${c.percentOff}% off` : `${formatCents(c.amountOff, c.currency ?? 'usd')} off`;
}

export function couponDuration(c: Terms): string {
  if (c.duration === 'once') return 'once';
  if (c.duration === 'forever') return 'forever';
  return `for ${c.durationInMonths} month${c.durationInMonths === 1 ? '' : 's'}`;
}

export const couponText = (c: Terms): string => `${couponOff(c)}, ${couponDuration(c)}`;

/** Until when a discount runs, in words. */
export function discountUntil(d: Discount): string {
  if (d.end) return `until ${d.end.slice(0, 10)} (UTC)`;
  return d.coupon.duration === 'once' ? 'on the next invoice only' : 'for as long as the subscription runs';
}
