/**
 * Whether Stripe can charge a sub-account: the default payment method Stripe uses for its invoices. Stripe charges a
 * subscription's invoices with the subscription's `default_payment_method`, else the customer's
 * `invoice_settings.default_payment_method` (docs.stripe.com/api/subscriptions/object#subscription_object-default_payment_method,
 * docs.stripe.com/api/customers/object#customer_object-invoice_settings-default_payment_method); a card's
 * `card.brand`, `last4`, `exp_month`, `exp_year` come from the PaymentMethod (docs.stripe.com/api/payment_methods/object).
 * Read from Stripe through the short-lived cache (read-cache.ts).
 */
import type Stripe from 'stripe';
import type { z } from 'zod';
import { AppError } from '../http/errors';
import { stripeCall } from '../billing-setup/pricing';
import { isResourceMissing } from '../stripe/stripe-errors';
import type { ReadCache } from './read-cache';
import type { cardSchema } from './schemas';

export type CardSummary = z.infer<typeof cardSchema>;

const EMPTY = { customerName: null, source: null, paymentMethodId: null, type: null, brand: null, last4: null, expMonth: null, expYear: null, expiringSoon: false, expired: false } as const;

/**
 * The expiry rule: a card is valid through the last day of its expiry month (UTC). `expired` once that month is
 * over; `expiringSoon` while its expiry month is this month or next month.
 */
export function expiryOf(expMonth: number, expYear: number, now = new Date()): { expired: boolean; expiringSoon: boolean } {
  const expiry = expYear * 12 + (expMonth - 1);
  const current = now.getUTCFullYear() * 12 + now.getUTCMonth();
  return { expired: expiry < current, expiringSoon: expiry >= current && expiry <= current + 1 };
}

/** The summary of a PaymentMethod as Stripe answers it. */
export function summarise(pm: Stripe.PaymentMethod, source: 'customer' | 'subscription', now = new Date(), customerName: string | null = null): CardSummary {
  const card = pm.card;
  const expiry = card ? expiryOf(card.exp_month, card.exp_year, now) : { expired: false, expiringSoon: false };
  return {
    status: 'card_on_file',
    customerName,
    usable: !expiry.expired,
    source,
    paymentMethodId: pm.id,
    type: pm.type,
    brand: card?.brand ?? null,
    last4: card?.last4 ?? null,
    expMonth: card?.exp_month ?? null,
    expYear: card?.exp_year ?? null,
    ...expiry,
  };
}

/**
 * Reads the default payment method of `customerId` (and of `subscriptionId`, when the customer has none).
 * @throws AppError 400/502 `stripe_error` with Stripe's message.
 */
export async function readCard(stripe: Stripe, customerId: string, subscriptionId: string | null): Promise<CardSummary> {
  return stripeCall(async () => {
    let customer: Stripe.Customer | Stripe.DeletedCustomer;
    try {
      customer = await stripe.customers.retrieve(customerId, { expand: ['invoice_settings.default_payment_method'] });
    } catch (err) {
      if (isResourceMissing(err)) return { status: 'customer_deleted', usable: false, ...EMPTY };
      throw err;
    }
    if ((customer as Stripe.DeletedCustomer).deleted) return { status: 'customer_deleted', usable: false, ...EMPTY };
    const fromCustomer = (customer as Stripe.Customer).invoice_settings?.default_payment_method ?? null;
    const customerName = (customer as Stripe.Customer).name ?? null;
    if (fromCustomer) {
      const pm = typeof fromCustomer === 'string' ? await stripe.paymentMethods.retrieve(fromCustomer) : fromCustomer;
      return summarise(pm, 'customer', undefined, customerName);
    }
    if (subscriptionId) {
      const sub = await stripe.subscriptions.retrieve(subscriptionId).catch((err) => (isResourceMissing(err) ? null : Promise.reject(err)));
      const fromSub = sub?.default_payment_method ?? null;
      if (fromSub) {
        const pm = typeof fromSub === 'string' ? await stripe.paymentMethods.retrieve(fromSub) : fromSub;
        return summarise(pm, 'subscription', undefined, customerName);
      }
    }
    return { status: 'no_card', usable: false, ...EMPTY, customerName };
  });
}

/** The card reader with the cache; `card(...)` of a sub-account without a customer is `no_customer`. */
export function createCards(deps: { cache: ReadCache }) {
  async function card(stripe: Stripe | null, companyId: string, customerId: string | null, subscriptionId: string | null): Promise<CardSummary> {
    if (!customerId || !stripe) return { status: 'no_customer', usable: false, ...EMPTY };
    return deps.cache.get(companyId, customerId, `card:${subscriptionId ?? ''}`, () => readCard(stripe, customerId, subscriptionId));
  }

  return {
    card,
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
