/**
 * The stored card summaries (models/schema/card-summaries.ts): what Stripe last said of each sub-account's default
 * payment method (every sub-account with a Stripe customer), when, and whether that read failed; when a card is due
 * to be read again (DUE below, the one rule the pages and the refresh job share); and what the stored cards say of
 * the billed sub-accounts as a whole (`cardCheck`: billed without a card, as of when, how many still being checked).
 */
import { and, asc, desc, eq, inArray, isNotNull, ne, or, sql, type SQL } from 'drizzle-orm';
import type { Database } from '../../models/database';
import { cardSummaries, subAccounts } from '../../models/schema';
import { billedWithoutCard, cardSummary, type CardFields, type CardSummary } from './cards';
import type { CardCheckNote } from './schemas';
import { staleSql, storeRead } from './stored-reads';

/**
 * A stored card older than this is read again, seconds. Webhooks ask for a read as soon as a card changes; this
 * bounds how stale a card gets when an event is missed (an endpoint made before the card events were listened to).
 */
export const CARD_MAX_AGE_SECONDS = 3600;
/** A read that failed is tried again after this many seconds (sooner if a webhook asks). */
export const CARD_RETRY_SECONDS = 60;

/** Whose card: the sub-account, its agency, and the Stripe customer and subscription (if any) read. */
export interface CardTarget {
  locationId: string;
  companyId: string;
  customerId: string;
  subscriptionId: string | null;
}

/**
 * A sub-account with a customer and its stored card. `stored`: a row exists for its current customer and
 * subscription (its fields those of the last successful read; null when none succeeded yet); `due`: to be read
 * again (DUE).
 */
export interface StoredCard extends CardTarget, CardFields {
  stored: boolean;
  due: boolean;
  fetchedAt: Date | null;
  lastError: string | null;
}

/**
 * Due for a read: none stored for the current customer and subscription; a webhook or a change asked for one; older
 * than CARD_MAX_AGE_SECONDS; or failed over CARD_RETRY_SECONDS ago.
 */
const DUE: SQL<boolean> = sql<boolean>`(${cardSummaries.locationId} is null
  or ${cardSummaries.refreshRequestedAt} is not null
  or ${staleSql(cardSummaries, CARD_MAX_AGE_SECONDS, CARD_RETRY_SECONDS)})`;

/** Sub-accounts with a customer matching `where`, each with its stored card and whether it is due. */
function withCustomer(db: Database, where: SQL | undefined) {
  return db
    .select({
      locationId: subAccounts.locationId,
      companyId: subAccounts.companyId,
      customerId: sql<string>`${subAccounts.stripeCustomerId}`,
      subscriptionId: subAccounts.stripeSubscriptionId,
      stored: sql<boolean>`${cardSummaries.locationId} is not null`,
      due: DUE,
      status: sql<CardFields['status']>`${cardSummaries.status}`,
      customerName: cardSummaries.customerName,
      source: sql<CardFields['source']>`${cardSummaries.source}`,
      paymentMethodId: cardSummaries.paymentMethodId,
      type: cardSummaries.type,
      brand: cardSummaries.brand,
      last4: cardSummaries.last4,
      expMonth: cardSummaries.expMonth,
      expYear: cardSummaries.expYear,
      fetchedAt: cardSummaries.fetchedAt,
      lastError: cardSummaries.lastError,
    })
    .from(subAccounts)
    .leftJoin(
      cardSummaries,
      and(
        eq(cardSummaries.locationId, subAccounts.locationId),
        eq(cardSummaries.stripeCustomerId, subAccounts.stripeCustomerId),
        sql`${cardSummaries.stripeSubscriptionId} is not distinct from ${subAccounts.stripeSubscriptionId}`,
      ),
    )
    .where(and(isNotNull(subAccounts.stripeCustomerId), where));
}

/** The agency's sub-accounts with a customer (or only `locationIds` of them) with their stored cards, by location id. */
export async function cardsOfAgency(db: Database, companyId: string, locationIds?: string[]): Promise<StoredCard[]> {
  return withCustomer(db, and(eq(subAccounts.companyId, companyId), locationIds ? inArray(subAccounts.locationId, locationIds) : undefined)).orderBy(asc(subAccounts.locationId));
}

/** Up to `limit` cards due, across agencies: never read or asked for first, then the oldest attempts. */
export async function dueCards(db: Database, limit: number): Promise<StoredCard[]> {
  return withCustomer(db, DUE)
    .orderBy(desc(sql`${cardSummaries.locationId} is null or ${cardSummaries.refreshRequestedAt} is not null`), asc(cardSummaries.attemptedAt))
    .limit(limit);
}

/** The summary as of `now`, or null when no read succeeded for the current customer and subscription, or the last failed. */
export const summaryOf = (row: StoredCard, now = new Date()): CardSummary | null => (row.stored && row.lastError === null && row.status ? cardSummary(row, now) : null);

/** Stores what Stripe said of the card, read from `startedAt` on. */
export async function saveCardRead(db: Database, target: CardTarget, card: CardSummary, startedAt: Date): Promise<void> {
  const row = {
    locationId: target.locationId,
    companyId: target.companyId,
    stripeCustomerId: target.customerId,
    stripeSubscriptionId: target.subscriptionId,
    status: card.status,
    customerName: card.customerName,
    source: card.source,
    paymentMethodId: card.paymentMethodId,
    type: card.type,
    brand: card.brand,
    last4: card.last4,
    expMonth: card.expMonth,
    expYear: card.expYear,
  };
  await storeRead(db, cardSummaries, row, startedAt);
}

/**
 * Records that the read begun at `startedAt` failed with `message` (Stripe's). The fields of the last successful read
 * stay for the record when it was of the same customer and subscription; a row of others is replaced.
 */
export async function saveCardError(db: Database, target: CardTarget, message: string, startedAt: Date): Promise<void> {
  await db
    .delete(cardSummaries)
    .where(
      and(
        eq(cardSummaries.locationId, target.locationId),
        or(ne(cardSummaries.stripeCustomerId, target.customerId), sql`${cardSummaries.stripeSubscriptionId} is distinct from ${target.subscriptionId}`),
      ),
    );
  const row = { locationId: target.locationId, companyId: target.companyId, stripeCustomerId: target.customerId, stripeSubscriptionId: target.subscriptionId };
  await storeRead(db, cardSummaries, row, startedAt, message);
}

/**
 * Asks for stored cards to be read again: the customer's, and any showing the payment method (a detached one's event
 * no longer names its customer). @returns how many were marked.
 */
export async function requestCardRefresh(db: Database, companyId: string, changed: { customerId: string | null; paymentMethodId: string | null }): Promise<number> {
  const which = [
    changed.customerId ? eq(cardSummaries.stripeCustomerId, changed.customerId) : undefined,
    changed.paymentMethodId ? eq(cardSummaries.paymentMethodId, changed.paymentMethodId) : undefined,
  ].filter((c) => c !== undefined);
  if (which.length === 0) return 0;
  const marked = await db
    .update(cardSummaries)
    .set({ refreshRequestedAt: sql`now()` })
    .where(and(eq(cardSummaries.companyId, companyId), or(...which)))
    .returning({ locationId: cardSummaries.locationId });
  return marked.length;
}

/**
 * What the stored cards of billed sub-accounts (those with a subscription among `rows`) say as of `now`: which are
 * billed without a usable card, and the note (schemas.ts `cardCheckNote`). A card never read is not counted but
 * said to be being checked; one Stripe could not read is not counted and its message given.
 */
export function cardCheck(rows: StoredCard[], now = new Date()): { ids: string[]; note: CardCheckNote } {
  const note: CardCheckNote = { asOf: null, checking: 0, refreshing: 0, unreadable: 0, error: null };
  const ids: string[] = [];
  let asOf: Date | null = null;
  for (const row of rows) {
    if (!row.subscriptionId) continue;
    if (row.lastError !== null) {
      note.unreadable += 1;
      note.error ??= row.lastError;
      continue;
    }
    const card = summaryOf(row, now);
    if (!card) {
      note.checking += 1;
      continue;
    }
    if (row.due) note.refreshing += 1;
    if (row.fetchedAt && (!asOf || row.fetchedAt < asOf)) asOf = row.fetchedAt;
    if (billedWithoutCard(row.subscriptionId, card)) ids.push(row.locationId);
  }
  note.asOf = asOf?.toISOString() ?? null;
  return { ids, note };
}
