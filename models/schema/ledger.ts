/**
 * Activity events and the usage records derived from them: the ledger. Part of the Drizzle schema
 * (models/schema.ts re-exports every part).
 */
import { sql } from 'drizzle-orm';
import { bigserial, bigint, boolean, check, index, integer, jsonb, numeric, pgTable, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core';

/**
 * One activity event, stored verbatim for audit and replay. `source` says where it came from:
 * - `webhook`: a HighLevel webhook delivery. `webhookId` is HighLevel's dedupe key; a delivery without one is
 *   keyed by `sha256:<hex of the signed body>`. `signatureScheme` says how it was verified.
 * - `usage_api`: one event posted to `POST /api/v1/usage`, keyed `usage-api:<companyId>:<idempotencyKey>`.
 * - `backfill`: one message imported from HighLevel's message export, keyed `backfill:<locationId>:<messageId>`.
 * - `phone_numbers`: one active phone number in one UTC month, keyed `phone-number:<locationId>:<sid>:<YYYY-MM>`.
 * - `workflow_action`: one run of the "Record billable usage" workflow action, keyed
 *   `workflow-action:<companyId>:<idempotencyKey>` (server/workflow-actions/).
 * `webhookId` is therefore the delivery key of every source (unique); `signatureScheme` is null outside webhooks.
 * The table is also the INBOX (server/pipeline/): a source stores its event and answers; the processor turns it into
 * usage later. `status`:
 * - `received`: stored and acknowledged, not yet processed;
 * - `processed`: its usage records and their crossings are committed (for install-lifecycle events: their effects,
 *   committed with the event itself);
 * - `failed`: processing threw; `lastError` says why, `attempts` how often, and it is tried again at `nextAttemptAt`
 *   (never dropped);
 * - `ignored`: an event type Meterbridge does not handle, kept for audit.
 * `usage`: the usage drafts a source prepared when it stored the event (usage API, workflow action, phone numbers;
 * server/metering/ledger-writer.ts `draftJson`), null for a webhook, which the processor normalises from `payload`.
 */
export const activityEvents = pgTable(
  'activity_events',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    webhookId: text('webhook_id').notNull(),
    eventType: text('event_type').notNull(),
    status: text('status', { enum: ['received', 'processed', 'failed', 'ignored'] }).notNull(),
    source: text('source', { enum: ['webhook', 'usage_api', 'backfill', 'phone_numbers', 'workflow_action'] }).notNull().default('webhook'),
    companyId: text('company_id'),
    locationId: text('location_id'),
    signatureScheme: text('signature_scheme', { enum: ['ed25519', 'rsa-sha256'] }),
    payload: jsonb('payload').notNull(),
    occurredAt: timestamp('occurred_at', { withTimezone: true }),
    receivedAt: timestamp('received_at', { withTimezone: true }).notNull().defaultNow(),
    usage: jsonb('usage'),
    attempts: integer('attempts').notNull().default(0),
    lastError: text('last_error'),
    nextAttemptAt: timestamp('next_attempt_at', { withTimezone: true }),
    processedAt: timestamp('processed_at', { withTimezone: true }),
  },
  (t) => [
    uniqueIndex('activity_events_webhook_id_key').on(t.webhookId),
    index('activity_events_location_idx').on(t.locationId, t.receivedAt),
    index('activity_events_inbox_idx').on(t.id).where(sql`${t.status} in ('received', 'failed')`),
  ],
);

/**
 * A normalised quantity of one metric for one sub-account (location), derived from an activity event.
 * `quantity` is a decimal string (numeric(24,6)); `unit` names what it counts (message, segment, minute, token).
 * `attributes` keeps facts that shaped the quantity (call seconds and status, SMS encoding) for the audit trail.
 * `sourceId` is HighLevel's message (or call) id when there is one, and `messageKey` its `<conversationId>@<dateAdded>`
 * (server/metering/message-key.ts): backfill and webhook recognise one message by either.
 * `counted` is false while the record is held out of the counters (backfilled usage the agency has not asked to
 * bill); it turns true when the record is offered to the counters.
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
    messageKey: text('message_key'),
    attributes: jsonb('attributes').notNull().default({}),
    counted: boolean('counted').notNull().default(true),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('usage_records_event_metric_key').on(t.activityEventId, t.metric),
    index('usage_records_location_metric_idx').on(t.locationId, t.metric, t.occurredAt),
    index('usage_records_location_source_idx').on(t.locationId, t.sourceId).where(sql`${t.sourceId} is not null`),
    index('usage_records_location_message_key_idx').on(t.locationId, t.messageKey).where(sql`${t.messageKey} is not null`),
    index('usage_records_held_idx').on(t.locationId).where(sql`not ${t.counted}`),
    check('usage_records_quantity_nonnegative', sql`${t.quantity} >= 0`),
  ],
);
