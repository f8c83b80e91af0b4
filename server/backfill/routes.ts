/**
 * The backfill routes of the settings API, declared like the rest (server/http/api-route.ts), so the authorization
 * matrix and the OpenAPI document cover them. All are `sub-account:write`: agency users of the sub-account's agency
 * only. The backfill id is checked in the use case, after authorization, so a caller without access learns nothing
 * from it.
 */
import type { z } from 'zod';
import { defineRoute, type ApiRoute } from '../http/api-route';
import { assertSameType } from '../http/same-type';
import { locationIdParam } from '../billing-setup/schemas';
import type { Backfills } from './backfills';
import type { BackfillChannel } from './export-position';
import {
  backfillChannel,
  backfillDetailSchema,
  backfillListResponse,
  backfillParams,
  backfillSchema,
  billBackfillResponse,
  startBackfillRequest,
} from './schemas';

// The schema spells the channels out (it imports only zod); they must stay the export's.
assertSameType<z.infer<typeof backfillChannel>, BackfillChannel>(true);

/** Every backfill route. */
export function backfillRoutes(deps: { backfills: Backfills }): ApiRoute<any, any, any, any>[] {
  const { backfills } = deps;
  return [
    defineRoute({
      method: 'post', path: '/api/sub-accounts/:locationId/backfills', tag: 'Backfill', access: 'sub-account:write', status: 201,
      summary: 'Import the sub-account’s past SMS, calls, email and WhatsApp from HighLevel over a date range (one backfill at a time)',
      params: locationIdParam, body: startBackfillRequest, response: backfillSchema, errors: ['invalid_range', 'not_installed', 'backfill_active'],
      handler: ({ params, body }) => backfills.start(params.locationId, body),
    }),
    defineRoute({
      method: 'get', path: '/api/sub-accounts/:locationId/backfills', tag: 'Backfill', access: 'sub-account:write',
      summary: 'The sub-account’s backfills with their progress, newest first',
      params: locationIdParam, response: backfillListResponse,
      handler: async ({ params }) => ({ items: await backfills.list(params.locationId) }),
    }),
    defineRoute({
      method: 'get', path: '/api/sub-accounts/:locationId/backfills/:backfillId', tag: 'Backfill', access: 'sub-account:write',
      summary: 'One backfill: progress, last error, and the usage it imported per metric (held or billed)',
      params: backfillParams, response: backfillDetailSchema, errors: ['not_found'],
      handler: ({ params }) => backfills.get(params.locationId, params.backfillId),
    }),
    defineRoute({
      method: 'post', path: '/api/sub-accounts/:locationId/backfills/:backfillId/cancel', tag: 'Backfill', access: 'sub-account:write',
      summary: 'Stop a queued or running backfill (what it imported stays)',
      params: backfillParams, response: backfillSchema, errors: ['not_found', 'not_cancellable'],
      handler: ({ params }) => backfills.cancel(params.locationId, params.backfillId),
    }),
    defineRoute({
      method: 'post', path: '/api/sub-accounts/:locationId/backfills/:backfillId/bill', tag: 'Backfill', access: 'sub-account:write',
      summary: 'Bill the usage the backfill imported: offer its held usage to the thresholds (idempotent); later pages bill as they import',
      params: backfillParams, response: billBackfillResponse, errors: ['not_found'],
      handler: ({ params }) => backfills.bill(params.locationId, params.backfillId),
    }),
  ];
}
