/**
 * Agencies (HighLevel companies) and their sub-accounts (locations). Plain objects in, plain objects out;
 * every function takes an `Executor` so callers can compose them in one transaction.
 */
import { eq, sql } from 'drizzle-orm';
import type { Executor } from '../../models/database';
import { agencies, subAccounts } from '../../models/schema';

/** Creates the agency or updates its name (a null name keeps the stored one). */
export async function upsertAgency(db: Executor, agency: { companyId: string; name?: string | null }): Promise<void> {
  await db
    .insert(agencies)
    .values({ companyId: agency.companyId, name: agency.name ?? null })
    .onConflictDoUpdate({
      target: agencies.companyId,
      set: { name: sql`coalesce(excluded.name, ${agencies.name})`, updatedAt: sql`now()` },
    });
}

/** Stores the agency's sealed Stripe secret key (see server/crypto/secret-box.ts); null disconnects. */
export async function setAgencyStripeKey(db: Executor, companyId: string, sealedKey: string | null, accountId: string | null): Promise<void> {
  await db
    .update(agencies)
    .set({ stripeSecretKey: sealedKey, stripeAccountId: accountId, updatedAt: sql`now()` })
    .where(eq(agencies.companyId, companyId));
}

/** The agency's sealed Stripe key, or null when Stripe is not connected (or the agency is unknown). */
export async function findAgencySealedStripeKey(db: Executor, companyId: string): Promise<string | null> {
  const [row] = await db.select({ key: agencies.stripeSecretKey }).from(agencies).where(eq(agencies.companyId, companyId));
  return row?.key ?? null;
}

/** Creates the sub-account or updates its name; never moves a sub-account to another agency. */
export async function upsertSubAccount(db: Executor, sub: { locationId: string; companyId: string; name?: string | null }): Promise<void> {
  await db
    .insert(subAccounts)
    .values({ locationId: sub.locationId, companyId: sub.companyId, name: sub.name ?? null })
    .onConflictDoUpdate({
      target: subAccounts.locationId,
      set: { name: sql`coalesce(excluded.name, ${subAccounts.name})`, updatedAt: sql`now()` },
      setWhere: sql`${subAccounts.companyId} = excluded.company_id`,
    });
}

/** Maps the sub-account to a Stripe customer (`cus_...`), or unmaps it with null. */
export async function setSubAccountCustomer(db: Executor, locationId: string, stripeCustomerId: string | null): Promise<void> {
  await db.update(subAccounts).set({ stripeCustomerId, updatedAt: sql`now()` }).where(eq(subAccounts.locationId, locationId));
}

/** The sub-account, or null when unknown. */
export async function findSubAccount(db: Executor, locationId: string) {
  const [row] = await db.select().from(subAccounts).where(eq(subAccounts.locationId, locationId));
  return row ?? null;
}
