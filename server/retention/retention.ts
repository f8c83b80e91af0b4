/**
 * Retention of private text: finished activity events (processed or ignored) received more than `RETENTION_DAYS` ago
 * have their message text, email bodies, transcripts, AI summaries and attachment URLs redacted in place
 * (./redact-payload.ts says what goes and what stays), in bounded batches, each its own short transaction. Run by the
 * scheduled job `retention` (server/jobs/scheduled-jobs.ts) under its advisory lock; safe to run again at any time:
 * a redacted row is marked and never read again.
 */
import type { Logger } from 'pino';
import type { Database } from '../../models/database';
import { redactPayload } from './redact-payload';
import { lockDueEvents, readEventsToRedact, writeRedactedPayloads, type DueEvent, type EventToRedact } from './retention-repository';

/** How much is kept and how much one run does. */
export interface RetentionOptions {
  /** Whole days text is kept after an event is received (RETENTION_DAYS). */
  retentionDays: number;
  /** Events locked per transaction; default 200. */
  batchSize?: number;
  /** Transactions per run at most, so one run is bounded (the next run goes on); default 250. */
  maxBatches?: number;
  /**
   * Payload bytes (as stored, `pg_column_size`) read into memory at once within a batch; default 2 MB. One payload
   * larger than this is read alone.
   */
  maxBytesInMemory?: number;
}

/** What the use case needs: the database, a logger (one info line per run that redacted), the options, hooks. */
export interface RetentionDependencies {
  db: Database;
  logger: Logger;
  options: RetentionOptions;
  /** The clock (tests move it); default the real time. */
  now?: () => Date;
  /** Told how many events a batch redacted (the metrics count them). Must not throw. */
  onRedacted?: (events: number) => void;
}

/** What one run did. `cutoff`: events received before it were due. `complete`: nothing due was left. */
export interface RetentionSummary {
  cutoff: string;
  batches: number;
  events: number;
  fields: number;
  complete: boolean;
}

const DAY_MS = 86_400_000;

/** Builds the use case. `runOnce` propagates database errors (the scheduler logs them; the next run goes on). */
export function createRetention(deps: RetentionDependencies) {
  const { db, logger, options } = deps;
  const batchSize = options.batchSize ?? 200;
  const maxBatches = options.maxBatches ?? 250;
  const maxBytes = options.maxBytesInMemory ?? 2_000_000;
  const now = deps.now ?? (() => new Date());

  /** One transaction: lock a batch, redact it chunk by chunk, write it. @returns events locked, written, fields. */
  async function runBatch(cutoff: Date, at: Date): Promise<{ locked: number; written: number; fields: number }> {
    return db.transaction(async (tx) => {
      const due = await lockDueEvents(tx, cutoff, batchSize);
      let written = 0;
      let fields = 0;
      for (const chunk of byStoredSize(due, maxBytes)) {
        const events = await readEventsToRedact(tx, chunk.map((e) => e.id));
        const redacted = events.map((event) => {
          const result = redactPayload(event.payload, { at, retentionDays: options.retentionDays, counted: countedOf(event) });
          fields += Object.keys(result.redaction.fields).length;
          return { id: event.id, payload: result.payload };
        });
        written += await writeRedactedPayloads(tx, redacted);
      }
      return { locked: due.length, written, fields };
    });
  }

  return {
    /**
     * Redacts what is due now, batch after batch, until nothing is left or `maxBatches` ran.
     * @throws the database driver's error; batches already committed stay redacted.
     */
    async runOnce(): Promise<RetentionSummary> {
      const at = now();
      const cutoff = new Date(at.getTime() - options.retentionDays * DAY_MS);
      const summary: RetentionSummary = { cutoff: cutoff.toISOString(), batches: 0, events: 0, fields: 0, complete: false };
      while (summary.batches < maxBatches) {
        const batch = await runBatch(cutoff, at);
        summary.batches += 1;
        summary.events += batch.written;
        summary.fields += batch.fields;
        if (batch.written > 0) deps.onRedacted?.(batch.written);
        if (batch.locked < batchSize) {
          summary.complete = true;
          break;
        }
        // Let other work (webhook intake on PGlite's single connection) in between batches.
        await new Promise((resolve) => setImmediate(resolve));
      }
      if (summary.events > 0) logger.info(summary, 'retention: private text of old events redacted');
      return summary;
    },
  };
}

/** The retention use case: `runOnce()`. */
export type Retention = ReturnType<typeof createRetention>;

/** What billing counted from an event's text, for its redaction record (only the counts it has). */
function countedOf(event: EventToRedact) {
  return {
    ...(event.smsSegments !== null ? { sms_segments: event.smsSegments } : {}),
    ...(event.encoding !== null ? { encoding: event.encoding } : {}),
    ...(event.aiTokens !== null ? { ai_tokens: event.aiTokens } : {}),
  };
}

/** Splits due events into chunks whose stored payloads add up to at most `maxBytes` (a larger one alone). */
function byStoredSize(due: DueEvent[], maxBytes: number): DueEvent[][] {
  const chunks: DueEvent[][] = [];
  let current: DueEvent[] = [];
  let bytes = 0;
  for (const event of due) {
    if (current.length > 0 && bytes + event.storedBytes > maxBytes) {
      chunks.push(current);
      current = [];
      bytes = 0;
    }
    current.push(event);
    bytes += event.storedBytes;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}
