/**
 * Access tokens for HighLevel API calls, kept alive without a human: refreshed ahead of expiry and after a 401,
 * one refresh at a time per installation (in-process single flight + a PostgreSQL advisory lock across
 * replicas), the rotated refresh token saved before the new access token is used. A grant HighLevel refuses for
 * good marks the installation `needs_reinstall` and is not retried.
 */
import type { Logger } from 'pino';
import { advisoryLockKey } from '../../models/advisory-locks';
import type { DatabaseHandle } from '../../models/database';
import type { SecretBox } from '../crypto/secret-box';
import { AppError } from '../http/errors';
import { findSubAccount } from '../tenancy/accounts-repository';
import {
  findCompanyInstallation,
  findInstallation,
  findLocationInstallation,
  listExpiringInstallations,
  saveRefreshedGrant,
  setInstallationStatus,
  upsertInstallation,
  type InstallationRow,
} from './installation-repository';
import { HighLevelOAuthError, mintLocationToken, refreshGrant, type TokenEndpointOptions, type TokenResponse } from './oauth-token-endpoint';

/** Whose token: the agency's Company grant, or one sub-account's Location grant. */
export type TokenOwner = { companyId: string } | { locationId: string };

/** 409: there is no working grant for this agency or sub-account; the agency must (re)install the app. */
export class ReinstallRequiredError extends AppError {
  constructor(message: string) {
    super('reinstall_required', message);
  }
}

/** Tokens are refreshed when they have less than this many seconds left. */
const REFRESH_MARGIN_SECONDS = 300;

export interface InstallationTokensDependencies {
  database: Pick<DatabaseHandle, 'db' | 'withAdvisoryLock'>;
  secretBox: SecretBox;
  /** The app's OAuth client; null when HIGHLEVEL_CLIENT_ID/SECRET are not configured (then nothing can refresh). */
  endpoint: TokenEndpointOptions | null;
  logger: Logger;
  now?: () => Date;
}

export function createInstallationTokens(deps: InstallationTokensDependencies) {
  const { db } = deps.database;
  const now = deps.now ?? (() => new Date());
  const inflight = new Map<string, Promise<string>>();
  const open = (sealed: string) => deps.secretBox.open(sealed);
  const seal = (plain: string) => deps.secretBox.seal(plain);
  const fresh = (row: InstallationRow) => row.expiresAt.getTime() - now().getTime() > REFRESH_MARGIN_SECONDS * 1000;

  /** One promise per key at a time in this process; the advisory lock covers other processes. */
  function singleFlight(key: string, work: () => Promise<string>): Promise<string> {
    const running = inflight.get(key);
    if (running) return running;
    const started = deps.database.withAdvisoryLock(advisoryLockKey(`highlevel-token:${key}`), work).finally(() => inflight.delete(key));
    inflight.set(key, started);
    return started;
  }

  function requireEndpoint(): TokenEndpointOptions {
    if (!deps.endpoint) throw new AppError('oauth_not_configured', 'HIGHLEVEL_CLIENT_ID and HIGHLEVEL_CLIENT_SECRET are not configured.');
    return deps.endpoint;
  }

  async function activeRow(owner: TokenOwner): Promise<InstallationRow | null> {
    const row = 'companyId' in owner ? await findCompanyInstallation(db, owner.companyId) : await findLocationInstallation(db, owner.locationId);
    return row && row.status === 'active' ? row : null;
  }

  /** Refreshes installation `id` unless someone else already replaced `staleToken`. */
  function refresh(id: number, staleToken: string): Promise<string> {
    return singleFlight(`installation:${id}`, async () => {
      const row = await findInstallation(db, id);
      if (!row || row.status !== 'active') throw new ReinstallRequiredError(row?.statusReason ?? 'The app is not installed.');
      const current = open(row.accessToken);
      if (current !== staleToken && fresh(row)) return current;
      if (!row.refreshToken) {
        // A minted Location token may come without a refresh token: mint a new one from the agency's grant.
        if (row.userType === 'Location' && row.locationId) return mintForLocation(row.companyId, row.locationId);
        await setInstallationStatus(db, row.id, 'needs_reinstall', 'HighLevel gave no refresh token.');
        throw new ReinstallRequiredError('HighLevel gave no refresh token for this installation; reinstall the app.');
      }
      let grant: TokenResponse;
      try {
        grant = await refreshGrant(requireEndpoint(), open(row.refreshToken), row.userType);
      } catch (err) {
        if (err instanceof HighLevelOAuthError && err.reinstallRequired) {
          await setInstallationStatus(db, row.id, 'needs_reinstall', err.message);
          deps.logger.warn({ installationId: row.id, companyId: row.companyId, locationId: row.locationId, reason: err.message }, 'HighLevel grant refused; reinstall needed');
          throw new ReinstallRequiredError(`HighLevel refused the saved grant (${err.message}); reinstall the app.`);
        }
        throw err;
      }
      await saveRefreshedGrant(db, row.id, {
        accessToken: seal(grant.access_token),
        refreshToken: grant.refresh_token ? seal(grant.refresh_token) : row.refreshToken,
        expiresAt: new Date(now().getTime() + grant.expires_in * 1000),
        ...(grant.scope ? { scopes: grant.scope } : {}),
      });
      deps.logger.info({ installationId: row.id, companyId: row.companyId, locationId: row.locationId }, 'HighLevel token refreshed');
      return grant.access_token;
    });
  }

  /** A Location token minted from the agency's Company token and stored as the sub-account's installation. */
  function mintForLocation(companyId: string, locationId: string): Promise<string> {
    return singleFlight(`mint:${locationId}`, async () => {
      const existing = await activeRow({ locationId });
      if (existing && fresh(existing)) return open(existing.accessToken);
      const company = await activeRow({ companyId });
      if (!company) throw new ReinstallRequiredError(`Neither sub-account ${locationId} nor its agency has an active installation.`);
      let companyToken = await tokenOf(company);
      let grant: TokenResponse;
      try {
        grant = await mintLocationToken(requireEndpoint(), companyToken, companyId, locationId);
      } catch (err) {
        if (!(err instanceof HighLevelOAuthError) || err.status !== 401) throw err;
        companyToken = await refresh(company.id, companyToken);
        grant = await mintLocationToken(requireEndpoint(), companyToken, companyId, locationId);
      }
      await upsertInstallation(db, {
        companyId,
        locationId,
        userType: 'Location',
        userId: grant.userId ?? null,
        accessToken: seal(grant.access_token),
        refreshToken: grant.refresh_token ? seal(grant.refresh_token) : null,
        scopes: grant.scope ?? company.scopes,
        expiresAt: new Date(now().getTime() + grant.expires_in * 1000),
        isBulkInstallation: false,
        source: 'location_token',
      });
      return grant.access_token;
    });
  }

  async function tokenOf(row: InstallationRow): Promise<string> {
    const token = open(row.accessToken);
    return fresh(row) ? token : refresh(row.id, token);
  }

  return {
    /**
     * A working access token for the owner, refreshed first when it is about to expire. For a sub-account with no
     * Location grant of its own, one is minted from its agency's Company grant.
     * @throws ReinstallRequiredError (409) when no active grant exists or HighLevel refused it for good;
     *   HighLevelOAuthError for a transient token endpoint failure.
     */
    async accessToken(owner: TokenOwner): Promise<string> {
      const row = await activeRow(owner);
      if (row) return tokenOf(row);
      if ('companyId' in owner) throw new ReinstallRequiredError(`Agency ${owner.companyId} has no active installation.`);
      const sub = await findSubAccount(db, owner.locationId);
      if (!sub) throw new ReinstallRequiredError(`Sub-account ${owner.locationId} is not installed.`);
      return mintForLocation(sub.companyId, owner.locationId);
    },

    /**
     * After a sub-account's INSTALL: mints its Location token from the agency's Company grant when the agency has an
     * active one and the sub-account has no active grant yet (a per-location INSTALL of a bulk install), as
     * HighLevel's SDK does on INSTALL (@gohighlevel/api-client lib/webhook/webhook-manager.ts). Otherwise nothing.
     * Never throws: a failure is logged, and the token is minted again on first use.
     */
    async mintOnInstall(companyId: string, locationId: string): Promise<void> {
      try {
        if (await activeRow({ locationId })) return;
        if (!(await activeRow({ companyId }))) return;
        await mintForLocation(companyId, locationId);
        deps.logger.info({ companyId, locationId }, 'Location token minted from the Company grant on INSTALL');
      } catch (err) {
        deps.logger.warn({ companyId, locationId, reason: (err as Error).message }, 'Location token not minted on INSTALL; it will be on first use');
      }
    },

    /** After HighLevel answered 401 to `rejectedToken`: a refreshed token (one refresh however many callers ask). */
    async refreshAfterUnauthorized(owner: TokenOwner, rejectedToken: string): Promise<string> {
      const row = await activeRow(owner);
      if (!row) return this.accessToken(owner);
      return refresh(row.id, rejectedToken);
    },

    /**
     * Refreshes every active grant expiring within `withinSeconds` (the scheduled job).
     * @returns how many were refreshed and how many failed (failures are logged; reinstall cases are marked).
     */
    async refreshExpiring(withinSeconds = 3600): Promise<{ refreshed: number; failed: number }> {
      const rows = await listExpiringInstallations(db, new Date(now().getTime() + withinSeconds * 1000));
      let refreshed = 0;
      let failed = 0;
      for (const row of rows) {
        try {
          await refresh(row.id, open(row.accessToken));
          refreshed += 1;
        } catch (err) {
          failed += 1;
          deps.logger.warn({ installationId: row.id, reason: (err as Error).message }, 'scheduled token refresh failed');
        }
      }
      return { refreshed, failed };
    },
  };
}

export type InstallationTokens = ReturnType<typeof createInstallationTokens>;
