/**
 * Request and response schemas of the usage side of the settings API (server/reporting/routes.ts). Zod only:
 * the page takes its types from here (ui/src/api-types.ts). Quantities are decimal strings, units whole numbers,
 * days YYYY-MM-DD (UTC), times ISO 8601 UTC.
 */
import { z } from 'zod';
import { billingStateSchema } from '../billing-setup/schemas';
import { driftAlertSchema } from '../reconciliation/schemas';

/** A UTC day, YYYY-MM-DD. */
export const day = z.iso.date();
/** `?from&to`: an inclusive range of UTC days. */
export const rangeQuery = z.object({
  /** First day, YYYY-MM-DD (UTC). Default: 29 days before `to`. */
  from: day.optional(),
  /** Last day, inclusive, YYYY-MM-DD (UTC). Default: today. */
  to: day.optional(),
});
/** A range and, optionally, the series' bucket width. */
export const seriesQuery = rangeQuery.extend({ granularity: z.enum(['day', 'week', 'month']).optional() });
/** `?page&pageSize`: 1-based page, 1–200 items. */
export const pageQuery = {
  page: z.coerce.number().int().min(1).default(1),
  pageSize: z.coerce.number().int().min(1).max(200).default(50),
};

/** One metric's totals over a range: quantity (decimal string) in `unit`, whole units billed, sent and failed. */
export const metricTotal = z.object({
  metric: z.string(),
  unit: z.string().nullable(),
  quantity: z.string(),
  records: z.number().int(),
  unitsBilled: z.number().int(),
  unitsSent: z.number().int(),
  unitsFailed: z.number().int(),
});
/** `GET /api/usage` and a sub-account's: totals per metric and a series per bucket. */
export const usageResponse = z.object({
  from: day,
  to: day,
  granularity: z.enum(['day', 'week', 'month']),
  totals: z.array(metricTotal),
  series: z.array(z.object({ bucket: day, metric: z.string(), quantity: z.string() })),
});
/** `GET /api/overview`: onboarding facts and headline numbers. */
export const overviewResponse = z.object({
  installed: z.boolean(),
  stripeConnected: z.boolean(),
  pricedMetrics: z.number().int(),
  subAccounts: z.number().int(),
  mapped: z.number().int(),
  rebilling: z.number().int(),
  delinquent: z.number().int(),
  needsReinstall: z.number().int(),
  failedReports: z.number().int().describe('Meter reports Stripe refused (retryable), counted as reports'),
  /**
   * Sub-accounts with at least one failed, rejected or unconfirmed meter report: the headline numbers, each the count
   * of the list it links to (`/sub-accounts?status=failed|rejected|unconfirmed`).
   */
  subAccountsWith: z.object({ failedReports: z.number().int(), rejectedReports: z.number().int(), unconfirmedReports: z.number().int() }),
  rejectedReports: z.number().int().describe('Meter reports Stripe rejected in an error report after accepting them; resend them once the cause is fixed'),
  unconfirmedReports: z.number().int().describe('Meter reports whose delivery Stripe did not confirm within the identifier window; reconciliation settles them'),
  unitsSent: z.number().int(),
  lastUnitSentAt: z.string().nullable(),
  /** Drift against Stripe's totals that reconciliation could not repair (server/reconciliation/). */
  reconciliation: driftAlertSchema,
  /** Sub-accounts per billing state (`billing` or the reason not), as the list shows and filters them (server/billing-setup/billing-state.ts). */
  billingStates: z.record(billingStateSchema, z.number().int()),
});
/** `GET /api/usage/current-period`: this month's totals per listed sub-account. */
export const periodUsageResponse = z.object({
  periodStart: z.string(),
  periodEnd: z.string(),
  items: z.array(z.object({ locationId: z.string(), metrics: z.array(metricTotal) })),
});
/** `GET …/current-period`: a sub-account's month so far, with charges estimated in cents (decimal strings). */
export const chargesResponse = z.object({
  periodStart: z.string(),
  periodEnd: z.string(),
  currency: z.string(),
  lines: z.array(metricTotal.extend({ threshold: z.string().nullable(), currency: z.string().nullable(), estimatedCents: z.string().nullable() })),
  flatFeeCents: z.number().int().nullable(),
  estimatedTotalCents: z.string(),
});
/** A meter report's state (pending → batched → sent, or failed, rejected, unconfirmed). */
export // `held`: kept back because no subscription would invoice it (server/payments/held-usage.ts).
const reportStatus = z.enum(['pending', 'batched', 'sent', 'failed', 'rejected', 'unconfirmed', 'held']);
/** `GET …/meter-reports`: a page of the meter-report log and the count per status. */
export const reportLogResponse = z.object({
  total: z.number().int(),
  page: z.number().int(),
  pageSize: z.number().int(),
  counts: z.object({
    pending: z.number().int(), batched: z.number().int(), sent: z.number().int(), failed: z.number().int(),
    rejected: z.number().int(), unconfirmed: z.number().int(), held: z.number().int(),
  }),
  items: z.array(
    z.object({
      id: z.number().int(),
      metric: z.string(),
      units: z.number().int(),
      crossedAt: z.string(),
      status: reportStatus,
      stripeCustomerId: z.string(),
      meterEventName: z.string(),
      batchId: z.number().int().nullable(),
      identifier: z.string().nullable(),
      attempts: z.number().int().nullable(),
      lastError: z.string().nullable(),
      rejectedCode: z.string().nullable().describe('Stripe’s error code when it rejected the event in an error report, e.g. meter_event_customer_not_found'),
      sentAt: z.string().nullable(),
      sentTimestamp: z.number().int().nullable().describe('The timestamp sent to Stripe at the latest send, Unix seconds'),
    }),
  ),
});

/** `GET /api/usage/sub-accounts`: the drill-down query. */
export const usageBySubAccountQuery = rangeQuery.extend({ search: z.string().max(200).optional(), ...pageQuery });
/** `GET /api/usage/sub-accounts`: a page of sub-accounts with usage in the range, each with its totals. */
export const usageBySubAccountResponse = z.object({
  from: day, to: day, total: z.number().int(), page: z.number().int(), pageSize: z.number().int(),
  items: z.array(z.object({ locationId: z.string(), name: z.string().nullable(), metrics: z.array(metricTotal) })),
});
/** `GET /api/usage/current-period`: comma-separated sub-account ids. */
export const periodUsageQuery = z.object({ locationIds: z.string().max(20_000).default('') });
/** `GET /api/usage/export.csv`: a range and, optionally, one sub-account. */
export const usageCsvQuery = rangeQuery.extend({ locationId: z.string().min(1).max(200).optional() });
/** `GET …/meter-reports`: an optional status filter and a page (25 by default). */
export const reportLogQuery = z.object({ status: reportStatus.optional(), page: pageQuery.page, pageSize: z.coerce.number().int().min(1).max(200).default(25) });
/** `POST …/meter-batches/:batchId/retry`: queued again; `newIdentifier` true when a rejected batch is resent anew. */
export const retryBatchResponse = z.object({ requeued: z.literal(true), batchId: z.number().int(), newIdentifier: z.boolean() });
