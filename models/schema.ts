/**
 * Database schema (Drizzle, PostgreSQL 15+). Migrations in `models/migrations` are generated from this file
 * with `npm run db:generate` and applied at boot by `openDatabase`.
 *
 * Quantities are `numeric` and travel through TypeScript as decimal strings: no float ever touches a total.
 */
import { sql } from 'drizzle-orm';
import {
  bigserial,
  bigint,
  check,
  index,
  jsonb,
  numeric,
  pgTable,
  text,
  timestamp,
  uniqueIndex,
} from 'drizzle-orm/pg-core';

/**
 * One HighLevel webhook delivery (an activity event), stored verbatim for audit and replay.
 * `webhookId` is HighLevel's dedupe key; a delivery without one is keyed by `sha256:<hex of the signed body>`.
 * `status`: `processed` (usage derived, or nothing billable in it), `pending` (a lifecycle event such as INSTALL
 * waiting for the install capability to act on it), `ignored` (an event type Meterbridge does not handle).
 */
export const activityEvents = pgTable(
  'activity_events',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    webhookId: text('webhook_id').notNull(),
    eventType: text('event_type').notNull(),
    status: text('status', { enum: ['processed', 'pending', 'ignored'] }).notNull(),
    companyId: text('company_id'),
    locationId: text('location_id'),
    signatureScheme: text('signature_scheme', { enum: ['ed25519', 'rsa-sha256'] }).notNull(),
    payload: jsonb('payload').notNull(),
    occurredAt: timestamp('occurred_at', { withTimezone: true }),
    receivedAt: timestamp('received_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('activity_events_webhook_id_key').on(t.webhookId),
    index('activity_events_location_idx').on(t.locationId, t.receivedAt),
    index('activity_events_pending_idx').on(t.eventType).where(sql`${t.status} = 'pending'`),
  ],
);

/**
 * A normalised quantity of one metric for one sub-account (location), derived from an activity event.
 * `quantity` is a decimal string (numeric(24,6)); `unit` names what it counts (message, segment, minute, token).
 * `attributes` keeps facts that shaped the quantity (call seconds and status, SMS encoding) for the audit trail.
 */
export const usageRecords = pgTable(
  'usage_records',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    activityEventId: bigint('activity_event_id', { mode: 'number' })
      .notNull()
      .references(() => activityEvents.id),
    locationId: text('location_id').notNull(),
    metric: text('metric').notNull(),
    quantity: numeric('quantity', { precision: 24, scale: 6 }).notNull(),
    unit: text('unit').notNull(),
    direction: text('direction', { enum: ['inbound', 'outbound'] }),
    occurredAt: timestamp('occurred_at', { withTimezone: true }).notNull(),
    sourceType: text('source_type').notNull(),
    sourceId: text('source_id'),
    attributes: jsonb('attributes').notNull().default({}),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('usage_records_event_metric_key').on(t.activityEventId, t.metric),
    index('usage_records_location_metric_idx').on(t.locationId, t.metric, t.occurredAt),
    index('usage_records_source_idx').on(t.sourceId),
    check('usage_records_quantity_nonnegative', sql`${t.quantity} >= 0`),
  ],
);
