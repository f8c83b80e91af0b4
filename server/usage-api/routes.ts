/**
 * `POST /api/v1/usage`: usage from anywhere (an agency's own AI agent, a voice vendor), authenticated by an agency
 * API key, declared in the route table with the `api-key` access level so the OpenAPI document and the
 * authorization matrix cover it. Its per-key rate limit is mounted in front of it (server/http/rate-limits.ts).
 */
import { defineRoute, type ApiRoute } from '../http/api-route';
import type { UsageIngestion } from './ingest-usage';
import { invalidEventsErrorSchema, usageIngestResponse } from './schemas';
import { MAX_EVENTS_PER_REQUEST, parseUsageRequest, usageRequestSchema } from './usage-request';

/** Path of the ingestion endpoint (the rate limit is mounted on it). */
export const USAGE_API_PATH = '/api/v1/usage';
/** Largest body: 1,000 events with long keys and ids stay well under it. */
const BODY_LIMIT = '1mb';

/** The ingestion route. */
export function usageApiRoutes(services: { ingestion: UsageIngestion }): ApiRoute<any, any, any, any>[] {
  return [
    defineRoute({
      method: 'post', path: USAGE_API_PATH, tag: 'Usage API', access: 'api-key',
      summary: `Record usage: one event, or { events } with up to ${MAX_EVENTS_PER_REQUEST}; all or nothing, idempotent per idempotencyKey`,
      bodyReader: { documented: usageRequestSchema, read: parseUsageRequest }, bodyLimit: BODY_LIMIT,
      response: usageIngestResponse,
      errors: ['invalid_events'],
      responses: {
        '413': { description: 'The body is larger than 1 MB.' },
        '422': { description: 'Some events are invalid (listed by index); nothing was stored.', schema: invalidEventsErrorSchema },
      },
      handler: ({ caller, body }) => services.ingestion.ingest({ companyId: caller!.companyId, apiKeyId: caller!.apiKeyId! }, body),
    }),
  ];
}
