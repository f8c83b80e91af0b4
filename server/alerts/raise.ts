/**
 * Raising an alert: the alert row (the in-app notification) and its pending channel deliveries — the agency's webhook
 * when enabled for the kind, one per HighLevel workflow trigger subscription of the sub-account — written through the
 * caller's executor, so they commit or roll back with the state change that caused them (pass the transaction).
 * Exactly once per event: the `dedupeKey` is unique per agency, so raising the same event again writes nothing.
 * Sending is the alerts job's (server/alerts/deliver.ts), after the commit.
 */
import { and, eq } from 'drizzle-orm';
import type { Executor } from '../../models/database';
import { alertDeliveries, alerts, alertSettings, highLevelTriggerSubscriptions } from '../../models/schema';
import { type AlertKind, KINDS } from './kinds';

/** An event to alert on. `data` is what the webhook and the workflow trigger carry (JSON; money in cents). */
export interface AlertInput {
  companyId: string;
  /** The sub-account concerned, if any (the notification links to it; workflow triggers need one). */
  locationId: string | null;
  kind: AlertKind;
  /** Unique per agency per event, e.g. `payment_failed:<invoice id>:<attempt count>`. */
  dedupeKey: string;
  title: string;
  message: string;
  data: Record<string, unknown>;
}

/** What raising did: the alert's id, and whether this call created it (false: the event was already alerted). */
export interface Raised {
  id: string;
  created: boolean;
  /** Channel deliveries written (0 when none is configured, or when not created). */
  deliveries: number;
}

/**
 * Writes the alert and its pending deliveries, unless an alert with this dedupe key exists.
 * @throws the database's error (the caller's transaction then rolls back with it).
 */
export async function raiseAlert(db: Executor, input: AlertInput): Promise<Raised> {
  const [row] = await db
    .insert(alerts)
    .values({ ...input })
    .onConflictDoNothing({ target: [alerts.companyId, alerts.dedupeKey] })
    .returning({ id: alerts.id });
  if (!row) {
    const [existing] = await db.select({ id: alerts.id }).from(alerts).where(and(eq(alerts.companyId, input.companyId), eq(alerts.dedupeKey, input.dedupeKey)));
    return { id: existing!.id, created: false, deliveries: 0 };
  }
  const targets: Array<typeof alertDeliveries.$inferInsert> = [];
  const [settings] = await db.select().from(alertSettings).where(eq(alertSettings.companyId, input.companyId));
  if (settings?.webhookEnabled && settings.webhookUrl && settings.webhookSecret && settings.webhookEvents.includes(input.kind)) {
    targets.push({ alertId: row.id, companyId: input.companyId, channel: 'webhook', target: settings.webhookUrl });
  }
  const trigger = KINDS[input.kind].trigger;
  if (trigger && input.locationId) {
    const subscriptions = await db
      .select()
      .from(highLevelTriggerSubscriptions)
      .where(and(eq(highLevelTriggerSubscriptions.locationId, input.locationId), eq(highLevelTriggerSubscriptions.triggerKey, trigger)));
    for (const s of subscriptions) {
      targets.push({ alertId: row.id, companyId: input.companyId, channel: 'highlevel_trigger', target: s.targetUrl, subscriptionId: s.id });
    }
  }
  if (targets.length) await db.insert(alertDeliveries).values(targets).onConflictDoNothing();
  return { id: row.id, created: true, deliveries: targets.length };
}
