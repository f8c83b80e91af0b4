/**
 * Fetches the sub-accounts an agency installed the app in (bulk installs send no per-location INSTALL) and
 * upserts them with their names. HighLevel: `GET /oauth/installedLocations?companyId=&appId=&isInstalled=true
 * &skip=&limit=` with the agency's Company token (Version 2021-07-28) answers
 * `{ locations: [{ _id, name, address, isInstalled }], count }`; pages are walked by `skip`.
 */
import type { Logger } from 'pino';
import { z } from 'zod';
import type { Database } from '../../models/database';
import {
  applySubAccountLifecycle,
  finishInstallSync,
  findInstallSyncRequest,
  listAgenciesAwaitingSync,
  upsertSubAccount,
} from '../tenancy/accounts-repository';
import type { HighLevelApiClient } from './api-client';
import { HIGHLEVEL_ENDPOINTS } from './endpoints';
import { findCompanyInstallation } from './installation-repository';

const PAGE_SIZE = 100;
/** A bound on pages so a misbehaving answer cannot loop forever (100,000 sub-accounts). */
const MAX_PAGES = 1_000;

const pageSchema = z.looseObject({
  locations: z.array(z.looseObject({ _id: z.string().min(1), name: z.string().optional(), isInstalled: z.boolean().optional() })).default([]),
  count: z.coerce.number().int().min(0).optional(),
});

export interface InstalledLocationsSyncDependencies {
  db: Database;
  api: HighLevelApiClient;
  /** The marketplace app id; without it HighLevel cannot say where the app is installed. */
  appId: string | undefined;
  logger: Logger;
  now?: () => Date;
}

export function createInstalledLocationsSync(deps: InstalledLocationsSyncDependencies) {
  const now = deps.now ?? (() => new Date());

  /**
   * Lists every page and upserts each installed sub-account as active.
   * @returns the number of installed sub-accounts HighLevel reported.
   * @throws HighLevelApiError with HighLevel's message; ReinstallRequiredError when the agency's grant is gone;
   *   Error when no app id is configured.
   */
  async function syncAgency(companyId: string): Promise<number> {
    if (!deps.appId) throw new Error('HIGHLEVEL_APP_ID (or HIGHLEVEL_CLIENT_ID) is not configured.');
    const seenAt = now();
    let installed = 0;
    for (let page = 0, skip = 0; page < MAX_PAGES; page++) {
      const body = pageSchema.parse(
        await deps.api.request<unknown>({
          method: HIGHLEVEL_ENDPOINTS.installedLocations.method,
          path: HIGHLEVEL_ENDPOINTS.installedLocations.path,
          params: { companyId, appId: deps.appId, isInstalled: true, skip, limit: PAGE_SIZE },
          version: HIGHLEVEL_ENDPOINTS.installedLocations.version,
          auth: { companyId },
        }),
      );
      for (const location of body.locations) {
        if (location.isInstalled === false) continue;
        await deps.db.transaction(async (tx) => {
          await upsertSubAccount(tx, { locationId: location._id, companyId, name: location.name ?? null });
          await applySubAccountLifecycle(tx, { locationId: location._id }, 'active', seenAt);
        });
        installed += 1;
      }
      skip += body.locations.length;
      if (body.locations.length === 0 || (body.count !== undefined && skip >= body.count)) break;
    }
    return installed;
  }

  /** Syncs one agency and records the outcome (clearing its request on success). @throws as syncAgency. */
  async function syncAndRecord(companyId: string, requestedAt: string | null): Promise<number> {
    try {
      const installed = await syncAgency(companyId);
      await finishInstallSync(deps.db, companyId, requestedAt, null);
      return installed;
    } catch (err) {
      await finishInstallSync(deps.db, companyId, requestedAt, (err as Error).message);
      throw err;
    }
  }

  return {
    syncAgency,

    /** Syncs the agency now (right after an install), answering its pending request. @throws as syncAgency. */
    async syncNow(companyId: string): Promise<number> {
      return syncAndRecord(companyId, await findInstallSyncRequest(deps.db, companyId));
    },

    /**
     * The scheduled job: syncs every agency whose sync was requested and that has an active Company grant;
     * records each outcome on the agency (the error is shown to the agency).
     * @returns counts of agencies synced and failed.
     */
    async syncRequested(): Promise<{ synced: number; failed: number; waiting: number }> {
      let synced = 0;
      let failed = 0;
      let waiting = 0;
      for (const { companyId, requestedAt } of await listAgenciesAwaitingSync(deps.db)) {
        const installation = await findCompanyInstallation(deps.db, companyId);
        if (!installation || installation.status !== 'active') {
          waiting += 1; // the INSTALL webhook came before the OAuth exchange finished: wait for the grant
          continue;
        }
        try {
          await syncAndRecord(companyId, requestedAt);
          synced += 1;
        } catch (err) {
          failed += 1;
          deps.logger.warn({ companyId, reason: (err as Error).message }, 'sub-account sync failed');
        }
      }
      return { synced, failed, waiting };
    },
  };
}

export type InstalledLocationsSync = ReturnType<typeof createInstalledLocationsSync>;
