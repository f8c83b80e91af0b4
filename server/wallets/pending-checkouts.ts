/**
 * Wallet top-ups on Stripe Checkout that are not in the wallet yet: sessions still payable, or paid before Meterbridge
 * recorded them (checkout-top-ups.ts). Every top-up decision counts them as already added, so no combination of
 * Checkout and invoice top-ups takes the balance above the maximum or the month's top-ups above the cap.
 */
import type Stripe from 'stripe';
import type { Database } from '../../models/database';
import * as repo from './wallet-repository';

/** The metadata key marking a session as a wallet top-up of Meterbridge. */
export const CHECKOUT_TOP_UP_KEY = 'meterbridge_wallet_top_up';
/**
 * Seconds a top-up session stays payable: Stripe's shortest `expires_at` (30 minutes after creation,
 * docs.stripe.com/api/checkout/sessions/create) plus a minute, so the clock between our request and Stripe's creation
 * time never makes it too short.
 */
export const CHECKOUT_TOP_UP_LIFETIME_SECONDS = 31 * 60;

/**
 * Cents of the customer's wallet top-up sessions that are open (payable) or complete but not yet a top-up row;
 * with `expireOpen`, open ones are expired first (one that was paid meanwhile then counts as complete).
 * @throws the stripe-node error when Stripe cannot be read.
 */
export async function pendingCheckoutCents(db: Database, stripe: Stripe, customer: string, expireOpen = false): Promise<number> {
  const sessions = (await stripe.checkout.sessions.list({ customer, limit: 100 })).data.filter((c) => c.metadata?.[CHECKOUT_TOP_UP_KEY] === '1');
  let pending = 0;
  for (let session of sessions) {
    if (expireOpen && session.status === 'open') session = await stripe.checkout.sessions.expire(session.id).catch(() => stripe.checkout.sessions.retrieve(session.id));
    const unrecorded = session.status === 'complete' && !(await repo.findTopUpBySession(db, session.id));
    if (session.status === 'open' || unrecorded) pending += session.amount_total ?? 0;
  }
  return pending;
}

