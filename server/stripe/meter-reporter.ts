/**
 * The reporter: drains the meter-report outbox to Stripe. One tick forms batches from pending reports, turns
 * batches whose identifier window closed unsettled into `unconfirmed`, leases the batches that are due, sends ONE
 * meter event per batch (value = sum of units, identifier fixed at batch creation, timestamp clamped into Stripe's
 * window at this send) and settles each by its outcome (server/stripe/meter-event-outcome.ts).
 */
import type { Logger } from 'pino';
import { RateLimiterMemory, RateLimiterQueue } from 'rate-limiter-flexible';
import type Stripe from 'stripe';
import type { Database } from '../../models/database';
import { forEachConcurrently } from '../jobs/concurrently';
import { claimDueBatches, formBatches, promoteQueuedBatches, type ClaimedBatch } from './meter-batch-repository';
import { expireUnconfirmedBatches, markBatchesSent, markBatchFailed, markBatchUnconfirmed, scheduleBatchRetry } from './meter-batch-settlement';
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
  /** How long after its first send a batch may be resent with its identifier, seconds (under Stripe's 24 h). */
  identifierWindowSeconds: number;
}

export interface ReporterDependencies {
  db: Database;
  /**
   * The agency's Stripe client and whether its key is a test-mode one, or null when it has not connected Stripe.
   * May throw if its key cannot be read.
   */
  stripeForAgency: (companyId: string) => Promise<AgencyStripe | null>;
  logger: Logger;
  options: ReporterOptions;
  /** Called once per tick before sending, e.g. to create missing Stripe event destinations; its errors are logged. */
  beforeTick?: () => Promise<void>;
  /** Told each meter-event call's outcome and duration in seconds (server/observability/); must not throw. */
  onStripeCall?: (outcome: MeterEventOutcome['kind'], seconds: number) => void;
  /** Told, per batch settlement, each sent report's ack → meter event lag in seconds (markBatchesSent); must not throw. */
  onMeterEventsSent?: (ackToMeterEventSeconds: number[]) => void;
  /**
   * Called once per tick before batches are formed: keeps back pending reports no subscription would invoice, and
   * returns held ones a subscription now covers (server/payments/held-usage.ts). Its errors propagate: forming
   * batches without it could send units nobody invoices.
   */
  holdUncovered?: () => Promise<unknown>;
}

/** An agency's Stripe client; `testMode` for `sk_test_`/`rk_test_` keys (their meter events have a lower limit). */
export interface AgencyStripe {
  client: Stripe;
  testMode: boolean;
}

/**
 * Meter events in test mode and sandboxes count against Stripe's basic rate limit, 25 requests per second
 * (docs.stripe.com/rate-limits); live mode allows 1,000. The reporter stays under it rather than collect 429s.
 */
export const TEST_MODE_METER_EVENTS_PER_SECOND = 25;

/** What one tick did. */
export interface TickSummary {
  batchesFormed: number;
  claimed: number;
  sent: number;
  retried: number;
  failed: number;
  /** Batches settled `unconfirmed` this tick: an unclassifiable answer, or the identifier window closed. */
  unconfirmed: number;
}

/** Accepted batches marked sent per statement. */
const SENT_MARKS_PER_STATEMENT = 50;

/** Builds the reporter. `tick()` never throws for a Stripe outcome; database errors propagate. */
export function createMeterReporter(deps: ReporterDependencies) {
  const { db, logger, options } = deps;
  const limiterOf = (points: number) => new RateLimiterQueue(new RateLimiterMemory({ points, duration: 1 }), { maxQueueSize: 100_000 });
  const liveLimiter = limiterOf(options.callsPerSecondPerAgency);
  // The limiter counts in fixed one-second windows, so two adjacent windows can put twice its points into one second
  // as Stripe counts it: half the test-mode limit per window keeps every second under it.
  const testLimiter = limiterOf(Math.max(1, Math.floor(Math.min(options.callsPerSecondPerAgency, TEST_MODE_METER_EVENTS_PER_SECOND) / 2)));

  /** `stripeForAgency` once per agency per tick (a key read and decrypt), however many batches the agency has. */
  function clientsForTick() {
    const clients = new Map<string, Promise<AgencyStripe | null>>();
    return (companyId: string) => {
      let client = clients.get(companyId);
      if (!client) clients.set(companyId, (client = deps.stripeForAgency(companyId)));
      return client;
    };
  }

  async function send(batch: ClaimedBatch, stripeFor: (companyId: string) => Promise<AgencyStripe | null>): Promise<MeterEventOutcome> {
    let stripe: AgencyStripe | null;
    try {
      stripe = await stripeFor(batch.companyId);
    } catch (err) {
      return { kind: 'failed', message: `The agency's Stripe key cannot be read: ${(err as Error).message}` };
    }
    if (!stripe) return { kind: 'failed', message: 'Stripe is not connected for this agency.' };
    await (stripe.testMode ? testLimiter : liveLimiter).removeTokens(1, batch.companyId);
    const started = performance.now();
    let outcome: MeterEventOutcome;
    try {
      await stripe.client.billing.meterEvents.create({
        event_name: batch.meterEventName,
        payload: { stripe_customer_id: batch.stripeCustomerId, value: batch.value },
        identifier: batch.identifier,
        timestamp: batch.timestamp,
      });
      outcome = { kind: 'sent' };
    } catch (err) {
      outcome = classifyMeterEventError(err);
    }
    deps.onStripeCall?.(outcome.kind, (performance.now() - started) / 1000);
    return outcome;
  }

  /**
   * Settles a batch Stripe did not accept: a retry later (same identifier), unconfirmed, or failed. Accepted
   * batches are marked sent together (`sentMarks`).
   */
  async function settleUnsent(batch: ClaimedBatch, outcome: Exclude<MeterEventOutcome, { kind: 'sent' }>): Promise<void> {
    const log = { batchId: batch.id, identifier: batch.identifier, companyId: batch.companyId, attempt: batch.attempts };
    if (outcome.kind === 'retry') {
      const delay = retryDelaySeconds(batch.attempts, options.retryBaseSeconds, options.retryMaxSeconds);
      await scheduleBatchRetry(db, batch.id, delay, outcome.message);
      logger.warn({ ...log, delaySeconds: delay, reason: outcome.message }, 'meter event will be retried');
    } else if (outcome.kind === 'unconfirmed') {
      await markBatchUnconfirmed(db, batch.id, outcome.message);
      logger.error({ ...log, reason: outcome.message }, 'meter event unconfirmed: Stripe refused it in a way that does not say whether it was counted');
    } else {
      await markBatchFailed(db, batch.id, outcome.message);
      logger.error({ ...log, reason: outcome.message }, 'meter event refused by Stripe');
    }
  }

  /**
   * Collects accepted batches and marks them sent SENT_MARKS_PER_STATEMENT at a time (and the rest at the end of the
   * tick): one commit for many instead of one each, which the intake's commits were queuing behind. If the process
   * dies first, the batches stay leased and are resent after the lease with the same identifiers (Stripe
   * deduplicates them within its window); an answer that does not say whether Stripe counted the event makes the
   * batch `unconfirmed` (server/stripe/meter-event-outcome.ts).
   */
  function sentMarks() {
    let pending: ClaimedBatch[] = [];
    const flush = async () => {
      const marks = pending;
      pending = [];
      const lags = await markBatchesSent(db, marks.map((batch) => batch.id));
      if (lags.length > 0) deps.onMeterEventsSent?.(lags);
      for (const batch of marks) {
        logger.info({ batchId: batch.id, identifier: batch.identifier, companyId: batch.companyId, attempt: batch.attempts, value: batch.value, timestamp: batch.timestamp }, 'meter event sent');
      }
    };
    return {
      add: async (batch: ClaimedBatch) => {
        pending.push(batch);
        if (pending.length >= SENT_MARKS_PER_STATEMENT) await flush();
      },
      flush,
    };
  }

  return {
    /**
     * One pass: promote reconciliation's queued batches, form batches, expire those past the identifier window, lease
     * the due ones, send each once, settle.
     */
    async tick(): Promise<TickSummary> {
      await promoteQueuedBatches(db);
      if (deps.beforeTick) await deps.beforeTick().catch((err: Error) => logger.warn({ reason: err.message }, 'reporter pre-tick step failed'));
      if (deps.holdUncovered) await deps.holdUncovered();
      const summary: TickSummary = { batchesFormed: await formBatches(db), claimed: 0, sent: 0, retried: 0, failed: 0, unconfirmed: 0 };
      summary.unconfirmed = await expireUnconfirmedBatches(db, options.identifierWindowSeconds);
      if (summary.unconfirmed > 0) logger.error({ batches: summary.unconfirmed }, 'meter batches unconfirmed: their identifier window closed before Stripe confirmed them');
      const batches = await claimDueBatches(db, options.leaseSeconds, options.identifierWindowSeconds);
      summary.claimed = batches.length;
      const stripeFor = clientsForTick();
      const sent = sentMarks();
      await forEachConcurrently(batches, options.concurrency, async (batch) => {
        const outcome = await send(batch, stripeFor);
        if (outcome.kind === 'sent') await sent.add(batch);
        else await settleUnsent(batch, outcome);
        if (outcome.kind === 'sent') summary.sent += 1;
        else if (outcome.kind === 'retry') summary.retried += 1;
        else if (outcome.kind === 'unconfirmed') summary.unconfirmed += 1;
        else summary.failed += 1;
      });
      await sent.flush();
      return summary;
    },
  };
}

export type MeterReporter = ReturnType<typeof createMeterReporter>;
