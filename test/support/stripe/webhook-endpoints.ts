/**
 * Webhook endpoints (docs.stripe.com/api/webhook_endpoints): create returns the `whsec_…` secret once ("Only
 * returned at creation"), list, retrieve, update, delete. Update (POST /v1/webhook_endpoints/{id},
 * docs.stripe.com/api/webhook_endpoints/update: "You may edit the url, the list of enabled_events, and the status of
 * your endpoint") replaces the list with the one given and never returns the secret. An id this account does not
 * have (never made, or deleted in the Dashboard) is answered on retrieve, update and delete as Stripe answers an
 * unknown object: 404 `{ error: { type: 'invalid_request_error', code: 'resource_missing', param: 'id', message:
 * "No such webhook endpoint: 'we_…'" } }` (docs.stripe.com/api/errors: 404 "The requested resource doesn't exist";
 * docs.stripe.com/error-codes#resource-missing).
 */
import { randomBytes } from 'node:crypto';
import type { Fake, Route, StripeJson } from './types';
import { arr, bool, byId, ID, invalid, list, mergeMetadata, missingParam, newId, now, requireString, str } from './wire';

/** The v1 webhook endpoint routes. */
export function webhookEndpointRoutes({ stub, state }: Fake): Route[] {
  const webhookView = (endpoint: StripeJson): StripeJson => {
    const { secret: _secret, ...rest } = endpoint;
    return rest as StripeJson;
  };
  const webhookById = byId(state.webhookEndpoints, 'webhook endpoint');

  return [
    // docs.stripe.com/api/webhook_endpoints
    {
      method: 'POST',
      pattern: /^\/v1\/webhook_endpoints$/,
      resource: 'webhook_endpoints',
      access: 'write',
      accepts: ['url', 'enabled_events', 'description', 'metadata', 'api_version', 'connect'],
      handle: ({ params }) => {
        const url = requireString(params, 'url');
        if (!/^https?:\/\/[^\s]+$/.test(url)) throw invalid(`Invalid URL: ${url}`, 'url', 'url_invalid');
        const events = arr(params.enabled_events);
        if (!events || events.length === 0) throw missingParam('enabled_events');
        const endpoint: StripeJson = {
          id: newId('we'),
          object: 'webhook_endpoint',
          api_version: str(params.api_version) ?? null,
          application: null,
          created: now(),
          description: str(params.description) ?? null,
          enabled_events: events.map(String),
          livemode: false,
          metadata: mergeMetadata({}, params.metadata),
          // "The endpoint's secret, used to generate webhook signatures. Only returned at creation."
          secret: `whsec_${randomBytes(24).toString('hex')}`,
          status: 'enabled',
          url,
        };
        state.webhookEndpoints.set(endpoint.id, endpoint);
        return { body: endpoint };
      },
    },
    {
      method: 'GET',
      pattern: /^\/v1\/webhook_endpoints$/,
      resource: 'webhook_endpoints',
      access: 'read',
      accepts: ['limit', 'starting_after', 'ending_before'],
      handle: ({ params }) => ({ body: list([...state.webhookEndpoints.values()], params, '/v1/webhook_endpoints', webhookView) }),
    },
    {
      method: 'GET',
      pattern: new RegExp(`^/v1/webhook_endpoints/${ID}$`),
      resource: 'webhook_endpoints',
      access: 'read',
      accepts: [],
      handle: (_ctx, id) => ({ body: webhookView(webhookById(id)) }),
    },
    {
      method: 'POST',
      pattern: new RegExp(`^/v1/webhook_endpoints/${ID}$`),
      resource: 'webhook_endpoints',
      access: 'write',
      accepts: ['url', 'enabled_events', 'description', 'metadata', 'disabled'],
      handle: ({ params }, id) => {
        const endpoint = webhookById(id);
        const url = str(params.url);
        if (url) endpoint.url = url;
        const events = arr(params.enabled_events);
        if (events) endpoint.enabled_events = events.map(String);
        const disabled = bool(params.disabled);
        if (disabled !== undefined) endpoint.status = disabled ? 'disabled' : 'enabled';
        endpoint.metadata = mergeMetadata(endpoint.metadata, params.metadata);
        return { body: webhookView(endpoint) };
      },
    },
    {
      method: 'DELETE',
      pattern: new RegExp(`^/v1/webhook_endpoints/${ID}$`),
      resource: 'webhook_endpoints',
      access: 'write',
      accepts: [],
      handle: (_ctx, id) => {
        webhookById(id);
        state.webhookEndpoints.delete(id);
        return { body: { id, object: 'webhook_endpoint', deleted: true } };
      },
    },
  ];
}
