/**
 * Refunding a top-up (agency admins): the unused part of its credit goes back to the card it was paid with.
 *
 * The rule: at most what is left unused of THIS top-up — the least of (a) what remains on its credit grant in Stripe
 * (GET /v1/billing/credit_balance_summary with `filter[type]=credit_grant`), (b) the wallet's balance (credit less
 * the usage not yet invoiced: that usage is already owed and will draw on the credit at finalization) and (c) what was
 * paid for it less what was refunded before. Never more: the client would get back money its usage has consumed.
 *
 * The steps, each with an idempotency key from the refund's row and run (`meterbridge-refund-<id>-<run>-…`) and a
 * re-read first, so a retry or crash never refunds or grants twice:
 * 1. the grant is VOIDED (docs.stripe.com/api/billing/credit-grant/void), not expired: a voided grant's remaining
 *    credit is recorded as `credits_voided` (docs.stripe.com/api/billing/credit-balance-transaction/object
 *    `debit.type`), i.e. taken back, whereas `credits_expired` says the client let paid credit lapse — which is not
 *    what happened to refunded money. Stripe voids a grant whole, so
 * 2. what remained on it beyond the refund is granted again at once ("Wallet top-up (kept after a refund)");
 * 3. the refund itself (docs.stripe.com/api/refunds/create) on the top-up's PaymentIntent — the invoice's payment
 *    (docs.stripe.com/api/invoice-payment/object) or the Checkout Session's — with reason `requested_by_customer`.
 * Voiding first means a crash can only leave the client short of credit until the run is resumed (the next wallet
 * check, or the same request again), never holding both the credit and the money. A refund that still fails after
 * MAX_REFUND_RUNS is `failed` with Stripe's message, for the agency to settle in Stripe.
 */
import type { Logger } from 'pino';
import type Stripe from 'stripe';
import type { z } from 'zod';
import type { Database } from '../../models/database';
import type { StripeForAgency } from '../billing-setup/stripe-for-agency';
import { stripeCall } from '../billing-setup/pricing';
import { AppError } from '../http/errors';
import { stripeErrorFields } from '../stripe/stripe-errors';
import type { refundableSchema, refundSchema } from './schemas';
import { subAccountOrThrow } from './start-top-up';
import { TOP_UP_DESCRIPTION } from './top-ups';
import type { WalletBalances } from './wallet-balance';
import type { WalletLock } from './wallet-lock';
import * as repo from './wallet-repository';

/** Runs after which a refund that Stripe keeps failing is given up as `failed`. */
export const MAX_REFUND_RUNS = 5;

/** A refund as the API answers it. */
export const refundView = (r: repo.RefundRow): z.infer<typeof refundSchema> => ({
  id: r.id, topUpId: r.topUpId, amountCents: r.amountCents, currency: r.currency, status: r.status, grantRemainingCents: r.grantRemainingCents,
  voidedGrantId: r.voidedGrantId, replacementGrantId: r.replacementGrantId, stripeRefundId: r.stripeRefundId, error: r.error, createdAt: r.createdAt.toISOString(),
});

/** Refunds of top-ups: what may be refunded, refunding it, and resuming refunds left pending. */
export function walletRefunds(deps: { db: Database; stripeForAgency: StripeForAgency; logger: Logger; balances: WalletBalances; exclusive: WalletLock }) {
  const { db, balances } = deps;

  /** The top-up, its customer and Stripe client. @throws AppError 404 `top_up_not_found`, 409 `top_up_not_refundable` / `no_customer`. */
  async function refundTarget(locationId: string, topUpId: number) {
    const topUp = await repo.findTopUp(db, locationId, topUpId);
    if (!topUp) throw new AppError('top_up_not_found', `No top-up ${topUpId} on sub-account ${locationId}.`);
    if (topUp.status !== 'granted') throw new AppError('top_up_not_refundable', `Top-up ${topUpId} is ${topUp.status}: only a granted top-up can be refunded.`);
    const sub = await subAccountOrThrow(db, locationId);
    if (!sub.stripeCustomerId) throw new AppError('no_customer', 'The sub-account has no Stripe customer.');
    return { topUp, sub, customer: sub.stripeCustomerId, stripe: await deps.stripeForAgency(sub.companyId) };
  }

  /** What may be refunded now (the rule above), cents, and the grant holding the top-up's credit. */
  async function refundableOf(target: Awaited<ReturnType<typeof refundTarget>>): Promise<z.infer<typeof refundableSchema> & { grantId: string | null }> {
    const { topUp, sub, customer, stripe } = target;
    const done = (await repo.refundsOf(db, topUp.id)).filter((r) => r.status === 'refunded');
    const last = done.at(-1);
    const grantId = last ? last.replacementGrantId : topUp.stripeCreditGrantId;
    let grantRemainingCents = 0;
    if (grantId) {
      const summary = await stripeCall(() => stripe.billing.creditBalanceSummaries.retrieve({ customer, filter: { type: 'credit_grant', credit_grant: grantId } }));
      grantRemainingCents = summary.balances.find((b) => b.available_balance.monetary?.currency === topUp.currency)?.available_balance.monetary?.value ?? 0;
    }
    const settings = await balances.effectiveSettings(sub.companyId, sub.locationId);
    const balance = await balances.balanceOf(stripe, sub.companyId, sub.locationId, customer, settings);
    const paidLeftCents = topUp.amountCents - done.reduce((s, r) => s + r.amountCents, 0);
    const refundableCents = Math.max(0, Math.min(grantRemainingCents, balance.balanceCents, paidLeftCents));
    return { topUpId: topUp.id, currency: topUp.currency, refundableCents, grantRemainingCents, balanceCents: balance.balanceCents, paidLeftCents, grantId };
  }

  /** The PaymentIntent that paid the top-up: stored, or the paid payment of its invoice (then stored). */
  async function paymentIntentOf(stripe: Stripe, topUp: repo.TopUpRow): Promise<string> {
    if (topUp.stripePaymentIntentId) return topUp.stripePaymentIntentId;
    const invoice = await stripe.invoices.retrieve(topUp.stripeInvoiceId!, { expand: ['payments.data.payment.payment_intent'] });
    const paid = invoice.payments?.data.find((p) => p.status === 'paid' && p.payment.payment_intent);
    const intent = paid?.payment.payment_intent;
    const id = typeof intent === 'string' ? intent : intent?.id;
    if (!id) throw new Error(`Stripe shows no paid PaymentIntent on the top-up invoice ${topUp.stripeInvoiceId} (paid outside Stripe?); refund it in Stripe.`);
    await repo.updateTopUp(db, topUp.id, { stripePaymentIntentId: id });
    return id;
  }

  /** Takes a pending refund as far as Stripe lets it (the steps above). Never throws for a Stripe failure. */
  async function advanceRefund(stripe: Stripe, start: repo.RefundRow, topUp: repo.TopUpRow, customer: string): Promise<repo.RefundRow> {
    let row = await repo.updateRefund(db, start.id, { attempts: start.attempts + 1 });
    const key = (step: string) => ({ idempotencyKey: `meterbridge-refund-${row.id}-${row.attempts}-${step}` });
    const metadata = { meterbridge_refund_id: String(row.id), meterbridge_kept_from_top_up: String(topUp.id), meterbridge_location_id: row.locationId, meterbridge_company_id: row.companyId };
    try {
      if (!(await stripe.billing.creditGrants.retrieve(row.voidedGrantId)).voided_at) await stripe.billing.creditGrants.voidGrant(row.voidedGrantId, {}, key('void'));
      const keep = row.grantRemainingCents - row.amountCents;
      if (keep > 0 && !row.replacementGrantId) {
        const found = (await stripe.billing.creditGrants.list({ customer, limit: 100 })).data.find((g) => g.metadata?.meterbridge_refund_id === String(row.id));
        const grant =
          found ??
          (await stripe.billing.creditGrants.create(
            {
              customer, amount: { type: 'monetary', monetary: { currency: row.currency, value: keep } }, applicability_config: { scope: { price_type: 'metered' } },
              category: 'paid', name: `${TOP_UP_DESCRIPTION} (kept after a refund)`, metadata,
            },
            key('regrant'),
          ));
        row = await repo.updateRefund(db, row.id, { replacementGrantId: grant.id });
      }
      if (!row.stripeRefundId) {
        const intent = await paymentIntentOf(stripe, topUp);
        const found = (await stripe.refunds.list({ payment_intent: intent, limit: 100 })).data.find((r) => r.metadata?.meterbridge_refund_id === String(row.id));
        const refund = found ?? (await stripe.refunds.create({ payment_intent: intent, amount: row.amountCents, reason: 'requested_by_customer', metadata }, key('refund')));
        row = await repo.updateRefund(db, row.id, { stripeRefundId: refund.id });
      }
      return repo.updateRefund(db, row.id, { status: 'refunded', error: null });
    } catch (err) {
      const message = `Stripe: ${stripeErrorFields(err).message ?? (err as Error).message ?? 'the request failed'}`;
      deps.logger.warn({ refundId: row.id, locationId: row.locationId, err: message }, 'wallet refund: Stripe call failed; left pending');
      return repo.updateRefund(db, row.id, { status: row.attempts >= MAX_REFUND_RUNS ? 'failed' : 'pending', error: message });
    }
  }

  return {
    /**
     * What may be refunded of a top-up now, and why (the rule above). @throws AppError 404 `top_up_not_found`,
     * 409 `top_up_not_refundable`; `stripe_error` / `stripe_refused` with Stripe's message.
     */
    async refundable(locationId: string, topUpId: number): Promise<z.infer<typeof refundableSchema>> {
      const { grantId: _grant, ...answer } = await refundableOf(await refundTarget(locationId, topUpId));
      return answer;
    },

    /**
     * Refunds `amountCents` (default: all that is refundable) of a top-up. A refund of it still pending is resumed
     * instead (the same request again is safe). @returns the refund as it stands (`refunded`, or `pending` with
     * Stripe's message in `error`).
     * @throws AppError 404 `top_up_not_found`; 409 `top_up_not_refundable`; 422 `refund_above_unused`; Stripe errors.
     */
    async refundTopUp(locationId: string, topUpId: number, amountCents?: number): Promise<{ refund: z.infer<typeof refundSchema> }> {
      return deps.exclusive(locationId, async () => {
        const target = await refundTarget(locationId, topUpId);
        const pending = (await repo.refundsOf(db, topUpId)).find((r) => r.status === 'pending');
        if (pending) return { refund: refundView(await advanceRefund(target.stripe, pending, target.topUp, target.customer)) };
        const { refundableCents, grantRemainingCents, grantId, balanceCents, paidLeftCents } = await refundableOf(target);
        const amount = amountCents ?? refundableCents;
        if (!grantId || refundableCents <= 0 || amount > refundableCents) {
          throw new AppError(
            'refund_above_unused',
            `At most ${refundableCents} cents of top-up ${topUpId} can be refunded: what remains of its credit (${grantRemainingCents}), no more than the wallet's balance after unbilled usage (${balanceCents}) and what was paid and not yet refunded (${paidLeftCents}).`,
          );
        }
        const row = await repo.insertRefund(db, { companyId: target.sub.companyId, locationId, topUpId, amountCents: amount, currency: target.topUp.currency, voidedGrantId: grantId, grantRemainingCents });
        return { refund: refundView(await advanceRefund(target.stripe, row!, target.topUp, target.customer)) };
      });
    },

    /** Resumes the sub-account's pending refunds (the caller holds its wallet lock). Never throws for a Stripe failure. */
    async resumePending(locationId: string): Promise<void> {
      for (const row of await repo.pendingRefunds(db, locationId)) {
        const target = await refundTarget(locationId, row.topUpId);
        await advanceRefund(target.stripe, row, target.topUp, target.customer);
      }
    },
  };
}

export type WalletRefunds = ReturnType<typeof walletRefunds>;
