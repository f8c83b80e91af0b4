/**
 * Card payments and their refunds, as far as wallet top-ups need them:
 * - PaymentIntents (docs.stripe.com/api/payment_intents/object): the double makes one, `succeeded`, whenever it
 *   charges a card — paying an invoice (one-time-invoices.ts: the invoice's `payments.data[].payment.payment_intent`,
 *   docs.stripe.com/api/invoice-payment/object) or completing a Checkout Session in payment mode (checkout-setup.ts:
 *   the session's `payment_intent`). `amount_received` is what was charged, cents. GET /v1/payment_intents/:id.
 * - Refunds (docs.stripe.com/api/refunds/create): `payment_intent` (or `charge`, the intent's `latest_charge`), an
 *   optional `amount` (default: all that is not yet refunded), `metadata`, `reason`. Refused: an intent that has not
 *   succeeded, and an amount above what remains unrefunded (docs.stripe.com/refunds: "You can issue more than one
 *   refund against a charge, but you can't refund a total greater than the original charge amount"; messages
 *   approximate). Card refunds are `succeeded` at once in test mode (docs.stripe.com/testing#refunds).
 *   GET /v1/refunds (filter `payment_intent`, newest first), GET /v1/refunds/:id.
 */
import type { Fake, Route, StripeFakeState, StripeJson } from './types';
import { byId, ID, integer, invalid, list, mergeMetadata, newId, noSuch, now, str, type FormValue } from './wire';

/** Charges `amount` cents to `paymentMethod` now: a succeeded PaymentIntent (stored, and returned). */
export function chargeCard(
  state: StripeFakeState,
  input: { customer: string | null; amount: number; currency: string; paymentMethod: string; metadata?: Record<string, string>; description?: string | null },
): StripeJson {
  const intent: StripeJson = {
    id: newId('pi'),
    object: 'payment_intent',
    amount: input.amount,
    amount_received: input.amount,
    currency: input.currency,
    created: now(),
    customer: input.customer,
    description: input.description ?? null,
    latest_charge: newId('ch'),
    livemode: false,
    metadata: { ...(input.metadata ?? {}) },
    payment_method: input.paymentMethod,
    status: 'succeeded',
  };
  state.paymentIntents.set(intent.id, intent);
  return intent;
}

/** Cents of `intent` refunded so far (succeeded or pending refunds). */
export function refundedOf(state: StripeFakeState, intentId: string): number {
  let sum = 0;
  for (const r of state.refunds.values()) if (r.payment_intent === intentId && r.status !== 'failed' && r.status !== 'canceled') sum += r.amount;
  return sum;
}

const money = (cents: number, currency: string) => `${(cents / 100).toFixed(2)} ${currency.toUpperCase()}`;

/** The PaymentIntent and Refund routes. */
export function paymentIntentRoutes({ state }: Fake): Route[] {
  const intentById = byId(state.paymentIntents, 'payment_intent');
  const intentOf = (params: Record<string, FormValue>): StripeJson => {
    const pi = str(params.payment_intent);
    const charge = str(params.charge);
    if (pi && charge) throw invalid('You may only specify one of these parameters: charge, payment_intent.', 'payment_intent');
    if (pi) {
      const found = state.paymentIntents.get(pi);
      if (!found) throw noSuch('payment_intent', pi, 'payment_intent', 400);
      return found;
    }
    if (charge) {
      const found = [...state.paymentIntents.values()].find((i) => i.latest_charge === charge);
      if (!found) throw noSuch('charge', charge, 'charge', 400);
      return found;
    }
    throw invalid('One of the following params should be provided for this request: payment_intent or charge.', 'payment_intent', 'parameter_missing');
  };
  return [
    { method: 'GET', pattern: new RegExp(`^/v1/payment_intents/${ID}$`), resource: 'payment_intents', access: 'read', accepts: [], handle: (_ctx, id) => ({ body: intentById(id) }) },
    {
      method: 'POST',
      pattern: /^\/v1\/refunds$/,
      resource: 'refunds',
      access: 'write',
      accepts: ['payment_intent', 'charge', 'amount', 'metadata', 'reason'],
      handle: ({ params }) => {
        const intent = intentOf(params);
        if (intent.status !== 'succeeded') throw invalid(`This PaymentIntent (${intent.id}) does not have a successful charge to refund (approximate).`, 'payment_intent');
        const left = intent.amount_received - refundedOf(state, intent.id);
        const amount = integer(params.amount, 'amount', 1) ?? left;
        if (left <= 0) throw invalid(`Charge ${intent.latest_charge} has already been refunded.`, undefined, 'charge_already_refunded');
        if (amount > left) {
          throw invalid(`Refund amount (${money(amount, intent.currency)}) is greater than unrefunded amount on charge (${money(left, intent.currency)}) (approximate).`, 'amount', 'amount_too_large');
        }
        const reason = str(params.reason) ?? null;
        if (reason !== null && !['duplicate', 'fraudulent', 'requested_by_customer'].includes(reason)) throw invalid(`Invalid reason: ${reason}`, 'reason');
        const refund: StripeJson = {
          id: newId('re'),
          object: 'refund',
          amount,
          charge: intent.latest_charge,
          created: now(),
          currency: intent.currency,
          metadata: mergeMetadata({}, params.metadata),
          payment_intent: intent.id,
          reason,
          status: 'succeeded',
        };
        state.refunds.set(refund.id, refund);
        return { body: refund };
      },
    },
    {
      method: 'GET',
      pattern: /^\/v1\/refunds$/,
      resource: 'refunds',
      access: 'read',
      accepts: ['payment_intent', 'charge', 'limit', 'starting_after', 'ending_before'],
      handle: ({ params }) => {
        const pi = str(params.payment_intent);
        return { body: list([...state.refunds.values()].filter((r) => !pi || r.payment_intent === pi), params, '/v1/refunds') };
      },
    },
    { method: 'GET', pattern: new RegExp(`^/v1/refunds/${ID}$`), resource: 'refunds', access: 'read', accepts: [], handle: (_ctx, id) => ({ body: byId(state.refunds, 'refund')(id) }) },
  ];
}
