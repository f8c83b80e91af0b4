/**
 * Installations (HighLevel OAuth grants). Tokens arrive and leave sealed (server/crypto/secret-box.ts): this
 * module never sees a token in clear.
 */
import { and, eq, lt, sql } from 'drizzle-orm';
import type { Executor } from '../../models/database';
import { installations } from '../../models/schema';

/** An installation row; `accessToken` and `refreshToken` are sealed. */
export type InstallationRow = typeof installations.$inferSelect;

/** What an OAuth exchange or a location-token mint stores. */
export interface NewInstallation {
  companyId: string;
  locationId: string | null;
  userType: 'Company' | 'Location';
  userId: string | null;
  accessToken: string;
  refreshToken: string | null;
  scopes: string;
  expiresAt: Date;
  isBulkInstallation: boolean;
  source: 'oauth' | 'location_token';
}

/** Inserts the installation or replaces its grant (a reinstall revives an uninstalled or broken one). */
export async function upsertInstallation(db: Executor, row: NewInstallation): Promise<InstallationRow> {
  const set = {
    userId: row.userId,
    accessToken: row.accessToken,
    refreshToken: row.refreshToken,
    scopes: row.scopes,
    expiresAt: row.expiresAt,
    isBulkInstallation: row.isBulkInstallation,
    source: row.source,
    status: 'active' as const,
    statusReason: null,
    updatedAt: sql`now()`,
  };
  const insert = db.insert(installations).values(row);
  const [saved] =
    row.userType === 'Company'
      ? await insert
          .onConflictDoUpdate({ target: installations.companyId, targetWhere: sql`user_type = 'Company'`, set })
          .returning()
      : await insert
          .onConflictDoUpdate({ target: installations.locationId, targetWhere: sql`user_type = 'Location'`, set })
          .returning();
  return saved!;
}

/** The agency's Company installation, or null. */
export async function findCompanyInstallation(db: Executor, companyId: string): Promise<InstallationRow | null> {
  const [row] = await db
    .select()
    .from(installations)
    .where(and(eq(installations.companyId, companyId), eq(installations.userType, 'Company')));
  return row ?? null;
}

/** The sub-account's Location installation, or null. */
export async function findLocationInstallation(db: Executor, locationId: string): Promise<InstallationRow | null> {
  const [row] = await db
    .select()
    .from(installations)
    .where(and(eq(installations.locationId, locationId), eq(installations.userType, 'Location')));
  return row ?? null;
}

export async function findInstallation(db: Executor, id: number): Promise<InstallationRow | null> {
  const [row] = await db.select().from(installations).where(eq(installations.id, id));
  return row ?? null;
}

/** Saves a refreshed grant (HighLevel rotates the refresh token on every refresh). */
export async function saveRefreshedGrant(
  db: Executor,
  id: number,
  grant: { accessToken: string; refreshToken: string | null; expiresAt: Date; scopes?: string },
): Promise<void> {
  await db
    .update(installations)
    .set({ ...grant, status: 'active', statusReason: null, updatedAt: sql`now()` })
    .where(eq(installations.id, id));
}

/** Sets the installation's status with a human-readable reason (shown to the agency). */
export async function setInstallationStatus(
  db: Executor,
  id: number,
  status: InstallationRow['status'],
  reason: string | null,
): Promise<void> {
  await db.update(installations).set({ status, statusReason: reason, updatedAt: sql`now()` }).where(eq(installations.id, id));
}

/** Marks every installation of a sub-account, or of a whole agency, uninstalled. */
export async function markUninstalled(db: Executor, scope: { locationId: string } | { companyId: string }): Promise<void> {
  const where = 'locationId' in scope ? eq(installations.locationId, scope.locationId) : eq(installations.companyId, scope.companyId);
  await db.update(installations).set({ status: 'uninstalled', statusReason: 'Uninstalled in HighLevel.', updatedAt: sql`now()` }).where(where);
}

/** Active installations whose access token expires before `before`, soonest first. */
export async function listExpiringInstallations(db: Executor, before: Date, limit = 100): Promise<InstallationRow[]> {
  return db
    .select()
    .from(installations)
    .where(and(eq(installations.status, 'active'), lt(installations.expiresAt, before)))
    .orderBy(installations.expiresAt)
    .limit(limit);
}
