/**
 * The agency side of "Connect with Stripe" (Stripe Connect OAuth, Standard accounts; server/stripe/connect-oauth.ts):
 * completing an authorization into a stored connection, disconnecting, and Stripe's revocation.
 * - Moving from a pasted key to Connect keeps everything (mappings, prices, meters live in the same Stripe account).
 *   Connecting a DIFFERENT account than the one the agency used is refused while any sub-account is mapped to a
 *   Stripe customer (those customers, prices and subscriptions exist only in the old account): the grant just made is
 *   revoked again and the agency is told to connect the same account or unmap first.
 * - `account.application.deauthorized` (docs.stripe.com/connect/webhooks; the agency disconnected Meterbridge in its
 *   Stripe Dashboard) holds billing: the connection shows as disconnected, meter reports stay pending (the reporter
 *   skips held agencies, server/stripe/meter-batch-repository.ts), and connecting again resumes them.
 */
import type { Logger } from 'pino';
import type { Database } from '../../models/database';
import { AppError } from '../http/errors';
import { findAgency, upsertAgency } from '../tenancy/accounts-repository';
import type { AgencyConnections } from './agency-connection';
import { countMappedSubAccounts, findConnectAgencies, findOtherConnectAgency, markConnectDeauthorized, saveConnectConnection } from './connect-repository';
import type { ConnectOAuth } from './connect-oauth';
import type { EventDestinations } from './event-destinations';
import type { AuditActor } from '../audit/audit-log';
import { auditedStripeChange } from './connection-audit';

export function createConnectConnection(deps: { db: Database; oauth: ConnectOAuth; connections: AgencyConnections; eventDestinations: EventDestinations; logger: Logger }) {
  const { db, oauth, logger } = deps;

  /** Revokes a grant Meterbridge will not use; a failure is logged (the agency can remove it in its Dashboard). */
  const revokeQuietly = (companyId: string, accountId: string) =>
    oauth.revoke(accountId).catch((err: Error) => logger.warn({ companyId, accountId, reason: err.message }, 'could not revoke an unused Stripe Connect grant'));

  return {
    /**
     * Exchanges the callback's code and stores the connection of `companyId` (the agency the state was bound to).
     * @returns the connected account id and mode.
     * @throws AppError 400 `stripe_connect_code_invalid` / 502 `stripe_unavailable` (exchange); 409
     *   `stripe_account_mismatch` (a different account while sub-accounts are mapped) or `stripe_account_in_use`
     *   (another agency is connected to it through Connect) — the new grant is revoked then and nothing changes.
     */
    async complete(companyId: string, code: string, actor: AuditActor): Promise<{ accountId: string; mode: 'test' | 'live' }> {
      const grant = await oauth.exchange(code);
      await upsertAgency(db, { companyId });
      const agency = await findAgency(db, companyId);
      const previousAccount = agency?.stripeAccountId ?? null;
      const otherAccount = previousAccount !== null && previousAccount !== grant.accountId;
      if (otherAccount && (await countMappedSubAccounts(db, companyId)) > 0) {
        await revokeQuietly(companyId, grant.accountId);
        throw new AppError(
          409,
          'stripe_account_mismatch',
          `You connected Stripe account ${grant.accountId}, but your sub-accounts are mapped to customers of ${previousAccount}. Connect ${previousAccount} (log in to that account on Stripe's page), or unmap the sub-accounts first.`,
        );
      }
      const other = await findOtherConnectAgency(db, companyId, grant.accountId);
      if (other) {
        await revokeQuietly(companyId, grant.accountId);
        throw new AppError(409, 'stripe_account_in_use', `Stripe account ${grant.accountId} is already connected to another agency in Meterbridge.`);
      }
      const mode = grant.livemode ? 'live' : 'test';
      const c = { kind: 'connect' as const, accountId: grant.accountId, testMode: !grant.livemode };
      const stripe = deps.connections.client(c);
      const account = await stripe.accounts.retrieveCurrent().catch(() => null);
      const accountName = account?.settings?.dashboard?.display_name ?? account?.business_profile?.name ?? null;
      await auditedStripeChange(db, companyId, actor, 'stripe.connect_connected', (tx) =>
        saveConnectConnection(tx, companyId, { accountId: grant.accountId, mode, accountName, keepEventDestination: !otherAccount }),
      );
      // Meter-event error reports: the destination made through a key on the same account still delivers; otherwise
      // one is made on the connected account (best effort, as for keys).
      if (otherAccount || !agency?.stripeEventDestinationId) await deps.eventDestinations.tryCreate(companyId, stripe);
      logger.info({ companyId, accountId: grant.accountId, mode, from: agency?.stripeConnectionType ?? null }, 'Stripe connected through Connect');
      return { accountId: grant.accountId, mode };
    },

    /**
     * Deletes the event destination made on the account and revokes the platform's access to it (both best effort,
     * logged); the caller forgets the connection.
     */
    async disconnect(companyId: string, accountId: string): Promise<void> {
      const agency = await findAgency(db, companyId);
      const credentials = await deps.connections.credentials(companyId);
      if (agency?.stripeEventDestinationId && credentials) {
        await deps.eventDestinations.remove(companyId, deps.connections.client(credentials), agency.stripeEventDestinationId);
      }
      await revokeQuietly(companyId, accountId);
    },

    /**
     * Applies `account.application.deauthorized` for the connected account: every agency connected to it before
     * the event was created is held. An event older than a later reconnection is ignored (Stripe does not promise
     * order, docs.stripe.com/webhooks "Event ordering"). @returns the agencies held by this delivery.
     */
    async deauthorized(accountId: string, eventCreated: Date): Promise<string[]> {
      const held: string[] = [];
      for (const agency of await findConnectAgencies(db, accountId)) {
        if (agency.connectedAt && Math.floor(agency.connectedAt.getTime() / 1000) > eventCreated.getTime() / 1000) continue;
        const changed = await auditedStripeChange(db, agency.companyId, { type: 'stripe' }, 'stripe.deauthorized', (tx) => markConnectDeauthorized(tx, agency.companyId, eventCreated));
        if (changed) held.push(agency.companyId);
      }
      if (held.length > 0) logger.warn({ accountId, companies: held }, 'Stripe Connect access revoked by the account: billing held until it connects again');
      return held;
    },
  };
}

/** The Connect connection use cases (see `createConnectConnection`). */
export type ConnectConnection = ReturnType<typeof createConnectConnection>;
