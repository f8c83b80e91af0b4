/**
 * Reads and writes of the suspension tables (models/schema/suspension.ts): the agency's policy and each
 * sub-account's suspension row. Plain objects out; every function takes any executor (database or transaction).
 */
import { and, desc, eq, inArray, isNull, or, sql } from 'drizzle-orm';
import type { Executor, Transaction } from '../../models/database';
import { suspensionPolicies, suspensions, type HighLevelPauseState, type SuspensionPolicy } from '../../models/schema';

/** An agency's policy; `off` with N = 3 when it never set one. */
export interface PolicySettings {
  policy: SuspensionPolicy;
  /** Failed payment attempts of one invoice (Stripe's `attempt_count`) that start a suspension, 1–10. */
  afterAttempts: number;
}

/** A `suspensions` row as stored. */
export type SuspensionRow = typeof suspensions.$inferSelect;

/** What starts a suspension. */
export interface SuspensionStart {
  locationId: string;
  companyId: string;
  trigger: 'payment_failed' | 'subscription_canceled';
  invoiceId: string | null;
  hostedInvoiceUrl: string | null;
  attemptCount: number | null;
  pauseInHighLevel: boolean;
}

/** The agency's policy (`off`, N = 3 when it has no row). */
export async function findPolicy(db: Executor, companyId: string): Promise<PolicySettings> {
  const [row] = await db.select().from(suspensionPolicies).where(eq(suspensionPolicies.companyId, companyId));
  return row ? { policy: row.policy, afterAttempts: row.afterAttempts } : { policy: 'off', afterAttempts: 3 };
}

/** Stores the agency's policy (the route validated it: N in 1–10, the database checks it too). */
export async function savePolicy(db: Executor, companyId: string, settings: PolicySettings): Promise<void> {
  await db
    .insert(suspensionPolicies)
    .values({ companyId, ...settings })
    .onConflictDoUpdate({ target: suspensionPolicies.companyId, set: { ...settings, updatedAt: sql`now()` } });
}

/** The sub-account's suspension row (in force or the last one), or null. */
export async function findSuspension(db: Executor, locationId: string): Promise<SuspensionRow | null> {
  const [row] = await db.select().from(suspensions).where(eq(suspensions.locationId, locationId));
  return row ?? null;
}

/**
 * Starts a suspension unless one is in force. A suspension an agency admin lifted by hand ("Resume now") is not
 * started again for the same invoice: the admin chose to wait for it; the next unpaid invoice starts a new one.
 * @returns the new row, or null when none was started.
 */
export async function startSuspension(db: Executor, start: SuspensionStart): Promise<SuspensionRow | null> {
  const values = { ...start, suspendedAt: sql`now()`, highLevelState: 'none' as const, highLevelError: null, highLevelAt: null, resumedAt: null, resumedBy: null };
  const [row] = await db
    .insert(suspensions)
    .values(values)
    .onConflictDoUpdate({
      target: suspensions.locationId,
      set: values,
      setWhere: sql`${suspensions.resumedAt} is not null
        and not (${suspensions.resumedBy} = 'manual' and ${suspensions.invoiceId} is not distinct from ${start.invoiceId})`,
    })
    .returning();
  return row ?? null;
}

/** Records what HighLevel answered to a pause or resume call (`error`: HighLevel's message, null on success). */
export async function recordHighLevel(db: Executor, locationId: string, state: HighLevelPauseState, error: string | null): Promise<void> {
  await db.update(suspensions).set({ highLevelState: state, highLevelError: error, highLevelAt: sql`now()` }).where(eq(suspensions.locationId, locationId));
}

/**
 * Ends the suspension in force, in the caller's transaction. The units held while it lasted are released by the
 * reporter's next hold step (server/payments/held-usage.ts), which dates them at their release (`billable_from`), so
 * they go into the billing period that is still open: a meter event dated in a period whose invoice Stripe has
 * finalized is counted by the meter but invoiced nowhere (models/schema/billing.ts).
 * @returns the ended row, or null when none was in force.
 */
export async function endSuspension(tx: Transaction, locationId: string, by: 'invoice_paid' | 'manual'): Promise<SuspensionRow | null> {
  const [row] = await tx
    .update(suspensions)
    .set({ resumedAt: sql`now()`, resumedBy: by })
    .where(and(eq(suspensions.locationId, locationId), isNull(suspensions.resumedAt)))
    .returning();
  return row ?? null;
}

/** The agency's suspensions worth showing: in force, or whose HighLevel pause or resume failed (newest first). */
export async function listSuspensions(db: Executor, companyId: string): Promise<SuspensionRow[]> {
  return db
    .select()
    .from(suspensions)
    .where(and(eq(suspensions.companyId, companyId), or(isNull(suspensions.resumedAt), inArray(suspensions.highLevelState, ['pause_failed', 'resume_failed']))))
    .orderBy(desc(suspensions.suspendedAt))
    .limit(500);
}
