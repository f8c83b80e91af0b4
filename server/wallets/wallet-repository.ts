/**
 * The wallet tables (models/schema/wallets.ts): settings (agency default and sub-account overrides) and the ledger
 * of top-ups. Amounts are integer cents.
 */
import { and, desc, eq, gte, inArray, isNull, sql } from 'drizzle-orm';
import { selectRows, type Executor } from '../../models/database';
import { walletRefunds, walletSettings, walletStates, walletTopUps } from '../../models/schema';

export type WalletSettingsRow = typeof walletSettings.$inferSelect;
export type TopUpRow = typeof walletTopUps.$inferSelect;
export type RefundRow = typeof walletRefunds.$inferSelect;
/** The settings fields a caller sets. */
export type WalletSettingsInput = Pick<WalletSettingsRow, 'billingMode' | 'currency' | 'initialTopUpCents' | 'thresholdCents' | 'topUpCents' | 'maxBalanceCents' | 'monthlyCapCents'>;

/** The agency default (`locationId` null) or the sub-account's own settings row, or null. */
export async function findSettings(db: Executor, companyId: string, locationId: string | null): Promise<WalletSettingsRow | null> {
  const where = locationId === null ? and(eq(walletSettings.companyId, companyId), isNull(walletSettings.locationId)) : eq(walletSettings.locationId, locationId);
  const [row] = await db.select().from(walletSettings).where(where);
  return row ?? null;
}

/** Creates or replaces the agency default (`locationId` null) or a sub-account's settings. */
export async function saveSettings(db: Executor, companyId: string, locationId: string | null, input: WalletSettingsInput): Promise<WalletSettingsRow> {
  const existing = await findSettings(db, companyId, locationId);
  if (existing) {
    const [row] = await db.update(walletSettings).set({ ...input, updatedAt: new Date() }).where(eq(walletSettings.id, existing.id)).returning();
    return row!;
  }
  const [row] = await db.insert(walletSettings).values({ ...input, companyId, locationId }).returning();
  return row!;
}

/** Inserts a pending top-up; null when one is already in flight for the sub-account (the unique partial index). */
export async function insertTopUp(db: Executor, input: Pick<TopUpRow, 'companyId' | 'locationId' | 'trigger' | 'amountCents' | 'currency' | 'balanceBeforeCents'>): Promise<TopUpRow | null> {
  const rows = await db.insert(walletTopUps).values(input).onConflictDoNothing().returning();
  return rows[0] ?? null;
}

/** Changes a top-up; `updatedAt` follows. */
export async function updateTopUp(
  db: Executor,
  id: number,
  change: Partial<Pick<TopUpRow, 'status' | 'attempts' | 'stripeInvoiceId' | 'stripeCreditGrantId' | 'stripePaymentIntentId' | 'error'>>,
): Promise<TopUpRow> {
  const [row] = await db.update(walletTopUps).set({ ...change, updatedAt: new Date() }).where(eq(walletTopUps.id, id)).returning();
  return row!;
}

/** The sub-account's top-ups, newest first (at most `limit`). */
export async function listTopUps(db: Executor, locationId: string, limit = 50): Promise<TopUpRow[]> {
  return db.select().from(walletTopUps).where(eq(walletTopUps.locationId, locationId)).orderBy(desc(walletTopUps.id)).limit(limit);
}

/** The top-up in flight (pending or paid, not yet granted) for the sub-account, or null. */
export async function findInFlight(db: Executor, locationId: string): Promise<TopUpRow | null> {
  const [row] = await db.select().from(walletTopUps).where(and(eq(walletTopUps.locationId, locationId), inArray(walletTopUps.status, ['pending', 'paid'])));
  return row ?? null;
}

/** The agency's top-up whose Stripe invoice is `invoiceId`, or null (not one of ours). */
export async function findTopUpByInvoice(db: Executor, companyId: string, invoiceId: string): Promise<TopUpRow | null> {
  const [row] = await db.select().from(walletTopUps).where(and(eq(walletTopUps.companyId, companyId), eq(walletTopUps.stripeInvoiceId, invoiceId)));
  return row ?? null;
}

/** The top-up a Checkout Session paid, or null. */
export async function findTopUpBySession(db: Executor, sessionId: string): Promise<TopUpRow | null> {
  const [row] = await db.select().from(walletTopUps).where(eq(walletTopUps.stripeCheckoutSessionId, sessionId));
  return row ?? null;
}

/** The sub-account's latest top-up, or null. */
export async function latestTopUp(db: Executor, locationId: string): Promise<TopUpRow | null> {
  const [row] = await db.select().from(walletTopUps).where(eq(walletTopUps.locationId, locationId)).orderBy(desc(walletTopUps.id)).limit(1);
  return row ?? null;
}

/** The sub-account's latest declined top-up (its invoice open, to be paid again), or null. */
export async function latestDeclined(db: Executor, locationId: string): Promise<TopUpRow | null> {
  const [row] = await db
    .select()
    .from(walletTopUps)
    .where(and(eq(walletTopUps.locationId, locationId), eq(walletTopUps.status, 'payment_failed')))
    .orderBy(desc(walletTopUps.id))
    .limit(1);
  return row ?? null;
}

/** Whether the sub-account ever had a top-up granted (the first top-up uses the initial amount). */
export async function hasGrantedTopUp(db: Executor, locationId: string): Promise<boolean> {
  const [row] = await db.select({ id: walletTopUps.id }).from(walletTopUps).where(and(eq(walletTopUps.locationId, locationId), eq(walletTopUps.status, 'granted'))).limit(1);
  return Boolean(row);
}

/** Cents of the sub-account's declined top-ups (`payment_failed`: their invoices are open and may still be paid). */
export async function declinedCents(db: Executor, locationId: string): Promise<number> {
  const [row] = await db
    .select({ total: sql<string>`coalesce(sum(${walletTopUps.amountCents}), 0)` })
    .from(walletTopUps)
    .where(and(eq(walletTopUps.locationId, locationId), eq(walletTopUps.status, 'payment_failed')));
  return Number(row?.total ?? 0);
}

/** Cents of top-ups since `since` that are granted or in flight: what counts against the monthly cap (declined ones are added by the caller). */
export async function toppedUpSince(db: Executor, locationId: string, since: Date): Promise<number> {
  const [row] = await db
    .select({ total: sql<string>`coalesce(sum(${walletTopUps.amountCents}), 0)` })
    .from(walletTopUps)
    .where(and(eq(walletTopUps.locationId, locationId), gte(walletTopUps.createdAt, since), inArray(walletTopUps.status, ['pending', 'paid', 'granted'])));
  return Number(row?.total ?? 0);
}

/** A sub-account's last failed top-up time, or null: the auto top-up waits before charging a declined card again. */
export async function lastFailureAt(db: Executor, locationId: string): Promise<Date | null> {
  const [row] = await db
    .select({ at: walletTopUps.updatedAt })
    .from(walletTopUps)
    .where(and(eq(walletTopUps.locationId, locationId), inArray(walletTopUps.status, ['payment_failed', 'failed'])))
    .orderBy(desc(walletTopUps.id))
    .limit(1);
  return row?.at ?? null;
}

/**
 * Sub-accounts whose wallet is prepaid (their own settings, else the agency default) and mapped to a Stripe
 * customer, installed: the auto top-up's candidates (at most `limit`).
 */
export async function listPrepaidSubAccounts(db: Executor, limit = 500): Promise<Array<{ locationId: string; companyId: string }>> {
  return selectRows(
    db,
    sql`select s.location_id as "locationId", s.company_id as "companyId"
        from sub_accounts s
        left join wallet_settings own on own.location_id = s.location_id
        left join wallet_settings def on def.company_id = s.company_id and def.location_id is null
        where s.status = 'active' and s.stripe_customer_id is not null and coalesce(own.billing_mode, def.billing_mode) = 'prepaid'
        order by s.location_id limit ${limit}`,
  );
}

/** The prepaid sub-accounts among `locationIds` (their own settings, else the agency default; mapped, active). */
export async function prepaidAmong(db: Executor, locationIds: readonly string[]): Promise<string[]> {
  const rows = await selectRows<{ locationId: string }>(
    db,
    sql`select s.location_id as "locationId"
        from sub_accounts s
        left join wallet_settings own on own.location_id = s.location_id
        left join wallet_settings def on def.company_id = s.company_id and def.location_id is null
        where s.location_id in (select jsonb_array_elements_text(${JSON.stringify(locationIds)}::jsonb))
          and s.status = 'active' and s.stripe_customer_id is not null and coalesce(own.billing_mode, def.billing_mode) = 'prepaid'`,
  );
  return rows.map((r) => r.locationId);
}

/**
 * Records a check's balance estimate (cents) and whether it was low.
 * @returns true when the wallet has just become low (a "wallet low" crossing): it was not low at the previous check.
 */
export async function recordCheck(db: Executor, locationId: string, balanceCents: number, low: boolean): Promise<boolean> {
  await db.insert(walletStates).values({ locationId, balanceCents, low: false }).onConflictDoNothing();
  const crossed = low
    ? await db.update(walletStates).set({ low: true, lowSince: new Date() }).where(and(eq(walletStates.locationId, locationId), eq(walletStates.low, false))).returning()
    : [];
  await db.update(walletStates).set({ balanceCents, low, checkedAt: new Date(), ...(low ? {} : { lowSince: null }) }).where(eq(walletStates.locationId, locationId));
  return crossed.length > 0;
}

/** One top-up of the sub-account, or null. */
export async function findTopUp(db: Executor, locationId: string, id: number): Promise<TopUpRow | null> {
  const [row] = await db.select().from(walletTopUps).where(and(eq(walletTopUps.locationId, locationId), eq(walletTopUps.id, id)));
  return row ?? null;
}

/**
 * Inserts the top-up a completed Checkout Session paid (status `paid`: its grant is next), or finds it when the
 * session was taken already. @returns the row, or null when another top-up of the sub-account is in flight.
 */
export async function insertCheckoutTopUp(
  db: Executor,
  input: Pick<TopUpRow, 'companyId' | 'locationId' | 'amountCents' | 'currency' | 'balanceBeforeCents' | 'stripeCheckoutSessionId' | 'stripePaymentIntentId'>,
): Promise<TopUpRow | null> {
  const [found] = await db.select().from(walletTopUps).where(eq(walletTopUps.stripeCheckoutSessionId, input.stripeCheckoutSessionId!));
  if (found) return found;
  const rows = await db.insert(walletTopUps).values({ ...input, trigger: 'checkout', status: 'paid' }).onConflictDoNothing().returning();
  if (rows[0]) return rows[0];
  const [raced] = await db.select().from(walletTopUps).where(eq(walletTopUps.stripeCheckoutSessionId, input.stripeCheckoutSessionId!));
  return raced ?? null;
}

/** The sub-account's refunds, newest first (at most `limit`). */
export async function listRefunds(db: Executor, locationId: string, limit = 50): Promise<RefundRow[]> {
  return db.select().from(walletRefunds).where(eq(walletRefunds.locationId, locationId)).orderBy(desc(walletRefunds.id)).limit(limit);
}

/** A top-up's refunds, oldest first. */
export async function refundsOf(db: Executor, topUpId: number): Promise<RefundRow[]> {
  return db.select().from(walletRefunds).where(eq(walletRefunds.topUpId, topUpId)).orderBy(walletRefunds.id);
}

/** Inserts a pending refund; null when one of the top-up is already pending (the unique partial index). */
export async function insertRefund(
  db: Executor,
  input: Pick<RefundRow, 'companyId' | 'locationId' | 'topUpId' | 'amountCents' | 'currency' | 'voidedGrantId' | 'grantRemainingCents'>,
): Promise<RefundRow | null> {
  const rows = await db.insert(walletRefunds).values(input).onConflictDoNothing().returning();
  return rows[0] ?? null;
}

/** Changes a refund; `updatedAt` follows. */
export async function updateRefund(db: Executor, id: number, change: Partial<Pick<RefundRow, 'status' | 'attempts' | 'replacementGrantId' | 'stripeRefundId' | 'error'>>): Promise<RefundRow> {
  const [row] = await db.update(walletRefunds).set({ ...change, updatedAt: new Date() }).where(eq(walletRefunds.id, id)).returning();
  return row!;
}

/** The sub-account's pending refunds, oldest first. */
export async function pendingRefunds(db: Executor, locationId: string): Promise<RefundRow[]> {
  return db.select().from(walletRefunds).where(and(eq(walletRefunds.locationId, locationId), eq(walletRefunds.status, 'pending'))).orderBy(walletRefunds.id);
}

/** The agency's prepaid sub-accounts (mapped, active) with their names and last check. */
export async function agencyPrepaidSubAccounts(db: Executor, companyId: string) {
  return selectRows<{ locationId: string; name: string | null; customer: string; checkedAt: Date | string | null }>(
    db,
    sql`select s.location_id as "locationId", s.name, s.stripe_customer_id as customer, w.checked_at as "checkedAt"
        from sub_accounts s
        left join wallet_settings own on own.location_id = s.location_id
        left join wallet_settings def on def.company_id = s.company_id and def.location_id is null
        left join wallet_states w on w.location_id = s.location_id
        where s.company_id = ${companyId} and s.status = 'active' and s.stripe_customer_id is not null
          and coalesce(own.billing_mode, def.billing_mode) = 'prepaid'
        order by s.name nulls last, s.location_id limit 500`,
  );
}
