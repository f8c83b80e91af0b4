/**
 * Pausing and resuming a sub-account in HighLevel: `POST /saas/pause/{locationId}` with `{ paused, companyId }`
 * (HighLevel SaaS API, GoHighLevel/highlevel-api-docs apps/saas-api.json operation `pause-location`, Version
 * 2021-04-15, 201 on success; marketplace.gohighlevel.com/docs/ghl/saas-api/pause-location: an Agency token with scope
 * `saas/company.write`, the SaaS API being an Agency Pro feature). Sent through the HighLevel API client with the
 * agency's token, from the endpoint registry (server/highlevel/endpoints.ts).
 */
import type { HighLevelApiClient } from '../highlevel/api-client';
import { HIGHLEVEL_ENDPOINTS } from '../highlevel/endpoints';

/** What HighLevel answered: done, or its message (e.g. a 403 because the agency is not on Agency Pro). */
export type PauseOutcome = { ok: true } | { ok: false; error: string };

/**
 * Asks HighLevel to pause (`paused` true) or resume (`paused` false) the sub-account.
 * Never throws: a refusal (HighLevelApiError, whose message reads `POST /saas/pause/…: <HighLevel's message>`) or a
 * missing agency grant (ReinstallRequiredError) comes back as `{ ok: false, error }` for the caller to store and show.
 */
export async function setPausedInHighLevel(api: HighLevelApiClient, input: { companyId: string; locationId: string; paused: boolean }): Promise<PauseOutcome> {
  const endpoint = HIGHLEVEL_ENDPOINTS.pauseLocation;
  try {
    await api.request<unknown>({
      method: endpoint.method,
      path: endpoint.path.replace('{locationId}', encodeURIComponent(input.locationId)),
      data: { paused: input.paused, companyId: input.companyId },
      version: endpoint.version,
      auth: { companyId: input.companyId },
    });
    return { ok: true };
  } catch (err) {
    return { ok: false, error: err instanceof Error ? err.message.slice(0, 1000) : 'unknown error' };
  }
}
