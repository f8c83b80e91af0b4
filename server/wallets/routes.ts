/**
 * The wallets API (issue 17), declared as data (server/http/api-route.ts) so the authorization matrix and the OpenAPI
 * document cover it. The agency's admins set the default mode and wallet settings and each sub-account's own
 * (`agency`, `sub-account:write`); a sub-account's users read its wallet and its admins top it up
 * (`sub-account:client`: card on file, or Stripe Checkout), as do the agency's admins. The agency's balances view and
 * refunds are for agency users only (`agency`, `sub-account:write`; writes by its admins).
 */
import { defineRoute, type ApiRoute } from '../http/api-route';
import * as s from './schemas';
import type { Wallets } from './wallets';

const STRIPE = ['stripe_not_connected', 'stripe_error', 'stripe_refused'] as const;

/** The wallet routes. */
export function walletRoutes(deps: { wallets: Wallets }): ApiRoute<any, any, any, any>[] {
  const { wallets } = deps;
  return [
    defineRoute({
      method: 'get', path: '/api/wallets/settings', tag: 'Wallets', access: 'agency',
      summary: 'The agency’s default billing mode and wallet settings for its sub-accounts (cents), null until set',
      response: s.agencyWalletSettingsResponse,
      handler: ({ caller }) => wallets.agencySettings(caller!.companyId),
    }),
    defineRoute({
      method: 'put', path: '/api/wallets/settings', tag: 'Wallets', access: 'agency',
      summary: 'Sets the default billing mode (postpaid or prepaid wallet) and wallet settings: initial top-up, minimum balance, top-up amount, maximum balance, monthly cap (cents)',
      body: s.walletSettingsRequest, response: s.agencyWalletSettingsResponse, errors: ['invalid_wallet_settings'],
      handler: ({ caller, body }) => wallets.setAgencySettings(caller!.companyId, body),
    }),
    defineRoute({
      method: 'get', path: '/api/sub-accounts/:locationId/wallet', tag: 'Wallets', access: 'sub-account:client',
      summary: 'The sub-account’s wallet: billing mode, settings in force, balance (Stripe credit less unbilled usage, cents) and latest top-ups',
      params: s.locationIdParam, response: s.walletResponse, errors: [...STRIPE],
      handler: ({ params }) => wallets.wallet(params.locationId),
    }),
    defineRoute({
      method: 'put', path: '/api/sub-accounts/:locationId/wallet/settings', tag: 'Wallets', access: 'sub-account:write',
      summary: 'Switches the sub-account between postpaid and prepaid wallet and sets its own wallet settings (cents); the open period is invoiced as before, reduced by the wallet’s credit',
      params: s.locationIdParam, body: s.walletSettingsRequest, response: s.walletSettingsSchema, errors: ['invalid_wallet_settings'],
      handler: ({ params, body }) => wallets.setSubAccountSettings(params.locationId, body),
    }),
    defineRoute({
      method: 'post', path: '/api/sub-accounts/:locationId/wallet/top-ups', tag: 'Wallets', access: 'sub-account:client',
      summary: 'Top up now: charges the card on file (an invoice for “Wallet top-up”) and, once paid, grants the amount as Stripe credit for metered usage',
      params: s.locationIdParam, body: s.topUpRequest, response: s.topUpResponse,
      errors: ['no_customer', 'wallet_not_configured', 'wallet_not_prepaid', 'top_up_in_flight', 'wallet_max_balance', 'wallet_monthly_cap', ...STRIPE],
      handler: ({ params, body }) => wallets.topUpNow(params.locationId, body.amountCents),
    }),
    defineRoute({
      method: 'post', path: '/api/sub-accounts/:locationId/wallet/checkout', tag: 'Wallets', access: 'sub-account:client',
      summary: 'Top up now on Stripe Checkout (payment mode): the hosted page to pay `amountCents` (default: the top-up amount), within the maximum balance and the monthly cap; the credit is granted once Stripe reports the session paid',
      params: s.locationIdParam, body: s.checkoutTopUpRequest, response: s.checkoutTopUpResponse,
      errors: ['no_customer', 'wallet_not_configured', 'wallet_not_prepaid', 'wallet_max_balance', 'wallet_monthly_cap', ...STRIPE],
      handler: ({ params, body }) => wallets.startCheckout(params.locationId, body.amountCents),
    }),
    defineRoute({
      method: 'get', path: '/api/wallets/balances', tag: 'Wallets', access: 'agency',
      summary: 'Balances of every prepaid sub-account (cents), negative and low ones first and flagged',
      response: s.agencyBalancesResponse, errors: ['stripe_not_connected'],
      handler: ({ caller }) => wallets.agencyBalances(caller!.companyId),
    }),
    defineRoute({
      method: 'get', path: '/api/sub-accounts/:locationId/wallet/top-ups/:topUpId/refundable', tag: 'Wallets', access: 'sub-account:write',
      summary: 'How much of a top-up can be refunded now (cents): the least of what remains of its credit grant, the wallet’s balance after unbilled usage, and what was paid less earlier refunds',
      params: s.topUpIdParam, response: s.refundableSchema, errors: ['top_up_not_found', 'top_up_not_refundable', 'no_customer', ...STRIPE],
      handler: ({ params }) => wallets.refundable(params.locationId, params.topUpId),
    }),
    defineRoute({
      method: 'post', path: '/api/sub-accounts/:locationId/wallet/top-ups/:topUpId/refund', tag: 'Wallets', access: 'sub-account:write',
      summary: 'Refunds the unused part of a top-up to its card (`amountCents`, default all that is refundable): its credit grant is voided, what stays unrefunded granted again, and the payment refunded in Stripe; a pending refund is resumed',
      params: s.topUpIdParam, body: s.refundRequest, response: s.refundResponse,
      errors: ['top_up_not_found', 'top_up_not_refundable', 'refund_above_unused', 'no_customer', ...STRIPE],
      handler: ({ params, body }) => wallets.refundTopUp(params.locationId, params.topUpId, body.amountCents),
    }),
  ];
}
