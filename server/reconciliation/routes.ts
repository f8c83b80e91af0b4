/**
 * The reconciliation part of the settings API, declared like the rest (server/http/api-route.ts): run a
 * reconciliation now for the agency or one sub-account, and read the runs with what each found. Agency users only.
 */
import { z } from 'zod';
import type { Database } from '../../models/database';
import { defineRoute, type ApiRoute } from '../http/api-route';
import { badRequest } from '../http/errors';
import { locationIdParam } from '../settings/schemas';
import type { Reconciliation } from './reconciliation';
import { driftAlert, listRuns, runDetail } from './runs-repository';

const isoTime = z.string().describe('ISO 8601, UTC');
const units = z.number().int().describe('whole meter units');

/** A run's summary (server/reconciliation/runs-repository.ts `RunSummary`). */
export const reconciliationRun = z.object({
  id: z.number().int(),
  locationId: z.string().nullable().describe('the sub-account the run was limited to; null for the whole agency'),
  trigger: z.enum(['scheduled', 'on_demand', 'follow_up']),
  status: z.enum(['running', 'completed', 'failed']),
  settledBefore: isoTime.describe('windows were compared up to this instant (run time less the settle time)'),
  windowsFrom: isoTime,
  pairsChecked: z.number().int(),
  pairsWithDrift: z.number().int(),
  pairsFailed: z.number().int(),
  windowsChecked: z.number().int(),
  windowsSkipped: z.number().int(),
  missingUnits: units,
  excessUnits: units,
  correctedUnits: units,
  leftForPersonUnits: units,
  unconfirmedSettled: z.number().int(),
  error: z.string().nullable(),
  startedAt: isoTime,
  finishedAt: isoTime.nullable(),
});

const windowAction = z.object({
  kind: z.enum(['confirm', 'resend', 'correct', 'cancel', 'flag', 'deferred']),
  units: z.number(),
  batchId: z.number().int().optional(),
  identifier: z.string().optional(),
  message: z.string().optional(),
});

/** A run with what it found per (customer, meter) pair. */
export const reconciliationRunDetail = reconciliationRun.extend({
  pairs: z.array(
    z.object({
      locationId: z.string().nullable(),
      stripeCustomerId: z.string(),
      meterEventName: z.string(),
      stripeMeterId: z.string().nullable(),
      status: z.enum(['ok', 'corrected', 'flagged', 'error']),
      windowsChecked: z.number().int(),
      windowsSkipped: z.number().int(),
      ourUnits: units,
      stripeUnits: z.number(),
      missingUnits: units,
      excessUnits: units,
      correctedUnits: units,
      leftForPersonUnits: z.number(),
      message: z.string().nullable(),
      windows: z.array(
        z.object({
          start: z.number().int().describe('Unix seconds'),
          end: z.number().int().describe('Unix seconds, exclusive'),
          ours: z.number().nullable(),
          stripe: z.number().nullable(),
          skipped: z.string().optional(),
          actions: z.array(windowAction),
        }),
      ),
    }),
  ),
});

/** The drift that stays (overview alert). */
export const driftAlertSchema = z.object({ pairs: z.number().int(), units: z.number(), lastRunAt: isoTime.nullable() });

const runsResponse = z.object({ items: z.array(reconciliationRun), alert: driftAlertSchema });
const runIdParam = z.object({ runId: z.string().min(1).max(20) });

/** A run id from the path. @throws AppError 400 when it is not a positive integer. */
function runIdOf(raw: string): number {
  const id = Number(raw);
  if (!Number.isSafeInteger(id) || id < 1) throw badRequest('invalid_request', 'A run id is a positive integer.');
  return id;
}

/** Every reconciliation route. */
export function reconciliationRoutes(deps: { db: Database; reconciliation: Reconciliation }): ApiRoute<any, any, any, any>[] {
  const { db, reconciliation } = deps;
  return [
    defineRoute({
      method: 'post', path: '/api/reconciliation/runs', tag: 'Reconciliation', access: 'agency',
      summary: 'Reconcile now: compare what was sent with Stripe’s meter totals for every sub-account, and repair what can be (409 while one runs)',
      response: reconciliationRunDetail,
      handler: ({ caller }) => reconciliation.run({ companyId: caller!.companyId, trigger: 'on_demand' }),
    }),
    defineRoute({
      method: 'get', path: '/api/reconciliation/runs', tag: 'Reconciliation', access: 'agency',
      summary: 'The agency’s reconciliation runs, newest first (50), and the drift that stays',
      response: runsResponse,
      handler: async ({ caller }) => ({ items: await listRuns(db, caller!.companyId, null), alert: await driftAlert(db, caller!.companyId) }),
    }),
    defineRoute({
      method: 'get', path: '/api/reconciliation/runs/:runId', tag: 'Reconciliation', access: 'agency',
      summary: 'One reconciliation run with what it found per Stripe customer and meter',
      params: runIdParam, response: reconciliationRunDetail,
      handler: ({ caller, params }) => runDetail(db, caller!.companyId, runIdOf(params.runId), null),
    }),
    defineRoute({
      method: 'post', path: '/api/sub-accounts/:locationId/reconciliation/runs', tag: 'Reconciliation', access: 'sub-account:write',
      summary: 'Reconcile this sub-account’s Stripe customer now (409 while a run of the agency is in progress)',
      params: locationIdParam, response: reconciliationRunDetail,
      handler: async ({ caller, params }) => {
        const run = await reconciliation.run({ companyId: caller!.companyId, locationId: params.locationId, trigger: 'on_demand' });
        return runDetail(db, caller!.companyId, run.id, params.locationId);
      },
    }),
    defineRoute({
      method: 'get', path: '/api/sub-accounts/:locationId/reconciliation/runs', tag: 'Reconciliation', access: 'sub-account:write',
      summary: 'Reconciliation runs that compared this sub-account, newest first (50), and its drift that stays',
      params: locationIdParam, response: runsResponse,
      handler: async ({ caller, params }) => ({
        items: await listRuns(db, caller!.companyId, params.locationId),
        alert: await driftAlert(db, caller!.companyId, params.locationId),
      }),
    }),
    defineRoute({
      method: 'get', path: '/api/sub-accounts/:locationId/reconciliation/runs/:runId', tag: 'Reconciliation', access: 'sub-account:write',
      summary: 'One reconciliation run, limited to this sub-account’s pairs',
      params: locationIdParam.extend(runIdParam.shape), response: reconciliationRunDetail,
      handler: ({ caller, params }) => runDetail(db, caller!.companyId, runIdOf(params.runId), params.locationId),
    }),
  ];
}
