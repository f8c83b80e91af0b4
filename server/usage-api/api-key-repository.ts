/**
 * Agency API keys (`api_keys`): only a key's SHA-256 is stored, never the key. Plain objects in and out; every
 * function takes an `Executor`.
 */
import { and, desc, eq, isNull, sql } from 'drizzle-orm';
import type { Executor } from '../../models/database';
import { apiKeys } from '../../models/schema';

/** A key as the settings API shows it: never the key or its hash. */
export interface ApiKeySummary {
  id: number;
  name: string;
  /** The key's first characters (`mbk_` + 8), to tell keys apart. */
  prefix: string;
  createdAt: Date;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
}

/** What authentication needs of a key. */
export interface ApiKeyCredential {
  id: number;
  companyId: string;
  revokedAt: Date | null;
  lastUsedAt: Date | null;
}

const summary = {
  id: apiKeys.id,
  name: apiKeys.name,
  prefix: apiKeys.prefix,
  createdAt: apiKeys.createdAt,
  lastUsedAt: apiKeys.lastUsedAt,
  revokedAt: apiKeys.revokedAt,
};

/** Stores a new key by its hash. */
export async function insertApiKey(db: Executor, key: { companyId: string; name: string; prefix: string; keyHash: string }): Promise<ApiKeySummary> {
  const [row] = await db.insert(apiKeys).values(key).returning(summary);
  return row!;
}

/** The agency's keys, newest first (revoked ones included). */
export async function listApiKeys(db: Executor, companyId: string): Promise<ApiKeySummary[]> {
  return db.select(summary).from(apiKeys).where(eq(apiKeys.companyId, companyId)).orderBy(desc(apiKeys.id));
}

/** How many unrevoked keys the agency has. */
export async function countActiveApiKeys(db: Executor, companyId: string): Promise<number> {
  const [row] = await db
    .select({ n: sql<number>`count(*)::int` })
    .from(apiKeys)
    .where(and(eq(apiKeys.companyId, companyId), isNull(apiKeys.revokedAt)));
  return Number(row?.n ?? 0);
}

/** Revokes one of the agency's keys (keeps the first revocation time). @returns it, or null when the agency has no such key. */
export async function revokeApiKey(db: Executor, companyId: string, id: number): Promise<ApiKeySummary | null> {
  const [row] = await db
    .update(apiKeys)
    .set({ revokedAt: sql`coalesce(${apiKeys.revokedAt}, now())` })
    .where(and(eq(apiKeys.companyId, companyId), eq(apiKeys.id, id)))
    .returning(summary);
  return row ?? null;
}

/** The key with this SHA-256 (hex), revoked or not; null when none. */
export async function findApiKeyByHash(db: Executor, keyHash: string): Promise<ApiKeyCredential | null> {
  const [row] = await db
    .select({ id: apiKeys.id, companyId: apiKeys.companyId, revokedAt: apiKeys.revokedAt, lastUsedAt: apiKeys.lastUsedAt })
    .from(apiKeys)
    .where(eq(apiKeys.keyHash, keyHash));
  return row ?? null;
}

/** Sets `last_used_at` to now unless it was set less than `staleSeconds` ago (one write per key per interval). */
export async function touchApiKey(db: Executor, id: number, staleSeconds: number): Promise<void> {
  await db.execute(
    sql`update api_keys set last_used_at = now()
        where id = ${id} and (last_used_at is null or last_used_at < now() - make_interval(secs => ${staleSeconds}))`,
  );
}
