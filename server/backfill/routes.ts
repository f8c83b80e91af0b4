/**
 * The backfill routes of the settings API, declared like the rest (server/http/api-route.ts), so the authorization
 * matrix and the OpenAPI document cover them. All are `sub-account:write`: agency users of the sub-account's agency
 * only. The backfill id is checked in the use case, after authorization, so a caller without access learns nothing
 * from it.
 */
import { z } from 'zod';
import { defineRoute, type ApiRoute } from '../http/api-route';
import { locationIdParam } from '../settings/schemas';
import type { Backfills } from './backfills';
import { BACKFILL_CHANNELS } from './export-position';

const channel = z.enum(BACKFILL_CHANNELS);
const isoTime = z.iso.datetime({ offset: true });

const startRequest = z.object({
  /** First instant imported (inclusive), ISO 8601 with a time zone. */
  startAt: isoTime,
  /** End of the range (exclusive), not in the future. At most 366 days after `startAt`. */
  endAt: isoTime,
  /** Which channels to import; default the four message channels (VoiceAI only when named). */
  channels: z.array(channel).min(1).max(BACKFILL_CHANNELS.length).optional(),
  /** Count the imported usage against the thresholds as it is imported; default false (held until billed). */
  bill: z.boolean().optional(),
});

const backfillSchema = z.object({
  id: z.number().int(),
  locationId: z.string(),
  channels: z.array(channel),
  startAt: z.string(),
  endAt: z.string(),
  bill: z.boolean(),
  status: z.enum(['queued', 'running', 'completed', 'failed', 'cancelled']),
  currentChannel: channel.nullable(),
  pages: z.number().int(),
  messagesSeen: z.number().int(),
  messagesImported: z.number().int(),
  messagesDuplicate: z.number().int(),
  messagesSkipped: z.number().int(),
  attempts: z.number().int(),
  lastError: z.string().nullable(),
  nextAttemptAt: z.string().nullable(),
  billedAt: z.string().nullable(),
  startedAt: z.string().nullable(),
  finishedAt: z.string().nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
const backfillDetailSchema = backfillSchema.extend({
  usage: z.array(z.object({ metric: z.string(), unit: z.string(), records: z.number().int(), quantity: z.string(), heldQuantity: z.string() })),
});
const backfillParams = locationIdParam.extend({ backfillId: z.string().min(1).max(40) });

/** Every backfill route. */
export function backfillRoutes(deps: { backfills: Backfills }): ApiRoute<any, any, any, any>[] {
  const { backfills } = deps;
  return [
    defineRoute({
      method: 'post', path: '/api/sub-accounts/:locationId/backfills', tag: 'Backfill', access: 'sub-account:write', status: 201,
      summary: 'Import the sub-account’s past SMS, calls, email and WhatsApp from HighLevel over a date range (one backfill at a time)',
      params: locationIdParam, body: startRequest, response: backfillSchema,
      handler: ({ params, body }) => backfills.start(params.locationId, body),
    }),
    defineRoute({
      method: 'get', path: '/api/sub-accounts/:locationId/backfills', tag: 'Backfill', access: 'sub-account:write',
      summary: 'The sub-account’s backfills with their progress, newest first',
      params: locationIdParam, response: z.object({ items: z.array(backfillSchema) }),
      handler: async ({ params }) => ({ items: await backfills.list(params.locationId) }),
    }),
    defineRoute({
      method: 'get', path: '/api/sub-accounts/:locationId/backfills/:backfillId', tag: 'Backfill', access: 'sub-account:write',
      summary: 'One backfill: progress, last error, and the usage it imported per metric (held or billed)',
      params: backfillParams, response: backfillDetailSchema,
      handler: ({ params }) => backfills.get(params.locationId, params.backfillId),
    }),
    defineRoute({
      method: 'post', path: '/api/sub-accounts/:locationId/backfills/:backfillId/cancel', tag: 'Backfill', access: 'sub-account:write',
      summary: 'Stop a queued or running backfill (what it imported stays)',
      params: backfillParams, response: backfillSchema,
      handler: ({ params }) => backfills.cancel(params.locationId, params.backfillId),
    }),
    defineRoute({
      method: 'post', path: '/api/sub-accounts/:locationId/backfills/:backfillId/bill', tag: 'Backfill', access: 'sub-account:write',
      summary: 'Bill the usage the backfill imported: offer its held usage to the thresholds (idempotent); later pages bill as they import',
      params: backfillParams,
      response: z.object({
        backfill: backfillDetailSchema,
        recordsOffered: z.number().int(),
        unitsDue: z.array(z.object({ metric: z.string(), units: z.number().int() })),
      }),
      handler: ({ params }) => backfills.bill(params.locationId, params.backfillId),
    }),
  ];
}
