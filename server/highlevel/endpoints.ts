/**
 * Every HighLevel API endpoint Meterbridge calls, with the scope HighLevel requires for it: the one registry that
 * `manifest.json`'s scopes are checked against (test/unit/manifest.test.ts). The composition root gives the API
 * client `isDeclaredEndpoint`, so a call to an endpoint missing here is refused before it is sent; the OAuth token
 * calls (oauth-token-endpoint.ts), which do not go through the client, take their paths from here.
 * Scopes: the `security` of each operation in GoHighLevel/highlevel-api-docs `apps/*.json`, and docs/oauth/Scopes.md.
 */
import { API_VERSIONS, type ApiVersion, type HttpMethod } from './api-client';

/** One endpoint: method, path template (`{name}` for a path parameter), `Version` header, required scope. */
export interface HighLevelEndpoint {
  method: HttpMethod;
  path: string;
  version: ApiVersion;
  /** The OAuth scope HighLevel requires; null for the token endpoint itself. */
  scope: string | null;
  /** Where HighLevel documents it. */
  source: string;
}

/** The registry, by name; call sites take method, path and version from their entry. */
export const HIGHLEVEL_ENDPOINTS = {
  /** Backfill (server/backfill/export-client.ts). */
  exportMessages: {
    method: 'GET',
    path: '/conversations/messages/export',
    version: API_VERSIONS.conversations,
    scope: 'conversations/message.readonly',
    source: 'apps/conversations.json, operation export-messages-by-location, security bearer [conversations/message.readonly]',
  },
  /** Sub-accounts of a bulk install (server/highlevel/installed-locations-sync.ts). */
  installedLocations: {
    method: 'GET',
    path: '/oauth/installedLocations',
    version: API_VERSIONS.oauth,
    scope: 'oauth.readonly',
    source: 'apps/oauth.json, GET /oauth/installedLocations, security Agency-Access-Only [oauth.readonly]',
  },
  /** A sub-account's token from the agency's (server/highlevel/oauth-token-endpoint.ts). */
  locationToken: {
    method: 'POST',
    path: '/oauth/locationToken',
    version: API_VERSIONS.oauth,
    scope: 'oauth.write',
    source: 'apps/oauth.json, POST /oauth/locationToken, security Agency-Access-Only [oauth.write]',
  },
  /** A sub-account's phone numbers, for the monthly phone_numbers metric (server/phone-numbers/active-numbers.ts). */
  phoneNumbers: {
    method: 'GET',
    path: '/phone-system/numbers/location/{locationId}',
    version: API_VERSIONS.phoneSystem,
    scope: 'phonenumbers.read',
    source: 'apps/phone-system.json, GET /phone-system/numbers/location/{locationId}, security [phonenumbers.read]',
  },
  /** Voice AI call logs, for the VoiceAI backfill channel (server/backfill/call-logs.ts). */
  voiceAiCallLogs: {
    method: 'GET',
    path: '/voice-ai/dashboard/call-logs',
    version: API_VERSIONS.voiceAi,
    scope: 'voice-ai-dashboard.readonly',
    source: 'apps/voice-ai.json, GET /voice-ai/dashboard/call-logs, security [voice-ai-dashboard.readonly]',
  },
  /** Whether a sub-account is in SaaS mode, for the double-rebilling warning (server/highlevel/saas-rebilling.ts). */
  saasSubscription: {
    method: 'GET',
    path: '/saas/get-saas-subscription/{locationId}',
    version: API_VERSIONS.saas,
    scope: 'saas/company.read',
    source: 'apps/saas-api.json, GET /saas/get-saas-subscription/{locationId}, security Agency-Access-Only [saas/company.read]',
  },
  /**
   * Pauses (`paused: true`) or resumes (`paused: false`) a sub-account in HighLevel, for the suspension policy
   * (server/suspension/highlevel-pause.ts). Body `PauseLocationDto` `{ paused: boolean, companyId: string }`, both
   * required; 201 on success. An Agency (Company) token; the SaaS API is an Agency Pro feature. The OpenAPI operation
   * lists `Agency-Access` with no scope; HighLevel's reference page names the scope `saas/company.write`.
   */
  pauseLocation: {
    method: 'POST',
    path: '/saas/pause/{locationId}',
    version: API_VERSIONS.saas,
    scope: 'saas/company.write',
    source:
      'apps/saas-api.json (GoHighLevel/highlevel-api-docs 0af86a4), operation pause-location, POST /saas/pause/{locationId}, Version 2021-04-15, body PauseLocationDto, 201; scope from marketplace.gohighlevel.com/docs/ghl/saas-api/pause-location (Scope(s): saas/company.write, Agency Token)',
  },
  /** Code exchange and refresh (server/highlevel/oauth-strategy.ts, oauth-token-endpoint.ts): no scope of its own. */
  token: {
    method: 'POST',
    path: '/oauth/token',
    version: API_VERSIONS.oauth,
    scope: null,
    source: 'apps/oauth.json, POST /oauth/token (client credentials, no bearer)',
  },
} as const satisfies Record<string, HighLevelEndpoint>;

/** The name of a registered endpoint. */
export type HighLevelEndpointName = keyof typeof HIGHLEVEL_ENDPOINTS;

const templates = Object.values(HIGHLEVEL_ENDPOINTS).map((e) => ({
  method: e.method,
  pattern: new RegExp(`^${e.path.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{[^}/]+\}/g, '[^/]+')}$`),
}));

/** True when `method path` (the path without its query) is a registered endpoint. */
export function isDeclaredEndpoint(method: string, path: string): boolean {
  const bare = path.split(/[?#]/, 1)[0]!;
  return templates.some((t) => t.method === method.toUpperCase() && t.pattern.test(bare));
}

/** The scopes the registered endpoints need, sorted, without duplicates. */
export function endpointScopes(): string[] {
  return [...new Set(Object.values(HIGHLEVEL_ENDPOINTS).flatMap((e) => (e.scope ? [e.scope] : [])))].sort();
}
