/**
 * Prepaid wallets (issue 17): the billing mode and wallet settings (agency default row with `location_id` null, or a
 * sub-account's own row), and the wallet ledger of top-ups. Part of the Drizzle schema (models/schema.ts re-exports
 * every part). Amounts are integers in the currency's smallest unit (cents).
 */
import { sql } from 'drizzle-orm';
import { bigint, bigserial, boolean, check, index, integer, pgTable, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core';
import { agencies, subAccounts } from './tenancy';

/** How a sub-account pays: postpaid (metered subscription invoiced at period end) or from a prepaid wallet. */
export const BILLING_MODES = ['postpaid', 'prepaid'] as const;

/**
 * Wallet settings: the agency default (`locationId` null) or one sub-account's override. `monthlyCapCents` null = no
 * cap on top-ups per calendar month (UTC).
 */
export const walletSettings = pgTable(
  'wallet_settings',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    companyId: text('company_id')
      .notNull()
      .references(() => agencies.companyId),
    locationId: text('location_id').references(() => subAccounts.locationId),
    billingMode: text('billing_mode', { enum: BILLING_MODES }).notNull().default('postpaid'),
    currency: text('currency').notNull(),
    initialTopUpCents: bigint('initial_top_up_cents', { mode: 'number' }).notNull(),
    thresholdCents: bigint('threshold_cents', { mode: 'number' }).notNull(),
    topUpCents: bigint('top_up_cents', { mode: 'number' }).notNull(),
    maxBalanceCents: bigint('max_balance_cents', { mode: 'number' }).notNull(),
    monthlyCapCents: bigint('monthly_cap_cents', { mode: 'number' }),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('wallet_settings_agency_key').on(t.companyId).where(sql`${t.locationId} is null`),
    uniqueIndex('wallet_settings_location_key').on(t.locationId).where(sql`${t.locationId} is not null`),
    check('wallet_settings_amounts_positive', sql`${t.initialTopUpCents} > 0 and ${t.thresholdCents} > 0 and ${t.topUpCents} > 0 and ${t.maxBalanceCents} > 0`),
    check('wallet_settings_threshold_below_max', sql`${t.thresholdCents} < ${t.maxBalanceCents}`),
  ],
);

/** Where a top-up stands (server/wallets/schemas.ts TOP_UP_STATUSES says what each means). */
export const TOP_UP_STATUSES = ['pending', 'paid', 'granted', 'payment_failed', 'failed'] as const;
/** Statuses of a top-up still in flight: at most one per sub-account (`wallet_top_ups_one_in_flight`). */
export const TOP_UP_IN_FLIGHT = ['pending', 'paid'] as const;

/**
 * The wallet ledger: one row per top-up, its Stripe invoice and credit grant, the balance estimate at the check that
 * started it, and Stripe's refusal or decline. Idempotency keys derive from `id` and `attempts`.
 */
export const walletTopUps = pgTable(
  'wallet_top_ups',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    companyId: text('company_id')
      .notNull()
      .references(() => agencies.companyId),
    locationId: text('location_id')
      .notNull()
      .references(() => subAccounts.locationId),
    /** `checkout`: paid by the client on Stripe Checkout (payment mode); the others are charged by invoice. */
    trigger: text('trigger', { enum: ['manual', 'auto', 'initial', 'checkout'] }).notNull(),
    amountCents: bigint('amount_cents', { mode: 'number' }).notNull(),
    currency: text('currency').notNull(),
    status: text('status', { enum: TOP_UP_STATUSES }).notNull().default('pending'),
    attempts: integer('attempts').notNull().default(0),
    /** The balance estimate (cents) when the top-up was decided. */
    balanceBeforeCents: bigint('balance_before_cents', { mode: 'number' }),
    stripeInvoiceId: text('stripe_invoice_id'),
    stripeCreditGrantId: text('stripe_credit_grant_id'),
    /** A `checkout` top-up's Checkout Session (its id makes the completion idempotent) and PaymentIntent (for refunds). */
    stripeCheckoutSessionId: text('stripe_checkout_session_id'),
    stripePaymentIntentId: text('stripe_payment_intent_id'),
    error: text('error'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    index('wallet_top_ups_location_idx').on(t.locationId, t.createdAt),
    uniqueIndex('wallet_top_ups_one_in_flight').on(t.locationId).where(sql`${t.status} in ('pending', 'paid')`),
    uniqueIndex('wallet_top_ups_invoice_key').on(t.stripeInvoiceId),
    uniqueIndex('wallet_top_ups_checkout_key').on(t.stripeCheckoutSessionId),
    check('wallet_top_ups_amount_positive', sql`${t.amountCents} > 0`),
  ],
);

/** Where a refund stands: `pending` (voiding the grant, keeping the rest as credit, refunding), `refunded`, `failed`. */
export const REFUND_STATUSES = ['pending', 'refunded', 'failed'] as const;

/**
 * Refunds of top-ups (part of the wallet ledger): `amountCents` refunded to the card of the top-up's payment, the
 * top-up's credit grant voided with `grantRemainingCents` left on it, and `grantRemainingCents − amountCents` granted
 * again as `replacementGrantId`. At most one pending refund per top-up; idempotency keys derive from `id` and `attempts`.
 */
export const walletRefunds = pgTable(
  'wallet_refunds',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    companyId: text('company_id')
      .notNull()
      .references(() => agencies.companyId),
    locationId: text('location_id')
      .notNull()
      .references(() => subAccounts.locationId),
    topUpId: bigint('top_up_id', { mode: 'number' })
      .notNull()
      .references(() => walletTopUps.id),
    amountCents: bigint('amount_cents', { mode: 'number' }).notNull(),
    currency: text('currency').notNull(),
    /** The credit grant voided and what remained on it (cents) when the refund was decided. */
    voidedGrantId: text('voided_grant_id').notNull(),
    grantRemainingCents: bigint('grant_remaining_cents', { mode: 'number' }).notNull(),
    replacementGrantId: text('replacement_grant_id'),
    stripeRefundId: text('stripe_refund_id'),
    status: text('status', { enum: REFUND_STATUSES }).notNull().default('pending'),
    attempts: integer('attempts').notNull().default(0),
    error: text('error'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    index('wallet_refunds_location_idx').on(t.locationId, t.createdAt),
    uniqueIndex('wallet_refunds_one_pending').on(t.topUpId).where(sql`${t.status} = 'pending'`),
    check('wallet_refunds_amount_within_grant', sql`${t.amountCents} > 0 and ${t.amountCents} <= ${t.grantRemainingCents}`),
  ],
);

/**
 * Each prepaid sub-account's last wallet check (the job's or a crossing's): the balance estimate then (cents) and
 * whether it was below the threshold, since when. `low` turning true is a "wallet low" crossing (wallet-checks.ts).
 */
export const walletStates = pgTable('wallet_states', {
  locationId: text('location_id')
    .primaryKey()
    .references(() => subAccounts.locationId),
  balanceCents: bigint('balance_cents', { mode: 'number' }).notNull(),
  low: boolean('low').notNull().default(false),
  lowSince: timestamp('low_since', { withTimezone: true }),
  checkedAt: timestamp('checked_at', { withTimezone: true }).notNull().defaultNow(),
});
