/**
 * Billing set-up behind the embedded page — the Stripe connection, the pricing grid and defaults, the sub-accounts'
 * customers, rules and subscriptions — declared as data (server/http/api-route.ts): each route's access level, input
 * and output schemas. The authorization matrix test and the OpenAPI document read this same list.
 */
import type { Logger } from 'pino';
import { z } from 'zod';
import type { BillingStatus } from '../../models/schema';
import type { BillingState } from './billing-state-words';
import { assertSameType } from '../http/same-type';
import { defineRoute, type ApiRoute } from '../http/api-route';
import { STRIPE_CALL, SUBSCRIPTION_CHANGE } from '../http/route-errors';
import type { RebillingRules } from '../metering/rebilling-rules';
import type { Pricing } from './pricing';
import * as list from './list-schemas';
import * as s from './schemas';
import { setSubAccountNickname, subAccountDetail } from './sub-account-queries';
import { subAccountWorkQueue, type FilterIds } from './sub-account-list';
import type { SubAccountBilling } from './sub-account-billing';
import type { StripeConnection } from './stripe-connection';
import type { Database } from '../../models/database';
import { notFound } from '../http/errors';
import { actorOf } from '../audit/audit-log';

export interface BillingSetupServices {
  db: Database;
  stripeConnection: StripeConnection;
  pricing: Pricing;
  rules: RebillingRules;
  billing: SubAccountBilling;
  logger: Logger;
  /** The sub-accounts behind the list's `drift` and `no_card` filters (server/money/attention.ts). */
  filterIds?: FilterIds;
}

// The schema spells the statuses out (it imports only zod); they must stay the database's.
assertSameType<z.infer<typeof s.billingStatusSchema>, BillingStatus>(true);
assertSameType<z.infer<typeof s.billingStateSchema>, BillingState>(true);

/** Every billing set-up route. */
export function billingSetupRoutes(services: BillingSetupServices): ApiRoute<any, any, any, any>[] {
  const { db } = services;
  const detail = async (locationId: string) => {
    // A scheduled subscription Stripe has started is adopted on read; a failure here must not hide the sub-account.
    await services.billing
      .adoptStartedSchedule(locationId, true)
      .catch((err: Error) => services.logger.warn({ locationId, err: err.message }, 'adopting a started schedule failed'));
    const found = await subAccountDetail(db, locationId);
    if (!found) throw notFound(`No sub-account ${locationId}.`);
    return found;
  };
  return [
    defineRoute({
      method: 'get', path: '/api/stripe/connection', tag: 'Stripe', access: 'agency',
      summary: 'The agency’s Stripe connection: mode, account, key’s last 4, missing permissions, webhook',
      response: s.stripeConnectionResponse,
      handler: ({ caller }) => services.stripeConnection.status(caller!.companyId),
    }),
    defineRoute({
      method: 'put', path: '/api/stripe/connection', tag: 'Stripe', access: 'agency',
      summary: 'Connect Stripe with a secret or restricted key (checked with real calls, stored encrypted)',
      body: s.stripeConnectRequest, response: s.stripeConnectionResponse,
      errors: ['invalid_stripe_key', 'stripe_key_rejected', 'stripe_permissions_missing', 'stripe_unavailable'],
      handler: ({ caller, body }) => services.stripeConnection.connect(caller!.companyId, body.secretKey, actorOf(caller)),
    }),
    defineRoute({
      method: 'delete', path: '/api/stripe/connection', tag: 'Stripe', access: 'agency',
      summary: 'Disconnect Stripe (the key is forgotten)',
      response: s.stripeConnectionResponse,
      handler: ({ caller }) => services.stripeConnection.disconnect(caller!.companyId, actorOf(caller)),
    }),
    defineRoute({
      method: 'put', path: '/api/stripe/webhook-secret', tag: 'Stripe', access: 'agency',
      summary: 'Store the signing secret of a webhook endpoint made by hand in Stripe',
      body: s.webhookSecretRequest, response: s.stripeConnectionResponse,
      errors: ['invalid_webhook_secret'],
      handler: ({ caller, body }) => services.stripeConnection.setWebhookSecret(caller!.companyId, body.secret, actorOf(caller)),
    }),
    defineRoute({
      method: 'get', path: '/api/stripe/customers', tag: 'Stripe', access: 'agency',
      summary: 'Search the agency’s Stripe customers by email or name, or find one by its cus_… id',
      query: s.customerSearchQuery, response: s.customerSearchResponse,
      errors: [...STRIPE_CALL],
      handler: async ({ caller, query }) => ({ customers: await services.billing.searchCustomers(caller!.companyId, query.query) }),
    }),
    defineRoute({
      method: 'get', path: '/api/pricing', tag: 'Defaults', access: 'agency',
      summary: 'The pricing grid of the agency defaults: threshold, retail price, base cost, margin per metric',
      response: s.pricingResponse,
      handler: ({ caller }) => services.pricing.grid(caller!.companyId),
    }),
    defineRoute({
      method: 'put', path: '/api/pricing/:metric', tag: 'Defaults', access: 'agency',
      summary: 'Set one metric’s default rule and price (creates the Stripe meter and metered price if needed)',
      params: s.metricParam, body: s.metricPricingRequest, response: s.pricingRowSchema,
      errors: ['unknown_metric', 'invalid_rule', 'invalid_price_terms', 'invalid_meter', 'stripe_meter_incompatible', ...STRIPE_CALL],
      handler: ({ caller, params, body }) => services.pricing.setMetricPricing(caller!.companyId, params.metric, body),
    }),
    defineRoute({
      method: 'put', path: '/api/pricing/:metric/directions/:direction', tag: 'Defaults', access: 'agency',
      summary: 'Set the default rule and price of one direction (inbound or outbound) of a directional metric, on its own Stripe meter and price',
      params: s.metricParam.extend(s.ruleDirectionParam.shape), body: s.directionalPricingRequest, response: z.object({ rows: z.array(s.pricingRowSchema) }),
      errors: ['unknown_metric', 'invalid_rule', 'invalid_price_terms', 'invalid_meter', 'stripe_meter_incompatible', ...STRIPE_CALL],
      handler: async ({ caller, params, body }) => ({ rows: await services.pricing.setDirectionalPricing(caller!.companyId, params.metric, params.direction, body) }),
    }),
    defineRoute({
      method: 'put', path: '/api/defaults', tag: 'Defaults', access: 'agency',
      summary: 'Auto-apply to new sub-accounts, currency, flat monthly fee',
      body: s.defaultsRequest, response: s.pricingResponse,
      errors: ['invalid_price_terms', ...STRIPE_CALL],
      handler: ({ caller, body }) => services.pricing.setDefaults(caller!.companyId, body),
    }),
    defineRoute({
      method: 'post', path: '/api/defaults/apply', tag: 'Defaults', access: 'agency',
      summary: 'Apply the defaults to these sub-accounts (customer, rules, subscription)',
      body: s.applyDefaultsRequest, response: s.applyDefaultsResponse,
      handler: ({ caller, body }) => services.billing.applyDefaults(caller!.companyId, body.locationIds),
    }),
    defineRoute({
      method: 'get', path: '/api/sub-accounts', tag: 'Sub-accounts', access: 'agency',
      summary: 'The agency’s sub-accounts, searchable, filtered by state, sorted and paginated, each billed one with its period so far in money',
      query: list.subAccountListQuery, response: list.subAccountListResponse,
      handler: ({ caller, query }) => subAccountWorkQueue(db, caller!.companyId, query, services.filterIds),
    }),
    defineRoute({
      method: 'get', path: '/api/sub-accounts/:locationId', tag: 'Sub-accounts', access: 'sub-account:read',
      summary: 'One sub-account: billing status, rules in force, counters',
      params: s.locationIdParam, response: s.subAccountDetailResponse,
      handler: ({ params }) => detail(params.locationId),
    }),
    defineRoute({
      method: 'put', path: '/api/sub-accounts/:locationId/customer', tag: 'Sub-accounts', access: 'sub-account:write',
      summary: 'Map the sub-account to an existing Stripe customer, or create one from its HighLevel name and email',
      params: s.locationIdParam, body: s.mapCustomerRequest, response: s.subAccountDetailResponse,
      errors: ['unknown_customer', 'invalid_idempotency_key', ...STRIPE_CALL],
      handler: async ({ params, body }) => {
        await services.billing.mapCustomer(params.locationId, body);
        return detail(params.locationId);
      },
    }),
    defineRoute({
      method: 'put', path: '/api/sub-accounts/:locationId/nickname', tag: 'Sub-accounts', access: 'sub-account:write',
      summary: 'Give the sub-account the agency’s own name for the client (shown beside HighLevel’s name; searchable)',
      params: s.locationIdParam, body: s.nicknameRequest, response: s.subAccountDetailResponse,
      handler: async ({ params, body }) => {
        await detail(params.locationId);
        await setSubAccountNickname(db, params.locationId, body.nickname || null);
        return detail(params.locationId);
      },
    }),
    defineRoute({
      method: 'put', path: '/api/sub-accounts/:locationId/billing', tag: 'Sub-accounts', access: 'sub-account:write',
      summary: 'Switch rebilling, set per-metric overrides, create or update the subscription',
      params: s.locationIdParam, body: s.subAccountBillingRequest, response: s.subAccountDetailResponse,
      errors: [...SUBSCRIPTION_CHANGE, 'unknown_metric', 'invalid_rule', 'invalid_price_terms', 'invalid_meter', 'stripe_meter_incompatible'],
      handler: async ({ params, body }) => {
        await services.billing.setBilling(params.locationId, body);
        return detail(params.locationId);
      },
    }),
    defineRoute({
      method: 'delete', path: '/api/sub-accounts/:locationId/rules/:metric', tag: 'Sub-accounts', access: 'sub-account:write',
      summary: 'Remove a per-metric override: the sub-account inherits the default again',
      params: s.locationIdParam.extend(s.metricParam.shape), response: s.okResponse,
      handler: async ({ params }) => {
        await services.rules.removeSubAccountRule(params.locationId, params.metric);
        return { ok: true as const };
      },
    }),
  ];
}
