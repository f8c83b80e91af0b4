/**
 * Plans, their per-metric allowances and the plan each sub-account is on (`plans`, `plan_metric_prices`,
 * `sub_account_plans`, models/schema/catalog.ts). Plain objects in and out; every function takes an `Executor`.
 */
import { and, asc, desc, eq, inArray, isNull, sql } from 'drizzle-orm';
import { selectRows, type Executor } from '../../models/database';
import { planMetricPrices, plans, subAccountPlans } from '../../models/schema';

export type PlanRow = typeof plans.$inferSelect;
export type PlanMetricRow = typeof planMetricPrices.$inferSelect;
export type PlanWithMetrics = PlanRow & { metrics: PlanMetricRow[] };

/** Stores a plan and its metric prices in one transaction; a new default plan replaces the old default. */
export async function insertPlan(
  db: Executor,
  plan: Pick<PlanRow, 'companyId' | 'name' | 'currency' | 'interval' | 'baseFeeAmount' | 'stripeBasePriceId' | 'isDefault' | 'trialDays'>,
  metrics: Array<Omit<PlanMetricRow, 'planId'>>,
): Promise<PlanWithMetrics> {
  return db.transaction(async (tx) => {
    if (plan.isDefault) await tx.update(plans).set({ isDefault: false }).where(and(eq(plans.companyId, plan.companyId), eq(plans.isDefault, true)));
    const [row] = await tx.insert(plans).values(plan).returning();
    const stored = metrics.length > 0 ? await tx.insert(planMetricPrices).values(metrics.map((m) => ({ ...m, planId: row!.id }))).returning() : [];
    return { ...row!, metrics: stored };
  });
}

async function withMetrics(db: Executor, rows: PlanRow[]): Promise<PlanWithMetrics[]> {
  if (rows.length === 0) return [];
  const metrics = await db
    .select()
    .from(planMetricPrices)
    .where(inArray(planMetricPrices.planId, rows.map((r) => r.id)))
    .orderBy(asc(planMetricPrices.metric));
  return rows.map((r) => ({ ...r, metrics: metrics.filter((m) => m.planId === r.id) }));
}

/** The agency's plans: default first, then active, newest first. */
export async function listPlans(db: Executor, companyId: string): Promise<PlanWithMetrics[]> {
  const rows = await db
    .select()
    .from(plans)
    .where(eq(plans.companyId, companyId))
    .orderBy(desc(plans.isDefault), sql`${plans.archivedAt} is not null`, desc(plans.id));
  return withMetrics(db, rows);
}

export async function findPlan(db: Executor, companyId: string, id: number): Promise<PlanWithMetrics | null> {
  const [row] = await db.select().from(plans).where(and(eq(plans.companyId, companyId), eq(plans.id, id)));
  return row ? ((await withMetrics(db, [row]))[0] ?? null) : null;
}

/** The plan the sub-account is on: its own, else the agency's default plan, else null. */
export async function planInForce(db: Executor, locationId: string, companyId: string): Promise<PlanWithMetrics | null> {
  const [own] = await db
    .select({ plan: plans })
    .from(subAccountPlans)
    .innerJoin(plans, eq(plans.id, subAccountPlans.planId))
    .where(eq(subAccountPlans.locationId, locationId));
  const [fallback] = own ? [own.plan] : await db.select().from(plans).where(and(eq(plans.companyId, companyId), eq(plans.isDefault, true), isNull(plans.archivedAt)));
  return fallback ? ((await withMetrics(db, [fallback]))[0] ?? null) : null;
}

/** The sub-account's own plan id, or null (it follows the default plan). */
export async function ownPlanId(db: Executor, locationId: string): Promise<number | null> {
  const [row] = await db.select({ planId: subAccountPlans.planId }).from(subAccountPlans).where(eq(subAccountPlans.locationId, locationId));
  return row?.planId ?? null;
}

/** Puts the sub-account on `planId`, or (null) back on the agency's default plan. */
export async function setSubAccountPlan(db: Executor, locationId: string, planId: number | null): Promise<void> {
  if (planId === null) {
    await db.delete(subAccountPlans).where(eq(subAccountPlans.locationId, locationId));
    return;
  }
  await db
    .insert(subAccountPlans)
    .values({ locationId, planId })
    .onConflictDoUpdate({ target: subAccountPlans.locationId, set: { planId, updatedAt: new Date() } });
}

/**
 * The agency's flat fee changed (PUT /api/defaults): its default plan's base fee follows, so the fee and the default
 * plan never disagree. No-op without a default plan.
 */
export async function setDefaultPlanBaseFee(db: Executor, companyId: string, fee: { priceId: string | null; amount: number | null }): Promise<void> {
  await db
    .update(plans)
    .set({ stripeBasePriceId: fee.priceId, baseFeeAmount: fee.amount ?? 0 })
    .where(and(eq(plans.companyId, companyId), eq(plans.isDefault, true)));
}

/** Archives a plan (no new assignments; sub-accounts already on it stay). @returns false when it was archived already. */
export async function archivePlan(db: Executor, companyId: string, id: number): Promise<boolean> {
  const rows = await db
    .update(plans)
    .set({ archivedAt: new Date() })
    .where(and(eq(plans.companyId, companyId), eq(plans.id, id), isNull(plans.archivedAt)))
    .returning({ id: plans.id });
  return rows.length > 0;
}

/**
 * Of `priceIds`, those still used by the agency outside plan `exceptPlanId`: another plan not archived (base fee or a
 * metric's price), the agency's flat fee, or a rebilling rule.
 */
export async function pricesInUse(db: Executor, companyId: string, exceptPlanId: number, priceIds: string[]): Promise<Set<string>> {
  if (priceIds.length === 0) return new Set();
  const rows = await selectRows<{ price: string }>(db, sql`
    select p.stripe_base_price_id as price from plans p
      where p.company_id = ${companyId} and p.id <> ${exceptPlanId} and p.archived_at is null and p.stripe_base_price_id is not null
    union select m.stripe_price_id from plan_metric_prices m join plans p on p.id = m.plan_id
      where p.company_id = ${companyId} and p.id <> ${exceptPlanId} and p.archived_at is null
    union select a.flat_fee_price_id from agencies a where a.company_id = ${companyId} and a.flat_fee_price_id is not null
    union select r.stripe_price_id from rebilling_rules r where r.company_id = ${companyId} and r.stripe_price_id is not null`);
  const inUse = new Set(rows.map((r) => r.price));
  return new Set(priceIds.filter((id) => inUse.has(id)));
}
