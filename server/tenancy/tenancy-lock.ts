import { sql } from 'drizzle-orm';
import { BILLING_SETUP_LOCK } from '../../models/advisory-locks';
import type { Executor } from '../../models/database';

/**
 * Serialises billing set-up changes against intake for one agency, for the rest of the transaction.
 * Intake takes it shared (many deliveries at once); a rule or customer change takes it exclusive, so a delivery
 * never computes a crossing from a rule that changed under it. Advisory locks live in memory: no row is written.
 */
export async function lockAgencyBillingSetup(tx: Executor, companyId: string, mode: 'shared' | 'exclusive'): Promise<void> {
  if (mode === 'shared') await tx.execute(sql`select pg_advisory_xact_lock_shared(${BILLING_SETUP_LOCK}, hashtext(${companyId}))`);
  else await tx.execute(sql`select pg_advisory_xact_lock(${BILLING_SETUP_LOCK}, hashtext(${companyId}))`);
}

