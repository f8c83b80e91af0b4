/**
 * Whether Stripe can charge a sub-account: the default payment method Stripe uses for its invoices. Stripe charges a
 * subscription's invoices with the subscription's `default_payment_method`, else the customer's
 * `invoice_settings.default_payment_method` (docs.stripe.com/api/subscriptions/object#subscription_object-default_payment_method,
 * docs.stripe.com/api/customers/object#customer_object-invoice_settings-default_payment_method); a card's
 * `card.brand`, `last4`, `exp_month`, `exp_year` come from the PaymentMethod (docs.stripe.com/api/payment_methods/object).
 * Read from Stripe by card-refresh.ts, which stores every read (stored-cards.ts) for the lists and the Overview.
 */
import type Stripe from 'stripe';
import type { z } from 'zod';
import { AppError } from '../http/errors';
import { stripeCall } from '../billing-setup/pricing';
import { isResourceMissing } from '../stripe/stripe-errors';
import type { cardSchema } from './schemas';

export type CardSummary = z.infer<typeof cardSchema>;

/** What a summary is made of, as read from Stripe or as stored (models/schema/card-summaries.ts). */
export type CardFields = Pick<CardSummary, 'status' | 'customerName' | 'source' | 'paymentMethodId' | 'type' | 'brand' | 'last4' | 'expMonth' | 'expYear'>;

const EMPTY = { customerName: null, source: null, paymentMethodId: null, type: null, brand: null, last4: null, expMonth: null, expYear: null } as const;

/** The summary of a sub-account without a Stripe customer (or without Stripe). */
export const NO_CUSTOMER: CardSummary = { status: 'no_customer', usable: false, ...EMPTY, expiringSoon: false, expired: false };

/**
 * The expiry rule: a card is valid through the last day of its expiry month (UTC). `expired` once that month is
 * over; `expiringSoon` while its expiry month is this month or next month.
 */
export function expiryOf(expMonth: number, expYear: number, now = new Date()): { expired: boolean; expiringSoon: boolean } {
  const expiry = expYear * 12 + (expMonth - 1);
  const current = now.getUTCFullYear() * 12 + now.getUTCMonth();
  return { expired: expiry < current, expiringSoon: expiry >= current && expiry <= current + 1 };
}

/**
 * The summary as of `now`: usable when a payment method is on file and has not expired (only cards have an expiry,
 * `expiryOf`), so a stored read shows a card expiring or expired as the months pass without reading Stripe again.
 */
export function cardSummary(fields: CardFields, now = new Date()): CardSummary {
  const { status, customerName, source, paymentMethodId, type, brand, last4, expMonth, expYear } = fields;
  const expiry = expMonth !== null && expYear !== null ? expiryOf(expMonth, expYear, now) : { expired: false, expiringSoon: false };
  return { status, customerName, usable: status === 'card_on_file' && !expiry.expired, source, paymentMethodId, type, brand, last4, expMonth, expYear, ...expiry };
}

/** The summary of a PaymentMethod as Stripe answers it. */
export function summarise(pm: Stripe.PaymentMethod, source: 'customer' | 'subscription', now = new Date(), customerName: string | null = null): CardSummary {
  const card = pm.card;
  return cardSummary(
    { status: 'card_on_file', customerName, source, paymentMethodId: pm.id, type: pm.type, brand: card?.brand ?? null, last4: card?.last4 ?? null, expMonth: card?.exp_month ?? null, expYear: card?.exp_year ?? null },
    now,
  );
}

/** Billed without a card: a subscription while the card read is not usable (none, expired, customer deleted); null: not read. */
export const billedWithoutCard = (subscriptionId: string | null, card: CardSummary | null): boolean => Boolean(subscriptionId) && card !== null && !card.usable;

/**
 * Reads the payment method Stripe charges for the client's invoices, in Stripe's order: the subscription's
 * `default_payment_method` "takes precedence … If neither are set, invoices will use the customer's
 * invoice_settings.default_payment_method" (docs.stripe.com/api/subscriptions/object#subscription_object-default_payment_method).
 * One call without a subscription, two with one (the customer, then the subscription with its payment method expanded).
 * @param beforeCall awaited before each Stripe call (a job's pacing).
 * @throws AppError 400/502 `stripe_error` with Stripe's message.
 */
export async function readCard(stripe: Stripe, customerId: string, subscriptionId: string | null, beforeCall = async () => {}): Promise<CardSummary> {
  return stripeCall(async () => {
    let customer: Stripe.Customer | Stripe.DeletedCustomer;
    try {
      await beforeCall();
      customer = await stripe.customers.retrieve(customerId, { expand: ['invoice_settings.default_payment_method'] });
    } catch (err) {
      if (isResourceMissing(err)) return cardSummary({ status: 'customer_deleted', ...EMPTY });
      throw err;
    }
    if ((customer as Stripe.DeletedCustomer).deleted) return cardSummary({ status: 'customer_deleted', ...EMPTY });
    const fromCustomer = (customer as Stripe.Customer).invoice_settings?.default_payment_method ?? null;
    const customerName = (customer as Stripe.Customer).name ?? null;
    const paymentMethod = async (id: string) => (await beforeCall(), stripe.paymentMethods.retrieve(id));
    if (subscriptionId) {
      await beforeCall();
      const sub = await stripe.subscriptions
        .retrieve(subscriptionId, { expand: ['default_payment_method'] })
        .catch((err) => (isResourceMissing(err) ? null : Promise.reject(err)));
      const fromSub = sub?.default_payment_method ?? null;
      if (fromSub) {
        const pm = typeof fromSub === 'string' ? await paymentMethod(fromSub) : fromSub;
        return summarise(pm, 'subscription', undefined, customerName);
      }
    }
    if (fromCustomer) {
      const pm = typeof fromCustomer === 'string' ? await paymentMethod(fromCustomer) : fromCustomer;
      return summarise(pm, 'customer', undefined, customerName);
    }
    return cardSummary({ status: 'no_card', ...EMPTY, customerName });
  });
}

/** The agency's card rule (the cards shown are read and stored by card-refresh.ts). */
export function createCards() {
  return {
    /**
     * The agency's rule "a card before a subscription starts": refuses unless Stripe has a usable default payment
     * method for the customer. Reads Stripe afresh (never the cache): it decides a charge.
     * @throws AppError 409 `card_required`; 400/502 `stripe_error`.
     */
    async requireCard(stripe: Stripe, customerId: string, locationId: string): Promise<void> {
      const found = await readCard(stripe, customerId, null);
      if (found.usable) return;
      const why = found.status === 'card_on_file' ? `its card ${found.brand ?? ''} •••• ${found.last4 ?? ''} has expired` : 'Stripe has no card on file for it';
      throw new AppError(
        409,
        'card_required',
        `This agency requires a card before a subscription starts, and ${why} (sub-account ${locationId}, customer ${customerId}). ` +
          'The client adds one from their Meterbridge page ("Add a card"), or copy the card link and send it to them; the subscription starts once the card is saved.',
      );
    },
  };
}

export type Cards = ReturnType<typeof createCards>;
