/**
 * The stored next-invoice previews (models/schema/invoice-previews.ts): what Stripe last previewed for each
 * subscribed sub-account (one with a Stripe customer and a subscription), when, and whether that read failed; and
 * when a preview is due to be read again (DUE below, the one rule the Overview and the refresh job share). Amounts
 * are integer cents as Stripe gives them.
 */
import { and, asc, desc, eq, isNotNull, ne, sql, type SQL } from 'drizzle-orm';
import type { Database } from '../../models/database';
import { invoicePreviews, subAccounts } from '../../models/schema';
import type { NextInvoice } from './invoices';
import { staleSql, storeRead } from './stored-reads';

/** A stored preview older than this is read again, seconds (usage reported to Stripe since changes it). */
export const PREVIEW_MAX_AGE_SECONDS = 300;
/** A read that failed is tried again after this many seconds (sooner if a webhook asks). */
export const PREVIEW_RETRY_SECONDS = 60;

/** Whose preview: the sub-account, its agency, and the Stripe customer and subscription previewed. */
export interface PreviewTarget {
  locationId: string;
  companyId: string;
  customerId: string;
  subscriptionId: string;
}

/**
 * A subscribed sub-account and its stored preview. `stored`: a row exists for its current subscription (amounts
 * null when Stripe had nothing upcoming, `noneReason`, or no read succeeded yet); `due`: to be read again (DUE).
 */
export interface StoredPreview extends PreviewTarget {
  stored: boolean;
  due: boolean;
  currency: string | null;
  totalCents: number | null;
  taxCents: number | null;
  periodStart: Date | null;
  noneReason: string | null;
  fetchedAt: Date | null;
  lastError: string | null;
}

/**
 * Due for a read: none stored for the current subscription; a webhook or a change asked for one; the period it
 * previewed has ended since it was read; older than PREVIEW_MAX_AGE_SECONDS; or failed over PREVIEW_RETRY_SECONDS ago.
 */
const DUE: SQL<boolean> = sql<boolean>`(${invoicePreviews.locationId} is null
  or ${invoicePreviews.refreshRequestedAt} is not null
  or (${invoicePreviews.periodEnd} <= now() and ${invoicePreviews.fetchedAt} < ${invoicePreviews.periodEnd})
  or ${staleSql(invoicePreviews, PREVIEW_MAX_AGE_SECONDS, PREVIEW_RETRY_SECONDS)})`;

/** Subscribed sub-accounts matching `where`, each with its stored preview and whether it is due. */
function subscribed(db: Database, where: SQL | undefined) {
  return db
    .select({
      locationId: subAccounts.locationId,
      companyId: subAccounts.companyId,
      customerId: sql<string>`${subAccounts.stripeCustomerId}`,
      subscriptionId: sql<string>`${subAccounts.stripeSubscriptionId}`,
      stored: sql<boolean>`${invoicePreviews.locationId} is not null`,
      due: DUE,
      currency: invoicePreviews.currency,
      totalCents: invoicePreviews.totalCents,
      taxCents: invoicePreviews.taxCents,
      periodStart: invoicePreviews.periodStart,
      noneReason: invoicePreviews.noneReason,
      fetchedAt: invoicePreviews.fetchedAt,
      lastError: invoicePreviews.lastError,
    })
    .from(subAccounts)
    .leftJoin(invoicePreviews, and(eq(invoicePreviews.locationId, subAccounts.locationId), eq(invoicePreviews.stripeSubscriptionId, subAccounts.stripeSubscriptionId)))
    .where(and(isNotNull(subAccounts.stripeCustomerId), isNotNull(subAccounts.stripeSubscriptionId), where));
}

/** Every subscribed sub-account of the agency with its stored preview, by location id. */
export async function previewsOfAgency(db: Database, companyId: string): Promise<StoredPreview[]> {
  return subscribed(db, eq(subAccounts.companyId, companyId)).orderBy(asc(subAccounts.locationId));
}

/** Up to `limit` previews due, across agencies: never read or asked for first, then the oldest attempts. */
export async function duePreviews(db: Database, limit: number): Promise<StoredPreview[]> {
  return subscribed(db, DUE)
    .orderBy(desc(sql`${invoicePreviews.locationId} is null or ${invoicePreviews.refreshRequestedAt} is not null`), asc(invoicePreviews.attemptedAt))
    .limit(limit);
}

/** Stores what Stripe previewed (or that nothing is upcoming), read from `startedAt` on. */
export async function saveRead(db: Database, target: PreviewTarget, preview: NextInvoice, startedAt: Date): Promise<void> {
  const i = preview.invoice;
  const row = {
    locationId: target.locationId,
    companyId: target.companyId,
    stripeCustomerId: target.customerId,
    stripeSubscriptionId: target.subscriptionId,
    currency: i?.currency ?? null,
    subtotalCents: i?.subtotalCents ?? null,
    taxCents: i?.taxCents ?? null,
    totalCents: i?.totalCents ?? null,
    amountDueCents: i?.amountDueCents ?? null,
    periodStart: i ? new Date(i.periodStart) : null,
    periodEnd: i ? new Date(i.periodEnd) : null,
    noneReason: i ? null : preview.reason,
  };
  await storeRead(db, invoicePreviews, row, startedAt);
}

/**
 * Records that the read begun at `startedAt` failed with `message` (Stripe's). The amounts of the last successful
 * read stay for the record when it was of the same subscription; a row of an earlier subscription is replaced.
 */
export async function saveError(db: Database, target: PreviewTarget, message: string, startedAt: Date): Promise<void> {
  await db
    .delete(invoicePreviews)
    .where(and(eq(invoicePreviews.locationId, target.locationId), ne(invoicePreviews.stripeSubscriptionId, target.subscriptionId)));
  const row = { locationId: target.locationId, companyId: target.companyId, stripeCustomerId: target.customerId, stripeSubscriptionId: target.subscriptionId };
  await storeRead(db, invoicePreviews, row, startedAt, message);
}

/** Asks for the customer's stored previews to be read again (a webhook or a change said they changed). @returns how many. */
export async function requestRefresh(db: Database, companyId: string, customerId: string): Promise<number> {
  const marked = await db
    .update(invoicePreviews)
    .set({ refreshRequestedAt: sql`now()` })
    .where(and(eq(invoicePreviews.companyId, companyId), eq(invoicePreviews.stripeCustomerId, customerId)))
    .returning({ locationId: invoicePreviews.locationId });
  return marked.length;
}
