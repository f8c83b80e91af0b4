/**
 * The shadow-mode part of the settings API, declared like the rest (server/http/api-route.ts), so the
 * authorization matrix and the OpenAPI document cover it. Agency users only (`sub-account:write`): switch a
 * sub-account between live and shadow billing, read what its shadow backlog would bill, and bill that backlog.
 */
import type { Database } from '../../models/database';
import { defineRoute, type ApiRoute } from '../http/api-route';
import { notFound } from '../http/errors';
import { locationIdParam, subAccountDetailResponse } from '../billing-setup/schemas';
import { subAccountDetail } from '../billing-setup/sub-account-queries';
import { billedBacklogResponse, billingModeRequest, wouldBillResponse } from './schemas';
import { createShadowBilling } from './shadow-billing';

/** Every shadow-mode route. */
export function shadowRoutes(deps: { db: Database }): ApiRoute<any, any, any, any>[] {
  const { db } = deps;
  const shadow = createShadowBilling({ db });
  return [
    defineRoute({
      method: 'put', path: '/api/sub-accounts/:locationId/billing-mode', tag: 'Sub-accounts', access: 'sub-account:write',
      summary: 'Switch the sub-account between live billing and shadow mode (crossings computed and shown as “would bill”, nothing sent to Stripe)',
      params: locationIdParam, body: billingModeRequest, response: subAccountDetailResponse,
      handler: async ({ params, body }) => {
        await shadow.setBillingMode(params.locationId, body.mode);
        const detail = await subAccountDetail(db, params.locationId);
        if (!detail) throw notFound(`No sub-account ${params.locationId}.`);
        return detail;
      },
    }),
    defineRoute({
      method: 'get', path: '/api/sub-accounts/:locationId/would-bill', tag: 'Sub-accounts', access: 'sub-account:write',
      summary: 'The shadow backlog: units per metric and UTC month that shadow mode kept from Stripe, priced at today’s rules (agency users only)',
      params: locationIdParam, response: wouldBillResponse,
      handler: ({ params }) => shadow.wouldBill(params.locationId),
    }),
    defineRoute({
      method: 'post', path: '/api/sub-accounts/:locationId/would-bill/bill', tag: 'Sub-accounts', access: 'sub-account:write',
      summary: 'Bill the shadow backlog to the sub-account’s Stripe customer, once (409 no_customer without one)',
      params: locationIdParam, response: billedBacklogResponse, errors: ['no_customer'],
      handler: ({ params }) => shadow.billBacklog(params.locationId),
    }),
  ];
}
