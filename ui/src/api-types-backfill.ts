/** The page's types for backfills of HighLevel history (see api-types.ts). */
/** HighLevel channels a backfill can import. */
export type BackfillChannel = 'SMS' | 'Call' | 'Email' | 'WhatsApp';
export type BackfillStatus = 'queued' | 'running' | 'completed' | 'failed' | 'cancelled';

/** A backfill of HighLevel history and its progress. */
export interface Backfill {
  id: number;
  locationId: string;
  channels: BackfillChannel[];
  startAt: string;
  endAt: string;
  bill: boolean;
  status: BackfillStatus;
  currentChannel: BackfillChannel | null;
  pages: number;
  messagesSeen: number;
  messagesImported: number;
  messagesDuplicate: number;
  messagesSkipped: number;
  attempts: number;
  lastError: string | null;
  nextAttemptAt: string | null;
  billedAt: string | null;
  startedAt: string | null;
  finishedAt: string | null;
  createdAt: string;
  updatedAt: string;
}

/** A backfill with the usage it imported per metric (`heldQuantity`: not billed yet). */
export interface BackfillDetail extends Backfill {
  usage: Array<{ metric: string; unit: string; records: number; quantity: string; heldQuantity: string }>;
}

/** POST …/backfills body: ISO 8601 instants with a zone, `endAt` exclusive. */
export interface StartBackfillInput {
  startAt: string;
  endAt: string;
  channels?: BackfillChannel[];
  bill?: boolean;
}
