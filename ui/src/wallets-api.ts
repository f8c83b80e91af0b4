/** Calls of the wallets API (server/wallets/routes.ts), through the settings API's one client (api.ts). */
import { request } from './api';
import type { TopUpResult, Wallet, WalletSettings, WalletSettingsInput } from './api-types-wallets';

const enc = encodeURIComponent;

export const walletsApi = {
  /** The sub-account's wallet (balance read from Stripe). */
  wallet: (locationId: string) => request<Wallet>('GET', `/api/sub-accounts/${enc(locationId)}/wallet`),
  /** "Top up now": `amountCents` defaults to the settings' top-up amount. */
  topUp: (locationId: string, amountCents?: number) => request<TopUpResult>('POST', `/api/sub-accounts/${enc(locationId)}/wallet/top-ups`, amountCents ? { amountCents } : {}),
  /** The agency's default mode and settings. */
  agencySettings: () => request<{ settings: WalletSettings | null }>('GET', '/api/wallets/settings'),
  setAgencySettings: (input: WalletSettingsInput) => request<{ settings: WalletSettings | null }>('PUT', '/api/wallets/settings', input),
  /** The explicit switch: one sub-account's own mode and settings. */
  setSubAccountSettings: (locationId: string, input: WalletSettingsInput) => request<WalletSettings>('PUT', `/api/sub-accounts/${enc(locationId)}/wallet/settings`, input),
};
