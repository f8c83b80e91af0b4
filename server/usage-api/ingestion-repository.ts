/**
 * Reads the usage API needs before it records anything.
 */
import { and, eq, inArray } from 'drizzle-orm';
import type { Executor } from '../../models/database';
import { subAccounts } from '../../models/schema';

/** Which of `locationIds` are sub-accounts of the agency (installed or not). */
export async function findOwnSubAccounts(db: Executor, companyId: string, locationIds: readonly string[]): Promise<Set<string>> {
  if (locationIds.length === 0) return new Set();
  const rows = await db
    .select({ locationId: subAccounts.locationId })
    .from(subAccounts)
    .where(and(eq(subAccounts.companyId, companyId), inArray(subAccounts.locationId, [...locationIds])));
  return new Set(rows.map((r) => r.locationId));
}
