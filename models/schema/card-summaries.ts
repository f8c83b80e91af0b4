/**
 * The last read of each sub-account's card: the default payment method Stripe charges its invoices with, as
 * server/payments/cards.ts `readCard` finds it (the customer's `invoice_settings.default_payment_method`, else the
 * subscription's `default_payment_method`: docs.stripe.com/api/customers/object, docs.stripe.com/api/payment_methods/object).
 * Kept so the Overview's "billed without a card", the sub-accounts list's `no_card` filter and card column, and the
 * card alerts read every client's card at once instead of asking Stripe once per customer.
 * Part of the Drizzle schema (models/schema.ts re-exports every part); written and read by
 * server/payments/stored-cards.ts, refreshed by server/payments/card-refresh.ts.
 *
 * The summary fields are those of the last successful read (`fetchedAt`); whether the card has expired is worked out
 * when it is shown, from `expMonth`/`expYear` (cards.ts `expiryOf`). A read that failed keeps them and records Stripe's
 * message in `lastError` (null again after a success).
 */
import { index, integer, pgTable, text, timestamp } from 'drizzle-orm/pg-core';
import { subAccounts } from './tenancy';

/** `card_summaries`: one row per sub-account with a Stripe customer whose card was read (see the module comment). */
export const cardSummaries = pgTable(
  'card_summaries',
  {
    /** One row per sub-account: the card of its current customer and subscription (a row of others counts as missing). */
    locationId: text('location_id')
      .primaryKey()
      .references(() => subAccounts.locationId, { onDelete: 'cascade' }),
    companyId: text('company_id').notNull(),
    stripeCustomerId: text('stripe_customer_id').notNull(),
    /** The subscription read for its `default_payment_method` (null: the sub-account had none). */
    stripeSubscriptionId: text('stripe_subscription_id'),
    /** `card_on_file`, `no_card` or `customer_deleted` (server/payments/schemas.ts `cardSchema`); null until a read succeeds. */
    status: text('status'),
    /** The Stripe customer's `name`. */
    customerName: text('customer_name'),
    /** Where the default came from: `customer` or `subscription`. */
    source: text('source'),
    paymentMethodId: text('payment_method_id'),
    /** Stripe's payment method type, e.g. `card`, `sepa_debit`. */
    type: text('type'),
    brand: text('brand'),
    last4: text('last4'),
    /** Month 1–12 and four-digit year of a card's expiry, as Stripe gives them. */
    expMonth: integer('exp_month'),
    expYear: integer('exp_year'),
    /** The last successful read (null: none yet). */
    fetchedAt: timestamp('fetched_at', { withTimezone: true }),
    /** The last attempt, successful or not. */
    attemptedAt: timestamp('attempted_at', { withTimezone: true }).notNull().defaultNow(),
    /** Stripe's message when the last attempt failed; null after a success. */
    lastError: text('last_error'),
    /** A webhook or a change made here said the card changed: read again at the next run (null: none asked). */
    refreshRequestedAt: timestamp('refresh_requested_at', { withTimezone: true }),
  },
  (t) => [index('card_summaries_company_customer_idx').on(t.companyId, t.stripeCustomerId)],
);
