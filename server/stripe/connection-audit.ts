/**
 * Audited changes of an agency's Stripe connection (issue 19, item 3, for the Stripe connection): the change runs in
 * a transaction that also records who did it and the connection before and after, described from an allow-list of
 * fields — method (key | connect), mode, account, key type and last 4 (already shown on the page), whether the
 * webhook and event destination exist, revocation — so no key, token or signing secret can reach the audit log.
 */
import type { Database, Executor } from '../../models/database';
import { recordAudit, type AuditActor } from '../audit/audit-log';
import { findAgency } from '../tenancy/accounts-repository';

/** The audit subject of every entry written here. */
export const STRIPE_CONNECTION_SUBJECT = 'stripe_connection';

/** Actions recorded for the Stripe connection. */
export type StripeConnectionAction =
  | 'stripe.key_connected'
  | 'stripe.connect_connected'
  | 'stripe.disconnected'
  | 'stripe.webhook_secret_set'
  | 'stripe.deauthorized';

/** What the audit log says of a connection (null: none). Only these fields, never the row. */
export function describeStripeConnection(agency: Awaited<ReturnType<typeof findAgency>>): Record<string, unknown> | null {
  if (!agency) return null;
  const method = agency.stripeConnectionType === 'connect' ? 'connect' : agency.stripeSecretKey ? 'key' : null;
  if (!method) return null;
  return {
    method,
    mode: agency.stripeMode ?? null,
    accountId: agency.stripeAccountId ?? null,
    accountName: agency.stripeAccountName ?? null,
    keyType: method === 'key' ? (agency.stripeKeyType ?? null) : null,
    keyLast4: method === 'key' ? (agency.stripeKeyLast4 ?? null) : null,
    webhookConfigured: method === 'connect' || Boolean(agency.stripeWebhookSecret),
    eventDestination: Boolean(agency.stripeEventDestinationId),
    deauthorizedAt: agency.stripeDeauthorizedAt?.toISOString() ?? null,
  };
}

/**
 * Runs `change` in a transaction and records it with the connection before and after. An action that changed
 * nothing (same description before and after) is not recorded.
 * @returns what `change` returned. @throws what `change` throws (nothing is then changed or recorded).
 */
export async function auditedStripeChange<T>(
  db: Database,
  companyId: string,
  actor: AuditActor,
  action: StripeConnectionAction,
  change: (tx: Executor) => Promise<T>,
): Promise<T> {
  return db.transaction(async (tx) => {
    const before = describeStripeConnection(await findAgency(tx, companyId));
    const result = await change(tx);
    const after = describeStripeConnection(await findAgency(tx, companyId));
    if (JSON.stringify(before) !== JSON.stringify(after) || action === 'stripe.webhook_secret_set') {
      await recordAudit(tx, { companyId, actor, action, subject: STRIPE_CONNECTION_SUBJECT, before, after });
    }
    return result;
  });
}
