/**
 * "Top up now" by the client on Stripe's hosted page: a Checkout Session in payment mode
 * (docs.stripe.com/payments/checkout/how-checkout-works, docs.stripe.com/api/checkout/sessions/create) for one line
 * "Wallet top-up" of the amount, in the agency's currency, for the sub-account's customer. The amount is checked
 * when the session is made — within the maximum balance and the month's cap, as any top-up — and the session's
 * metadata carries the sub-account and the balance then.
 *
 * The money becomes credit only from the `checkout.session.completed` webhook (or
 * `checkout.session.async_payment_succeeded`), never from the client's return to the success page: the event is a
 * hint, the session is re-read from Stripe (docs.stripe.com/checkout/fulfillment: "fulfill … when
 * payment_status is paid", and fulfillment must be safe to run more than once). A completed, paid session becomes one
 * top-up row (unique on the session id: a repeated or concurrent event finds it) of `amount_total`, status `paid`, and
 * then its credit grant through top-ups.ts with idempotency keys from that row — exactly once.
 *
 * Never above the maximum balance or the month's cap: a session lives about 30 minutes (Stripe's shortest `expires_at`), a
 * new one expires the sub-account's other open ones (docs.stripe.com/api/checkout/sessions/expire), and every top-up
 * decision — Checkout or invoice — counts the wallet sessions still open or paid but not yet recorded
 * (`pendingCheckoutCents`) as already in the wallet.
 */
import type { Logger } from 'pino';
import type Stripe from 'stripe';
import type { Database } from '../../models/database';
import type { StripeForAgency } from '../billing-setup/stripe-for-agency';
import { stripeCall } from '../billing-setup/pricing';
import { findSubAccountByCustomer } from '../tenancy/accounts-repository';
import { CHECKOUT_TOP_UP_KEY, CHECKOUT_TOP_UP_LIFETIME_SECONDS, pendingCheckoutCents } from './pending-checkouts';
import { prepaidWallet } from './start-top-up';
import { advanceTopUp, TOP_UP_DESCRIPTION } from './top-ups';
import { allowanceRefusal, type WalletBalances } from './wallet-balance';
import type { WalletLock } from './wallet-lock';
import * as repo from './wallet-repository';

/** Where Stripe sends the client back (server/payments/return-page.ts shows a sentence; nothing is applied there). */
export const topUpReturnUrl = (appUrl: string, outcome: 'top_up_paid' | 'top_up_canceled') => `${appUrl}/payments/return?outcome=${outcome}`;

/** Checkout top-ups: making the hosted payment page, and turning its completion into credit. */
export function checkoutTopUps(deps: { db: Database; stripeForAgency: StripeForAgency; logger: Logger; appUrl: string; balances: WalletBalances; exclusive: WalletLock }) {
  const { db, balances } = deps;
  return {
    /**
     * Makes the hosted payment page of a top-up of `amountCents` (default: the settings' top-up amount, or the
     * initial amount before any top-up).
     * @returns the session id, its `url`, `expiresAt` (Unix seconds) and the amount (cents).
     * @throws AppError 404; 409 `no_customer`, `wallet_not_configured`, `wallet_not_prepaid`, `stripe_not_connected`;
     *   422 `wallet_max_balance`, `wallet_monthly_cap`; `stripe_error` / `stripe_refused` with Stripe's message.
     */
    async startCheckout(locationId: string, amountCents?: number): Promise<{ sessionId: string; url: string; expiresAt: number; amountCents: number }> {
      const { sub, customer, settings } = await prepaidWallet(db, balances, locationId);
      const stripe = await deps.stripeForAgency(sub.companyId);
      const balance = await balances.balanceOf(stripe, sub.companyId, locationId, customer, settings);
      const first = !(await repo.hasGrantedTopUp(db, locationId));
      const amount = amountCents ?? (first ? settings.initialTopUpCents : settings.topUpCents);
      const pending = await stripeCall(() => pendingCheckoutCents(db, stripe, customer, true));
      const allowed = await balances.allowance(locationId, settings, balance.balanceCents, amount, pending);
      if (allowed.amount < amount) throw allowanceRefusal(allowed, settings, balance.balanceCents);
      const metadata = {
        meterbridge_location_id: locationId,
        meterbridge_company_id: sub.companyId,
        [CHECKOUT_TOP_UP_KEY]: '1',
        meterbridge_balance_before: String(balance.balanceCents),
      };
      const session = await stripeCall(() =>
        stripe.checkout.sessions.create({
          mode: 'payment',
          customer,
          client_reference_id: locationId,
          line_items: [{ quantity: 1, price_data: { currency: settings.currency, unit_amount: amount, product_data: { name: TOP_UP_DESCRIPTION } } }],
          payment_intent_data: { description: TOP_UP_DESCRIPTION, metadata },
          expires_at: Math.floor(Date.now() / 1000) + CHECKOUT_TOP_UP_LIFETIME_SECONDS,
          success_url: topUpReturnUrl(deps.appUrl, 'top_up_paid'),
          cancel_url: topUpReturnUrl(deps.appUrl, 'top_up_canceled'),
          metadata,
        }),
      );
      return { sessionId: session.id, url: session.url ?? '', expiresAt: session.expires_at, amountCents: amount };
    },

    /**
     * A `checkout.session.completed` / `checkout.session.async_payment_succeeded` event of the agency's account:
     * the session is re-read; a wallet top-up session of one of the agency's sub-accounts, complete and paid, becomes
     * its top-up and credit grant, once.
     * @returns the sub-account, or null when the session is not (yet) a paid wallet top-up of this agency.
     * @throws Stripe read errors and "another top-up in flight" (the webhook answers 5xx; Stripe sends it again).
     */
    async onCheckoutCompleted(companyId: string, stripe: Stripe, sessionId: string): Promise<{ locationId: string } | null> {
      const session = await stripe.checkout.sessions.retrieve(sessionId);
      if (session.mode !== 'payment' || session.metadata?.[CHECKOUT_TOP_UP_KEY] !== '1') return null;
      if (session.status !== 'complete' || session.payment_status !== 'paid' || !session.amount_total || !session.currency) return null;
      const customer = typeof session.customer === 'string' ? session.customer : session.customer?.id;
      const sub = customer ? await findSubAccountByCustomer(db, companyId, customer) : null;
      // Only a session Meterbridge made for this very sub-account (its metadata says so) credits its wallet.
      if (!sub || !customer || sub.locationId !== session.metadata.meterbridge_location_id) return null;
      const paymentIntent = typeof session.payment_intent === 'string' ? session.payment_intent : (session.payment_intent?.id ?? null);
      const before = Number(session.metadata.meterbridge_balance_before);
      const input = {
        companyId, locationId: sub.locationId, amountCents: session.amount_total, currency: session.currency,
        balanceBeforeCents: Number.isSafeInteger(before) ? before : null, stripeCheckoutSessionId: session.id, stripePaymentIntentId: paymentIntent,
      };
      await deps.exclusive(sub.locationId, async () => {
        let row = await repo.insertCheckoutTopUp(db, input);
        if (!row) {
          // Another top-up is in flight (left by a Stripe failure): take it on first, then this one.
          const inFlight = await repo.findInFlight(db, sub.locationId);
          if (inFlight) await advanceTopUp(deps, stripe, inFlight, customer);
          row = await repo.insertCheckoutTopUp(db, input);
          if (!row) throw new Error(`Another top-up of ${sub.locationId} is in flight; the Checkout top-up ${session.id} waits for Stripe's next delivery.`);
        }
        if (row.status === 'paid') await advanceTopUp(deps, stripe, row, customer);
      });
      deps.logger.info({ companyId, locationId: sub.locationId, session: session.id }, 'wallet top-up paid on Checkout');
      return { locationId: sub.locationId };
    },
  };
}

export type CheckoutTopUps = ReturnType<typeof checkoutTopUps>;
