import { sql } from 'drizzle-orm';
import type { Executor } from '../../models/database';

/**
 * Advisory-lock namespace for "the billing set-up of one agency" (rules, customers). The intake's SQL function
 * `meterbridge_apply_usage` (models/migrations/0005_intake_functions.sql) takes the same lock by number.
 */
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

