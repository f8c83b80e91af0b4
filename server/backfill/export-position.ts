/**
 * Where a backfill stands in HighLevel's export. The export filters one channel per request, so a backfill reads
 * its channels one after the other; its position is the channel being read and the cursor of that channel's next
 * page (null: the channel's first page). It is stored, as JSON text, in `backfill_jobs.cursor` and advanced in the
 * same transaction as the page it follows, so a crash resumes exactly at the first page not yet stored.
 */

/**
 * The channels a backfill can import: the message export's (named as its `channel` parameter names them), then
 * `VoiceAI`, read from the Voice AI call logs instead (call-logs.ts).
 */
export const BACKFILL_CHANNELS = ['SMS', 'Call', 'Email', 'WhatsApp', 'VoiceAI'] as const;
export type BackfillChannel = (typeof BACKFILL_CHANNELS)[number];
/** The message export's channels: a backfill reads these when it names none (Voice AI is read only when asked). */
export const MESSAGE_CHANNELS = ['SMS', 'Call', 'Email', 'WhatsApp'] as const satisfies readonly BackfillChannel[];
export type MessageChannel = (typeof MESSAGE_CHANNELS)[number];

/** The next page to fetch: `cursor` null means the first page of `channel` (for VoiceAI, a page number as text). */
export interface ExportPosition {
  channel: BackfillChannel;
  cursor: string | null;
}

/** The stored form (`backfill_jobs.cursor`). */
export function encodePosition(position: ExportPosition): string {
  return JSON.stringify({ channel: position.channel, cursor: position.cursor });
}

/**
 * Reads a stored position; null (a job not started) is the first page of the first channel.
 * @throws Error when the stored text is not a position of one of `channels` (a bug or a hand-edited row).
 */
export function decodePosition(stored: string | null, channels: readonly BackfillChannel[]): ExportPosition {
  if (stored === null) return { channel: channels[0]!, cursor: null };
  const value = JSON.parse(stored) as { channel?: unknown; cursor?: unknown };
  if (!channels.includes(value.channel as BackfillChannel) || !(value.cursor === null || typeof value.cursor === 'string')) {
    throw new Error(`Not an export position of channels ${channels.join(', ')}: ${stored.slice(0, 200)}`);
  }
  return { channel: value.channel as BackfillChannel, cursor: value.cursor };
}

/**
 * The position after a page of `current`: the same channel at `nextCursor`, or — when the channel has no further
 * page — the first page of the next channel.
 * @returns null when the page was the last of the last channel (the backfill is complete).
 */
export function nextPosition(current: ExportPosition, channels: readonly BackfillChannel[], nextCursor: string | null): ExportPosition | null {
  if (nextCursor !== null) return { channel: current.channel, cursor: nextCursor };
  const following = channels[channels.indexOf(current.channel) + 1];
  return following ? { channel: following, cursor: null } : null;
}
