/** Calls of the alerts API (server/alerts/routes.ts), through the settings API's one client (api.ts). */
import { request } from './api';
import type { AlertDelivery, AlertSettings, AlertSettingsInput, NotificationList, UnreadCount, UsageThreshold, UsageThresholdInput } from './api-types-alerts';

export const alertsApi = {
  /** Newest first, with the unread count. */
  notifications: () => request<NotificationList>('GET', '/api/alerts'),
  unreadCount: () => request<UnreadCount>('GET', '/api/alerts/unread-count'),
  markRead: (alertId: string) => request<UnreadCount>('POST', `/api/alerts/${encodeURIComponent(alertId)}/read`),
  markAllRead: () => request<UnreadCount>('POST', '/api/alerts/read-all'),
  settings: () => request<AlertSettings>('GET', '/api/alerts/settings'),
  setSettings: (input: AlertSettingsInput) => request<AlertSettings>('PUT', '/api/alerts/settings', input),
  deliveries: () => request<{ items: AlertDelivery[] }>('GET', '/api/alerts/deliveries'),
  thresholds: () => request<{ items: UsageThreshold[] }>('GET', '/api/alerts/usage-thresholds'),
  setThreshold: (input: UsageThresholdInput) => request<{ items: UsageThreshold[] }>('PUT', '/api/alerts/usage-thresholds', input),
};

/** Tells the badge to re-read the unread count (after marking read on the Notifications page). */
export const UNREAD_CHANGED = 'meterbridge:unread-changed';
