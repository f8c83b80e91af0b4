/**
 * Agency-defined metrics (`custom_metrics`). Plain objects in and out; every function takes an `Executor`.
 */
import { and, asc, eq, inArray, isNull, sql } from 'drizzle-orm';
import type { Executor } from '../../models/database';
import { customMetrics } from '../../models/schema';

/** A stored custom metric. `archivedAt` set: no new usage is accepted for it. */
export interface CustomMetric {
  key: string;
  label: string;
  unit: string;
  archivedAt: Date | null;
  createdAt: Date;
}

const columns = {
  key: customMetrics.key,
  label: customMetrics.label,
  unit: customMetrics.unit,
  archivedAt: customMetrics.archivedAt,
  createdAt: customMetrics.createdAt,
};

/** The agency's custom metrics, active first, then by key. */
export async function listCustomMetrics(db: Executor, companyId: string): Promise<CustomMetric[]> {
  return db
    .select(columns)
    .from(customMetrics)
    .where(eq(customMetrics.companyId, companyId))
    .orderBy(sql`${customMetrics.archivedAt} is not null`, asc(customMetrics.key));
}

/** One custom metric of the agency (archived or not), or null. */
export async function findCustomMetric(db: Executor, companyId: string, key: string): Promise<CustomMetric | null> {
  const [row] = await db
    .select(columns)
    .from(customMetrics)
    .where(and(eq(customMetrics.companyId, companyId), eq(customMetrics.key, key)));
  return row ?? null;
}

/** The agency's active (not archived) custom metrics among `keys`. */
export async function findActiveCustomMetrics(db: Executor, companyId: string, keys: readonly string[]): Promise<CustomMetric[]> {
  if (keys.length === 0) return [];
  return db
    .select(columns)
    .from(customMetrics)
    .where(and(eq(customMetrics.companyId, companyId), inArray(customMetrics.key, [...keys]), isNull(customMetrics.archivedAt)));
}

/** How many active custom metrics the agency has. */
export async function countActiveCustomMetrics(db: Executor, companyId: string): Promise<number> {
  const [row] = await db
    .select({ n: sql<number>`count(*)::int` })
    .from(customMetrics)
    .where(and(eq(customMetrics.companyId, companyId), isNull(customMetrics.archivedAt)));
  return Number(row?.n ?? 0);
}

/**
 * Inserts the metric, or restores an archived one with the new label and unit.
 * @returns the stored metric, or null when an active metric with that key already exists (nothing changed).
 */
export async function insertOrRestoreCustomMetric(
  db: Executor,
  metric: { companyId: string; key: string; label: string; unit: string },
): Promise<CustomMetric | null> {
  const [row] = await db
    .insert(customMetrics)
    .values(metric)
    .onConflictDoUpdate({
      target: [customMetrics.companyId, customMetrics.key],
      set: { label: metric.label, unit: metric.unit, archivedAt: null },
      setWhere: sql`${customMetrics.archivedAt} is not null`,
    })
    .returning(columns);
  return row ?? null;
}

/** Archives the metric (keeps the first archive time). @returns the metric, or null when the agency has none by that key. */
export async function archiveCustomMetric(db: Executor, companyId: string, key: string): Promise<CustomMetric | null> {
  const [row] = await db
    .update(customMetrics)
    .set({ archivedAt: sql`coalesce(${customMetrics.archivedAt}, now())` })
    .where(and(eq(customMetrics.companyId, companyId), eq(customMetrics.key, key)))
    .returning(columns);
  return row ?? null;
}
