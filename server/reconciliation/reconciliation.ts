/**
 * Reconciliation: compares, per (agency, Stripe customer, meter) and UTC day, the units Meterbridge recorded as sent
 * with Stripe's own totals (meter event summaries), over settled windows only, and repairs what it can:
 * - missing units → a corrective meter event with a new identifier, stored as a batch the reporter sends (so it is
 *   delivered exactly once like any usage);
 * - an unconfirmed batch → marked sent when Stripe's total shows it, else resent with a new identifier;
 * - excess units → the known possible doubles (windows.ts `possiblyDoubled`) cancelled by identifier while Stripe
 *   still allows it; any other excess is left for a person, with the amount.
 * Every run is stored with its per-pair results (runs-repository.ts).
 */
import type { Logger } from 'pino';
import type Stripe from 'stripe';
import type { Database } from '../../models/database';
import type { ReconciledWindow } from '../../models/schema';
import { AppError } from '../http/errors';
import {
  actionableBatches,
  agenciesWithBatches,
  claimCancellation,
  confirmBatch,
  insertCorrection,
  markCancellationFailed,
  meterIdsFromRules,
  pairsToCheck,
  resendBatch,
  windowTotals,
  type Pair,
} from './batches-repository';
import { decideWindow } from './decide';
import { agenciesToFollowUp, finishRun, insertPairResult, runDetail, startRun, type PairResult, type RunSummary, type RunTotals } from './runs-repository';
import { cancelMeterEvent, eventSummaries, findMeterIds } from './stripe-totals';
import { comparisonRange, windowsOf, type ComparisonRange } from './windows';
import { recordAuditStep } from '../audit/ambient-transaction';

/** How far back and how settled. */
export interface ReconciliationOptions {
  /** Windows (and sends) younger than this many seconds are not compared: Stripe aggregates asynchronously. */
  settleSeconds: number;
  /** Whole UTC days compared before the current one (at most 33: corrective events must be under 35 days old). */
  lookbackDays: number;
}

export interface ReconciliationDependencies {
  db: Database;
  /** The agency's Stripe client, or null when it has not connected Stripe. */
  stripeForAgency: (companyId: string) => Promise<Stripe | null>;
  logger: Logger;
  options: ReconciliationOptions;
  /** Called after a run stored repairs (corrections, resends), to have the reporter send them soon. */
  onRepairs?: () => void;
}

/** What a run is asked to cover. `now` is the run's clock (tests move it; default the real time). */
export interface RunRequest {
  companyId: string;
  locationId?: string | null;
  trigger: RunSummary['trigger'];
  now?: Date;
}

/** Time for the reporter to send a run's repairs, on top of the settle time, before the follow-up compares (seconds). */
const FOLLOW_UP_MARGIN_SECONDS = 15 * 60;

/** Stripe accepts meter events up to 35 days old; an hour of margin keeps a corrective event's send inside that. */
const OLDEST_CORRECTABLE_SECONDS = 35 * 86_400 - 3600;

/** Builds the use case. */
export function createReconciliation(deps: ReconciliationDependencies) {
  const { db, logger, options } = deps;

  async function reconcilePair(stripe: Stripe, pair: Pair, meterId: string | undefined, range: ComparisonRange, now: Date, runId: number): Promise<PairResult & { unconfirmedSettled: number }> {
    const result: PairResult = {
      locationId: pair.locationId, stripeCustomerId: pair.stripeCustomerId, meterEventName: pair.meterEventName, stripeMeterId: meterId ?? null,
      status: 'ok', windowsChecked: 0, windowsSkipped: 0, ourUnits: 0, stripeUnits: 0, missingUnits: 0, excessUnits: 0, correctedUnits: 0,
      leftForPersonUnits: 0, message: null, windows: [],
    };
    if (!meterId) return { ...result, unconfirmedSettled: 0, status: 'error', message: `No Stripe meter reads the event name "${pair.meterEventName}".` };
    const ours = new Map((await windowTotals(db, pair, range)).map((w) => [w.start, w]));
    const theirs = await eventSummaries(stripe, meterId, pair.stripeCustomerId, range);
    const actionable = await actionableBatches(db, pair, range, now);
    const oldestCorrectable = Math.floor(now.getTime() / 1000) - OLDEST_CORRECTABLE_SECONDS;
    let unconfirmedSettled = 0;

    for (const window of windowsOf(range)) {
      const mine = ours.get(window.start);
      const stripeValue = theirs.get(window.start) ?? 0;
      if (!mine && stripeValue === 0) continue;
      if (mine?.unsettled) {
        result.windowsSkipped += 1;
        result.windows.push({ ...window, ours: null, stripe: null, skipped: 'A send, a batch in flight or a cancellation is younger than the settle time.', actions: [] });
        continue;
      }
      result.windowsChecked += 1;
      const record: ReconciledWindow = { ...window, ours: mine?.ours ?? 0, stripe: stripeValue, actions: [] };
      result.ourUnits += record.ours!;
      result.stripeUnits += stripeValue;
      if (!Number.isInteger(stripeValue)) {
        record.actions.push({ kind: 'flag', units: 0, message: `Stripe's total ${stripeValue} is not whole units: something else reports to this meter.` });
        result.leftForPersonUnits += Math.ceil(Math.abs(stripeValue - record.ours!)); // whole units: the column is bigint
        result.windows.push(record);
        continue;
      }
      const facts = actionable.get(window.start) ?? { unconfirmed: [], cancellable: [] };
      const decision = decideWindow({ ours: record.ours!, stripe: stripeValue, ...facts });
      result.missingUnits += decision.missing;
      result.excessUnits += decision.excess;
      for (const action of decision.actions) {
        if (action.kind === 'confirm') {
          if (await confirmBatch(db, action.batch.batchId)) unconfirmedSettled += 1;
          record.actions.push({ kind: 'confirm', units: action.batch.value, batchId: action.batch.batchId, identifier: action.batch.identifier });
        } else if (action.kind === 'resend') {
          const batchId = await resendBatch(db, action.batch.batchId, runId);
          if (batchId) result.correctedUnits += action.batch.value;
          record.actions.push(batchId
            ? { kind: 'resend', units: action.batch.value, batchId, identifier: action.batch.identifier }
            : { kind: 'deferred', units: action.batch.value, batchId: action.batch.batchId, message: 'The batch was settled meanwhile.' });
        } else if (action.kind === 'correct') {
          const timestamp = window.end - 1;
          if (timestamp < oldestCorrectable) {
            result.leftForPersonUnits += action.units;
            record.actions.push({ kind: 'flag', units: action.units, message: 'Missing units older than Stripe accepts meter events (35 days).' });
            continue;
          }
          const batchId = await insertCorrection(db, pair, runId, window.start, action.units, timestamp);
          if (batchId) result.correctedUnits += action.units;
          record.actions.push(batchId
            ? { kind: 'correct', units: action.units, batchId }
            : { kind: 'deferred', units: action.units, message: 'This run already stored that correction.' });
        } else if (action.kind === 'cancel') {
          record.actions.push(await cancel(stripe, pair, action.batch, runId, result));
        } else {
          result.leftForPersonUnits += action.units;
          record.actions.push({ kind: 'flag', units: action.units, message: 'Stripe counted more than Meterbridge sent, and no event of ours explains it.' });
        }
      }
      if (record.actions.length > 0) result.windows.push(record);
    }
    result.status = result.leftForPersonUnits > 0 ? 'flagged' : result.missingUnits + result.excessUnits > 0 ? 'corrected' : 'ok';
    return Object.assign(result, { unconfirmedSettled });
  }

  async function cancel(stripe: Stripe, pair: Pair, batch: { batchId: number; identifier: string; value: number }, runId: number, result: PairResult) {
    const base = { units: batch.value, batchId: batch.batchId, identifier: batch.identifier };
    if (!(await claimCancellation(db, pair.companyId, pair.meterEventName, batch, runId))) {
      return { ...base, kind: 'deferred' as const, message: 'Its cancellation was already asked for.' };
    }
    try {
      await cancelMeterEvent(stripe, pair.meterEventName, batch.identifier);
      result.correctedUnits += batch.value;
      return { ...base, kind: 'cancel' as const };
    } catch (err) {
      const message = `Stripe refused the cancellation: ${(err as Error).message}`;
      await markCancellationFailed(db, batch.identifier, message);
      result.leftForPersonUnits += batch.value;
      return { ...base, kind: 'flag' as const, message };
    }
  }

  /**
   * One run for an agency, or one sub-account's customers. Pairs are compared one after another; a pair Stripe
   * refuses is stored as `error` and the run goes on.
   * @throws AppError 409 `stripe_not_connected`, 409 `reconciliation_running`; database errors.
   */
  async function run(request: RunRequest): Promise<RunSummary & { pairs: PairResult[] }> {
    const { companyId } = request;
    const locationId = request.locationId ?? null;
    const now = request.now ?? new Date();
    const stripe = await deps.stripeForAgency(companyId);
    if (!stripe) throw new AppError('stripe_not_connected', 'Connect your Stripe account first.');
    const range = comparisonRange(now, options.settleSeconds, options.lookbackDays);
    // "Reconcile now"'s audit entry commits with the run's row (server/audit/audited.ts).
    const runId = await db.transaction(async (tx) => {
      const id = await startRun(tx, { companyId, locationId, trigger: request.trigger, settledBefore: range.settledBefore, windowsFrom: range.from });
      await recordAuditStep(tx, { id, locationId, trigger: request.trigger });
      return id;
    });
    const totals: RunTotals = { pairsChecked: 0, pairsWithDrift: 0, pairsFailed: 0, windowsChecked: 0, windowsSkipped: 0, missingUnits: 0, excessUnits: 0, correctedUnits: 0, leftForPersonUnits: 0, unconfirmedSettled: 0 };
    try {
      const pairs = await pairsToCheck(db, companyId, locationId, range);
      const meterIds = await meterIdsFromRules(db, companyId);
      const unknown = new Set(pairs.map((p) => p.meterEventName).filter((name) => !meterIds.has(name)));
      if (unknown.size > 0) for (const [name, id] of await findMeterIds(stripe, unknown)) meterIds.set(name, id);
      for (const pair of pairs) {
        let result: PairResult & { unconfirmedSettled?: number };
        try {
          result = await reconcilePair(stripe, pair, meterIds.get(pair.meterEventName), range, now, runId);
        } catch (err) {
          if (!isStripeError(err)) throw err;
          result = { locationId: pair.locationId, stripeCustomerId: pair.stripeCustomerId, meterEventName: pair.meterEventName, stripeMeterId: meterIds.get(pair.meterEventName) ?? null, status: 'error', windowsChecked: 0, windowsSkipped: 0, ourUnits: 0, stripeUnits: 0, missingUnits: 0, excessUnits: 0, correctedUnits: 0, leftForPersonUnits: 0, message: `Stripe: ${(err as Error).message}`, windows: [] };
        }
        const { unconfirmedSettled = 0, ...stored } = result;
        await insertPairResult(db, runId, companyId, stored);
        totals.pairsChecked += 1;
        if (stored.status === 'error') totals.pairsFailed += 1;
        if (stored.missingUnits + stored.excessUnits > 0 || stored.leftForPersonUnits > 0) totals.pairsWithDrift += 1;
        totals.windowsChecked += stored.windowsChecked;
        totals.windowsSkipped += stored.windowsSkipped;
        totals.missingUnits += stored.missingUnits;
        totals.excessUnits += stored.excessUnits;
        totals.correctedUnits += stored.correctedUnits;
        totals.leftForPersonUnits += stored.leftForPersonUnits;
        totals.unconfirmedSettled += unconfirmedSettled;
      }
      await finishRun(db, runId, totals);
    } catch (err) {
      await finishRun(db, runId, totals, `The run stopped: ${(err as Error).message}`).catch(() => undefined);
      throw err;
    }
    if (totals.correctedUnits > 0) deps.onRepairs?.();
    const log = { runId, companyId, locationId, ...totals };
    if (totals.missingUnits + totals.excessUnits > 0 || totals.pairsFailed > 0) logger.warn(log, 'reconciliation found drift');
    else logger.info(log, 'reconciliation found no drift');
    return runDetail(db, companyId, runId, null);
  }

  /** Runs each agency in turn; one whose run fails is logged and the others go on. @returns the runs made. */
  async function runEach(companies: string[], trigger: RunSummary['trigger'], now: Date): Promise<number> {
    let runs = 0;
    for (const companyId of companies) {
      try {
        if (!(await deps.stripeForAgency(companyId))) continue;
        await run({ companyId, trigger, now });
        runs += 1;
      } catch (err) {
        logger.error({ err, companyId, trigger }, 'reconciliation run failed');
      }
    }
    return runs;
  }

  return {
    run,
    /** The nightly run: every agency with batches in the range and Stripe connected. @returns the runs made. */
    runScheduled: async (now = new Date()) => runEach(await agenciesWithBatches(db, comparisonRange(now, options.settleSeconds, options.lookbackDays)), 'scheduled', now),
    /**
     * A follow-up run for each agency whose latest run repaired drift, once those repairs have settled (the settle time
     * plus FOLLOW_UP_MARGIN_SECONDS after it): Stripe cancels a meter event only within 24 hours of receiving it, so a
     * repair that turns out doubled must be found well before the next nightly run. A follow-up never calls another.
     * @returns the runs made.
     */
    runFollowUps: async (now = new Date()) => runEach(await agenciesToFollowUp(db, options.settleSeconds + FOLLOW_UP_MARGIN_SECONDS), 'follow_up', now),
  };
}

export type Reconciliation = ReturnType<typeof createReconciliation>;

/** A stripe-node error (an answer from Stripe or a failed connection to it), as opposed to our own failure. */
function isStripeError(err: unknown): boolean {
  return typeof (err as { type?: unknown })?.type === 'string' && String((err as { type: string }).type).startsWith('Stripe');
}
