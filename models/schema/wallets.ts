/**
 * Prepaid wallets (issue 17): the billing mode and wallet settings (agency default row with `location_id` null, or a
 * sub-account's own row), and the wallet ledger of top-ups. Part of the Drizzle schema (models/schema.ts re-exports
 * every part). Amounts are integers in the currency's smallest unit (cents).
 */
import { sql } from 'drizzle-orm';
import { bigint, bigserial, check, index, integer, pgTable, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core';
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
    trigger: text('trigger', { enum: ['manual', 'auto', 'initial'] }).notNull(),
    amountCents: bigint('amount_cents', { mode: 'number' }).notNull(),
    currency: text('currency').notNull(),
    status: text('status', { enum: TOP_UP_STATUSES }).notNull().default('pending'),
    attempts: integer('attempts').notNull().default(0),
    /** The balance estimate (cents) when the top-up was decided. */
    balanceBeforeCents: bigint('balance_before_cents', { mode: 'number' }),
    stripeInvoiceId: text('stripe_invoice_id'),
    stripeCreditGrantId: text('stripe_credit_grant_id'),
    error: text('error'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    index('wallet_top_ups_location_idx').on(t.locationId, t.createdAt),
    uniqueIndex('wallet_top_ups_one_in_flight').on(t.locationId).where(sql`${t.status} in ('pending', 'paid')`),
    uniqueIndex('wallet_top_ups_invoice_key').on(t.stripeInvoiceId),
    check('wallet_top_ups_amount_positive', sql`${t.amountCents} > 0`),
  ],
);
