/**
 * The payments API, declared as data (server/http/api-route.ts) so the authorization matrix and the OpenAPI document
 * cover it. The client's own pages (`sub-account:client`): its card, held usage, invoices and next invoice (read by
 * the sub-account's users and the agency), and the card and portal links (opened by the sub-account's admins, or
 * copied by an agency admin to send). Agency-wide: the list's card flags, every invoice by status, the card option.
 */
import { badRequest } from '../http/errors';
import { defineRoute, type ApiRoute } from '../http/api-route';
import type { Payments } from './payments';
import * as s from './schemas';

const CONFLICTS = {
  '409': { description: '`no_customer` (no Stripe customer mapped) or `stripe_not_connected`' },
  '400': { description: '`stripe_error`: Stripe refused the call (its message)' },
};

export function paymentRoutes(deps: { payments: Payments }): ApiRoute<any, any, any, any>[] {
  const { payments } = deps;
  return [
    defineRoute({
      method: 'get', path: '/api/sub-accounts/:locationId/payments', tag: 'Payments', access: 'sub-account:client',
      summary: 'The sub-account’s card on file (brand, last 4, expiry; expiring soon), its subscription’s end if set, and usage held back for want of a subscription',
      params: s.locationIdParam, response: s.subAccountPaymentsResponse,
      handler: ({ params }) => payments.subAccountPayments(params.locationId),
    }),
    defineRoute({
      method: 'post', path: '/api/sub-accounts/:locationId/payments/card-link', tag: 'Payments', access: 'sub-account:client',
      summary: 'A Stripe Checkout page (setup mode) where the client adds or changes its card; valid 24 hours. The saved card becomes the default for invoices',
      params: s.locationIdParam, response: s.hostedLinkResponse, responses: CONFLICTS,
      handler: ({ params }) => payments.cardLink(params.locationId),
    }),
    defineRoute({
      method: 'post', path: '/api/sub-accounts/:locationId/payments/portal-link', tag: 'Payments', access: 'sub-account:client',
      summary: 'A Stripe Customer Portal session (cards, invoices, receipts) with the configuration Meterbridge keeps for the agency; open it at once',
      params: s.locationIdParam, response: s.hostedLinkResponse, responses: CONFLICTS,
      handler: ({ params }) => payments.portalLink(params.locationId),
    }),
    defineRoute({
      method: 'get', path: '/api/sub-accounts/:locationId/invoices', tag: 'Payments', access: 'sub-account:client',
      summary: 'The sub-account’s Stripe invoices, newest first (amounts in cents; hosted page and PDF links)',
      params: s.locationIdParam, query: s.invoiceListQuery, response: s.invoiceListResponse, responses: CONFLICTS,
      handler: ({ params, query }) => payments.invoices(params.locationId, query),
    }),
    defineRoute({
      method: 'get', path: '/api/sub-accounts/:locationId/next-invoice', tag: 'Payments', access: 'sub-account:client',
      summary: 'The next invoice as Stripe previews it: metered usage so far, the flat fee, discounts, tax',
      params: s.locationIdParam, response: s.nextInvoiceResponse,
      handler: ({ params }) => payments.nextInvoice(params.locationId),
    }),
    defineRoute({
      method: 'get', path: '/api/payments/sub-accounts', tag: 'Payments', access: 'agency',
      summary: 'Card and held-usage flags for sub-accounts of the list (comma-separated ids, at most 200); the cards as stored, read from Stripe in the background (`checking` until read)',
      query: s.paymentFlagsQuery, response: s.paymentFlagsResponse,
      handler: ({ caller, query }) => {
        const ids = query.locationIds.split(',').map((id) => id.trim()).filter(Boolean);
        if (ids.length > 200) throw badRequest('invalid_request', 'At most 200 sub-accounts at a time.');
        return payments.flags(caller!.companyId, ids);
      },
    }),
    defineRoute({
      method: 'get', path: '/api/invoices', tag: 'Payments', access: 'agency',
      summary: 'Invoices of the agency’s sub-accounts, newest first, by status (open, paid, past_due, uncollectible), with totals in cents',
      query: s.invoiceListQuery, response: s.invoiceListResponse, responses: CONFLICTS,
      handler: ({ caller, query }) => payments.agencyInvoices(caller!.companyId, query),
    }),
    defineRoute({
      method: 'get', path: '/api/payments/settings', tag: 'Payments', access: 'agency',
      summary: 'The agency’s payment options',
      response: s.paymentSettingsSchema,
      handler: ({ caller }) => payments.settings(caller!.companyId),
    }),
    defineRoute({
      method: 'put', path: '/api/payments/settings', tag: 'Payments', access: 'agency',
      summary: 'Require a card on file before a sub-account’s subscription starts',
      body: s.paymentSettingsRequest, response: s.paymentSettingsSchema,
      handler: ({ caller, body }) => payments.setSettings(caller!.companyId, body),
    }),
  ];
}
