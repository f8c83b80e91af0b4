/**
 * Reporting: the usage side of the settings API, declared like the rest (server/http/api-route.ts), so the authorization
 * matrix and the OpenAPI document cover it: the onboarding overview, usage over a date range (agency-wide, per
 * sub-account, drill-down), this month's usage with estimated charges, the meter-report log with retry of a failed
 * batch, and the CSV export (streamed).
 *
 * Ranges are inclusive UTC days; with neither bound given, the last 30 days. There is no cap on a range's length:
 * the chart's buckets widen instead (day → week → month, see `pickGranularity`).
 */
import { billingStateCounts } from '../billing-setup/billing-state';
import { countSubAccounts } from '../billing-setup/sub-account-queries';
import { driftAlert } from '../reconciliation/runs-repository';
import { z } from 'zod';
import type { Database } from '../../models/database';
import { defineRoute, defineStreamRoute, type ApiRoute } from '../http/api-route';
import { AppError, badRequest, notFound } from '../http/errors';
import { requeueFailedBatch, resendRejectedBatch } from '../stripe/meter-batch-settlement';
import { findSubAccount } from '../tenancy/accounts-repository';
import { locationIdParam } from '../billing-setup/schemas';
import { batchBelongsTo, meterReportLog } from './meter-report-log';
import { usageCsv } from './usage-csv';
import {
  chargesResponse,
  overviewResponse,
  periodUsageQuery,
  periodUsageResponse,
  reportLogQuery,
  reportLogResponse,
  retryBatchResponse,
  seriesQuery,
  usageBySubAccountQuery,
  usageBySubAccountResponse,
  usageCsvQuery,
  usageResponse,
} from './schemas';
import {
  agencyOverview,
  currentPeriodUsage,
  isoDay,
  pickGranularity,
  usageBySubAccount,
  usageOverRange,
  type DayRange,
  type Granularity,
} from './usage-queries';
import { currentPeriodCharges } from './period-charges';

/** The range a query names, defaults filled in. @throws AppError 400 when `from` is after `to`. */
export function resolveRange(query: { from?: string; to?: string }, now = new Date()): DayRange {
  const to = query.to ?? isoDay(now);
  const from = query.from ?? isoDay(new Date(Date.parse(`${to}T00:00:00Z`) - 29 * 86_400_000));
  if (from > to) throw badRequest('invalid_request', `Invalid query: from (${from}) is after to (${to}).`);
  return { from, to };
}

/** Every reporting route: usage, charges, the meter-report log and its retries, the CSV export. */
export function reportingRoutes(deps: { db: Database }): ApiRoute<any, any, any, any>[] {
  const { db } = deps;
  return [
    defineRoute({
      method: 'get', path: '/api/overview', tag: 'Usage', access: 'agency',
      summary: 'Onboarding checklist facts and headline numbers: Stripe connected, metrics priced, sub-accounts mapped, units sent',
      response: overviewResponse,
      handler: async ({ caller }) => ({
        ...(await agencyOverview(db, caller!.companyId)),
        reconciliation: await driftAlert(db, caller!.companyId),
        billingStates: await billingStateCounts(db, caller!.companyId),
        subAccountsWith: {
          failedReports: await countSubAccounts(db, caller!.companyId, { status: 'failed' }),
          rejectedReports: await countSubAccounts(db, caller!.companyId, { status: 'rejected' }),
          unconfirmedReports: await countSubAccounts(db, caller!.companyId, { status: 'unconfirmed' }),
        },
      }),
    }),
    defineRoute({
      method: 'get', path: '/api/usage', tag: 'Usage', access: 'agency',
      summary: 'The agency’s usage over a date range: totals per metric (with units billed and sent) and a series per day, week or month',
      query: seriesQuery, response: usageResponse,
      handler: ({ caller, query }) => {
        const range = resolveRange(query);
        return usageOverRange(db, { companyId: caller!.companyId }, range, (query.granularity as Granularity | undefined) ?? pickGranularity(range));
      },
    }),
    defineRoute({
      method: 'get', path: '/api/usage/sub-accounts', tag: 'Usage', access: 'agency',
      summary: 'Drill-down: sub-accounts with usage in the range, by name, each with its totals per metric',
      query: usageBySubAccountQuery, response: usageBySubAccountResponse,
      handler: ({ caller, query }) => usageBySubAccount(db, caller!.companyId, resolveRange(query), query),
    }),
    defineRoute({
      method: 'get', path: '/api/usage/current-period', tag: 'Usage', access: 'agency',
      summary: 'This month’s usage and units for the listed sub-accounts (comma-separated ids, at most 200)',
      query: periodUsageQuery, response: periodUsageResponse,
      handler: ({ caller, query }) => {
        const ids = [...new Set(query.locationIds.split(',').map((id) => id.trim()).filter(Boolean))];
        if (ids.length > 200) throw badRequest('invalid_request', 'Invalid query: at most 200 locationIds.');
        return currentPeriodUsage(db, caller!.companyId, ids);
      },
    }),
    defineStreamRoute({
      method: 'get', path: '/api/usage/export.csv', tag: 'Usage', access: 'agency', contentType: 'text/csv',
      summary: 'CSV of usage and billed units per day, sub-account and metric over a date range (streamed); optionally one sub-account',
      query: usageCsvQuery,
      response: z.string().describe('text/csv: date,sub_account_id,sub_account_name,metric,quantity,unit,units_billed'),
      handler: async ({ caller, query }) => {
        const range = resolveRange(query);
        const suffix = query.locationId ? `-${query.locationId.replace(/[^A-Za-z0-9_-]/g, '')}` : '';
        return {
          filename: `meterbridge-usage${suffix}-${range.from}-to-${range.to}.csv`,
          chunks: usageCsv(db, { companyId: caller!.companyId, locationId: query.locationId }, range),
        };
      },
    }),
    defineRoute({
      method: 'get', path: '/api/sub-accounts/:locationId/usage', tag: 'Usage', access: 'sub-account:read',
      summary: 'One sub-account’s usage over a date range: totals per metric and a series per day, week or month',
      params: locationIdParam, query: seriesQuery, response: usageResponse,
      handler: async ({ params, query }) => {
        const range = resolveRange(query);
        const companyId = await companyOf(db, params.locationId);
        return usageOverRange(db, { companyId, locationId: params.locationId }, range, (query.granularity as Granularity | undefined) ?? pickGranularity(range));
      },
    }),
    defineRoute({
      method: 'get', path: '/api/sub-accounts/:locationId/current-period', tag: 'Usage', access: 'sub-account:read',
      summary: 'One sub-account’s month so far: usage and units per metric and the estimated charges at the prices in force',
      params: locationIdParam, response: chargesResponse,
      handler: async ({ params }) => currentPeriodCharges(db, await companyOf(db, params.locationId), params.locationId),
    }),
    defineRoute({
      method: 'get', path: '/api/sub-accounts/:locationId/meter-reports', tag: 'Usage', access: 'sub-account:write',
      summary: 'The sub-account’s meter-report log with statuses and Stripe’s messages, newest first (agency users only)',
      params: locationIdParam, query: reportLogQuery,
      response: reportLogResponse,
      handler: ({ params, query }) => meterReportLog(db, params.locationId, query),
    }),
    defineRoute({
      method: 'post', path: '/api/sub-accounts/:locationId/meter-batches/:batchId/retry', tag: 'Usage', access: 'sub-account:write',
      summary:
        'Send a failed meter event again with the same identifier (Stripe refused it before counting it), or resend a rejected one ' +
        '(Stripe refused it in an error report) with a NEW identifier, billed to the sub-account’s current Stripe customer',
      // batchId is checked in the handler, after authorization: a caller without access learns nothing from it.
      params: locationIdParam.extend({ batchId: z.string().min(1).max(40) }),
      response: retryBatchResponse, errors: ['no_stripe_customer', 'not_retryable'],
      handler: async ({ params }) => {
        const batchId = /^\d{1,18}$/.test(params.batchId) ? Number(params.batchId) : NaN;
        if (!Number.isSafeInteger(batchId) || !(await batchBelongsTo(db, batchId, params.locationId))) {
          throw notFound(`No meter batch ${params.batchId} for this sub-account.`);
        }
        if (await requeueFailedBatch(db, batchId)) return { requeued: true as const, batchId, newIdentifier: false };
        const resent = await resendRejectedBatch(db, batchId);
        if ('reports' in resent) return { requeued: true as const, batchId, newIdentifier: true };
        if (resent.refused === 'no_customer') {
          throw new AppError('no_stripe_customer', 'Map this sub-account to a Stripe customer first: its usage is resent to the customer it is mapped to now.');
        }
        throw new AppError(
          'not_retryable',
          'Only a failed or rejected meter event can be sent again, a failed one not while another one for the same customer and meter is being sent, and a rejected one only once.',
        );
      },
    }),
  ];
}

/** The agency of a sub-account the gatekeeper already let the caller see. */
async function companyOf(db: Database, locationId: string): Promise<string> {
  const sub = await findSubAccount(db, locationId);
  if (!sub) throw notFound(`No sub-account ${locationId}.`);
  return sub.companyId;
}
