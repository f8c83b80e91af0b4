/**
 * The shapes of the settings API as the page uses them (GET /api/openapi.json documents them; the server's zod
 * schemas are the source). Amounts are cents as decimal strings, times ISO 8601 UTC.
 */
import type { DriftAlert } from './api-types-reconciliation';

export interface StripeConnection {
  connected: boolean;
  mode: 'test' | 'live' | null;
  keyType: 'secret' | 'restricted' | null;
  keyLast4: string | null;
  accountId: string | null;
  accountName: string | null;
  missingPermissions: Array<{ permission: string; label: string }>;
  webhook: { url: string; configured: boolean; createdByMeterbridge: boolean };
  /** The Stripe event destination for meter-event error reports. */
  errorReports: { url: string; configured: boolean };
}

export interface PriceTerms {
  currency: string;
  interval: string;
  unitAmountDecimal?: string;
  tiers?: Array<{ upTo: number | 'inf'; unitAmountDecimal: string; flatAmount?: number }>;
}

export interface PricingRow {
  metric: string;
  enabled: boolean;
  threshold: string;
  direction: 'outbound' | 'inbound' | 'both';
  priceTerms: PriceTerms | null;
  stripePriceId: string | null;
  retailPerMetricUnit: string | null;
  baseCostDecimal: string | null;
  marginPerMetricUnit: string | null;
  marginPercent: string | null;
  belowCost: boolean;
  /** Set when HighLevel may rebill the same usage itself (sub-accounts in HighLevel SaaS mode): the text to show. */
  doubleBillingWarning: string | null;
}

export interface PricingGrid {
  currency: string;
  autoApply: boolean;
  flatFee: { amount: number; priceId: string } | null;
  /** Stripe `tax_behavior` of the agency's prices: tax included in the amounts, or added on top. */
  taxBehavior: TaxBehavior;
  rows: PricingRow[];
  /** What HighLevel's SaaS API showed: `readable` false without an agency install granting saas/company.read. */
  highLevelRebilling: { readable: boolean; checkedSubAccounts: number; saasSubAccounts: number; lastCheckedAt: string | null };
}

/** Whether prices include tax (`inclusive`) or tax is added on top (`exclusive`). */
export type TaxBehavior = 'inclusive' | 'exclusive';

export interface SubAccountRow {
  locationId: string;
  name: string | null;
  email: string | null;
  installed: boolean;
  needsReinstall: boolean;
  rebillingEnabled: boolean;
  stripeCustomerId: string | null;
  stripeSubscriptionId: string | null;
  billingStatus: 'ok' | 'delinquent' | 'action_required' | 'paused';
  billingStatusReason: string | null;
  /** The open invoice whose payment failed or waits for the client (Stripe's figures), else null. */
  paymentProblem: {
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
  } | null;
  failedReports: number;
  /** Meter reports Stripe rejected in an error report after accepting them. */
  rejectedReports: number;
  /** `shadow`: crossings are computed and shown as "would bill", nothing is sent to Stripe. */
  billingMode: BillingMode;
  billingModeChangedAt: string | null;
  /** True while the subscription is a Stripe schedule that has not started yet. */
  scheduled: boolean;
  stripeSubscriptionScheduleId: string | null;
  /** When the scheduled subscription starts (ISO 8601), while it is scheduled. */
  subscriptionStartsAt: string | null;
  /** Stripe Tax on the subscription, as Stripe last answered. */
  automaticTax: boolean;
}

/** A billing address for Stripe Tax: two-letter country code and postal code at least. */
export interface BillingAddress {
  country: string;
  postalCode: string;
  line1?: string;
  city?: string;
  state?: string;
}

/** Live billing, or shadow mode (computed, never sent). */
export type BillingMode = 'live' | 'shadow';

export interface EffectiveRule {
  metric: string;
  enabled: boolean;
  threshold: string;
  direction: 'outbound' | 'inbound' | 'both';
  meterEventName: string;
  inherited: boolean;
  stripePriceId: string | null;
}

export interface SubAccountDetail extends SubAccountRow {
  rules: EffectiveRule[];
  counters: Array<{ metric: string; total: string; billedUnits: number }>;
}

export interface Page<T> {
  total: number;
  page: number;
  pageSize: number;
  items: T[];
}

export interface MetricTotal {
  metric: string;
  unit: string | null;
  quantity: string;
  records: number;
  unitsBilled: number;
  unitsSent: number;
  unitsFailed: number;
}

export type Granularity = 'day' | 'week' | 'month';

export interface Usage {
  from: string;
  to: string;
  granularity: Granularity;
  totals: MetricTotal[];
  series: Array<{ bucket: string; metric: string; quantity: string }>;
}

export interface Overview {
  installed: boolean;
  stripeConnected: boolean;
  pricedMetrics: number;
  subAccounts: number;
  mapped: number;
  rebilling: number;
  delinquent: number;
  needsReinstall: number;
  failedReports: number;
  rejectedReports: number;
  unconfirmedReports: number;
  unitsSent: number;
  lastUnitSentAt: string | null;
  /** Drift against Stripe's totals that reconciliation could not repair. */
  reconciliation: DriftAlert;
}

/**
 * Who writes the agency's AI messages: each marker is `user:<userId>`, `provider:<conversationProviderId>`,
 * `source:<source>` or `unattended`; outbound texts they match count as `ai_messages` and `ai_tokens`.
 */
export interface AiSenders {
  markers: string[];
}

/**
 * Which email the agency bills (GET/PUT /api/email-billing): `conversations` (conversation emails sent through LC Email)
 * or `lc_email_stats` (LCEmailStats delivered events, campaigns included); the other is recorded, not billed.
 */
export type EmailBillingSource = 'conversations' | 'lc_email_stats';
export interface EmailBilling {
  source: EmailBillingSource;
  default: EmailBillingSource;
}

export interface PeriodCharges {
  periodStart: string;
  periodEnd: string;
  currency: string;
  lines: Array<MetricTotal & { threshold: string | null; currency: string | null; estimatedCents: string | null }>;
  flatFeeCents: number | null;
  estimatedTotalCents: string;
}

/**
 * `failed`: Stripe refused the call (the Retry button resends the same identifier); `rejected`: Stripe took it and
 * refused it later in an error report (Retry resends with a new identifier to the current customer);
 * `unconfirmed`: Stripe did not confirm it in time, so it is never resent blindly (reconciliation settles it).
 */
export type ReportStatus = 'pending' | 'batched' | 'sent' | 'failed' | 'rejected' | 'unconfirmed';

export interface MeterReport {
  id: number;
  metric: string;
  units: number;
  crossedAt: string;
  status: ReportStatus;
  stripeCustomerId: string;
  meterEventName: string;
  batchId: number | null;
  identifier: string | null;
  attempts: number | null;
  lastError: string | null;
  /** Stripe's error code when it rejected the event in an error report, e.g. `meter_event_customer_not_found`. */
  rejectedCode: string | null;
  sentAt: string | null;
  /** The timestamp sent to Stripe at the latest send, Unix seconds. */
  sentTimestamp: number | null;
}

export interface DayRange {
  from: string;
  to: string;
}

/** Metric pricing as PUT /api/pricing/:metric takes it. Amounts in cents, decimal strings. */
export interface MetricPricingInput {
  enabled: boolean;
  threshold: string;
  direction: 'outbound' | 'inbound' | 'both';
  price: { currency: string; interval: 'month'; unitAmountDecimal: string };
  baseCostDecimal: string | null;
}

export type OverrideInput =
  | { metric: string; inherit: true }
  | { metric: string; enabled: boolean; threshold: string; direction?: 'outbound' | 'inbound' | 'both' };

/** An agency API key for POST /api/v1/usage, as listed: never the key itself. */
export interface ApiKey {
  id: number;
  name: string;
  prefix: string;
  createdAt: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
}

/** The answer that creates a key: the only one that carries `key`. */
export interface CreatedApiKey extends ApiKey {
  key: string;
}

/** A metric the agency defined for the usage API; `archivedAt` set means new usage for it is refused. */
export interface CustomMetric {
  key: string;
  label: string;
  unit: string;
  archivedAt: string | null;
  createdAt: string;
}

/** One metric of a shadow backlog, priced at today's rule. Amounts in cents, decimal strings. */
export interface WouldBillLine {
  metric: string;
  units: number;
  reports: number;
  firstCrossedAt: string;
  lastCrossedAt: string;
  threshold: string | null;
  meterEventName: string | null;
  stripePriceId: string | null;
  priced: boolean;
  currency: string | null;
  amountCents: string | null;
  months: Array<{ month: string; units: number; amountCents: string | null }>;
}

/** What a sub-account's shadow backlog would bill (GET …/would-bill). */
export interface WouldBill {
  locationId: string;
  billingMode: BillingMode;
  billingModeChangedAt: string | null;
  currency: string;
  totalCents: string;
  firstCrossedAt: string | null;
  lastCrossedAt: string | null;
  metrics: WouldBillLine[];
}

/** The answer of billing a shadow backlog: how many reports moved to the Stripe customer. */
export interface BilledBacklog {
  locationId: string;
  stripeCustomerId: string;
  reports: number;
  metrics: Array<{ metric: string; units: number; reports: number }>;
}

export * from './api-types-reconciliation';
export * from './api-types-backfill';
