/**
 * One-time products and charges (`one_time_products`, `one_time_charges`, models/schema/catalog.ts). Plain objects in
 * and out; every function takes an `Executor`. Amounts are integers in cents.
 */
import { and, desc, eq, isNotNull, isNull, sql } from 'drizzle-orm';
import type { Executor } from '../../models/database';
import { oneTimeCharges, oneTimeProducts } from '../../models/schema';

export type OneTimeProductRow = typeof oneTimeProducts.$inferSelect;
export type OneTimeChargeRow = typeof oneTimeCharges.$inferSelect;
export type ChargeStatus = OneTimeChargeRow['status'];

/** Inserts a product not yet in Stripe (its Stripe ids are set by `setProductStripeIds`). */
export async function insertProduct(
  db: Executor,
  input: Pick<OneTimeProductRow, 'companyId' | 'name' | 'description' | 'amount' | 'currency' | 'taxBehavior'>,
): Promise<OneTimeProductRow> {
  const [row] = await db.insert(oneTimeProducts).values(input).returning();
  return row!;
}

export async function setProductStripeIds(db: Executor, id: number, ids: { stripeProductId: string; stripePriceId: string }): Promise<OneTimeProductRow> {
  const [row] = await db.update(oneTimeProducts).set(ids).where(eq(oneTimeProducts.id, id)).returning();
  return row!;
}

/** Removes a product Stripe refused (it has no charge: it never had Stripe ids). */
export async function deleteProduct(db: Executor, id: number): Promise<void> {
  await db.delete(oneTimeProducts).where(and(eq(oneTimeProducts.id, id), isNull(oneTimeProducts.stripePriceId)));
}

/** The agency's products that exist in Stripe, active first, newest first. */
export async function listProducts(db: Executor, companyId: string): Promise<OneTimeProductRow[]> {
  return db
    .select()
    .from(oneTimeProducts)
    .where(and(eq(oneTimeProducts.companyId, companyId), isNotNull(oneTimeProducts.stripePriceId)))
    .orderBy(sql`${oneTimeProducts.archivedAt} is not null`, desc(oneTimeProducts.id));
}

/** One product of the agency (archived or not), or null (another agency's product is null too). */
export async function findProduct(db: Executor, companyId: string, id: number): Promise<OneTimeProductRow | null> {
  const [row] = await db
    .select()
    .from(oneTimeProducts)
    .where(and(eq(oneTimeProducts.companyId, companyId), eq(oneTimeProducts.id, id), isNotNull(oneTimeProducts.stripePriceId)));
  return row ?? null;
}

export async function archiveProduct(db: Executor, companyId: string, id: number): Promise<OneTimeProductRow | null> {
  const [row] = await db
    .update(oneTimeProducts)
    .set({ archivedAt: sql`coalesce(${oneTimeProducts.archivedAt}, now())` })
    .where(and(eq(oneTimeProducts.companyId, companyId), eq(oneTimeProducts.id, id)))
    .returning();
  return row ?? null;
}

export async function insertCharge(
  db: Executor,
  input: Pick<OneTimeChargeRow, 'companyId' | 'locationId' | 'productId' | 'productName' | 'amount' | 'currency' | 'mode' | 'daysUntilDue'>,
): Promise<OneTimeChargeRow> {
  const [row] = await db.insert(oneTimeCharges).values(input).returning();
  return row!;
}

/** Changes a charge; `updatedAt` follows. */
export async function updateCharge(
  db: Executor,
  id: number,
  change: Partial<Pick<OneTimeChargeRow, 'status' | 'stripeInvoiceId' | 'hostedInvoiceUrl' | 'dueDate' | 'error' | 'attempts'>>,
): Promise<OneTimeChargeRow> {
  const [row] = await db
    .update(oneTimeCharges)
    .set({ ...change, updatedAt: new Date() })
    .where(eq(oneTimeCharges.id, id))
    .returning();
  return row!;
}

/** The sub-account's charges, newest first (at most 200). */
export async function listCharges(db: Executor, locationId: string): Promise<OneTimeChargeRow[]> {
  return db.select().from(oneTimeCharges).where(eq(oneTimeCharges.locationId, locationId)).orderBy(desc(oneTimeCharges.id)).limit(200);
}

export async function findCharge(db: Executor, locationId: string, id: number): Promise<OneTimeChargeRow | null> {
  const [row] = await db.select().from(oneTimeCharges).where(and(eq(oneTimeCharges.locationId, locationId), eq(oneTimeCharges.id, id)));
  return row ?? null;
}

/** The agency's charge whose Stripe invoice is `invoiceId`, or null (not one of ours). */
export async function findChargeByInvoice(db: Executor, companyId: string, invoiceId: string): Promise<OneTimeChargeRow | null> {
  const [row] = await db.select().from(oneTimeCharges).where(and(eq(oneTimeCharges.companyId, companyId), eq(oneTimeCharges.stripeInvoiceId, invoiceId)));
  return row ?? null;
}
