/**
 * Storage of Stripe Connect connections (server/stripe/connect-*.ts): the agency's connected account and its
 * revocation, and the single-use OAuth states. Plain objects in and out; each function takes an `Executor`.
 */
import { and, eq, isNotNull, isNull, ne, sql } from 'drizzle-orm';
import type { Executor } from '../../models/database';
import { agencies, stripeConnectStates, subAccounts } from '../../models/schema';

/** A stored OAuth state, as the callback checks it. */
export interface StoredConnectState {
  nonce: string;
  companyId: string;
  userId: string;
  userName: string | null;
  expiresAt: Date;
  usedAt: Date | null;
}

/** Stores a new state of an authorization in progress. */
export async function insertConnectState(db: Executor, state: { nonce: string; companyId: string; userId: string; userName: string | null; expiresAt: Date }): Promise<void> {
  await db.insert(stripeConnectStates).values(state);
}

/** The stored state, or null. */
export async function findConnectState(db: Executor, nonce: string): Promise<StoredConnectState | null> {
  const [row] = await db.select().from(stripeConnectStates).where(eq(stripeConnectStates.nonce, nonce));
  return row ? { nonce: row.nonce, companyId: row.companyId, userId: row.userId, userName: row.userName, expiresAt: row.expiresAt, usedAt: row.usedAt } : null;
}

/** Marks the state used; @returns false when another callback used it first (one statement: no race). */
export async function consumeConnectState(db: Executor, nonce: string): Promise<boolean> {
  const rows = await db
    .update(stripeConnectStates)
    .set({ usedAt: sql`now()` })
    .where(and(eq(stripeConnectStates.nonce, nonce), isNull(stripeConnectStates.usedAt)))
    .returning({ nonce: stripeConnectStates.nonce });
  return rows.length === 1;
}

/** Deletes states that expired more than a day ago (kept a day so a late reuse is still told "already used"). */
export async function purgeConnectStates(db: Executor): Promise<void> {
  await db.delete(stripeConnectStates).where(sql`${stripeConnectStates.expiresAt} < now() - interval '1 day'`);
}

/** Another agency connected to `accountId` through Connect (its events could not be told apart), or null. */
export async function findOtherConnectAgency(db: Executor, companyId: string, accountId: string): Promise<string | null> {
  const [row] = await db
    .select({ companyId: agencies.companyId })
    .from(agencies)
    .where(and(eq(agencies.stripeConnectionType, 'connect'), eq(agencies.stripeAccountId, accountId), ne(agencies.companyId, companyId)));
  return row?.companyId ?? null;
}

/** The agencies connected to `accountId` through Connect, for the platform's Connect webhook. */
export async function findConnectAgencies(db: Executor, accountId: string): Promise<Array<{ companyId: string; connectedAt: Date | null; deauthorizedAt: Date | null }>> {
  return db
    .select({ companyId: agencies.companyId, connectedAt: agencies.stripeConnectedAt, deauthorizedAt: agencies.stripeDeauthorizedAt })
    .from(agencies)
    .where(and(eq(agencies.stripeConnectionType, 'connect'), eq(agencies.stripeAccountId, accountId)));
}

/** How many of the agency's sub-accounts are mapped to a Stripe customer. */
export async function countMappedSubAccounts(db: Executor, companyId: string): Promise<number> {
  const [row] = await db
    .select({ n: sql<number>`count(*)::int` })
    .from(subAccounts)
    .where(and(eq(subAccounts.companyId, companyId), isNotNull(subAccounts.stripeCustomerId)));
  return row?.n ?? 0;
}

/**
 * Stores a Connect connection: the connected account, its mode and name; the pasted key (if any) and the per-agency
 * webhook endpoint are forgotten (the platform's Connect webhook replaces it). A revocation is cleared: billing resumes.
 * `keepEventDestination` false forgets the event destination of another account.
 */
export async function saveConnectConnection(
  db: Executor,
  companyId: string,
  c: { accountId: string; mode: 'test' | 'live'; accountName: string | null; keepEventDestination: boolean },
): Promise<void> {
  await db
    .update(agencies)
    .set({
      stripeConnectionType: 'connect',
      stripeSecretKey: null,
      stripeKeyType: null,
      stripeKeyLast4: null,
      stripeMissingPermissions: [],
      stripeAccountId: c.accountId,
      stripeAccountName: c.accountName,
      stripeMode: c.mode,
      stripeWebhookEndpointId: null,
      stripeWebhookSecret: null,
      stripeWebhookEvents: null,
      ...(c.keepEventDestination ? {} : { stripeEventDestinationId: null, stripeEventDestinationSecret: null }),
      stripeDeauthorizedAt: null,
      stripeConnectedAt: sql`now()`,
      updatedAt: sql`now()`,
    })
    .where(eq(agencies.companyId, companyId));
}

/** Records that Stripe revoked the agency's Connect grant (billing held). @returns whether a row changed. */
export async function markConnectDeauthorized(db: Executor, companyId: string, at: Date): Promise<boolean> {
  const rows = await db
    .update(agencies)
    .set({ stripeDeauthorizedAt: at, updatedAt: sql`now()` })
    .where(and(eq(agencies.companyId, companyId), eq(agencies.stripeConnectionType, 'connect'), isNull(agencies.stripeDeauthorizedAt)))
    .returning({ companyId: agencies.companyId });
  return rows.length === 1;
}
