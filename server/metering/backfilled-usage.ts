/**
 * Usage already imported by a backfill (server/backfill/). A backfill skips messages a webhook delivered; this is
 * the other direction: a webhook arriving after a backfill imported the same message (HighLevel retries a delivery
 * for hours) must not count it a second time.
 */
import { sql } from 'drizzle-orm';
import { selectRows, type Executor } from '../../models/database';
import type { UsageDraft } from './normalise';

/** The delivery key (`activity_events.webhook_id`) of a message imported by a backfill. */
export function backfillDeliveryKey(locationId: string, messageId: string): string {
  return `backfill:${locationId}:${messageId}`;
}

/**
 * Drops the drafts whose message a backfill already imported for the same sub-account (one indexed lookup; none
 * when no draft has a message id).
 * @returns the drafts still to record; all of them when nothing was imported.
 */
export async function withoutBackfilledUsage(db: Executor, usage: UsageDraft[]): Promise<UsageDraft[]> {
  const keys = [...new Set(usage.filter((u) => u.sourceId !== null).map((u) => backfillDeliveryKey(u.locationId, u.sourceId!)))];
  if (keys.length === 0) return usage;
  const found = await selectRows<{ key: string }>(
    db,
    sql`select webhook_id as key from activity_events where webhook_id in (${sql.join(keys.map((k) => sql`${k}`), sql`, `)})`,
  );
  if (found.length === 0) return usage;
  const imported = new Set(found.map((f) => f.key));
  return usage.filter((u) => u.sourceId === null || !imported.has(backfillDeliveryKey(u.locationId, u.sourceId)));
}
