/**
 * The reporter: drains the meter-report outbox to Stripe. One tick forms batches from pending reports, leases
 * the batches that are due, sends ONE meter event per batch (value = sum of units, identifier fixed at batch
 * creation) and settles each by its outcome (server/stripe/meter-event-outcome.ts).
 */
import type { Logger } from 'pino';
import { RateLimiterMemory, RateLimiterQueue } from 'rate-limiter-flexible';
import type Stripe from 'stripe';
import type { Database } from '../../models/database';
import {
  claimDueBatches,
  formBatches,
  markBatchFailed,
  markBatchesSent,
  promoteQueuedBatches,
  scheduleBatchRetry,
  type ClaimedBatch,
} from './meter-batch-repository';
import { classifyMeterEventError, retryDelaySeconds, type MeterEventOutcome } from './meter-event-outcome';

export interface ReporterOptions {
  /** First retry delay in seconds (doubles per attempt, with jitter). */
  retryBaseSeconds: number;
  /** Longest retry delay in seconds. */
  retryMaxSeconds: number;
  /** Lease on a claimed batch in seconds; must exceed the Stripe timeout. */
  leaseSeconds: number;
  /** Meter-event calls per second per agency; Stripe allows 1,000/s per account in live mode. */
  callsPerSecondPerAgency: number;
  /** Stripe calls in flight at once, across agencies. */
  concurrency: number;
}

export interface ReporterDependencies {
  db: Database;
  /** The agency's Stripe client, or null when it has not connected Stripe. May throw if its key cannot be read. */
  stripeForAgency: (companyId: string) => Promise<Stripe | null>;
  logger: Logger;
  options: ReporterOptions;
}

/** What one tick did. */
export interface TickSummary {
  batchesFormed: number;
  claimed: number;
  sent: number;
  retried: number;
  failed: number;
}

/** Accepted batches marked sent per statement. */
const SENT_MARKS_PER_STATEMENT = 50;

/** Builds the reporter. `tick()` never throws for a Stripe outcome; database errors propagate. */
export function createMeterReporter(deps: ReporterDependencies) {
  const { db, logger, options } = deps;
  const limiter = new RateLimiterQueue(new RateLimiterMemory({ points: options.callsPerSecondPerAgency, duration: 1 }), {
    maxQueueSize: 100_000,
  });

  /** `stripeForAgency` once per agency per tick (a key read and decrypt), however many batches the agency has. */
  function clientsForTick() {
    const clients = new Map<string, Promise<Stripe | null>>();
    return (companyId: string) => {
      let client = clients.get(companyId);
      if (!client) clients.set(companyId, (client = deps.stripeForAgency(companyId)));
      return client;
    };
  }

  async function send(batch: ClaimedBatch, stripeFor: (companyId: string) => Promise<Stripe | null>): Promise<MeterEventOutcome> {
    let stripe: Stripe | null;
    try {
      stripe = await stripeFor(batch.companyId);
    } catch (err) {
      return { kind: 'failed', message: `The agency's Stripe key cannot be read: ${(err as Error).message}` };
    }
    if (!stripe) return { kind: 'failed', message: 'Stripe is not connected for this agency.' };
    await limiter.removeTokens(1, batch.companyId);
    try {
      await stripe.billing.meterEvents.create({
        event_name: batch.meterEventName,
        payload: { stripe_customer_id: batch.stripeCustomerId, value: batch.value },
        identifier: batch.identifier,
        timestamp: batch.timestamp,
      });
      return { kind: 'sent', duplicate: false };
    } catch (err) {
      return classifyMeterEventError(err);
    }
  }

  /**
   * Settles a batch Stripe did not accept: a retry later (same identifier) or failed. Accepted batches are marked
   * sent together (`sentMarks`).
   */
  async function settleUnsent(batch: ClaimedBatch, outcome: Exclude<MeterEventOutcome, { kind: 'sent' }>): Promise<void> {
    const log = { batchId: batch.id, identifier: batch.identifier, companyId: batch.companyId, attempt: batch.attempts };
    if (outcome.kind === 'retry') {
      const delay = retryDelaySeconds(batch.attempts, options.retryBaseSeconds, options.retryMaxSeconds);
      await scheduleBatchRetry(db, batch.id, delay, outcome.message);
      logger.warn({ ...log, delaySeconds: delay, reason: outcome.message }, 'meter event will be retried');
    } else {
      await markBatchFailed(db, batch.id, outcome.message);
      logger.error({ ...log, reason: outcome.message }, 'meter event refused by Stripe');
    }
  }

  /**
   * Collects accepted batches and marks them sent SENT_MARKS_PER_STATEMENT at a time (and the rest at the end of the
   * tick): one commit for many instead of one each, which the intake's commits were queuing behind. If the process
   * dies first, the batches stay leased and are resent after the lease with the same identifiers; Stripe answers
   * "already exists" and they are marked sent then (server/stripe/meter-event-outcome.ts).
   */
  function sentMarks() {
    let pending: Array<{ batch: ClaimedBatch; duplicate: boolean }> = [];
    const flush = async () => {
      const marks = pending;
      pending = [];
      await markBatchesSent(db, marks.map((m) => m.batch.id));
      for (const { batch, duplicate } of marks) {
        logger.info({ batchId: batch.id, identifier: batch.identifier, companyId: batch.companyId, attempt: batch.attempts, value: batch.value, duplicate }, 'meter event sent');
      }
    };
    return {
      add: async (batch: ClaimedBatch, duplicate: boolean) => {
        pending.push({ batch, duplicate });
        if (pending.length >= SENT_MARKS_PER_STATEMENT) await flush();
      },
      flush,
    };
  }

  return {
    /** One pass: promote reconciliation's queued batches, form batches, lease the due ones, send each once, settle. */
    async tick(): Promise<TickSummary> {
      await promoteQueuedBatches(db);
      const summary: TickSummary = { batchesFormed: await formBatches(db), claimed: 0, sent: 0, retried: 0, failed: 0 };
      const batches = await claimDueBatches(db, options.leaseSeconds);
      summary.claimed = batches.length;
      const stripeFor = clientsForTick();
      const sent = sentMarks();
      await forEachConcurrently(batches, options.concurrency, async (batch) => {
        const outcome = await send(batch, stripeFor);
        if (outcome.kind === 'sent') await sent.add(batch, outcome.duplicate);
        else await settleUnsent(batch, outcome);
        if (outcome.kind === 'sent') summary.sent += 1;
        else if (outcome.kind === 'retry') summary.retried += 1;
        else summary.failed += 1;
      });
      await sent.flush();
      return summary;
    },
  };
}

export type MeterReporter = ReturnType<typeof createMeterReporter>;

/**
 * Runs `fn` over `items` with at most `limit` in flight. Written here because p-limit and p-map are ESM-only and
 * this is the whole of what is needed.
 */
async function forEachConcurrently<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}
