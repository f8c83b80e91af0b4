/**
 * The page's types for backfills of HighLevel history, inferred from the server's zod schemas
 * (server/backfill/schemas.ts; see api-types.ts).
 */
import type { z } from 'zod';
import type {
  backfillChannel,
  backfillDetailSchema,
  backfillListResponse,
  backfillSchema,
  billBackfillResponse,
  startBackfillRequest,
} from '../../server/backfill/schemas';

/** HighLevel channels a backfill can import. */
export type BackfillChannel = z.infer<typeof backfillChannel>;
/** A backfill of HighLevel history and its progress. */
export type Backfill = z.infer<typeof backfillSchema>;
/** Where a backfill stands: queued, running, completed, failed or cancelled. */
export type BackfillStatus = Backfill['status'];
/** A backfill with the usage it imported per metric (`heldQuantity`: not billed yet). */
export type BackfillDetail = z.infer<typeof backfillDetailSchema>;
/** `GET …/backfills`: newest first. */
export type BackfillList = z.infer<typeof backfillListResponse>;
/** The answer of billing a backfill: the backfill, records offered to the thresholds and units due per metric. */
export type BilledBackfill = z.infer<typeof billBackfillResponse>;
/** `POST …/backfills` body: ISO 8601 instants with a zone, `endAt` exclusive. */
export type StartBackfillInput = z.input<typeof startBackfillRequest>;
