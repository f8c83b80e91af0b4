/**
 * The alerts API's types, taken from the server's contract (server/alerts/schemas.ts) with `import type`: the schemas
 * are never bundled, only their inferred shapes. Times are ISO 8601 strings.
 */
import type { z } from 'zod';
import type * as s from '../../server/alerts/schemas';

/** An alert kind (payment_failed, usage_threshold, …). */
export type AlertKind = z.infer<typeof s.alertKind>;
/** One in-app notification. */
export type Notification = z.infer<typeof s.notificationSchema>;
/** The notification list and the unread count. */
export type NotificationList = z.infer<typeof s.notificationsResponse>;
/** The unread count. */
export type UnreadCount = z.infer<typeof s.unreadCountResponse>;
/** The webhook settings as sent. */
export type AlertSettingsInput = z.infer<typeof s.alertSettingsRequest>;
/** The webhook settings as stored (`signingSecret` only in the answer that generated it). */
export type AlertSettings = z.infer<typeof s.alertSettingsResponse>;
/** One delivery of the delivery log. */
export type AlertDelivery = z.infer<typeof s.deliverySchema>;
/** A usage (units) or spend (`spend`, cents) threshold; `locationId` null for the agency default. */
export type UsageThreshold = z.infer<typeof s.usageThresholdSchema>;
/** Setting (or, limit null, removing) a threshold. */
export type UsageThresholdInput = z.infer<typeof s.usageThresholdRequest>;
