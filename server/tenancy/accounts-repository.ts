/**
 * Agencies (HighLevel companies) and their sub-accounts (locations). Plain objects in, plain objects out;
 * every function takes an `Executor` so callers can compose them in one transaction.
 */
import { eq, sql } from 'drizzle-orm';
import type { Executor } from '../../models/database';
import { agencies, subAccounts, type BillingStatus, type PaymentProblem } from '../../models/schema';

/** Creates the agency or updates its name (a null name keeps the stored one). */
export async function upsertAgency(db: Executor, agency: { companyId: string; name?: string | null }): Promise<void> {
  await db
    .insert(agencies)
    .values({ companyId: agency.companyId, name: agency.name ?? null })
    .onConflictDoUpdate({
      target: agencies.companyId,
      set: { name: sql`coalesce(excluded.name, ${agencies.name})`, updatedAt: sql`now()` },
    });
}

/** Stores the agency's sealed Stripe secret key (see server/crypto/secret-box.ts); null disconnects. */
export async function setAgencyStripeKey(db: Executor, companyId: string, sealedKey: string | null, accountId: string | null): Promise<void> {
  await db
    .update(agencies)
    .set({ stripeSecretKey: sealedKey, stripeAccountId: accountId, updatedAt: sql`now()` })
    .where(eq(agencies.companyId, companyId));
}

/** The agency's name as HighLevel gave it, or null. */
export async function findAgencyName(db: Executor, companyId: string): Promise<string | null> {
  const [row] = await db.select({ name: agencies.name }).from(agencies).where(eq(agencies.companyId, companyId));
  return row?.name ?? null;
}

/** The agency's sealed Stripe key, or null when Stripe is not connected (or the agency is unknown). */
export async function findAgencySealedStripeKey(db: Executor, companyId: string): Promise<string | null> {
  const [row] = await db.select({ key: agencies.stripeSecretKey }).from(agencies).where(eq(agencies.companyId, companyId));
  return row?.key ?? null;
}

/** Creates the sub-account or updates its name and email (nulls keep what is stored); never moves a sub-account to another agency. */
export async function upsertSubAccount(
  db: Executor,
  sub: { locationId: string; companyId: string; name?: string | null; email?: string | null },
): Promise<void> {
  await db
    .insert(subAccounts)
    .values({
      locationId: sub.locationId,
      companyId: sub.companyId,
      name: sub.name ?? null,
      email: sub.email ?? null,
      // A sub-account that appears while the agency auto-applies its defaults is queued for the apply-defaults job.
      defaultsPending: sql`coalesce((select a.defaults_auto_apply from agencies a where a.company_id = ${sub.companyId}), false)`,
    })
    .onConflictDoUpdate({
      target: subAccounts.locationId,
      set: {
        name: sql`coalesce(excluded.name, ${subAccounts.name})`,
        email: sql`coalesce(excluded.email, ${subAccounts.email})`,
        updatedAt: sql`now()`,
      },
      setWhere: sql`${subAccounts.companyId} = excluded.company_id`,
    });
}

/**
 * Records an install (`active`) or uninstall of a sub-account, or of every sub-account of an agency, as of `at`.
 * A change older than the one already applied is ignored, so replayed or reordered webhooks converge.
 * @returns how many sub-accounts changed.
 */
export async function applySubAccountLifecycle(
  db: Executor,
  scope: { locationId: string } | { companyId: string },
  status: 'active' | 'uninstalled',
  at: Date,
): Promise<number> {
  const where = 'locationId' in scope ? sql`location_id = ${scope.locationId}` : sql`company_id = ${scope.companyId}`;
  const rows = await db.execute(sql`
    update sub_accounts set status = ${status}, lifecycle_at = ${at.toISOString()}::timestamptz, updated_at = now()
    where ${where} and (lifecycle_at is null or lifecycle_at <= ${at.toISOString()}::timestamptz)
    returning location_id`);
  return (rows as unknown as { rows: unknown[] }).rows.length;
}

/** Asks the install-sync job to fetch the agency's installed sub-accounts from HighLevel. */
export async function requestInstallSync(db: Executor, companyId: string): Promise<void> {
  await db.update(agencies).set({ installSyncRequestedAt: sql`now()`, updatedAt: sql`now()` }).where(eq(agencies.companyId, companyId));
}

/**
 * When the agency's pending install sync was requested (PostgreSQL's text form, microseconds kept, for the
 * compare-and-clear in `finishInstallSync`), or null when none is pending.
 */
export async function findInstallSyncRequest(db: Executor, companyId: string): Promise<string | null> {
  const [row] = await db
    .select({ at: sql<string | null>`${agencies.installSyncRequestedAt}::text` })
    .from(agencies)
    .where(eq(agencies.companyId, companyId));
  return row?.at ?? null;
}

/** Agencies waiting for an install sync, oldest request first. */
export async function listAgenciesAwaitingSync(db: Executor, limit = 20): Promise<Array<{ companyId: string; requestedAt: string }>> {
  const rows = await db
    .select({ companyId: agencies.companyId, requestedAt: sql<string>`${agencies.installSyncRequestedAt}::text` })
    .from(agencies)
    .where(sql`${agencies.installSyncRequestedAt} is not null`)
    .orderBy(agencies.installSyncRequestedAt)
    .limit(limit);
  return rows.map((r) => ({ companyId: r.companyId, requestedAt: r.requestedAt! }));
}

/**
 * Records a finished sync. The request is cleared only if no newer one arrived meanwhile (compare-and-clear),
 * so an INSTALL that lands during a sync gets its own.
 */
export async function finishInstallSync(db: Executor, companyId: string, requestedAt: string | null, error: string | null): Promise<void> {
  await db
    .update(agencies)
    .set({
      installSyncRequestedAt: error === null ? sql`case when ${agencies.installSyncRequestedAt} <= ${requestedAt}::timestamptz then null else ${agencies.installSyncRequestedAt} end` : agencies.installSyncRequestedAt,
      installSyncedAt: error === null ? sql`now()` : agencies.installSyncedAt,
      installSyncError: error,
      updatedAt: sql`now()`,
    })
    .where(eq(agencies.companyId, companyId));
}

/** Maps the sub-account to a Stripe customer (`cus_...`), or unmaps it with null. */
export async function setSubAccountCustomer(db: Executor, locationId: string, stripeCustomerId: string | null): Promise<void> {
  await db.update(subAccounts).set({ stripeCustomerId, updatedAt: sql`now()` }).where(eq(subAccounts.locationId, locationId));
}

/** The sub-account, or null when unknown. */
export async function findSubAccount(db: Executor, locationId: string) {
  const [row] = await db.select().from(subAccounts).where(eq(subAccounts.locationId, locationId));
  return row ?? null;
}

/** The agency's Stripe connection as stored (key sealed; never returned to clients). */
export interface StripeConnectionRecord {
  sealedKey: string;
  mode: 'test' | 'live';
  keyType: 'secret' | 'restricted';
  last4: string;
  accountId: string | null;
  accountName: string | null;
  missingPermissions: Array<{ permission: string; label: string }>;
  webhookEndpointId: string | null;
  sealedWebhookSecret: string | null;
  /** The event types the endpoint was created with (server/billing-setup/webhook-endpoint.ts `webhookEventsApplied`). */
  webhookEvents: string | null;
}

/** Stores a validated Stripe connection, replacing any previous one. */
export async function saveStripeConnection(db: Executor, companyId: string, c: StripeConnectionRecord): Promise<void> {
  await db
    .update(agencies)
    .set({
      stripeSecretKey: c.sealedKey,
      stripeMode: c.mode,
      stripeKeyType: c.keyType,
      stripeKeyLast4: c.last4,
      stripeAccountId: c.accountId,
      stripeAccountName: c.accountName,
      stripeMissingPermissions: c.missingPermissions,
      stripeWebhookEndpointId: c.webhookEndpointId,
      stripeWebhookSecret: c.sealedWebhookSecret,
      stripeWebhookEvents: c.webhookEvents,
      stripeConnectionType: 'key',
      stripeDeauthorizedAt: null,
      stripeConnectedAt: sql`now()`,
      updatedAt: sql`now()`,
    })
    .where(eq(agencies.companyId, companyId));
}

/** Forgets the agency's Stripe connection (key, webhook secret, event destination and their descriptions). */
export async function clearStripeConnection(db: Executor, companyId: string): Promise<void> {
  await db
    .update(agencies)
    .set({
      stripeSecretKey: null,
      stripeMode: null,
      stripeKeyType: null,
      stripeKeyLast4: null,
      stripeAccountId: null,
      stripeAccountName: null,
      stripeMissingPermissions: [],
      stripeWebhookEndpointId: null,
      stripeWebhookSecret: null,
      stripeWebhookEvents: null,
      stripeEventDestinationId: null,
      stripeEventDestinationSecret: null,
      stripeConnectionType: null,
      stripeDeauthorizedAt: null,
      stripeConnectedAt: null,
      updatedAt: sql`now()`,
    })
    .where(eq(agencies.companyId, companyId));
}

/** Stores a webhook signing secret the agency pasted (sealed). */
export async function setStripeWebhookSecret(db: Executor, companyId: string, sealedSecret: string | null): Promise<void> {
  await db.update(agencies).set({ stripeWebhookSecret: sealedSecret, updatedAt: sql`now()` }).where(eq(agencies.companyId, companyId));
}

/** The agency row (sealed secrets included: callers must not return it as is), or null. */
export async function findAgency(db: Executor, companyId: string) {
  const [row] = await db.select().from(agencies).where(eq(agencies.companyId, companyId));
  return row ?? null;
}

/** Updates the agency's defaults; undefined fields stay as they are. */
export async function setAgencyDefaults(
  db: Executor,
  companyId: string,
  input: {
    autoApply?: boolean;
    currency?: string;
    flatFee?: { priceId: string | null; amount: number | null };
    /** Stripe `tax_behavior` of the agency's prices. */
    taxBehavior?: 'inclusive' | 'exclusive';
  },
): Promise<void> {
  await db
    .update(agencies)
    .set({
      ...(input.autoApply !== undefined ? { defaultsAutoApply: input.autoApply } : {}),
      ...(input.currency !== undefined ? { currency: input.currency } : {}),
      ...(input.flatFee !== undefined ? { flatFeePriceId: input.flatFee.priceId, flatFeeAmount: input.flatFee.amount } : {}),
      ...(input.taxBehavior !== undefined ? { taxBehavior: input.taxBehavior } : {}),
      updatedAt: sql`now()`,
    })
    .where(eq(agencies.companyId, companyId));
}

/** Updates a sub-account's billing switches and subscription; undefined fields stay as they are. */
export async function setSubAccountBilling(
  db: Executor,
  locationId: string,
  input: {
    rebillingEnabled?: boolean;
    stripeSubscriptionId?: string | null;
    /** The schedule of a subscription that starts later (`sub_sched_…`), and when it starts; null once adopted. */
    stripeSubscriptionScheduleId?: string | null;
    subscriptionStartsAt?: Date | null;
    /** Stripe Tax on the subscription or schedule, as Stripe last answered. */
    automaticTax?: boolean;
    billingStatus?: BillingStatus;
    billingStatusReason?: string | null;
    paymentProblem?: PaymentProblem | null;
    /** The subscription's price ids as Stripe last answered (null: not known). */
    subscriptionPriceIds?: string[] | null;
  },
): Promise<void> {
  await db
    .update(subAccounts)
    .set({ ...input, updatedAt: sql`now()` })
    .where(eq(subAccounts.locationId, locationId));
}

/** The sub-account billed to a Stripe customer of the agency, or null. */
export async function findSubAccountByCustomer(db: Executor, companyId: string, stripeCustomerId: string) {
  const [row] = await db
    .select()
    .from(subAccounts)
    .where(sql`${subAccounts.companyId} = ${companyId} and ${subAccounts.stripeCustomerId} = ${stripeCustomerId}`);
  return row ?? null;
}

/** Sub-accounts queued for the agency defaults, oldest first. */
export async function listSubAccountsAwaitingDefaults(db: Executor, limit = 50): Promise<Array<{ locationId: string; companyId: string }>> {
  return db
    .select({ locationId: subAccounts.locationId, companyId: subAccounts.companyId })
    .from(subAccounts)
    .where(sql`${subAccounts.defaultsPending} and ${subAccounts.status} = 'active'`)
    .orderBy(subAccounts.createdAt)
    .limit(limit);
}

/** Takes a sub-account off the defaults queue, recording why when it failed. */
export async function finishDefaults(db: Executor, locationId: string, error: string | null): Promise<void> {
  await db
    .update(subAccounts)
    .set({ defaultsPending: false, ...(error ? { billingStatusReason: `Applying the agency defaults failed: ${error}` } : {}), updatedAt: sql`now()` })
    .where(eq(subAccounts.locationId, locationId));
}

/** Sub-accounts of the agency that have a Stripe subscription, or a schedule that will start one. */
export async function listSubscribedSubAccounts(db: Executor, companyId: string): Promise<string[]> {
  const rows = await db
    .select({ locationId: subAccounts.locationId })
    .from(subAccounts)
    .where(
      sql`${subAccounts.companyId} = ${companyId} and (${subAccounts.stripeSubscriptionId} is not null or ${subAccounts.stripeSubscriptionScheduleId} is not null)`,
    )
    .orderBy(subAccounts.locationId);
  return rows.map((r) => r.locationId);
}
