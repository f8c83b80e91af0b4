/**
 * The alerts job: sends every pending channel delivery that is due, and records each attempt. A 2xx acknowledges it
 * (`delivered`); anything else (another status, a timeout, a network error) is retried with exponential backoff —
 * RETRY_BASE_SECONDS × 2^(attempt − 1), at most RETRY_CAP_SECONDS apart — until MAX_ATTEMPTS, then `failed`.
 * Runs every 15 s and is nudged after an alert is raised (server/jobs/scheduled-jobs.ts); one run at a time across
 * replicas (the scheduler's advisory lock), so a delivery is never sent twice at once.
 */
import { and, asc, eq, lte, sql } from 'drizzle-orm';
import type { Logger } from 'pino';
import type { Database } from '../../models/database';
import { alertDeliveries, alertDeliveryAttempts, alerts, alertSettings, highLevelTriggerSubscriptions } from '../../models/schema';
import type { SecretBox } from '../crypto/secret-box';
import type { TokenOwner } from '../highlevel/installation-tokens';
import { KINDS } from './kinds';
import { type SendResult, sendTrigger, sendWebhook, webhookBody } from './senders';

/** First retry after this many seconds; each further one waits twice as long. */
export const RETRY_BASE_SECONDS = 60;
/** Never more than this many seconds between attempts (6 hours). */
export const RETRY_CAP_SECONDS = 6 * 3600;
/** Attempts before a delivery is given up (`failed`): about two days of retries. */
export const MAX_ATTEMPTS = 14;
/** Deliveries sent per run; the next run (or nudge) takes the rest. */
const BATCH = 100;

/** Seconds to wait after failed attempt number `attempt` (1-based). */
export function retryDelaySeconds(attempt: number): number {
  return Math.min(RETRY_CAP_SECONDS, RETRY_BASE_SECONDS * 2 ** (attempt - 1));
}

/** What one run did. */
export interface DeliveryRun {
  delivered: number;
  retrying: number;
  failed: number;
}

/** The payload every channel carries: the alert's facts. */
export function alertPayload(alert: typeof alerts.$inferSelect): Record<string, unknown> {
  return { alertId: alert.id, kind: alert.kind, companyId: alert.companyId, locationId: alert.locationId, title: alert.title, message: alert.message, ...alert.data };
}

/** The sender of due deliveries (`deliverDue`); `accessToken` gives the sub-account's HighLevel token for triggers. */
export function createAlertDelivery(deps: {
  db: Database;
  secretBox: SecretBox;
  /** The sub-account's HighLevel access token (server/highlevel/installation-tokens.ts). */
  accessToken: (owner: TokenOwner) => Promise<string>;
  logger: Logger;
}) {
  const { db } = deps;

  async function attempt(delivery: typeof alertDeliveries.$inferSelect, alert: typeof alerts.$inferSelect): Promise<SendResult> {
    if (delivery.channel === 'webhook') {
      const [settings] = await db.select().from(alertSettings).where(eq(alertSettings.companyId, delivery.companyId));
      if (!settings?.webhookSecret) return { status: null, error: 'The webhook has no signing secret any more.' };
      const body = webhookBody(KINDS[alert.kind].eventType, alert.createdAt, alertPayload(alert));
      return sendWebhook(delivery.target, deps.secretBox.open(settings.webhookSecret), alert.id, body);
    }
    const [subscription] = await db.select().from(highLevelTriggerSubscriptions).where(eq(highLevelTriggerSubscriptions.id, delivery.subscriptionId ?? ''));
    if (!subscription) return { status: null, error: 'The workflow no longer uses this trigger (HighLevel sent DELETED).' };
    let token: string;
    try {
      token = await deps.accessToken({ locationId: subscription.locationId });
    } catch (err) {
      return { status: null, error: `No HighLevel token for the sub-account: ${(err as Error).message}` };
    }
    return sendTrigger(subscription.targetUrl, token, alertPayload(alert));
  }

  return {
    /**
     * Sends the deliveries due at `now` (default: the clock) and records each attempt.
     * @throws only the database's errors (a failed send is recorded, never thrown).
     */
    async deliverDue(now = new Date()): Promise<DeliveryRun> {
      const due = await db
        .select({ delivery: alertDeliveries, alert: alerts })
        .from(alertDeliveries)
        .innerJoin(alerts, eq(alerts.id, alertDeliveries.alertId))
        .where(and(eq(alertDeliveries.status, 'pending'), lte(alertDeliveries.nextAttemptAt, now)))
        .orderBy(asc(alertDeliveries.nextAttemptAt), asc(alertDeliveries.id))
        .limit(BATCH);
      const run: DeliveryRun = { delivered: 0, retrying: 0, failed: 0 };
      for (const { delivery, alert } of due) {
        const result = await attempt(delivery, alert);
        const attempts = delivery.attempts + 1;
        const acknowledged = result.status !== null && result.status >= 200 && result.status < 300;
        const givenUp = !acknowledged && attempts >= MAX_ATTEMPTS;
        const next = acknowledged || givenUp ? null : new Date(now.getTime() + retryDelaySeconds(attempts) * 1000);
        await db.transaction(async (tx) => {
          await tx.insert(alertDeliveryAttempts).values({ deliveryId: delivery.id, attempt: attempts, statusCode: result.status, error: result.error });
          await tx
            .update(alertDeliveries)
            .set({
              attempts,
              status: acknowledged ? 'delivered' : givenUp ? 'failed' : 'pending',
              nextAttemptAt: next,
              lastStatusCode: result.status,
              lastError: result.error,
              deliveredAt: acknowledged ? sql`now()` : null,
            })
            .where(eq(alertDeliveries.id, delivery.id));
        });
        if (acknowledged) run.delivered += 1;
        else if (givenUp) run.failed += 1;
        else run.retrying += 1;
        if (!acknowledged) deps.logger.warn({ delivery: delivery.id, channel: delivery.channel, attempts, status: result.status, error: result.error }, 'alert delivery not acknowledged');
      }
      return run;
    },
  };
}

export type AlertDelivery = ReturnType<typeof createAlertDelivery>;
