/**
 * The webhook events Meterbridge subscribes to, as HighLevel's developer portal names them, and the scope each needs:
 * `manifest.json` must list exactly these names and (with the API endpoints' scopes, endpoints.ts) exactly these
 * scopes (test/unit/manifest.test.ts). The portal names the install events `AppInstall` / `AppUninstall` while their
 * payloads say `type: "INSTALL"` / `"UNINSTALL"` (GoHighLevel/highlevel-api-docs toc.json and
 * docs/webhook events/AppInstall.md); every other event's portal name is its payload `type`.
 * Scopes: docs/oauth/Scopes.md, column "Webhook Events".
 */
import type { HandledEventType } from './webhook-events';

/** One subscription: the portal's event name, the scope it needs (null: none listed), where HighLevel documents it. */
export interface EventSubscription {
  portalName: string;
  scope: string | null;
  source: string;
}

/** Per handled payload `type`. */
export const EVENT_SUBSCRIPTIONS: Record<HandledEventType, EventSubscription> = {
  INSTALL: { portalName: 'AppInstall', scope: null, source: 'docs/webhook events/AppInstall.md' },
  UNINSTALL: { portalName: 'AppUninstall', scope: null, source: 'docs/webhook events/AppUninstall.md' },
  LocationCreate: { portalName: 'LocationCreate', scope: 'locations.readonly', source: 'docs/oauth/Scopes.md (locations.readonly: LocationCreate)' },
  LocationUpdate: { portalName: 'LocationUpdate', scope: 'locations.readonly', source: 'docs/oauth/Scopes.md (locations.readonly: LocationUpdate)' },
  InboundMessage: {
    portalName: 'InboundMessage',
    scope: 'conversations/message.readonly',
    source: 'docs/oauth/Scopes.md (conversations/message.readonly: InboundMessage)',
  },
  OutboundMessage: {
    portalName: 'OutboundMessage',
    scope: 'conversations/message.readonly',
    source: 'docs/oauth/Scopes.md (conversations/message.readonly: OutboundMessage)',
  },
  // Scopes.md lists no scope for LCEmailStats; its page says "Available only to Location Level Apps".
  LCEmailStats: { portalName: 'LCEmailStats', scope: null, source: 'docs/webhook events/LCEmailStats.md' },
  // Not in the docs repository (commit 0af86a4); HighLevel's marketplace docs list it with the Voice AI events, whose
  // data is read with voice-ai-dashboard.readonly (apps/voice-ai.json, /voice-ai/dashboard/call-logs). Unverified.
  VoiceAiCallEnd: {
    portalName: 'VoiceAiCallEnd',
    scope: 'voice-ai-dashboard.readonly',
    source: 'marketplace.gohighlevel.com/docs/webhook/VoiceAiCallEnd; scope per apps/voice-ai.json',
  },
};

/** The portal names, sorted: what `manifest.json` `webhooks.events` lists. */
export function subscribedEventNames(): string[] {
  return Object.values(EVENT_SUBSCRIPTIONS).map((s) => s.portalName).sort();
}

/** The scopes the subscriptions need, sorted, without duplicates. */
export function eventScopes(): string[] {
  return [...new Set(Object.values(EVENT_SUBSCRIPTIONS).flatMap((s) => (s.scope ? [s.scope] : [])))].sort();
}
