/**
 * Suspension for non-payment (issue 16, item 6): the agency's policy, and each sub-account's current (or last)
 * suspension with what HighLevel answered to the pause and resume calls. Part of the Drizzle schema
 * (models/schema.ts re-exports every part). The rules live in server/suspension/.
 */
import { sql } from 'drizzle-orm';
import { boolean, check, index, integer, pgTable, text, timestamp } from 'drizzle-orm/pg-core';
import { agencies, subAccounts } from './tenancy';

/**
 * What an agency does when a client does not pay: `off` (nothing, the default), `stop_billing` (usage is still
 * counted but held, not sent to Stripe), `stop_billing_and_pause` (also pause the sub-account in HighLevel through
 * HighLevel's SaaS API).
 */
export const SUSPENSION_POLICIES = ['off', 'stop_billing', 'stop_billing_and_pause'] as const;
export type SuspensionPolicy = (typeof SUSPENSION_POLICIES)[number];

/** An agency's suspension policy; no row = `off`. `afterAttempts`: failed payment attempts of one invoice, 1–10. */
export const suspensionPolicies = pgTable(
  'suspension_policies',
  {
    companyId: text('company_id')
      .primaryKey()
      .references(() => agencies.companyId),
    policy: text('policy', { enum: SUSPENSION_POLICIES }).notNull().default('off'),
    afterAttempts: integer('after_attempts').notNull().default(3),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [check('suspension_policies_attempts_range', sql`${t.afterAttempts} between 1 and 10`)],
);

/** Where the sub-account stands in HighLevel (`none`: no pause asked for). */
export const HIGHLEVEL_PAUSE_STATES = ['none', 'paused', 'pause_failed', 'resumed', 'resume_failed'] as const;
export type HighLevelPauseState = (typeof HIGHLEVEL_PAUSE_STATES)[number];

/**
 * A sub-account's suspension: one row, the current one while `resumedAt` is null, else the last one (kept so the
 * agency sees when and how it ended, and a HighLevel resume that failed). `trigger`: `payment_failed` (the invoice's
 * attempts reached the policy's N) or `subscription_canceled` (Stripe canceled the subscription for non-payment).
 * `highLevelError` is HighLevel's message when the pause or resume call failed.
 */
export const suspensions = pgTable(
  'suspensions',
  {
    locationId: text('location_id')
      .primaryKey()
      .references(() => subAccounts.locationId),
    companyId: text('company_id').notNull(),
    trigger: text('trigger', { enum: ['payment_failed', 'subscription_canceled'] }).notNull(),
    /** The unpaid invoice (`in_…`) and where the client pays it (Stripe's hosted invoice page), when known. */
    invoiceId: text('invoice_id'),
    hostedInvoiceUrl: text('hosted_invoice_url'),
    attemptCount: integer('attempt_count'),
    suspendedAt: timestamp('suspended_at', { withTimezone: true }).notNull().defaultNow(),
    /** The policy asked for a pause in HighLevel when the suspension began. */
    pauseInHighLevel: boolean('pause_in_highlevel').notNull(),
    highLevelState: text('highlevel_state', { enum: HIGHLEVEL_PAUSE_STATES }).notNull().default('none'),
    highLevelError: text('highlevel_error'),
    highLevelAt: timestamp('highlevel_at', { withTimezone: true }),
    resumedAt: timestamp('resumed_at', { withTimezone: true }),
    /** `invoice_paid` (Stripe's invoice.paid) or `manual` (an agency admin's "Resume now"). */
    resumedBy: text('resumed_by', { enum: ['invoice_paid', 'manual'] }),
  },
  (t) => [index('suspensions_company_idx').on(t.companyId)],
);
