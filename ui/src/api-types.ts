/**
 * The shapes of the API as the page uses them, inferred from the server's own zod schemas (the `schemas.ts` files
 * of each capability, which import nothing but zod). Type-only imports: Vite erases them, so no server code reaches
 * the bundle, and a change of a schema on the server fails the page's type check (`npm run typecheck`).
 * Responses are what the schemas output (`z.infer`), request bodies what they accept (`z.input`).
 * Amounts are cents as decimal strings, times ISO 8601 UTC.
 */
import type { z } from 'zod';
import type { sessionResponse } from '../../server/access/schemas';
import type { aiSendersBody } from '../../server/ai/schemas';
import type { emailBillingResponse, emailBillingSource } from '../../server/email-billing/schemas';
import type { ErrorCode } from '../../server/http/error-codes';
import type { errorResponseSchema } from '../../server/http/schemas';
import type {
  applyDefaultsResponse,
  billingModeSchema,
  customerSearchResponse,
  defaultsRequest,
  mapCustomerRequest,
  metricPricingRequest,
  okResponse,
  pricingResponse,
  pricingRowSchema,
  stripeConnectionResponse,
  subAccountBillingRequest,
  subAccountDetailResponse,
  subAccountRowSchema,
  taxBehaviorSchema,
} from '../../server/billing-setup/schemas';
import type { subAccountListQuery, subAccountListResponse } from '../../server/billing-setup/list-schemas';
import type {
  chargesResponse,
  metricTotal,
  overviewResponse,
  periodUsageResponse,
  rangeQuery,
  reportLogQuery,
  reportLogResponse,
  reportStatus,
  retryBatchResponse,
  usageBySubAccountQuery,
  usageBySubAccountResponse,
  usageResponse,
} from '../../server/reporting/schemas';
import type { billedBacklogResponse, wouldBillResponse } from '../../server/shadow/schemas';
import type { apiKeyInput, apiKeyListResponse, apiKeySummarySchema, createdApiKeyResponse, customMetricListResponse, customMetricSchema } from '../../server/usage-api/schemas';

// ---------- session and errors ----------
/** The answer of the SSO exchange: the session token, its expiry, whether this is the demo, and who signed in. */
export type Session = z.infer<typeof sessionResponse>;
/** The signed-in HighLevel user. */
export type SessionUser = Session['user'];
/** The standard error body `{ error: { code, message }, requestId }`. */
export type ErrorBody = z.infer<typeof errorResponseSchema>;
/** A code of the server's error catalogue (server/http/error-codes.ts). */
export type { ErrorCode };

// ---------- Stripe and pricing ----------
/** The agency's Stripe connection: mode, key type and last 4, account, missing permissions, webhook, error reports. */
export type StripeConnection = z.infer<typeof stripeConnectionResponse>;
/** `GET /api/stripe/customers`: customers matching the search. */
export type CustomerSearch = z.infer<typeof customerSearchResponse>;
/** One metric of the pricing grid: rule, price terms, retail, base cost and margin per metric unit (cents). */
export type PricingRow = z.infer<typeof pricingRowSchema>;
/** A metered price's terms as stored (null when the metric has no price). */
export type PriceTerms = NonNullable<PricingRow['priceTerms']>;
/** The agency defaults' pricing grid, flat fee, tax behavior, and what HighLevel's SaaS rebilling showed. */
export type PricingGrid = z.infer<typeof pricingResponse>;
/** Whether prices include tax (`inclusive`) or tax is added on top (`exclusive`). */
export type TaxBehavior = z.infer<typeof taxBehaviorSchema>;
/** Metric pricing as PUT /api/pricing/:metric takes it. Amounts in cents, decimal strings. */
export type MetricPricingInput = z.input<typeof metricPricingRequest>;
/** PUT /api/defaults body: auto-apply, flat fee (cents), currency, tax behavior. */
export type DefaultsInput = z.input<typeof defaultsRequest>;
/** POST /api/defaults/apply answer: one result per sub-account. */
export type ApplyDefaultsResult = z.infer<typeof applyDefaultsResponse>;

// ---------- sub-accounts ----------
/** A sub-account as listed: install, Stripe customer and subscription, billing status and mode, failed reports. */
export type SubAccountRow = z.infer<typeof subAccountRowSchema>;
/** `GET /api/sub-accounts`: a page of sub-accounts. */
export type SubAccountList = z.infer<typeof subAccountListResponse>;
/** GET /api/sub-accounts query: search and page. */
export type SubAccountListQuery = z.input<typeof subAccountListQuery>;
/** One sub-account: its row, the rules in force and its counters. */
export type SubAccountDetail = z.infer<typeof subAccountDetailResponse>;
/** A rule in force for a sub-account (its own, or `inherited` from the defaults). */
export type EffectiveRule = SubAccountDetail['rules'][number];
/** Live billing, or shadow mode (computed, never sent). */
export type BillingMode = z.infer<typeof billingModeSchema>;
/** PUT …/customer body: an existing customer, or one to create. */
export type MapCustomerInput = z.input<typeof mapCustomerRequest>;
/** PUT …/billing body: rebilling switch, per-metric overrides, subscription. */
export type SubAccountBillingInput = z.input<typeof subAccountBillingRequest>;
/** A per-metric override, or `inherit: true` to remove it. */
export type OverrideInput = NonNullable<SubAccountBillingInput['overrides']>[number];
/** A billing address for Stripe Tax: two-letter country code and postal code at least. */
export type BillingAddress = NonNullable<NonNullable<SubAccountBillingInput['subscription']>['billingAddress']>;
/** The answer of a removal. */
export type Ok = z.infer<typeof okResponse>;

// ---------- usage ----------
/** An inclusive range of UTC days, YYYY-MM-DD. */
export type DayRange = Required<z.input<typeof rangeQuery>>;
/** One metric's totals over a range: quantity (decimal string) in `unit`, units billed, sent and failed. */
export type MetricTotal = z.infer<typeof metricTotal>;
/** Usage over a range: totals per metric and a series per bucket. */
export type Usage = z.infer<typeof usageResponse>;
/** A series' bucket width: day, week or month. */
export type Granularity = Usage['granularity'];
/** Onboarding facts and headline numbers of the agency, with the drift reconciliation could not repair. */
export type Overview = z.infer<typeof overviewResponse>;
/** `GET /api/usage/sub-accounts` query: range, search and page. */
export type UsageBySubAccountQuery = z.input<typeof usageBySubAccountQuery>;
/** A page of sub-accounts with usage in the range, each with its totals per metric. */
export type UsageBySubAccount = z.infer<typeof usageBySubAccountResponse>;
/** This month's usage per listed sub-account. */
export type PeriodUsage = z.infer<typeof periodUsageResponse>;
/** A sub-account's month so far: usage, units and charges estimated at the prices in force (cents). */
export type PeriodCharges = z.infer<typeof chargesResponse>;
/**
 * `failed`: Stripe refused the call (the Retry button resends the same identifier); `rejected`: Stripe took it and
 * refused it later in an error report (Retry resends with a new identifier to the current customer);
 * `unconfirmed`: Stripe did not confirm it in time, so it is never resent blindly (reconciliation settles it).
 */
export type ReportStatus = z.infer<typeof reportStatus>;
/** A page of the meter-report log and the count per status. */
export type ReportLog = z.infer<typeof reportLogResponse>;
/** `GET …/meter-reports` query: status filter and page. */
export type ReportLogQuery = z.input<typeof reportLogQuery>;
/** One meter report: units, status, Stripe's identifier, attempts and last error, rejection code. */
export type MeterReport = ReportLog['items'][number];
/** The answer of a retry: queued again; `newIdentifier` when a rejected batch is resent anew. */
export type RetriedBatch = z.infer<typeof retryBatchResponse>;

// ---------- usage API, AI senders, email ----------
/** An agency API key for POST /api/v1/usage, as listed: never the key itself. */
export type ApiKey = z.infer<typeof apiKeySummarySchema>;
/** `GET /api/api-keys`: newest first, revoked ones included. */
export type ApiKeyList = z.infer<typeof apiKeyListResponse>;
/** The answer that creates a key: the only one that carries `key`. */
export type CreatedApiKey = z.infer<typeof createdApiKeyResponse>;
/** `POST /api/api-keys` body: the key's name. */
export type ApiKeyInput = z.input<typeof apiKeyInput>;
/** A metric the agency defined for the usage API; `archivedAt` set means new usage for it is refused. */
export type CustomMetric = z.infer<typeof customMetricSchema>;
/** `GET /api/custom-metrics`: active first, then by key. */
export type CustomMetricList = z.infer<typeof customMetricListResponse>;
/** POST /api/custom-metrics body (validated by server/metering/custom-metrics.ts `customMetricInput`). */
export type CustomMetricInput = Pick<CustomMetric, 'key' | 'label' | 'unit'>;
/** Who writes the agency's AI messages: `user:<userId>`, `provider:<id>`, `source:<source>` or `unattended`. */
export type AiSenders = z.infer<typeof aiSendersBody>;
/** Which email the agency bills: conversation emails through LC Email, or LCEmailStats delivered events. */
export type EmailBillingSource = z.infer<typeof emailBillingSource>;
/** The email source in force and the default. */
export type EmailBilling = z.infer<typeof emailBillingResponse>;

// ---------- shadow mode ----------
/** What a sub-account's shadow backlog would bill (GET …/would-bill). */
export type WouldBill = z.infer<typeof wouldBillResponse>;
/** One metric of a shadow backlog, priced at today's rule. */
export type WouldBillLine = WouldBill['metrics'][number];
/** The answer of billing a shadow backlog: how many reports moved to the Stripe customer. */
export type BilledBacklog = z.infer<typeof billedBacklogResponse>;

export * from './api-types-backfill';
export * from './api-types-reconciliation';
