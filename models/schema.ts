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
  boolean,
  check,
  index,
  integer,
  jsonb,
  numeric,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
} from 'drizzle-orm/pg-core';

/**
 * One activity event, stored verbatim for audit and replay. `source` says where it came from:
 * - `webhook`: a HighLevel webhook delivery. `webhookId` is HighLevel's dedupe key; a delivery without one is
 *   keyed by `sha256:<hex of the signed body>`. `signatureScheme` says how it was verified.
 * - `usage_api`: one event posted to `POST /api/v1/usage`, keyed `usage-api:<companyId>:<idempotencyKey>`.
 * - `backfill`: one message imported from HighLevel's message export, keyed `backfill:<locationId>:<messageId>`.
 * `webhookId` is therefore the delivery key of every source (unique); `signatureScheme` is null outside webhooks.
 * `status`: `processed` (its usage, crossings and install-lifecycle effects committed with it) or `ignored` (an
 * event type Meterbridge does not handle, kept for audit).
 */
export const activityEvents = pgTable(
  'activity_events',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    webhookId: text('webhook_id').notNull(),
    eventType: text('event_type').notNull(),
    status: text('status', { enum: ['processed', 'ignored'] }).notNull(),
    source: text('source', { enum: ['webhook', 'usage_api', 'backfill'] }).notNull().default('webhook'),
    companyId: text('company_id'),
    locationId: text('location_id'),
    signatureScheme: text('signature_scheme', { enum: ['ed25519', 'rsa-sha256'] }),
    payload: jsonb('payload').notNull(),
    occurredAt: timestamp('occurred_at', { withTimezone: true }),
    receivedAt: timestamp('received_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('activity_events_webhook_id_key').on(t.webhookId),
    index('activity_events_location_idx').on(t.locationId, t.receivedAt),
  ],
);

/**
 * A normalised quantity of one metric for one sub-account (location), derived from an activity event.
 * `quantity` is a decimal string (numeric(24,6)); `unit` names what it counts (message, segment, minute, token).
 * `attributes` keeps facts that shaped the quantity (call seconds and status, SMS encoding) for the audit trail.
 * `sourceId` is HighLevel's message (or call) id when there is one: backfill matches history against it.
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
    attributes: jsonb('attributes').notNull().default({}),
    counted: boolean('counted').notNull().default(true),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('usage_records_event_metric_key').on(t.activityEventId, t.metric),
    index('usage_records_location_metric_idx').on(t.locationId, t.metric, t.occurredAt),
    index('usage_records_location_source_idx').on(t.locationId, t.sourceId).where(sql`${t.sourceId} is not null`),
    index('usage_records_held_idx').on(t.locationId).where(sql`not ${t.counted}`),
    check('usage_records_quantity_nonnegative', sql`${t.quantity} >= 0`),
  ],
);

/** A metered price's terms. Amounts are in the currency's smallest unit (cents), as decimal strings. */
export interface PriceTerms {
  currency: string;
  interval: 'day' | 'week' | 'month' | 'year';
  unitAmountDecimal?: string;
  /** Graduated tiers: "first N units at A, then …"; `upTo: 'inf'` closes the list. */
  tiers?: Array<{ upTo: number | 'inf'; unitAmountDecimal: string; flatAmount?: number }>;
}

/**
 * An agency (HighLevel company) that installed Meterbridge; it owns a Stripe account.
 * `stripeSecretKey` is AES-256-GCM ciphertext (server/crypto/secret-box.ts), never the key itself.
 */
export const agencies = pgTable('agencies', {
  companyId: text('company_id').primaryKey(),
  name: text('name'),
  stripeSecretKey: text('stripe_secret_key'),
  stripeAccountId: text('stripe_account_id'),
  /** Set when the list of sub-accounts with the app installed must be fetched from HighLevel (bulk installs). */
  installSyncRequestedAt: timestamp('install_sync_requested_at', { withTimezone: true }),
  installSyncedAt: timestamp('install_synced_at', { withTimezone: true }),
  installSyncError: text('install_sync_error'),
  /** What the connected Stripe key is: never the key itself (that is `stripeSecretKey`, sealed). */
  stripeMode: text('stripe_mode', { enum: ['test', 'live'] }),
  stripeKeyType: text('stripe_key_type', { enum: ['secret', 'restricted'] }),
  stripeKeyLast4: text('stripe_key_last4'),
  stripeAccountName: text('stripe_account_name'),
  /** Permissions a restricted key lacks, as `{ permission, label }[]`. */
  stripeMissingPermissions: jsonb('stripe_missing_permissions').$type<Array<{ permission: string; label: string }>>().notNull().default([]),
  stripeConnectedAt: timestamp('stripe_connected_at', { withTimezone: true }),
  /** The agency's Stripe webhook endpoint pointing at /webhooks/stripe/:companyId, and its signing secret (sealed). */
  stripeWebhookEndpointId: text('stripe_webhook_endpoint_id'),
  stripeWebhookSecret: text('stripe_webhook_secret'),
  /** New sub-accounts (install, LocationCreate) get a Stripe customer and the default rules automatically. */
  defaultsAutoApply: boolean('defaults_auto_apply').notNull().default(false),
  /** Optional flat monthly fee added to every sub-account subscription: its Stripe price and amount in cents. */
  flatFeePriceId: text('flat_fee_price_id'),
  flatFeeAmount: integer('flat_fee_amount'),
  currency: text('currency').notNull().default('usd'),
  /**
   * Who writes this agency's AI messages, as comma-separated markers (`user:<userId>`, `provider:<id>`,
   * `source:<source>`, `unattended`; server/metering/ai-messages.ts), on top of the deployment's
   * `AI_MESSAGE_SENDERS`. Empty: only the deployment's markers apply.
   */
  aiMessageSenders: text('ai_message_senders').notNull().default(''),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
});

/** A sub-account (HighLevel location) of an agency: the unit billed, mapped to one Stripe customer. */
export const subAccounts = pgTable(
  'sub_accounts',
  {
    locationId: text('location_id').primaryKey(),
    companyId: text('company_id')
      .notNull()
      .references(() => agencies.companyId),
    name: text('name'),
    email: text('email'),
    stripeCustomerId: text('stripe_customer_id'),
    /** `uninstalled` sub-accounts bill no new usage; what they already owe is still delivered. */
    status: text('status', { enum: ['active', 'uninstalled'] }).notNull().default('active'),
    /** Time of the latest install/uninstall applied, so late or replayed lifecycle webhooks cannot undo a newer one. */
    lifecycleAt: timestamp('lifecycle_at', { withTimezone: true }),
    /** The agency's switch: false stops new crossings for this sub-account (history and owed units stay). */
    rebillingEnabled: boolean('rebilling_enabled').notNull().default(true),
    stripeSubscriptionId: text('stripe_subscription_id'),
    /** From Stripe's invoice and subscription events: `delinquent` (a payment failed), `paused` (subscription gone). */
    billingStatus: text('billing_status', { enum: ['ok', 'delinquent', 'paused'] }).notNull().default('ok'),
    billingStatusReason: text('billing_status_reason'),
    /** Set when the sub-account appeared while its agency had auto-apply on; the apply-defaults job clears it. */
    defaultsPending: boolean('defaults_pending').notNull().default(false),
    /**
     * `live` sends crossings to Stripe; `shadow` computes them as `shadow` meter reports ("would bill") and sends
     * nothing. `billingModeChangedAt` is when the mode last changed.
     */
    billingMode: text('billing_mode', { enum: ['live', 'shadow'] }).notNull().default('live'),
    billingModeChangedAt: timestamp('billing_mode_changed_at', { withTimezone: true }),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index('sub_accounts_company_idx').on(t.companyId)],
);

/**
 * An OAuth grant from HighLevel: a Company token (agency install, possibly bulk) or a Location token (one
 * sub-account, from the OAuth flow or minted from the Company token via /oauth/locationToken).
 * Tokens are AES-256-GCM ciphertext (server/crypto/secret-box.ts). `expiresAt` is when the access token expires.
 * `needs_reinstall`: HighLevel refused the refresh token (invalid_grant, location not active); a human must
 * reinstall. One Company installation per agency, one Location installation per sub-account.
 */
export const installations = pgTable(
  'installations',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    companyId: text('company_id')
      .notNull()
      .references(() => agencies.companyId),
    locationId: text('location_id'),
    userType: text('user_type', { enum: ['Company', 'Location'] }).notNull(),
    userId: text('user_id'),
    accessToken: text('access_token').notNull(),
    refreshToken: text('refresh_token'),
    scopes: text('scopes').notNull().default(''),
    expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
    isBulkInstallation: boolean('is_bulk_installation').notNull().default(false),
    source: text('source', { enum: ['oauth', 'location_token'] }).notNull(),
    status: text('status', { enum: ['active', 'needs_reinstall', 'uninstalled'] }).notNull().default('active'),
    statusReason: text('status_reason'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('installations_company_key').on(t.companyId).where(sql`${t.userType} = 'Company'`),
    uniqueIndex('installations_location_key').on(t.locationId).where(sql`${t.userType} = 'Location'`),
    index('installations_expiry_idx').on(t.expiresAt).where(sql`${t.status} = 'active'`),
  ],
);

/**
 * "Every `threshold` of `metric` = 1 unit" for one sub-account, or — with `locationId` null — the agency default
 * every sub-account inherits unless it has its own rule. `threshold` is a positive decimal.
 * `direction`: which activity counts (outbound, inbound or both); events without a direction always count.
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
    uniqueIndex('rebilling_rules_default_key').on(t.companyId, t.metric).where(sql`${t.locationId} is null`),
    uniqueIndex('rebilling_rules_location_key').on(t.locationId, t.metric).where(sql`${t.locationId} is not null`),
    check('rebilling_rules_threshold_positive', sql`${t.threshold} > 0`),
  ],
);

/**
 * Per (sub-account, metric): quantity counted while a rule was active, and units already turned into meter
 * reports. Invariant: billedUnits = floor(total / threshold) after every intake transaction; the remainder
 * carries over forever (no period resets it). When a rule's threshold changes, the counter is re-based
 * (total -= billedUnits × old threshold, billedUnits = 0) so the remainder carries into the new threshold.
 */
export const usageCounters = pgTable(
  'usage_counters',
  {
    locationId: text('location_id').notNull(),
    metric: text('metric').notNull(),
    companyId: text('company_id').notNull(),
    total: numeric('total', { precision: 30, scale: 6 }).notNull(),
    billedUnits: bigint('billed_units', { mode: 'number' }).notNull(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.locationId, t.metric] })],
);

/**
 * The outbox: units owed to Stripe from one threshold crossing. `pending` until the reporter puts it in a batch
 * (`batched`), then follows its batch to `sent` or `failed`. Never deleted: it is the audit trail of every unit.
 * `shadow`: a crossing of a sub-account in shadow mode ("would bill"); the reporter never takes it, and it
 * becomes `pending` only when the agency asks to bill the shadow backlog. `stripeCustomerId` is null only for a
 * shadow report of a sub-account with no customer yet; it is set when the report turns `pending`.
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
    activityEventId: bigint('activity_event_id', { mode: 'number' }).references(() => activityEvents.id),
    status: text('status', { enum: ['pending', 'batched', 'sent', 'failed', 'shadow'] }).notNull().default('pending'),
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
  ],
);

/**
 * One Stripe meter event: the sum of a group of meter reports for one (agency, customer, event name).
 * `identifier` is fixed when the batch is stored, before any send, and every resend reuses it, so Stripe
 * deduplicates. `timestamp` is Unix seconds. At most one `sending` batch per (agency, customer, event name)
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
    status: text('status', { enum: ['sending', 'sent', 'failed'] }).notNull().default('sending'),
    attempts: integer('attempts').notNull().default(0),
    nextAttemptAt: timestamp('next_attempt_at', { withTimezone: true }).notNull().defaultNow(),
    lockedUntil: timestamp('locked_until', { withTimezone: true }),
    lastError: text('last_error'),
    sentAt: timestamp('sent_at', { withTimezone: true }),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('meter_batches_identifier_key').on(t.identifier),
    uniqueIndex('meter_batches_in_flight_key')
      .on(t.companyId, t.stripeCustomerId, t.meterEventName)
      .where(sql`${t.status} = 'sending'`),
    index('meter_batches_due_idx').on(t.nextAttemptAt).where(sql`${t.status} = 'sending'`),
  ],
);

/**
 * An agency API key for `POST /api/v1/usage`. The key is shown once at creation; only its SHA-256 (hex) is
 * stored — keys are 32 random bytes, so a fast hash is as safe as a slow one. `prefix` is the first characters
 * of the key, kept to tell keys apart in lists. A revoked key (`revokedAt` set) is refused.
 */
export const apiKeys = pgTable(
  'api_keys',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    companyId: text('company_id')
      .notNull()
      .references(() => agencies.companyId),
    name: text('name').notNull(),
    prefix: text('prefix').notNull(),
    keyHash: text('key_hash').notNull(),
    lastUsedAt: timestamp('last_used_at', { withTimezone: true }),
    revokedAt: timestamp('revoked_at', { withTimezone: true }),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [uniqueIndex('api_keys_hash_key').on(t.keyHash), index('api_keys_company_idx').on(t.companyId)],
);

/**
 * A metric an agency defines for the usage API (e.g. `vapi_minutes`), billable by rules like the built-in ones.
 * `key` is the metric name (lower snake case, distinct from every built-in metric); `unit` names what it counts.
 */
export const customMetrics = pgTable(
  'custom_metrics',
  {
    companyId: text('company_id')
      .notNull()
      .references(() => agencies.companyId),
    key: text('key').notNull(),
    label: text('label').notNull(),
    unit: text('unit').notNull(),
    archivedAt: timestamp('archived_at', { withTimezone: true }),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.companyId, t.key] })],
);

/**
 * A backfill: import one sub-account's past messages (`channels` of SMS, Call, Email, WhatsApp) between
 * `startAt` and `endAt` from HighLevel's message export, page by page. `cursor` is the export's next-page cursor
 * (null before the first page); counters show progress. Imported usage is held out of billing (`counted`
 * false on its usage records) unless `bill` is true or the agency later asks (`billedAt`).
 * `lockedUntil` is the runner's lease, so a crashed runner's job is taken up again from its cursor.
 */
export const backfillJobs = pgTable(
  'backfill_jobs',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    companyId: text('company_id')
      .notNull()
      .references(() => agencies.companyId),
    locationId: text('location_id')
      .notNull()
      .references(() => subAccounts.locationId),
    channels: jsonb('channels').$type<string[]>().notNull(),
    startAt: timestamp('start_at', { withTimezone: true }).notNull(),
    endAt: timestamp('end_at', { withTimezone: true }).notNull(),
    bill: boolean('bill').notNull().default(false),
    status: text('status', { enum: ['queued', 'running', 'completed', 'failed', 'cancelled'] }).notNull().default('queued'),
    cursor: text('cursor'),
    pages: integer('pages').notNull().default(0),
    messagesSeen: integer('messages_seen').notNull().default(0),
    messagesImported: integer('messages_imported').notNull().default(0),
    messagesDuplicate: integer('messages_duplicate').notNull().default(0),
    attempts: integer('attempts').notNull().default(0),
    lastError: text('last_error'),
    lockedUntil: timestamp('locked_until', { withTimezone: true }),
    billedAt: timestamp('billed_at', { withTimezone: true }),
    startedAt: timestamp('started_at', { withTimezone: true }),
    finishedAt: timestamp('finished_at', { withTimezone: true }),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    index('backfill_jobs_location_idx').on(t.locationId, t.createdAt),
    index('backfill_jobs_due_idx').on(t.createdAt).where(sql`${t.status} in ('queued', 'running')`),
    check('backfill_jobs_range', sql`${t.startAt} < ${t.endAt}`),
  ],
);
