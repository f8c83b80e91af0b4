/**
 * The alerts API (issue 16, item 5), declared as data (server/http/api-route.ts) so the authorization matrix and the
 * OpenAPI document cover it. Agency users read the notifications, the unread count, the settings and the delivery
 * log; the agency's admins mark notifications read and change the webhook and thresholds (`agency`: writes are
 * admin-only, server/access/policy.ts).
 */
import { defineRoute, type ApiRoute } from '../http/api-route';
import type { Notifications } from './notifications';
import * as s from './schemas';
import type { AlertSettings } from './settings';

/** The alerts routes. */
export function alertRoutes(deps: { notifications: Notifications; settings: AlertSettings }): ApiRoute<any, any, any, any>[] {
  const { notifications, settings } = deps;
  return [
    defineRoute({
      method: 'get', path: '/api/alerts', tag: 'Alerts', access: 'agency',
      summary: 'The agency’s notifications (alerts), newest first, with the unread count; `unread=true` lists unread ones only',
      query: s.notificationsQuery, response: s.notificationsResponse,
      handler: ({ caller, query }) => notifications.list(caller!.companyId, { onlyUnread: query.unread === 'true', limit: query.limit }),
    }),
    defineRoute({
      method: 'get', path: '/api/alerts/unread-count', tag: 'Alerts', access: 'agency',
      summary: 'How many notifications the agency has not read (the badge on every page)',
      response: s.unreadCountResponse,
      handler: async ({ caller }) => ({ unread: await notifications.unread(caller!.companyId) }),
    }),
    defineRoute({
      method: 'post', path: '/api/alerts/:alertId/read', tag: 'Alerts', access: 'agency',
      summary: 'Marks one notification read; answers the unread count',
      params: s.alertIdParam, response: s.unreadCountResponse,
      handler: ({ caller, params }) => notifications.markRead(caller!.companyId, params.alertId),
    }),
    defineRoute({
      method: 'post', path: '/api/alerts/read-all', tag: 'Alerts', access: 'agency',
      summary: 'Marks every notification of the agency read',
      response: s.unreadCountResponse,
      handler: ({ caller }) => notifications.markAllRead(caller!.companyId),
    }),
    defineRoute({
      method: 'get', path: '/api/alerts/settings', tag: 'Alerts', access: 'agency',
      summary: 'The outbound webhook: URL, enabled, events, and whether a signing secret exists (never the secret itself)',
      response: s.alertSettingsResponse,
      handler: ({ caller }) => settings.get(caller!.companyId),
    }),
    defineRoute({
      method: 'put', path: '/api/alerts/settings', tag: 'Alerts', access: 'agency',
      summary: 'Sets the outbound webhook (https URL, enabled, events). The first save with a URL, or `rotateSecret`, answers the new Standard Webhooks signing secret once',
      body: s.alertSettingsRequest, response: s.alertSettingsResponse, errors: ['invalid_alert_settings'],
      handler: ({ caller, body }) => settings.set(caller!.companyId, body),
    }),
    defineRoute({
      method: 'get', path: '/api/alerts/deliveries', tag: 'Alerts', access: 'agency',
      summary: 'The delivery log: each alert sent to the webhook or a HighLevel workflow trigger, its status, attempts, last response code and next retry',
      response: s.deliveriesResponse,
      handler: ({ caller }) => notifications.deliveries(caller!.companyId),
    }),
    defineRoute({
      method: 'get', path: '/api/alerts/usage-thresholds', tag: 'Alerts', access: 'agency',
      summary: 'Usage and spend alert thresholds per billing period: agency defaults (locationId null) and sub-account overrides',
      response: s.usageThresholdsResponse,
      handler: ({ caller }) => settings.thresholds(caller!.companyId),
    }),
    defineRoute({
      method: 'put', path: '/api/alerts/usage-thresholds', tag: 'Alerts', access: 'agency',
      summary: 'Sets (or, limit null, removes) a usage threshold in units for a metric, or a spend threshold in cents (`spend`), as the default or for one sub-account',
      body: s.usageThresholdRequest, response: s.usageThresholdsResponse, errors: ['invalid_alert_settings'],
      handler: ({ caller, body }) => settings.setThreshold(caller!.companyId, body),
    }),
  ];
}
