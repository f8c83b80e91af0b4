/** Calls of the suspension API (server/suspension/routes.ts), through the settings API's one client (api.ts). */
import { request } from './api';
import type { SubAccountSuspension, SuspensionList, SuspensionSettings, SuspensionSettingsInput } from './api-types-suspension';

const enc = encodeURIComponent;

export const suspensionApi = {
  settings: () => request<SuspensionSettings>('GET', '/api/suspension/settings'),
  setSettings: (input: SuspensionSettingsInput) => request<SuspensionSettings>('PUT', '/api/suspension/settings', input),
  /** The agency's sub-accounts suspended now, or whose HighLevel pause or resume failed. */
  list: () => request<SuspensionList>('GET', '/api/suspensions'),
  subAccount: (locationId: string) => request<SubAccountSuspension>('GET', `/api/sub-accounts/${enc(locationId)}/suspension`),
  resumeNow: (locationId: string) => request<SubAccountSuspension>('POST', `/api/sub-accounts/${enc(locationId)}/suspension/resume`, {}),
};
