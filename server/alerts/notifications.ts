/**
 * The in-app channel and the delivery log, as the agency reads them: its alerts newest first with read/unread, the
 * unread count (the badge on every page), marking read, and every outbound delivery with its attempts.
 */
import { and, count, desc, eq, isNull, sql } from 'drizzle-orm';
import type { z } from 'zod';
import type { Database } from '../../models/database';
import { alertDeliveries, alerts, subAccounts } from '../../models/schema';
import { notFound } from '../http/errors';
import type { deliverySchema, notificationSchema } from './schemas';

type Notification = z.infer<typeof notificationSchema>;
type Delivery = z.infer<typeof deliverySchema>;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const iso = (d: Date | null) => (d ? d.toISOString() : null);

/** The notification list, unread count, read marks and delivery log of an agency (all scoped by `companyId`). */
export function createNotifications(deps: { db: Database }) {
  const { db } = deps;

  async function unread(companyId: string): Promise<number> {
    const [row] = await db.select({ n: count() }).from(alerts).where(and(eq(alerts.companyId, companyId), isNull(alerts.readAt)));
    return row?.n ?? 0;
  }

  return {
    unread,

    /** The agency's alerts, newest first (`onlyUnread`: those not read yet), with the unread count. */
    async list(companyId: string, options: { onlyUnread?: boolean; limit?: number } = {}): Promise<{ unread: number; items: Notification[] }> {
      const rows = await db
        .select({ alert: alerts, subAccountName: subAccounts.name })
        .from(alerts)
        .leftJoin(subAccounts, eq(subAccounts.locationId, alerts.locationId))
        .where(and(eq(alerts.companyId, companyId), options.onlyUnread ? isNull(alerts.readAt) : undefined))
        .orderBy(desc(alerts.createdAt), desc(alerts.id))
        .limit(options.limit ?? 50);
      const items = rows.map(({ alert, subAccountName }) => ({
        id: alert.id, kind: alert.kind, locationId: alert.locationId, subAccountName, title: alert.title, message: alert.message,
        read: alert.readAt !== null, createdAt: alert.createdAt.toISOString(),
      }));
      return { unread: await unread(companyId), items };
    },

    /** Marks one alert read. @throws AppError 404 when the agency has no such alert. */
    async markRead(companyId: string, alertId: string): Promise<{ unread: number }> {
      if (!UUID.test(alertId)) throw notFound('This agency has no such notification.');
      const done = await db
        .update(alerts)
        .set({ readAt: sql`coalesce(${alerts.readAt}, now())` })
        .where(and(eq(alerts.companyId, companyId), eq(alerts.id, alertId)))
        .returning({ id: alerts.id });
      if (!done.length) throw notFound('This agency has no such notification.');
      return { unread: await unread(companyId) };
    },

    /** Marks every alert of the agency read. */
    async markAllRead(companyId: string): Promise<{ unread: number }> {
      await db.update(alerts).set({ readAt: sql`now()` }).where(and(eq(alerts.companyId, companyId), isNull(alerts.readAt)));
      return { unread: 0 };
    },

    /** The delivery log: the agency's latest outbound deliveries (newest first), each with its state and attempts. */
    async deliveries(companyId: string, limit = 100): Promise<{ items: Delivery[] }> {
      const rows = await db
        .select({ d: alertDeliveries, title: alerts.title, kind: alerts.kind })
        .from(alertDeliveries)
        .innerJoin(alerts, eq(alerts.id, alertDeliveries.alertId))
        .where(eq(alertDeliveries.companyId, companyId))
        .orderBy(desc(alertDeliveries.createdAt), desc(alertDeliveries.id))
        .limit(limit);
      return {
        items: rows.map(({ d, title, kind }) => ({
          id: d.id, alertId: d.alertId, alertTitle: title, kind, channel: d.channel, target: d.target, status: d.status, attempts: d.attempts,
          lastStatusCode: d.lastStatusCode, lastError: d.lastError, nextAttemptAt: d.status === 'pending' ? iso(d.nextAttemptAt) : null,
          deliveredAt: iso(d.deliveredAt), createdAt: d.createdAt.toISOString(),
        })),
      };
    },
  };
}

export type Notifications = ReturnType<typeof createNotifications>;
