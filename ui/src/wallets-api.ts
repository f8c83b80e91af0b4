/** Calls of the wallets API (server/wallets/routes.ts), through the settings API's one client (api.ts). */
import { request } from './api';
import type { AgencyBalances, CheckoutTopUp, Refund, Refundable, TopUpResult, Wallet, WalletSettings, WalletSettingsInput } from './api-types-wallets';

const enc = encodeURIComponent;

export const walletsApi = {
  /** The sub-account's wallet (balance read from Stripe). */
  wallet: (locationId: string) => request<Wallet>('GET', `/api/sub-accounts/${enc(locationId)}/wallet`),
  /** "Top up now": `amountCents` defaults to the settings' top-up amount. */
  topUp: (locationId: string, amountCents?: number) => request<TopUpResult>('POST', `/api/sub-accounts/${enc(locationId)}/wallet/top-ups`, amountCents ? { amountCents } : {}),
  /** The client's "Top up now" on Stripe Checkout: the hosted payment page of `amountCents`. */
  checkout: (locationId: string, amountCents?: number) => request<CheckoutTopUp>('POST', `/api/sub-accounts/${enc(locationId)}/wallet/checkout`, amountCents ? { amountCents } : {}),
  /** What may be refunded of a top-up now (agency). */
  refundable: (locationId: string, topUpId: number) => request<Refundable>('GET', `/api/sub-accounts/${enc(locationId)}/wallet/top-ups/${topUpId}/refundable`),
  /** Refunds `amountCents` of a top-up (default: all that is refundable). */
  refund: (locationId: string, topUpId: number, amountCents?: number) =>
    request<{ refund: Refund }>('POST', `/api/sub-accounts/${enc(locationId)}/wallet/top-ups/${topUpId}/refund`, amountCents ? { amountCents } : {}),
  /** Every prepaid sub-account's balance, negative and low first. */
  balances: () => request<AgencyBalances>('GET', '/api/wallets/balances'),
  /** The agency's default mode and settings. */
  agencySettings: () => request<{ settings: WalletSettings | null }>('GET', '/api/wallets/settings'),
  setAgencySettings: (input: WalletSettingsInput) => request<{ settings: WalletSettings | null }>('PUT', '/api/wallets/settings', input),
  /** The explicit switch: one sub-account's own mode and settings. */
  setSubAccountSettings: (locationId: string, input: WalletSettingsInput) => request<WalletSettings>('PUT', `/api/sub-accounts/${enc(locationId)}/wallet/settings`, input),
};
