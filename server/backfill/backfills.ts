/**
 * Backfill use cases behind the settings API: start one for a sub-account, read its progress, cancel it, and bill
 * the usage it imported. The pages themselves are read by the `backfill` job (backfill-runner.ts).
 */
import type { Database } from '../../models/database';
import { AppError, badRequest, notFound } from '../http/errors';
import { applyHeldUsage } from '../metering/held-usage';
import { importedBy, importedUsage, type ImportedUsage } from './backfill-ledger';
import {
  cancelBackfillJob,
  findActiveBackfillJob,
  findBackfillJob,
  insertBackfillJob,
  listBackfillJobs,
  lockBackfillJob,
  lockSubAccountRow,
  markBillRequested,
  type BackfillJob,
} from './backfill-repository';
import { BACKFILL_CHANNELS, decodePosition, MESSAGE_CHANNELS, type BackfillChannel } from './export-position';

/** The longest range one backfill may cover, in days. */
export const MAX_RANGE_DAYS = 366;
/** How far `endAt` may lie ahead of the server's clock (a browser clock running fast), in milliseconds. */
const CLOCK_SKEW_MS = 60_000;
const DAY_MS = 86_400_000;

/** A request to start a backfill. Times are ISO 8601; `startAt` inclusive, `endAt` exclusive. */
export interface StartBackfillInput {
  startAt: string;
  endAt: string;
  /** Default: the four message channels (SMS, Call, Email, WhatsApp); `VoiceAI` only when named. */
  channels?: BackfillChannel[];
  /** Count the imported usage against the thresholds as it is imported (default false: held until billed). */
  bill?: boolean;
}

/** A job as the settings API shows it. Times are ISO 8601 strings. */
export interface BackfillView {
  id: number;
  locationId: string;
  channels: BackfillChannel[];
  startAt: string;
  endAt: string;
  bill: boolean;
  status: BackfillJob['status'];
  /** The channel being read (null once finished). */
  currentChannel: BackfillChannel | null;
  pages: number;
  messagesSeen: number;
  messagesImported: number;
  /** Already known: delivered by webhook or imported by an earlier backfill. */
  messagesDuplicate: number;
  /** Seen but carrying no usage: other message types, activity entries, outside the range, unreadable. */
  messagesSkipped: number;
  /** Failures in a row (reset by a successful page). */
  attempts: number;
  lastError: string | null;
  /** When a job waiting out a failure is tried again. */
  nextAttemptAt: string | null;
  billedAt: string | null;
  startedAt: string | null;
  finishedAt: string | null;
  createdAt: string;
  updatedAt: string;
}

/** One job with the usage it imported per metric. */
export interface BackfillDetail extends BackfillView {
  usage: ImportedUsage[];
}

/** What "bill imported usage" did. */
export interface BillResult {
  backfill: BackfillDetail;
  /** Held usage records offered to the counters by this request (0 when they had been already). */
  recordsOffered: number;
  /** Units the offer made due, per metric (meter reports written; in shadow mode, "would bill" reports). */
  unitsDue: Array<{ metric: string; units: number }>;
}

/**
 * Builds the backfill use cases.
 * @param deps.db the database; @param deps.now the clock that decides what "the future" is (default the system clock).
 */
export function createBackfills(deps: { db: Database; now?: () => Date }) {
  const { db } = deps;
  const now = deps.now ?? (() => new Date());

  async function detail(locationId: string, job: BackfillJob): Promise<BackfillDetail> {
    return { ...toView(job), usage: await importedUsage(db, locationId, job.id) };
  }

  async function existing(locationId: string, backfillId: string): Promise<BackfillJob> {
    const id = parseId(backfillId);
    const job = id === null ? null : await findBackfillJob(db, locationId, id);
    if (!job) throw notFound(`No backfill ${backfillId} for this sub-account.`);
    return job;
  }

  return {
    /**
     * Queues a backfill of the sub-account's history.
     * @throws AppError 400 `invalid_range` (start not before end, end in the future, longer than MAX_RANGE_DAYS),
     *   404 (unknown sub-account), 409 `not_installed` (the sub-account uninstalled the app) or `backfill_active`
     *   (one is already queued or running for it: at most one at a time).
     */
    async start(locationId: string, input: StartBackfillInput): Promise<BackfillView> {
      const startAt = new Date(input.startAt);
      const endAt = new Date(input.endAt);
      if (!(startAt < endAt)) throw badRequest('invalid_range', 'startAt must be before endAt.');
      if (endAt.getTime() > now().getTime() + CLOCK_SKEW_MS) throw badRequest('invalid_range', 'endAt is in the future: only past messages can be imported.');
      if (endAt.getTime() - startAt.getTime() > MAX_RANGE_DAYS * DAY_MS) {
        throw badRequest('invalid_range', `A backfill covers at most ${MAX_RANGE_DAYS} days; split the range.`);
      }
      const wanted = new Set<BackfillChannel>(input.channels ?? MESSAGE_CHANNELS);
      const channels = BACKFILL_CHANNELS.filter((c) => wanted.has(c));
      return db.transaction(async (tx) => {
        const sub = await lockSubAccountRow(tx, locationId);
        if (!sub) throw notFound(`No sub-account ${locationId}.`);
        if (sub.status !== 'active') throw new AppError('not_installed', 'Meterbridge is not installed in this sub-account; its history cannot be read.');
        const active = await findActiveBackfillJob(tx, locationId);
        if (active) throw new AppError('backfill_active', `Backfill ${active.id} is still ${active.status} for this sub-account; wait for it or cancel it.`);
        const job = await insertBackfillJob(tx, {
          companyId: sub.companyId,
          locationId,
          channels,
          startAt,
          endAt: new Date(Math.min(endAt.getTime(), now().getTime())),
          bill: input.bill ?? false,
        });
        return toView(job);
      });
    },

    /** The sub-account's backfills, newest first (at most 100). */
    async list(locationId: string): Promise<BackfillView[]> {
      return (await listBackfillJobs(db, locationId, 100)).map(toView);
    },

    /** One backfill with its imported usage. @throws AppError 404 when the sub-account has no such backfill. */
    async get(locationId: string, backfillId: string): Promise<BackfillDetail> {
      return detail(locationId, await existing(locationId, backfillId));
    },

    /**
     * Cancels a queued or running backfill: no further page is read (a page being stored right now is discarded);
     * what was imported stays, held or billed as it was. Cancelling a cancelled backfill changes nothing.
     * @throws AppError 404 (no such backfill), 409 `not_cancellable` (it already completed or failed).
     */
    async cancel(locationId: string, backfillId: string): Promise<BackfillView> {
      const job = await existing(locationId, backfillId);
      if (job.status === 'cancelled') return toView(job);
      const cancelled = await cancelBackfillJob(db, job.id);
      if (!cancelled) {
        const current = (await findBackfillJob(db, locationId, job.id))!;
        if (current.status === 'cancelled') return toView(current);
        throw new AppError('not_cancellable', `Backfill ${job.id} has already ${current.status === 'completed' ? 'completed' : 'failed'}.`);
      }
      return toView(cancelled);
    },

    /**
     * Bills what the backfill imported: in ONE transaction, its held usage is offered to the counters through the
     * same thresholds as live usage (server/metering/held-usage.ts) and marked counted, and the pages it has yet to
     * read will be billed as they are imported. Idempotent: asking again offers nothing new.
     * @throws AppError 404 when the sub-account has no such backfill.
     */
    async bill(locationId: string, backfillId: string): Promise<BillResult> {
      const { id } = await existing(locationId, backfillId);
      const { job, applied } = await db.transaction(async (tx) => {
        // The job's row lock orders this against the page being imported (import-page.ts reads `bill` under it).
        await lockBackfillJob(tx, id);
        const applied = await applyHeldUsage(tx, locationId, importedBy(id));
        return { job: await markBillRequested(tx, id), applied };
      });
      const units = new Map<string, number>();
      for (const report of applied.crossings.reports) units.set(report.metric, (units.get(report.metric) ?? 0) + Number(report.units));
      return {
        backfill: await detail(locationId, job),
        recordsOffered: applied.records,
        unitsDue: [...units].map(([metric, n]) => ({ metric, units: n })),
      };
    },
  };
}

/** The backfill use cases (start, list, get, cancel, bill). */
export type Backfills = ReturnType<typeof createBackfills>;

/** The API view of a job. */
export function toView(job: BackfillJob): BackfillView {
  const finished = job.status !== 'queued' && job.status !== 'running';
  const iso = (d: Date | null) => (d ? d.toISOString() : null);
  return {
    id: job.id,
    locationId: job.locationId,
    channels: job.channels,
    startAt: job.startAt.toISOString(),
    endAt: job.endAt.toISOString(),
    bill: job.bill,
    status: job.status,
    currentChannel: finished ? null : currentChannel(job),
    pages: job.pages,
    messagesSeen: job.messagesSeen,
    messagesImported: job.messagesImported,
    messagesDuplicate: job.messagesDuplicate,
    messagesSkipped: job.messagesSeen - job.messagesImported - job.messagesDuplicate,
    attempts: job.attempts,
    lastError: job.lastError,
    nextAttemptAt: job.status === 'running' && job.attempts > 0 ? iso(job.lockedUntil) : null,
    billedAt: iso(job.billedAt),
    startedAt: iso(job.startedAt),
    finishedAt: iso(job.finishedAt),
    createdAt: job.createdAt.toISOString(),
    updatedAt: job.updatedAt.toISOString(),
  };
}

function currentChannel(job: BackfillJob): BackfillChannel | null {
  try {
    return decodePosition(job.cursor, job.channels).channel;
  } catch {
    return null; // an unreadable position fails the job at its next page (backfill-runner.ts)
  }
}

function parseId(text: string): number | null {
  if (!/^\d{1,15}$/.test(text)) return null;
  const id = Number(text);
  return Number.isSafeInteger(id) && id > 0 ? id : null;
}
