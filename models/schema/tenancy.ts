/**
 * Agencies, their sub-accounts and HighLevel installations (OAuth grants). Part of the Drizzle schema
 * (models/schema.ts re-exports every part).
 */
import { sql } from 'drizzle-orm';
import { bigserial, boolean, index, integer, jsonb, pgTable, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core';

/** A sub-account's billing status (see `subAccounts.billingStatus`). */
export const BILLING_STATUSES = ['ok', 'delinquent', 'action_required', 'paused'] as const;
export type BillingStatus = (typeof BILLING_STATUSES)[number];

/**
 * The open invoice of a sub-account whose payment failed or needs the client's action, as Stripe reports it:
 * `attemptCount` and `nextPaymentAttempt` (ISO 8601, null when Stripe will not retry) from the invoice, the decline
 * from the latest payment attempt's PaymentIntent `last_payment_error` (docs.stripe.com/api/payment_intents/object),
 * `hostedInvoiceUrl` where the client pays or authenticates (docs.stripe.com/api/invoices/object).
 */
export interface PaymentProblem {
  invoiceId: string;
  invoiceNumber: string | null;
  amountDueCents: number;
  currency: string;
  attemptCount: number;
  nextPaymentAttempt: string | null;
  declineCode: string | null;
  failureCode: string | null;
  failureMessage: string | null;
  hostedInvoiceUrl: string | null;
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
  /**
   * How Meterbridge reaches the agency's Stripe account: `key` (a pasted key, `stripeSecretKey`) or `connect` (Stripe
   * Connect OAuth: the platform's key with `Stripe-Account: stripeAccountId`, no secret of the agency stored). Null
   * for rows older than Connect: then `stripeSecretKey` says whether a key is connected.
   */
  stripeConnectionType: text('stripe_connection_type', { enum: ['key', 'connect'] }),
  /**
   * When Stripe told us (`account.application.deauthorized`) that the agency revoked Meterbridge's Connect access.
   * While set, billing is held: meter reports stay pending and nothing is sent until the agency connects again.
   */
  stripeDeauthorizedAt: timestamp('stripe_deauthorized_at', { withTimezone: true }),
  /** The agency's Stripe webhook endpoint pointing at /webhooks/stripe/:companyId, and its signing secret (sealed). */
  stripeWebhookEndpointId: text('stripe_webhook_endpoint_id'),
  stripeWebhookSecret: text('stripe_webhook_secret'),
  /**
   * The event types last applied to that endpoint (`enabled_events`), sorted and comma-joined
   * (server/billing-setup/webhook-endpoint.ts `webhookEventsApplied`); null for endpoints made before it was recorded.
   * The `stripe-webhook-events` job updates every endpoint whose list differs from the current one.
   */
  stripeWebhookEvents: text('stripe_webhook_events'),
  /**
   * The agency's Stripe v2 event destination for meter-event error reports (thin events), pointing at
   * /webhooks/stripe-events/:companyId, and its signing secret (sealed). Null until created.
   */
  stripeEventDestinationId: text('stripe_event_destination_id'),
  stripeEventDestinationSecret: text('stripe_event_destination_secret'),
  /** New sub-accounts (install, LocationCreate) get a Stripe customer and the default rules automatically. */
  defaultsAutoApply: boolean('defaults_auto_apply').notNull().default(false),
  /** Optional flat monthly fee added to every sub-account subscription: its Stripe price and amount in cents. */
  flatFeePriceId: text('flat_fee_price_id'),
  flatFeeAmount: integer('flat_fee_amount'),
  currency: text('currency').notNull().default('usd'),
  /**
   * Stripe's `tax_behavior` of every price Meterbridge creates for the agency (docs.stripe.com/tax/products-prices-tax-categories-tax-behavior):
   * `exclusive` (tax added on top) or `inclusive` (amounts include tax). Part of each price's terms, since Stripe never
   * changes it on a price.
   */
  taxBehavior: text('tax_behavior', { enum: ['inclusive', 'exclusive'] }).notNull().default('exclusive'),
  /**
   * Who writes this agency's AI messages, as comma-separated markers (`user:<userId>`, `provider:<id>`,
   * `source:<source>`, `unattended`; server/metering/ai-messages.ts), on top of the deployment's
   * `AI_MESSAGE_SENDERS`. Empty: only the deployment's markers apply.
   */
  aiMessageSenders: text('ai_message_senders').notNull().default(''),
  /**
   * Which email this agency bills (server/metering/email-billing.ts): `conversations` (conversation emails sent
   * through LC Email) or `lc_email_stats` (LCEmailStats delivered events); the other is recorded with quantity 0.
   */
  emailBillingSource: text('email_billing_source', { enum: ['conversations', 'lc_email_stats'] }).notNull().default('conversations'),
  /**
   * The Stripe Customer Portal configuration (`bpc_…`) Meterbridge created in the agency's account, once, for its
   * clients' portal sessions (server/payments/portal.ts); null until the first portal session.
   */
  billingPortalConfigurationId: text('billing_portal_configuration_id'),
  /** A sub-account's subscription is created only once Stripe has a usable default card for its customer. */
  requireCardBeforeSubscription: boolean('require_card_before_subscription').notNull().default(false),
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
    /** The agency's own name for the client, shown beside HighLevel's name (null: none). */
    nickname: text('nickname'),
    email: text('email'),
    stripeCustomerId: text('stripe_customer_id'),
    /** `uninstalled` sub-accounts bill no new usage; what they already owe is still delivered. */
    status: text('status', { enum: ['active', 'uninstalled'] }).notNull().default('active'),
    /** Time of the latest install/uninstall applied, so late or replayed lifecycle webhooks cannot undo a newer one. */
    lifecycleAt: timestamp('lifecycle_at', { withTimezone: true }),
    /** The agency's switch: false stops new crossings for this sub-account (history and owed units stay). */
    rebillingEnabled: boolean('rebilling_enabled').notNull().default(true),
    stripeSubscriptionId: text('stripe_subscription_id'),
    /**
     * A subscription that starts later is a Stripe subscription schedule (`sub_sched_…`) until Stripe starts it;
     * then Meterbridge adopts its subscription into `stripeSubscriptionId` and clears these two.
     */
    stripeSubscriptionScheduleId: text('stripe_subscription_schedule_id'),
    /** When the scheduled subscription starts (the schedule's `start_date`). */
    subscriptionStartsAt: timestamp('subscription_starts_at', { withTimezone: true }),
    /**
     * Whether the subscription (or schedule) has Stripe Tax on, as Stripe last answered (`automatic_tax.enabled`), so
     * the settings page shows it and an unrelated update keeps it.
     */
    automaticTax: boolean('automatic_tax').notNull().default(false),
    /**
     * The price ids on the subscription as Stripe last answered a sync (server/billing-setup/subscription-sync.ts); null
     * when not known yet (a subscription synced before Meterbridge kept them). The reporter holds crossings of a
     * Meterbridge-priced metric whose price is not among them (server/payments/held-usage.ts).
     */
    subscriptionPriceIds: jsonb('subscription_price_ids').$type<string[]>(),
    /**
     * From Stripe's invoice and subscription events: `delinquent` (a payment failed and Stripe retries),
     * `action_required` (the client must authenticate the payment, 3-D Secure), `paused` (subscription gone).
     */
    billingStatus: text('billing_status', { enum: BILLING_STATUSES }).notNull().default('ok'),
    billingStatusReason: text('billing_status_reason'),
    /** The open invoice whose payment failed or needs action, as Stripe reported it (server/stripe/payment-problem.ts). */
    paymentProblem: jsonb('payment_problem').$type<PaymentProblem>(),
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
