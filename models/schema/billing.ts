/**
 * Rebilling rules, usage counters, and the meter-report outbox with its batches (Stripe meter events). Part of the
 * Drizzle schema (models/schema.ts re-exports every part).
 */
import { sql } from 'drizzle-orm';
import { bigserial, bigint, boolean, check, index, integer, jsonb, numeric, pgTable, primaryKey, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core';
import { activityEvents } from './ledger';
import { agencies, subAccounts } from './tenancy';

/** A metered price's terms. Amounts are in the currency's smallest unit (cents), as decimal strings. */
export interface PriceTerms {
  currency: string;
  interval: 'day' | 'week' | 'month' | 'year';
  unitAmountDecimal?: string;
  /** Graduated tiers: "first N units at A, then …"; `upTo: 'inf'` closes the list. */
  tiers?: Array<{ upTo: number | 'inf'; unitAmountDecimal: string; flatAmount?: number }>;
}

/**
 * "Every `threshold` of `metric` = 1 unit" for one sub-account, or — with `locationId` null — the agency default
 * every sub-account inherits unless it has its own rules for the metric. `threshold` is a positive decimal.
 * Keyed by (agency default | sub-account, metric, `direction`): a metric has either one rule — `both`, or one
 * direction (the other is not counted) — or a pair `inbound` + `outbound`, each with its own threshold, Stripe meter
 * and price (HoopAI prices inbound and outbound calls differently). A `both` rule never sits beside a directional one
 * (server/metering/rebilling-rules.ts keeps it so). Which rule counts a usage: rules-repository.ts `ruleForDirection`.
 */
export const rebillingRules = pgTable(
  'rebilling_rules',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    companyId: text('company_id')
      .notNull()
      .references(() => agencies.companyId),
    locationId: text('location_id').references(() => subAccounts.locationId),
    metric: text('metric').notNull(),
    enabled: boolean('enabled').notNull().default(true),
    threshold: numeric('threshold', { precision: 24, scale: 6 }).notNull(),
    direction: text('direction', { enum: ['outbound', 'inbound', 'both'] }).notNull(),
    meterEventName: text('meter_event_name').notNull(),
    /** The Stripe meter and metered price billed for this metric (a sub-account rule without one uses the default's). */
    stripeMeterId: text('stripe_meter_id'),
    stripePriceId: text('stripe_price_id'),
    /** The price's terms as set: `{ currency, interval, unitAmountDecimal?, tiers? }` (amounts in cents, decimal strings). */
    priceTerms: jsonb('price_terms').$type<PriceTerms>(),
    /** What HighLevel charges the agency per unit, in cents (decimal string), for the margin column. */
    baseCostDecimal: numeric('base_cost_decimal', { precision: 24, scale: 6 }),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('rebilling_rules_default_key').on(t.companyId, t.metric, t.direction).where(sql`${t.locationId} is null`),
    uniqueIndex('rebilling_rules_location_key').on(t.locationId, t.metric, t.direction).where(sql`${t.locationId} is not null`),
    check('rebilling_rules_threshold_positive', sql`${t.threshold} > 0`),
  ],
);

/**
 * Per (sub-account, metric, direction of the rule that counts it — `both` for a metric's undivided rule): quantity counted while a rule was active, and units already turned into meter
 * reports. Invariant: billedUnits = floor(total / threshold) after every intake transaction; the remainder
 * carries over forever (no period resets it). When a rule's threshold changes, the counter is re-based
 * (total -= billedUnits × old threshold, billedUnits = 0) so the remainder carries into the new threshold.
 */
export const usageCounters = pgTable(
  'usage_counters',
  {
    locationId: text('location_id').notNull(),
    metric: text('metric').notNull(),
    /** The counting rule's `direction` (rebilling_rules): a pair of directional rules keeps two counters. */
    direction: text('direction', { enum: ['outbound', 'inbound', 'both'] }).notNull().default('both'),
    companyId: text('company_id').notNull(),
    total: numeric('total', { precision: 30, scale: 6 }).notNull(),
    billedUnits: bigint('billed_units', { mode: 'number' }).notNull(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.locationId, t.metric, t.direction] })],
);

/**
 * The outbox: units owed to Stripe from one threshold crossing. `pending` until the reporter puts it in a batch
 * (`batched`), then follows its batch to `sent`, `failed`, `rejected` or `unconfirmed`; a rejected report the agency
 * resends goes back to `pending` and joins a new batch. Never deleted: it is the audit trail of every unit.
 * `shadow`: a crossing of a sub-account in shadow mode ("would bill"); the reporter never takes it, and it
 * becomes `pending` only when the agency asks to bill the shadow backlog. `stripeCustomerId` is null only for a
 * shadow report of a sub-account with no customer yet; it is set when the report turns `pending`.
 * `held`: a crossing of a metric Meterbridge prices whose price is on no subscription of the customer (reason
 * `no_subscription`): Stripe would take the meter event and invoice it nowhere, so the reporter keeps it back and
 * returns it to `pending` once a subscription covers it (server/payments/held-usage.ts).
 */
export const meterReports = pgTable(
  'meter_reports',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    companyId: text('company_id').notNull(),
    locationId: text('location_id').notNull(),
    metric: text('metric').notNull(),
    stripeCustomerId: text('stripe_customer_id'),
    meterEventName: text('meter_event_name').notNull(),
    units: bigint('units', { mode: 'number' }).notNull(),
    crossedAt: timestamp('crossed_at', { withTimezone: true }).notNull(),
    /**
     * When usage became billable later than it crossed: a `held` report released (a subscription covers it, a
     * suspension ended), a `shadow` backlog billed, imported history billed, a rejected batch resent (null: billable
     * from its crossing). Its meter event is dated no earlier than this (meter-batch-repository.ts), because
     * Stripe invoices a meter event in the billing period its timestamp falls in and an invoice takes usage only until
     * it is finalized, an hour after its period ends by default
     * (docs.stripe.com/billing/subscriptions/usage-based/configure-grace-period): usage dated before the subscription
     * started, or in a period already invoiced, would be accepted and invoiced nowhere.
     */
    billableFrom: timestamp('billable_from', { withTimezone: true }),
    activityEventId: bigint('activity_event_id', { mode: 'number' }).references(() => activityEvents.id),
    status: text('status', { enum: ['pending', 'batched', 'sent', 'failed', 'rejected', 'unconfirmed', 'shadow', 'held'] }).notNull().default('pending'),
    batchId: bigint('batch_id', { mode: 'number' }).references(() => meterBatches.id),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    index('meter_reports_pending_idx').on(t.companyId, t.stripeCustomerId, t.meterEventName).where(sql`${t.status} = 'pending'`),
    index('meter_reports_location_idx').on(t.locationId, t.metric, t.createdAt),
    index('meter_reports_batch_idx').on(t.batchId),
    check('meter_reports_units_positive', sql`${t.units} > 0`),
    check('meter_reports_customer_unless_shadow', sql`${t.stripeCustomerId} is not null or ${t.status} = 'shadow'`),
    index('meter_reports_shadow_idx').on(t.locationId, t.metric).where(sql`${t.status} = 'shadow'`),
    index('meter_reports_held_idx').on(t.locationId, t.metric).where(sql`${t.status} = 'held'`),
  ],
);

/**
 * One Stripe meter event: the sum of a group of meter reports for one (agency, customer, event name).
 * `identifier` is fixed when the batch is stored, before any send, and every resend reuses it, so Stripe
 * deduplicates — but only within its window ("a rolling period of at least 24 hours",
 * docs.stripe.com/api/billing/meter-event/create): past `REPORTER_IDENTIFIER_WINDOW_HOURS` after `firstSentAt` an
 * unsettled batch becomes `unconfirmed` instead of being resent. `rejected`: Stripe took it, then refused it in an
 * asynchronous error report (never counted). `timestamp` is the latest crossing, Unix seconds, for our records. At most one `sending` batch per (agency, customer, event name)
 * — the partial unique index — keeps one call in flight per customer and meter.
 * `lockedUntil` is a lease: a reporter that crashes mid-send loses it and another resends the same batch.
 */
export const meterBatches = pgTable(
  'meter_batches',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    companyId: text('company_id').notNull(),
    stripeCustomerId: text('stripe_customer_id').notNull(),
    meterEventName: text('meter_event_name').notNull(),
    identifier: text('identifier').notNull(),
    value: bigint('value', { mode: 'number' }).notNull(),
    timestamp: bigint('timestamp', { mode: 'number' }).notNull(),
    /**
     * `rejected`: Stripe's asynchronous error report named it (never counted). `unconfirmed`: its identifier window
     * closed before Stripe confirmed it; reconciliation settles it. `replaced`: reconciliation found this batch's units
     * missing in Stripe and moved its reports to a new batch (`replacesBatchId` there) with a new identifier
     * (server/reconciliation/). `queued`: a batch reconciliation stored that waits for its pair's one in-flight slot;
     * the reporter makes it `sending` when the slot is free.
     */
    status: text('status', { enum: ['queued', 'sending', 'sent', 'failed', 'rejected', 'unconfirmed', 'replaced'] }).notNull().default('sending'),
    attempts: integer('attempts').notNull().default(0),
    nextAttemptAt: timestamp('next_attempt_at', { withTimezone: true }).notNull().defaultNow(),
    lockedUntil: timestamp('locked_until', { withTimezone: true }),
    lastError: text('last_error'),
    sentAt: timestamp('sent_at', { withTimezone: true }),
    /** When the identifier was first put on the wire (set as the first send begins): the identifier window starts here. */
    firstSentAt: timestamp('first_sent_at', { withTimezone: true }),
    /** The `timestamp` of the latest send, Unix seconds: the crossing time brought inside Stripe's window at that send. */
    sentTimestamp: bigint('sent_timestamp', { mode: 'number' }),
    /** Stripe's error code from its asynchronous error report (`rejected`), e.g. `meter_event_customer_not_found`. */
    rejectedCode: text('rejected_code'),
    /** When the agency resent a rejected batch's reports (they joined a new batch with a new identifier). */
    resentAt: timestamp('resent_at', { withTimezone: true }),
    /**
     * `usage`: carries units owed by meter reports (the reporter's batches, and resends of them). `correction`: a
     * corrective event reconciliation sent so Stripe's total matches the units already sent; it owes nothing itself.
     */
    kind: text('kind', { enum: ['usage', 'correction'] }).notNull().default('usage'),
    /** For a resend by reconciliation: the batch whose units Stripe did not count (now `replaced`). */
    replacesBatchId: bigint('replaces_batch_id', { mode: 'number' }),
    /** The reconciliation run that created this batch (corrections and resends). */
    reconciliationRunId: bigint('reconciliation_run_id', { mode: 'number' }),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    index('meter_batches_pair_time_idx').on(t.companyId, t.stripeCustomerId, t.meterEventName, t.timestamp),
    uniqueIndex('meter_batches_identifier_key').on(t.identifier),
    uniqueIndex('meter_batches_in_flight_key')
      .on(t.companyId, t.stripeCustomerId, t.meterEventName)
      .where(sql`${t.status} = 'sending'`),
    index('meter_batches_due_idx').on(t.nextAttemptAt).where(sql`${t.status} = 'sending'`),
    index('meter_batches_sent_idx').on(t.companyId, t.meterEventName, t.sentAt),
  ],
);
