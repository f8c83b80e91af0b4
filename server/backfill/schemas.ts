/**
 * Request and response schemas of the backfill routes (server/backfill/routes.ts). Zod only: the page takes its
 * types from here (ui/src/api-types-backfill.ts).
 */
import { z } from 'zod';
import { locationIdParam } from '../billing-setup/schemas';

/** A HighLevel channel a backfill imports (server/backfill/export-position.ts `BACKFILL_CHANNELS`). */
export const backfillChannel = z.enum(['SMS', 'Call', 'Email', 'WhatsApp', 'VoiceAI']);
const channel = backfillChannel;
const isoTime = z.iso.datetime({ offset: true });

/** `POST …/backfills` body: ISO 8601 instants with a zone, `endAt` exclusive. */
export const startBackfillRequest = z.object({
  /** First instant imported (inclusive), ISO 8601 with a time zone. */
  startAt: isoTime,
  /** End of the range (exclusive), not in the future. At most 366 days after `startAt`. */
  endAt: isoTime,
  /** Which channels to import; default the four message channels (VoiceAI only when named). */
  channels: z.array(channel).min(1).max(channel.options.length).optional(),
  /** Count the imported usage against the thresholds as it is imported; default false (held until billed). */
  bill: z.boolean().optional(),
});

/** A backfill of HighLevel history and its progress (counts of messages; times ISO 8601). */
export const backfillSchema = z.object({
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
/** A backfill with the usage it imported per metric (`heldQuantity`: not billed yet; decimal strings). */
export const backfillDetailSchema = backfillSchema.extend({
  usage: z.array(z.object({ metric: z.string(), unit: z.string(), records: z.number().int(), quantity: z.string(), heldQuantity: z.string() })),
});
/** `:locationId/backfills/:backfillId`; the id is checked in the use case, after authorization. */
export const backfillParams = locationIdParam.extend({ backfillId: z.string().min(1).max(40) });

/** `GET …/backfills`: newest first. */
export const backfillListResponse = z.object({ items: z.array(backfillSchema) });
/** `POST …/backfills/:backfillId/bill`: the backfill, the usage records offered to the thresholds and the units due. */
export const billBackfillResponse = z.object({
  backfill: backfillDetailSchema,
  recordsOffered: z.number().int(),
  unitsDue: z.array(z.object({ metric: z.string(), units: z.number().int() })),
});
