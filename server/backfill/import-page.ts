/**
 * Stores one page of HighLevel's export in ONE transaction: the page's new messages (activity events + usage),
 * their crossings when the job bills, and the job's advanced position and counters. Either all of it commits or
 * none of it does, so a crash anywhere before the commit leaves the job at the same position and the page is
 * fetched again: no message lost, none doubled (the delivery keys would refuse a second copy anyway).
 */
import { sql } from 'drizzle-orm';
import { selectRows, type Database } from '../../models/database';
import type { EmailBillingSource } from '../metering/email-billing';
import { lockMessages } from '../metering/backfilled-usage';
import { countUsage } from '../metering/billing-rule';
import { findKnownMessageIds, insertImportedMessages } from './backfill-ledger';
import { lockBackfillJob, savePageProgress, type BackfillJob } from './backfill-repository';
import { mapCallLog } from './call-logs';
import { mapExportedMessage, type ImportableMessage, type MappedMessage } from './export-message';
import { encodePosition, nextPosition, type ExportPosition } from './export-position';

/** What a page did to the job. */
export interface PageResult {
  job: BackfillJob;
  seen: number;
  imported: number;
  duplicate: number;
  /** Meter reports (threshold crossings) the page created; 0 unless the job bills. */
  crossings: number;
}

/**
 * @param db the database.
 * @param jobId the job the page was fetched for.
 * @param fetchedAt the position the page was fetched from, as stored when fetching; if the job has moved on since
 *   (another runner took it over) or is no longer running (cancelled), nothing is written.
 * @param page the page's messages, as received, and its `nextCursor`.
 * @param leaseSeconds the lease the job gets after the page.
 * @returns the outcome, or null when nothing was written.
 * @throws the database error (the transaction is rolled back; the job stays where it was).
 */
export async function importPage(
  db: Database,
  jobId: number,
  fetchedAt: { stored: string | null; position: ExportPosition },
  page: { messages: unknown[]; nextCursor: string | null },
  leaseSeconds: number,
): Promise<PageResult | null> {
  return db.transaction(async (tx) => {
    const job = await lockBackfillJob(tx, jobId);
    if (!job || job.status !== 'running' || job.cursor !== fetchedAt.stored) return null;

    const channel = fetchedAt.position.channel;
    const [agency] = await selectRows<{ source: EmailBillingSource }>(
      tx,
      sql`select email_billing_source as source from agencies where company_id = ${job.companyId}`,
    );
    const context = { locationId: job.locationId, startAt: job.startAt, endAt: job.endAt };
    const candidates = new Map<string, ImportableMessage>();
    /** Other ids a webhook may have stored the same message under (a Voice AI call's own id). */
    const alternates = new Map<string, string[]>();
    let withUsage = 0;
    for (const value of page.messages) {
      const mapped: MappedMessage & { alternateIds?: string[] } = channel === 'VoiceAI' ? mapCallLog(value, context) : mapExportedMessage(value, { ...context, channel, emailBillingSource: agency?.source });
      if (mapped.kind !== 'usage') continue;
      withUsage += 1;
      // The same message twice on a page is one message: the second copy counts as a duplicate.
      if (candidates.has(mapped.message.messageId)) continue;
      candidates.set(mapped.message.messageId, mapped.message);
      const others = (mapped.alternateIds ?? []).filter((id) => id !== mapped.message.messageId);
      if (others.length > 0) alternates.set(mapped.message.messageId, others);
    }
    // Locked first, so a webhook carrying one of these messages either committed already (and is found) or waits.
    // A Voice AI call's own id is a second identity (no message key); messages have their id and message key.
    const identities = [
      ...[...candidates.values()].map((m) => ({ messageId: m.messageId, messageKey: m.messageKey })),
      ...[...alternates.values()].flat().map((id) => ({ messageId: id, messageKey: null })),
    ];
    await lockMessages(tx, job.locationId, identities.flatMap((m) => (m.messageKey ? [m.messageId, m.messageKey] : [m.messageId])));
    const known = await findKnownMessageIds(tx, job.locationId, identities);
    const isKnown = (m: ImportableMessage) => known.has(m.messageId) || (alternates.get(m.messageId) ?? []).some((id) => known.has(id));
    const fresh = [...candidates.values()].filter((m) => !isKnown(m));
    // `bill` is read under the job's row lock: a "bill imported usage" request either sees this page's held usage
    // or makes this page bill as it imports, never neither.
    const stored = await insertImportedMessages(tx, job, fresh, job.bill);
    let crossings = 0;
    if (job.bill && stored.length > 0) {
      // Imported history billed now: billable from now, so it goes on the open period's invoice (billing-rule.ts `history`).
      crossings = (await countUsage(tx, stored.flatMap((m) => m.usage.map((draft) => ({ draft, activityEventId: m.activityEventId, history: true }))))).reports.length;
    }

    const next = nextPosition(fetchedAt.position, job.channels, page.nextCursor);
    const updated = await savePageProgress(tx, job.id, {
      cursor: next === null ? null : encodePosition(next),
      seen: page.messages.length,
      imported: stored.length,
      duplicate: withUsage - stored.length,
      leaseSeconds,
    });
    return { job: updated, seen: page.messages.length, imported: stored.length, duplicate: withUsage - stored.length, crossings };
  });
}
