/**
 * HighLevel's message export, one page at a time.
 *
 * `GET /conversations/messages/export` (operation `export-messages-by-location`, HighLevel API docs:
 * https://marketplace.gohighlevel.com/docs/ghl/conversations/export-messages-by-location; OpenAPI in
 * GoHighLevel/highlevel-api-docs, apps/conversations.json), with a Sub-Account (Location) token, scope
 * `conversations/message.readonly`, header `Version: 2021-04-15`. Query:
 * - `locationId` (required); `channel` ∈ Call, SMS, Email, WhatsApp, Instagram, Facebook — without it HighLevel
 *   returns every non-email type including activity entries, so Meterbridge always names one;
 * - `startDate`, `endDate` (ISO 8601 strings); `sortBy` createdAt | updatedAt, `sortOrder` asc | desc;
 * - `limit` (messages per page), `cursor` (the previous page's `nextCursor`); also `contactId`, `conversationId`.
 * Answer (`ExportMessagesResponseDto`): `{ messages: Message[], nextCursor?: string (null when there is no further
 * page), total: number }`, where each message is `GetMessageResponseDto` (see export-message.ts). 400 and 401
 * carry `{ statusCode, message }`.
 *
 * Rate limits (100 requests / 10 s per location) and 401 refreshes are handled by the API client, which also turns
 * every failure into a `HighLevelApiError` carrying HighLevel's own message.
 */
import { z } from 'zod';
import type { HighLevelApiClient } from '../highlevel/api-client';
import { HIGHLEVEL_ENDPOINTS } from '../highlevel/endpoints';
import type { MessageChannel } from './export-position';

/** Messages asked for per page. HighLevel does not document a maximum; 100 is what its own examples use. */
export const EXPORT_PAGE_SIZE = 100;

/** One page as HighLevel sent it; `messages` are left unparsed so one odd message cannot sink the page. */
export interface ExportPage {
  messages: unknown[];
  /** The cursor of the next page, or null when this was the last one. */
  nextCursor: string | null;
  /** HighLevel's count of messages matching the query (all pages), when given. */
  total: number | null;
}

/** HighLevel answered 2xx with a body that is not an export page: retrying will not change it. */
export class ExportShapeError extends Error {
  override name = 'ExportShapeError';
}

const pageSchema = z.looseObject({
  messages: z.array(z.unknown()).max(10_000).default([]),
  nextCursor: z.string().max(10_000).nullable().optional(),
  total: z.coerce.number().int().min(0).nullable().optional(),
});

/** What to ask for. Times are sent as ISO 8601 strings. */
export interface ExportPageRequest {
  locationId: string;
  channel: MessageChannel;
  startAt: Date;
  endAt: Date;
  /** null for the channel's first page. */
  cursor: string | null;
  limit?: number;
}

/**
 * Fetches one page of the export with the sub-account's token, oldest messages first (`sortBy=createdAt`,
 * `sortOrder=asc`), so pages stay stable while the sub-account keeps sending messages.
 * @returns the page; an empty `nextCursor` is read as "no further page".
 * @throws HighLevelApiError (HighLevel's status and message), ReinstallRequiredError (no working grant for the
 *   sub-account or its agency), HighLevelOAuthError (the token endpoint failed), ExportShapeError (a 2xx body that
 *   is not an export page).
 */
export async function fetchExportPage(api: HighLevelApiClient, request: ExportPageRequest): Promise<ExportPage> {
  const { method, path, version } = HIGHLEVEL_ENDPOINTS.exportMessages;
  const body = await api.request<unknown>({
    method,
    path,
    params: {
      locationId: request.locationId,
      channel: request.channel,
      startDate: request.startAt.toISOString(),
      endDate: request.endAt.toISOString(),
      sortBy: 'createdAt',
      sortOrder: 'asc',
      limit: request.limit ?? EXPORT_PAGE_SIZE,
      cursor: request.cursor ?? undefined,
    },
    version,
    auth: { locationId: request.locationId },
  });
  const parsed = pageSchema.safeParse(body);
  if (!parsed.success) {
    const detail = parsed.error.issues.slice(0, 3).map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`).join('; ');
    throw new ExportShapeError(`GET /conversations/messages/export answered with an unexpected body: ${detail}`);
  }
  const next = parsed.data.nextCursor?.trim();
  return { messages: parsed.data.messages, nextCursor: next ? next : null, total: parsed.data.total ?? null };
}
