/**
 * The `backfill` job's work: takes due backfills (queued, or running with an expired lease), reads each one's export
 * (and, for the VoiceAI channel, its Voice AI call logs: call-logs.ts) page by page from its saved position and
 * stores every page in one transaction (import-page.ts).
 *
 * Failures: the API client already waits out HighLevel's 429s and retries 502/503/504 and network errors on its
 * own. What still fails reaches the job as `lastError`, with HighLevel's message:
 * - retried later, from the same position, after a doubling delay (1 min, 2, 4, … up to 30 min): rate limits,
 *   5xx, network failures, a token endpoint hiccup, a page Meterbridge could not store; after `maxAttempts`
 *   failures in a row the job fails;
 * - fatal at once: a grant that needs reinstalling (`needs_reinstall`, no installation left), 400/403/404 from
 *   HighLevel (a request that will not get better, e.g. an expired cursor), a body that is not an export page, a
 *   cursor that does not move.
 * Every run gives each due job at most `pagesPerJobPerRun` pages, then lets the next one have its turn; a job whose
 * turn ended drops its lease, so the next run continues it at once.
 */
import type { Logger } from 'pino';
import type { Database } from '../../models/database';
import { HighLevelApiError, type HighLevelApiClient } from '../highlevel/api-client';
import { ReinstallRequiredError } from '../highlevel/installation-tokens';
import { HighLevelOAuthError } from '../highlevel/oauth-token-endpoint';
import { claimNextBackfillJob, recordFailedAttempt, releaseLease, type BackfillJob } from './backfill-repository';
import { fetchCallLogPage } from './call-logs';
import { EXPORT_PAGE_SIZE, ExportShapeError, fetchExportPage } from './export-client';
import { decodePosition } from './export-position';
import { importPage } from './import-page';

/** Tuning; the defaults suit production. Times are seconds unless named otherwise. */
export interface BackfillRunnerOptions {
  /** How long a runner owns a job it works on; renewed after every page. Default 300. */
  leaseSeconds?: number;
  /** Failures in a row before a job fails. Default 5. */
  maxAttempts?: number;
  /** First retry delay, doubled per failure in a row, capped at `retryMaxSeconds`. Defaults 60 and 1,800. */
  retryBaseSeconds?: number;
  retryMaxSeconds?: number;
  /** Pages one job gets per run before the next job's turn. Default 20. */
  pagesPerJobPerRun?: number;
  /** A run takes no new page after this many milliseconds. Default 50,000. */
  runBudgetMs?: number;
  /** Messages per export page. Default 100. */
  pageSize?: number;
  /** A job reading more pages than this fails (a guard against an export that never ends). Default 100,000. */
  maxPagesPerJob?: number;
}

/** What one run did (logged by the scheduler; read by tests). */
export interface BackfillRunSummary {
  jobs: number;
  pages: number;
  imported: number;
  duplicate: number;
  failed: number;
  retrying: number;
  completed: number;
}

/** What the runner needs: the database, the HighLevel API client (tokens, Version header, 429 waits) and a logger. */
export interface BackfillRunnerDependencies {
  db: Database;
  api: HighLevelApiClient;
  logger: Logger;
  options?: BackfillRunnerOptions;
}

/** A job's export went wrong in a way retrying cannot fix. */
class FatalExportError extends Error {}

/** Builds the runner the `backfill` scheduled job calls (`runDue`). */
export function createBackfillRunner(deps: BackfillRunnerDependencies) {
  const o = {
    leaseSeconds: 300,
    maxAttempts: 5,
    retryBaseSeconds: 60,
    retryMaxSeconds: 1_800,
    pagesPerJobPerRun: 20,
    runBudgetMs: 50_000,
    pageSize: EXPORT_PAGE_SIZE,
    maxPagesPerJob: 100_000,
    ...deps.options,
  };

  /** Reads up to `pagesPerJobPerRun` pages of one claimed job; failures are recorded on the job, never thrown. */
  async function work(claimed: BackfillJob, deadline: number, summary: BackfillRunSummary): Promise<void> {
    let job = claimed;
    for (let turn = 0; turn < o.pagesPerJobPerRun && Date.now() < deadline; turn++) {
      try {
        if (job.pages >= o.maxPagesPerJob) throw new FatalExportError(`The export did not end after ${o.maxPagesPerJob} pages.`);
        const position = positionOf(job);
        const range = { locationId: job.locationId, startAt: job.startAt, endAt: job.endAt, cursor: position.cursor };
        const channel = position.channel;
        const page =
          channel === 'VoiceAI'
            ? await fetchCallLogPage(deps.api, range)
            : await fetchExportPage(deps.api, { ...range, channel, limit: o.pageSize });
        if (page.nextCursor !== null && page.nextCursor === position.cursor) {
          throw new FatalExportError(`HighLevel's export returned the same ${position.channel} cursor again; the export does not advance.`);
        }
        const result = await importPage(deps.db, job.id, { stored: job.cursor, position }, page, o.leaseSeconds);
        if (!result) return; // cancelled, or another runner took the job over: it owns the job now
        job = result.job;
        summary.pages += 1;
        summary.imported += result.imported;
        summary.duplicate += result.duplicate;
        if (job.status === 'completed') {
          summary.completed += 1;
          deps.logger.info({ backfillId: job.id, locationId: job.locationId, pages: job.pages, imported: job.messagesImported }, 'backfill completed');
          return;
        }
      } catch (err) {
        await fail(job, err, summary);
        return;
      }
    }
    await releaseLease(deps.db, job.id);
  }

  async function fail(job: BackfillJob, err: unknown, summary: BackfillRunSummary): Promise<void> {
    const { message, fatal } = describeFailure(err);
    const retryInSeconds = Math.min(o.retryMaxSeconds, o.retryBaseSeconds * 2 ** Math.min(job.attempts, 20));
    const status = await recordFailedAttempt(deps.db, job.id, { message, fatal, maxAttempts: o.maxAttempts, retryInSeconds });
    if (status === 'failed') summary.failed += 1;
    if (status === 'running') summary.retrying += 1;
    deps.logger.warn({ err, backfillId: job.id, locationId: job.locationId, status, attempt: job.attempts + 1 }, 'backfill page failed');
  }

  return {
    /**
     * The scheduled job: works on every due backfill, oldest first, within the run's budget.
     * @returns what the run did.
     * @throws only a database error while claiming (the scheduler logs it; the next run tries again).
     */
    async runDue(): Promise<BackfillRunSummary> {
      const summary: BackfillRunSummary = { jobs: 0, pages: 0, imported: 0, duplicate: 0, failed: 0, retrying: 0, completed: 0 };
      const deadline = Date.now() + o.runBudgetMs;
      const done: number[] = [];
      while (Date.now() < deadline) {
        const job = await claimNextBackfillJob(deps.db, o.leaseSeconds, done);
        if (!job) break;
        done.push(job.id);
        summary.jobs += 1;
        await work(job, deadline, summary);
      }
      return summary;
    },
  };
}

/** The runner of the `backfill` scheduled job. */
export type BackfillRunner = ReturnType<typeof createBackfillRunner>;

function positionOf(job: BackfillJob) {
  try {
    return decodePosition(job.cursor, job.channels);
  } catch (err) {
    throw new FatalExportError(`The saved export position cannot be read: ${(err as Error).message}`);
  }
}

/**
 * The text shown to the agency for a failure, and whether retrying is pointless. HighLevel's own message is kept
 * (the API client has already removed any token from it); Meterbridge's internal errors are logged, not shown.
 */
export function describeFailure(err: unknown): { message: string; fatal: boolean } {
  if (err instanceof ReinstallRequiredError) return { message: `Reinstall required: ${err.message}`, fatal: true };
  if (err instanceof HighLevelApiError) {
    const fatal = err.code === 'bad_request' || err.code === 'not_found' || err.code === 'unauthorized';
    return { message: `HighLevel answered ${err.status || 'nothing'}: ${err.message}`, fatal };
  }
  if (err instanceof HighLevelOAuthError) {
    return { message: err.reinstallRequired ? `Reinstall required: ${err.message}` : `HighLevel token endpoint: ${err.message}`, fatal: err.reinstallRequired };
  }
  if (err instanceof ExportShapeError || err instanceof FatalExportError) return { message: err.message, fatal: true };
  return { message: 'Meterbridge could not store a page of the export; it will be fetched again.', fatal: false };
}
