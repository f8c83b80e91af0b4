/**
 * The install use case: a successful OAuth exchange becomes an installation (tokens sealed), its agency and — for a
 * Location grant — its sub-account; a Company (possibly bulk) grant asks for the sub-account sync, which runs at
 * once and, if HighLevel is slow or down, again from the scheduled job. Webhooks for the same install (INSTALL,
 * LocationCreate) may arrive before, during or after this; every write is an upsert, so they converge.
 */
import type { Logger } from 'pino';
import type { Database } from '../../models/database';
import type { SecretBox } from '../crypto/secret-box';
import { badRequest } from '../http/errors';
import { applySubAccountLifecycle, requestInstallSync, upsertAgency, upsertSubAccount } from '../tenancy/accounts-repository';
import { upsertInstallation } from './installation-repository';
import type { TokenResponse } from './oauth-token-endpoint';

/** What the install produced, for the page the installer sees. */
export interface InstallOutcome {
  companyId: string;
  locationId: string | null;
  userType: 'Company' | 'Location';
  /** Sub-accounts of the agency known after the install (and the immediate sync). */
  subAccounts: number;
}

export interface InstallDependencies {
  db: Database;
  secretBox: SecretBox;
  /** Fetches the agency's installed sub-accounts; @returns how many the agency has. */
  syncInstalledLocations: (companyId: string) => Promise<number>;
  logger: Logger;
  now?: () => Date;
}

export function createInstallFlow(deps: InstallDependencies) {
  const now = deps.now ?? (() => new Date());
  return {
    /**
     * Stores HighLevel's token response.
     * @throws AppError 400 when the response names no company (HighLevel always sends companyId).
     */
    async completeOAuth(grant: TokenResponse): Promise<InstallOutcome> {
      const companyId = grant.companyId;
      if (!companyId) throw badRequest('invalid_grant', 'HighLevel answered without a companyId.');
      const locationId = grant.locationId ? grant.locationId : null;
      const userType = grant.userType ?? (locationId ? 'Location' : 'Company');
      const installedAt = now();
      await deps.db.transaction(async (tx) => {
        await upsertAgency(tx, { companyId });
        await upsertInstallation(tx, {
          companyId,
          locationId: userType === 'Location' ? locationId : null,
          userType,
          userId: grant.userId ?? null,
          accessToken: deps.secretBox.seal(grant.access_token),
          refreshToken: grant.refresh_token ? deps.secretBox.seal(grant.refresh_token) : null,
          scopes: grant.scope ?? '',
          expiresAt: new Date(installedAt.getTime() + grant.expires_in * 1000),
          isBulkInstallation: grant.isBulkInstallation ?? false,
          source: 'oauth',
        });
        if (userType === 'Location' && locationId) {
          await upsertSubAccount(tx, { locationId, companyId });
          await applySubAccountLifecycle(tx, { locationId }, 'active', installedAt);
        } else {
          await requestInstallSync(tx, companyId);
        }
      });
      let subAccounts = userType === 'Location' ? 1 : 0;
      if (userType === 'Company') {
        try {
          subAccounts = await deps.syncInstalledLocations(companyId);
        } catch (err) {
          deps.logger.warn({ companyId, reason: (err as Error).message }, 'sub-account sync after install failed; the job will retry');
        }
      }
      deps.logger.info({ companyId, locationId, userType }, 'installation stored');
      return { companyId, locationId, userType, subAccounts };
    },
  };
}

export type InstallFlow = ReturnType<typeof createInstallFlow>;
