/**
 * The last preview Stripe gave of each subscribed sub-account's next invoice (docs.stripe.com/api/invoices/create_preview),
 * kept so the Overview reads every client's next invoice at once instead of asking Stripe once per subscription.
 * Part of the Drizzle schema (models/schema.ts re-exports every part); written and read by
 * server/payments/stored-previews.ts, refreshed by server/payments/preview-refresh.ts.
 *
 * Amounts are integer cents (Stripe's smallest currency unit) of the last successful read; `fetchedAt` says when
 * that was. A read that failed keeps them and records Stripe's message in `lastError` (null again after a success).
 */
import { bigint, index, pgTable, text, timestamp } from 'drizzle-orm/pg-core';
import { subAccounts } from './tenancy';

export const invoicePreviews = pgTable(
  'invoice_previews',
  {
    /** One row per sub-account: the preview of its current subscription (a row of an older one counts as missing). */
    locationId: text('location_id')
      .primaryKey()
      .references(() => subAccounts.locationId, { onDelete: 'cascade' }),
    companyId: text('company_id').notNull(),
    stripeCustomerId: text('stripe_customer_id').notNull(),
    stripeSubscriptionId: text('stripe_subscription_id').notNull(),
    /** Three-letter ISO code in lower case, as Stripe gives it; null when Stripe had no upcoming invoice. */
    currency: text('currency'),
    subtotalCents: bigint('subtotal_cents', { mode: 'number' }),
    taxCents: bigint('tax_cents', { mode: 'number' }),
    totalCents: bigint('total_cents', { mode: 'number' }),
    amountDueCents: bigint('amount_due_cents', { mode: 'number' }),
    periodStart: timestamp('period_start', { withTimezone: true }),
    periodEnd: timestamp('period_end', { withTimezone: true }),
    /** Stripe had nothing upcoming (`invoice_upcoming_none`, or the subscription is gone): its message. */
    noneReason: text('none_reason'),
    /** The last successful read (null: none yet). */
    fetchedAt: timestamp('fetched_at', { withTimezone: true }),
    /** The last attempt, successful or not. */
    attemptedAt: timestamp('attempted_at', { withTimezone: true }).notNull().defaultNow(),
    /** Stripe's message when the last attempt failed; null after a success. */
    lastError: text('last_error'),
    /** A webhook or a change made here said the preview changed: refreshed at the next run (null: none asked). */
    refreshRequestedAt: timestamp('refresh_requested_at', { withTimezone: true }),
  },
  (t) => [index('invoice_previews_company_customer_idx').on(t.companyId, t.stripeCustomerId)],
);
