/**
 * The alerts API's contract (issue 16, item 5): request and response schemas, shared with the UI
 * (ui/src/api-types-alerts.ts takes its types with `import type` + `z.infer`). Imports zod only, so the UI's bundle
 * pulls in nothing of the server. Times are ISO 8601 UTC strings; money in cents; unit thresholds decimal strings.
 */
import { z } from 'zod';

/** The alert kinds (models/schema/alerts.ts ALERT_KINDS; server/alerts/kinds.ts says what each fires). */
export const ALERT_KIND_VALUES = [
  'payment_failed',
  'payment_recovered',
  'payment_action_required',
  'card_missing',
  'card_expiring',
  'meter_batch_rejected',
  'reconciliation_drift',
  'usage_threshold',
  'wallet_low',
] as const;
export const alertKind = z.enum(ALERT_KIND_VALUES);

/** One in-app notification: the alert, its sub-account (name as stored) and whether it was read. */
export const notificationSchema = z.object({
  id: z.string(),
  kind: alertKind,
  locationId: z.string().nullable(),
  subAccountName: z.string().nullable(),
  title: z.string(),
  message: z.string(),
  read: z.boolean(),
  createdAt: z.string(),
});

/** `?unread=true` lists unread ones only; newest first, at most `limit` (default 50). */
export const notificationsQuery = z.object({
  unread: z.enum(['true', 'false']).optional(),
  limit: z.coerce.number().int().min(1).max(200).optional(),
});

/** The list and the unread count (the badge). */
export const notificationsResponse = z.object({ unread: z.number().int(), items: z.array(notificationSchema) });
/** The unread count alone (polled by every page of the agency view). */
export const unreadCountResponse = z.object({ unread: z.number().int() });
/** An alert's id (a UUID; anything else is simply not found, after the caller is checked). */
export const alertIdParam = z.object({ alertId: z.string().min(1).max(100) });

/**
 * The outbound webhook: `webhookUrl` (https, or null), `webhookEnabled`, `webhookEvents` (the kinds it receives).
 * `rotateSecret` makes a new signing secret (the old one stops at once). Refused with 400 `invalid_alert_settings`
 * when enabled without a URL or events.
 */
export const alertSettingsRequest = z.object({
  webhookUrl: z.string().max(2000).nullable(),
  webhookEnabled: z.boolean(),
  webhookEvents: z.array(alertKind).max(ALERT_KIND_VALUES.length),
  rotateSecret: z.boolean().optional(),
});

/**
 * The settings as stored. `signingSecret` (`whsec_…`, the Standard Webhooks secret) is present only in the answer
 * that generated it — the first save with a URL, or `rotateSecret` — and never shown again.
 */
export const alertSettingsResponse = z.object({
  webhookUrl: z.string().nullable(),
  webhookEnabled: z.boolean(),
  webhookEvents: z.array(alertKind),
  hasSigningSecret: z.boolean(),
  signingSecret: z.string().optional(),
});

/** One delivery of an alert to an outbound channel, for the delivery log. */
export const deliverySchema = z.object({
  id: z.number().int(),
  alertId: z.string(),
  alertTitle: z.string(),
  kind: alertKind,
  channel: z.enum(['webhook', 'highlevel_trigger']),
  target: z.string(),
  status: z.enum(['pending', 'delivered', 'failed']),
  attempts: z.number().int(),
  lastStatusCode: z.number().int().nullable(),
  lastError: z.string().nullable(),
  nextAttemptAt: z.string().nullable(),
  deliveredAt: z.string().nullable(),
  createdAt: z.string(),
});
export const deliveriesResponse = z.object({ items: z.array(deliverySchema) });

/** A usage (metric key, units as a decimal string) or spend (`spend`, whole cents as a string) threshold. */
export const usageThresholdSchema = z.object({
  locationId: z.string().nullable(),
  metric: z.string(),
  limit: z.string(),
});
export const usageThresholdsResponse = z.object({ items: z.array(usageThresholdSchema) });

/**
 * Sets (or with `limit` null removes) a threshold per billing period (the UTC calendar month): the agency default
 * (`locationId` null) or one sub-account's override. `metric` is a metric key or `spend` (cents).
 */
export const usageThresholdRequest = z.object({
  locationId: z.string().min(1).max(100).nullable(),
  metric: z.string().min(1).max(100),
  limit: z
    .string()
    .regex(/^\d{1,15}(\.\d{1,6})?$/, 'a positive decimal number')
    .nullable(),
});
