/**
 * The settings routes of the usage API, for agency users (declared like every settings route, so the
 * authorization matrix and the OpenAPI document cover them): API keys (create — shown once —, list, revoke) and
 * custom metrics (list, define, archive).
 */
import { actorOf } from '../audit/audit-log';
import { defineRoute, type ApiRoute } from '../http/api-route';
import { customMetricInput, type CustomMetrics } from '../metering/custom-metrics';
import type { CustomMetric } from '../metering/custom-metrics-repository';
import type { ApiKeySummary } from './api-key-repository';
import type { ApiKeys } from './api-keys';
import * as s from './schemas';

/** Dates as ISO strings, for the response schemas. */
const keyJson = <T extends ApiKeySummary>(key: T) => ({
  ...key,
  createdAt: key.createdAt.toISOString(),
  lastUsedAt: key.lastUsedAt?.toISOString() ?? null,
  revokedAt: key.revokedAt?.toISOString() ?? null,
});
const metricJson = (metric: CustomMetric) => ({ ...metric, createdAt: metric.createdAt.toISOString(), archivedAt: metric.archivedAt?.toISOString() ?? null });

/** The API-key and custom-metric routes. */
export function usageApiSettingsRoutes(services: { apiKeys: ApiKeys; customMetrics: CustomMetrics }): ApiRoute<any, any, any, any>[] {
  const { apiKeys, customMetrics } = services;
  return [
    defineRoute({
      method: 'get', path: '/api/api-keys', tag: 'Usage API', access: 'agency',
      summary: 'The agency’s API keys for the usage API: name, prefix, last use, revocation (never the key)',
      response: s.apiKeyListResponse,
      handler: async ({ caller }) => ({ keys: (await apiKeys.list(caller!.companyId)).map(keyJson) }),
    }),
    defineRoute({
      method: 'post', path: '/api/api-keys', tag: 'Usage API', access: 'agency', status: 201,
      summary: 'Create an API key for POST /api/v1/usage; the key is in this answer only',
      body: s.apiKeyInput, response: s.createdApiKeyResponse, errors: ['too_many_api_keys', 'not_found'],
      handler: async ({ caller, body }) => keyJson(await apiKeys.create(caller!.companyId, body.name, actorOf(caller))),
    }),
    defineRoute({
      method: 'delete', path: '/api/api-keys/:keyId', tag: 'Usage API', access: 'agency',
      summary: 'Revoke an API key: it is refused from now on',
      params: s.apiKeyIdParam, response: s.apiKeySummarySchema, errors: ['not_found'],
      handler: async ({ caller, params }) => keyJson(await apiKeys.revoke(caller!.companyId, params.keyId, actorOf(caller))),
    }),
    defineRoute({
      method: 'get', path: '/api/custom-metrics', tag: 'Usage API', access: 'agency',
      summary: 'The agency’s custom metrics, active first',
      response: s.customMetricListResponse,
      handler: async ({ caller }) => ({ metrics: (await customMetrics.list(caller!.companyId)).map(metricJson) }),
    }),
    defineRoute({
      method: 'post', path: '/api/custom-metrics', tag: 'Usage API', access: 'agency', status: 201,
      summary: 'Define a custom metric (or restore an archived one) that usage, rules and prices can use',
      body: customMetricInput, response: s.customMetricSchema, errors: ['metric_exists', 'too_many_metrics', 'not_found'],
      handler: async ({ caller, body }) => metricJson(await customMetrics.define(caller!.companyId, body)),
    }),
    defineRoute({
      method: 'delete', path: '/api/custom-metrics/:key', tag: 'Usage API', access: 'agency',
      summary: 'Archive a custom metric: new usage for it is refused; its rules and owed units stay',
      params: s.customMetricKeyParam, response: s.customMetricSchema, errors: ['not_found'],
      handler: async ({ caller, params }) => metricJson(await customMetrics.archive(caller!.companyId, params.key)),
    }),
  ];
}
