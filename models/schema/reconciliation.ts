/**
 * Reconciliation against Stripe's own totals (server/reconciliation/): each run, what it compared per
 * (agency, Stripe customer, meter) and what it did, and the meter events it asked Stripe to cancel.
 * Units are whole meter units (what meter events carry); times are timestamptz.
 */
import { sql } from 'drizzle-orm';
import { bigint, bigserial, index, integer, jsonb, pgTable, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core';

/**
 * One reconciliation run of an agency, for all its sub-accounts or (`locationId`) one. `settledBefore`: windows were
 * compared up to this instant (the run's time less the settle time). Counters sum the pairs below:
 * `missingUnits` Stripe lacked, `excessUnits` Stripe had beyond what was sent, `correctedUnits` repaired by a
 * corrective event, a resend or a cancellation, `leftForPersonUnits` excess nobody can attribute (flagged).
 * At most one `running` run per agency (the partial unique index).
 */
export const reconciliationRuns = pgTable(
  'reconciliation_runs',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    companyId: text('company_id').notNull(),
    locationId: text('location_id'),
    /** `follow_up`: the check a while after a run that repaired drift, while Stripe can still cancel those repairs. */
    trigger: text('trigger', { enum: ['scheduled', 'on_demand', 'follow_up'] }).notNull(),
    status: text('status', { enum: ['running', 'completed', 'failed'] }).notNull().default('running'),
    settledBefore: timestamp('settled_before', { withTimezone: true }).notNull(),
    windowsFrom: timestamp('windows_from', { withTimezone: true }).notNull(),
    pairsChecked: integer('pairs_checked').notNull().default(0),
    pairsWithDrift: integer('pairs_with_drift').notNull().default(0),
    pairsFailed: integer('pairs_failed').notNull().default(0),
    windowsChecked: integer('windows_checked').notNull().default(0),
    windowsSkipped: integer('windows_skipped').notNull().default(0),
    missingUnits: bigint('missing_units', { mode: 'number' }).notNull().default(0),
    excessUnits: bigint('excess_units', { mode: 'number' }).notNull().default(0),
    correctedUnits: bigint('corrected_units', { mode: 'number' }).notNull().default(0),
    leftForPersonUnits: bigint('left_for_person_units', { mode: 'number' }).notNull().default(0),
    unconfirmedSettled: integer('unconfirmed_settled').notNull().default(0),
    error: text('error'),
    startedAt: timestamp('started_at', { withTimezone: true }).notNull().defaultNow(),
    finishedAt: timestamp('finished_at', { withTimezone: true }),
  },
  (t) => [
    index('reconciliation_runs_company_idx').on(t.companyId, t.id),
    uniqueIndex('reconciliation_runs_running_key').on(t.companyId).where(sql`${t.status} = 'running'`),
  ],
);

/** One window's comparison, kept in a pair's `windows` when it had drift, an action or was skipped. */
export interface ReconciledWindow {
  /** Unix seconds, [start, end). */
  start: number;
  end: number;
  /** Units sent (meter batches in a sent status); null when the window was skipped. */
  ours: number | null;
  /** Stripe's aggregated value for the window; null when skipped. */
  stripe: number | null;
  /** Why the window was not compared (unsettled: a send, a batch in flight or a cancellation younger than the settle time). */
  skipped?: string;
  actions: Array<{ kind: 'confirm' | 'resend' | 'correct' | 'cancel' | 'flag' | 'deferred'; units: number; batchId?: number; identifier?: string; message?: string }>;
}

/** What a run found for one (customer, meter) pair. `status`: ok (no drift), corrected, flagged (left for a person), error. */
export const reconciliationPairs = pgTable(
  'reconciliation_pairs',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    runId: bigint('run_id', { mode: 'number' })
      .notNull()
      .references(() => reconciliationRuns.id),
    companyId: text('company_id').notNull(),
    locationId: text('location_id'),
    stripeCustomerId: text('stripe_customer_id').notNull(),
    meterEventName: text('meter_event_name').notNull(),
    stripeMeterId: text('stripe_meter_id'),
    status: text('status', { enum: ['ok', 'corrected', 'flagged', 'error'] }).notNull(),
    windowsChecked: integer('windows_checked').notNull().default(0),
    windowsSkipped: integer('windows_skipped').notNull().default(0),
    ourUnits: bigint('our_units', { mode: 'number' }).notNull().default(0),
    stripeUnits: bigint('stripe_units', { mode: 'number' }).notNull().default(0),
    missingUnits: bigint('missing_units', { mode: 'number' }).notNull().default(0),
    excessUnits: bigint('excess_units', { mode: 'number' }).notNull().default(0),
    correctedUnits: bigint('corrected_units', { mode: 'number' }).notNull().default(0),
    leftForPersonUnits: bigint('left_for_person_units', { mode: 'number' }).notNull().default(0),
    message: text('message'),
    windows: jsonb('windows').$type<ReconciledWindow[]>().notNull().default([]),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    index('reconciliation_pairs_run_idx').on(t.runId),
    index('reconciliation_pairs_pair_idx').on(t.companyId, t.stripeCustomerId, t.meterEventName, t.runId),
    index('reconciliation_pairs_location_idx').on(t.locationId, t.runId),
  ],
);

/**
 * A meter event reconciliation asked Stripe to cancel (`POST /v1/billing/meter_event_adjustments`, type cancel), by
 * identifier: one row per identifier, so an event is never cancelled twice. `failed` keeps Stripe's message and
 * may be tried again by a later run.
 */
export const meterEventCancellations = pgTable(
  'meter_event_cancellations',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    companyId: text('company_id').notNull(),
    batchId: bigint('batch_id', { mode: 'number' }).notNull(),
    identifier: text('identifier').notNull(),
    meterEventName: text('meter_event_name').notNull(),
    units: bigint('units', { mode: 'number' }).notNull(),
    runId: bigint('run_id', { mode: 'number' }).notNull(),
    status: text('status', { enum: ['requested', 'failed'] }).notNull().default('requested'),
    error: text('error'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [uniqueIndex('meter_event_cancellations_identifier_key').on(t.identifier)],
);
