import { sql, type SQL } from 'drizzle-orm';
import type { Executor } from '../../models/database';

/** Advisory-lock namespace for "the billing set-up of one agency" (rules, customers). */
const BILLING_SETUP_LOCK = 7_310_001;

/**
 * Serialises billing set-up changes against intake for one agency, for the rest of the transaction.
 * Intake takes it shared (many deliveries at once); a rule or customer change takes it exclusive, so a delivery
 * never computes a crossing from a rule that changed under it. Advisory locks live in memory: no row is written.
 */
export async function lockAgencyBillingSetup(tx: Executor, companyId: string, mode: 'shared' | 'exclusive'): Promise<void> {
  if (mode === 'shared') await tx.execute(sql`select pg_advisory_xact_lock_shared(${BILLING_SETUP_LOCK}, hashtext(${companyId}))`);
  else await tx.execute(sql`select pg_advisory_xact_lock(${BILLING_SETUP_LOCK}, hashtext(${companyId}))`);
}

/**
 * The shared form of the same lock as an SQL expression over `companyId` (a column or a value), so intake can take
 * it in the statement that reads the sub-account: one round trip fewer. Same lock as
 * `lockAgencyBillingSetup(tx, companyId, 'shared')`; it returns void (select it under any alias).
 */
export function billingSetupLockShared(companyId: SQL): SQL {
  return sql`pg_advisory_xact_lock_shared(${BILLING_SETUP_LOCK}, hashtext(${companyId}))`;
}
