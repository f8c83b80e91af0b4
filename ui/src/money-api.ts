/** Calls of the money API (server/money/routes.ts), through the settings API's one client (api.ts). */
import { downloadCsv, query, request, type DayRange } from './api';
import type { AgencyMoney, Attention, SubAccountMoney, UsageAmounts } from './api-types-money';

export const moneyApi = {
  months: (months = 6) => request<AgencyMoney>('GET', `/api/money${query({ months })}`),
  subAccounts: (month?: string) => request<SubAccountMoney>('GET', `/api/money/sub-accounts${query({ month })}`),
  attention: () => request<Attention>('GET', '/api/overview/attention'),
  usageAmounts: (range: DayRange, locationId?: string) => request<UsageAmounts>('GET', `/api/usage/amounts${query({ ...range, locationId })}`),
  /** Saves the "agency cost vs rebilled" CSV; @returns the file name. */
  downloadCsv: (months = 12) => downloadCsv(`/api/money/export.csv${query({ months })}`, 'meterbridge-cost-vs-rebilled.csv'),
};
