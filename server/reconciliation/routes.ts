/**
 * The reconciliation part of the settings API, declared like the rest (server/http/api-route.ts): run a
 * reconciliation now for the agency or one sub-account, and read the runs with what each found. Agency users only.
 */
import type { Database } from '../../models/database';
import { defineRoute, type ApiRoute } from '../http/api-route';
import { badRequest } from '../http/errors';
import { locationIdParam } from '../billing-setup/schemas';
import type { Reconciliation } from './reconciliation';
import { driftAlert, listRuns, runDetail } from './runs-repository';
import { reconciliationRunDetail, runIdParam, runsResponse } from './schemas';

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
      response: reconciliationRunDetail, errors: ['reconciliation_running', 'stripe_not_connected'],
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
      params: runIdParam, response: reconciliationRunDetail, errors: ['not_found'],
      handler: ({ caller, params }) => runDetail(db, caller!.companyId, runIdOf(params.runId), null),
    }),
    defineRoute({
      method: 'post', path: '/api/sub-accounts/:locationId/reconciliation/runs', tag: 'Reconciliation', access: 'sub-account:write',
      summary: 'Reconcile this sub-account’s Stripe customer now (409 while a run of the agency is in progress)',
      params: locationIdParam, response: reconciliationRunDetail, errors: ['reconciliation_running', 'stripe_not_connected'],
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
      params: locationIdParam.extend(runIdParam.shape), response: reconciliationRunDetail, errors: ['not_found'],
      handler: ({ caller, params }) => runDetail(db, caller!.companyId, runIdOf(params.runId), params.locationId),
    }),
  ];
}
