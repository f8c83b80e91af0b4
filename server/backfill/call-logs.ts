/**
 * The `VoiceAI` channel of a backfill: HighLevel's Voice AI call logs, one page at a time, each LIVE call mapped to
 * the usage its `VoiceAiCallEnd` webhook would have produced.
 *
 * `GET /voice-ai/dashboard/call-logs` (operation "List Call Logs"; HighLevel API docs, GoHighLevel/highlevel-api-docs
 * apps/voice-ai.json at 0af86a4), scope `voice-ai-dashboard.readonly`, header `Version: 2021-04-15`. Query:
 * `locationId` (required), `callType` LIVE | TRIAL, `startDate` / `endDate` (Unix timestamps in milliseconds — the
 * example is 1679308800000 —, given together, start < end), `sortBy` duration | createdAt, `sort` ascend | descend,
 * `page` (1-based), `pageSize` (max 50); also `agentId`, `contactId`, `actionType`. Answer (`CallLogsResponseDTO`):
 * `{ total, page, pageSize, callLogs: CallLogDTO[] }`, each call `{ id ("Unique identifier for the call"), agentId,
 * contactId?, createdAt (ISO 8601), duration (seconds), trialCall, messageId?, summary, transcript, … }`.
 *
 * Meterbridge asks for `callType=LIVE` only (a TRIAL call is a test from the agent builder: not the client's
 * usage) and skips any call still marked `trialCall: true`; pages are read oldest first, and the job's cursor is the
 * next page number.
 */
import { z } from 'zod';
import type { HighLevelApiClient } from '../highlevel/api-client';
import { HIGHLEVEL_ENDPOINTS } from '../highlevel/endpoints';
import { eventSchemas, type VoiceAiCallEndEvent } from '../highlevel/webhook-events';
import { normaliseActivity } from '../metering/normalise';
import { ExportShapeError, type ExportPage } from './export-client';
import type { MappedMessage } from './export-message';

/** Calls asked for per page: HighLevel's documented maximum. */
export const CALL_LOGS_PAGE_SIZE = 50;

const pageSchema = z.looseObject({
  callLogs: z.array(z.unknown()).max(1_000).default([]),
  total: z.coerce.number().int().min(0).nullish(),
});

/**
 * Fetches one page of LIVE calls in [startAt, endAt) with the sub-account's token, oldest first.
 * @param cursor null for the first page, else the page number to read (as the job stores it).
 * @returns the page as the backfill runner reads pages: `messages` the calls, `nextCursor` the next page number, or
 *   null when this page was short, empty, or the last by HighLevel's `total`.
 * @throws HighLevelApiError, ReinstallRequiredError, HighLevelOAuthError (as the export does); ExportShapeError for a
 *   2xx body that is not a page of call logs or a cursor that is not a page number.
 */
export async function fetchCallLogPage(
  api: HighLevelApiClient,
  request: { locationId: string; startAt: Date; endAt: Date; cursor: string | null; pageSize?: number },
): Promise<ExportPage> {
  const page = request.cursor === null ? 1 : Number(request.cursor);
  if (!Number.isSafeInteger(page) || page < 1) throw new ExportShapeError(`Not a call-log page number: ${String(request.cursor).slice(0, 50)}`);
  const pageSize = Math.min(request.pageSize ?? CALL_LOGS_PAGE_SIZE, CALL_LOGS_PAGE_SIZE);
  const body = await api.request<unknown>({
    method: HIGHLEVEL_ENDPOINTS.voiceAiCallLogs.method,
    path: HIGHLEVEL_ENDPOINTS.voiceAiCallLogs.path,
    params: {
      locationId: request.locationId,
      callType: 'LIVE',
      startDate: request.startAt.getTime(),
      endDate: request.endAt.getTime(),
      sortBy: 'createdAt',
      sort: 'ascend',
      page,
      pageSize,
    },
    version: HIGHLEVEL_ENDPOINTS.voiceAiCallLogs.version,
    auth: { locationId: request.locationId },
  });
  const parsed = pageSchema.safeParse(body);
  if (!parsed.success) throw new ExportShapeError('GET /voice-ai/dashboard/call-logs answered with a body that is not a page of call logs.');
  const { callLogs, total } = parsed.data;
  const more = callLogs.length === pageSize && (total === null || total === undefined || page * pageSize < total);
  return { messages: callLogs, nextCursor: more ? String(page + 1) : null, total: total ?? null };
}

const callLogSchema = z.looseObject({
  id: z.string().trim().min(1).max(200),
  messageId: z.string().trim().min(1).max(200).nullish(),
  createdAt: z.string().max(100),
  duration: z.coerce.number().min(0).max(7 * 24 * 3600),
  trialCall: z.boolean().nullish(),
});

/**
 * Maps one call log to the usage of its `VoiceAiCallEnd` webhook: the call is rebuilt as that webhook (HighLevel's
 * call log and VoiceAiCallEnd carry the same call fields: `id`, `messageId`, `createdAt`, `duration`, `trialCall`)
 * and counted by `normaliseActivity`, so `ai_call_minutes` = ceil(duration / 60) exactly as live.
 *
 * The matching key — `messageId` when the call has one, else the call `id` — is the `source_id` the webhook path
 * already gives Voice AI usage (normalise.ts). Using that same key makes both directions of dedupe hold with the
 * machinery messages use: a call delivered by webhook first is found by its usage's `source_id`; a webhook arriving
 * after the import finds the delivery key `backfill:<locationId>:<key>` (the intake's check) — and both sides take
 * the same message lock. `alternateIds` also carries the call `id`, so a webhook that had no `messageId` is found too.
 * @returns the usage, or why there is none (malformed, out of range, a TRIAL call).
 */
export function mapCallLog(value: unknown, context: { locationId: string; startAt: Date; endAt: Date }): MappedMessage & { alternateIds?: string[] } {
  const parsed = callLogSchema.safeParse(value);
  const rawId = (value as { id?: unknown } | null)?.id;
  if (!parsed.success) return { kind: 'skipped', reason: 'malformed', messageId: typeof rawId === 'string' && rawId.length <= 200 ? rawId : null };
  const call = parsed.data;
  const key = call.messageId ?? call.id;
  if (call.trialCall === true) return { kind: 'skipped', reason: 'trial', messageId: key };
  const asWebhook = { type: 'VoiceAiCallEnd', locationId: context.locationId, id: call.id, messageId: call.messageId ?? undefined, duration: call.duration, createdAt: call.createdAt };
  const event = eventSchemas.VoiceAiCallEnd.safeParse(asWebhook);
  if (!event.success) return { kind: 'skipped', reason: 'malformed', messageId: key };
  const occurredAt = new Date(call.createdAt);
  if (occurredAt < context.startAt || occurredAt >= context.endAt) return { kind: 'skipped', reason: 'out_of_range', messageId: key };
  const usage = normaliseActivity(event.data as VoiceAiCallEndEvent, occurredAt);
  return { kind: 'usage', message: { messageId: key, messageKey: null, eventType: 'VoiceAiCallEnd', occurredAt, usage, raw: value as Record<string, unknown> }, alternateIds: [call.id] };
}
