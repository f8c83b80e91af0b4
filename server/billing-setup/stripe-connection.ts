/**
 * Connecting an agency's Stripe account: the pasted secret (`sk_`) or restricted (`rk_`) key is checked with real
 * Stripe calls, refused with the missing permissions named, or stored sealed with what it is (test/live, account,
 * last 4). A webhook endpoint for payment problems is created through the key when it may; otherwise the
 * agency is shown the URL and pastes the signing secret. The key is never returned.
 */
import type { Logger } from 'pino';
import type { Database } from '../../models/database';
import type { SecretBox } from '../crypto/secret-box';
import { AppError, badRequest } from '../http/errors';
import { checkStripeKey, StripeKeyRejectedError } from '../stripe/connection-check';
import type { EventDestinations } from '../stripe/event-destinations';
import type { StripeClientFactory } from '../stripe/stripe-client';
import type { AuditActor } from '../audit/audit-log';
import { auditedStripeChange } from '../stripe/connection-audit';
import { stripeKeyMode } from '../stripe/agency-connection';
import type { z } from 'zod';
import type { stripeConnectInfo } from '../stripe/connect-schemas';

type StripeConnectInfo = z.infer<typeof stripeConnectInfo>;
import {
  clearStripeConnection,
  findAgency,
  saveStripeConnection,
  setStripeWebhookSecret,
  upsertAgency,
} from '../tenancy/accounts-repository';
import { agencyWebhookUrl, createWebhookEndpoint, type CreatedWebhookEndpoint } from './webhook-endpoint';

/**
 * Permissions Meterbridge can work without: webhook endpoints (one can be made by hand) and reading the account
 * (only its name is shown).
 */
const OPTIONAL_PERMISSION = /webhook|account/i;
const WEBHOOK_PERMISSION = /webhook/i;

const KEY_FORMAT = /^(sk|rk)_(test|live)_[A-Za-z0-9]{8,}$/;

/** What the page shows about the connection. Never carries the key or the webhook secret. */
export interface StripeConnectionStatus {
  connected: boolean;
  /** As stored when Stripe was connected (key check or Connect grant), else from the stored key's prefix; null: none. */
  mode: 'test' | 'live' | null;
  keyType: 'secret' | 'restricted' | null;
  keyLast4: string | null;
  accountId: string | null;
  accountName: string | null;
  missingPermissions: Array<{ permission: string; label: string }>;
  webhook: { url: string; configured: boolean; createdByMeterbridge: boolean };
  /** Stripe's asynchronous meter-event errors: whether the event destination exists (else retried every 10 min). */
  errorReports: { url: string; configured: boolean };
  /** "Connect with Stripe" (server/stripe/connect-*.ts): offered?, how connected, revoked by the agency? */
  connect: StripeConnectInfo;
}

/** What the Connect side of this capability needs (null when no Connect platform is configured). */
export interface ConnectSide {
  /** Revokes the platform's grant on the account (best effort). */
  disconnect(companyId: string, accountId: string): Promise<void>;
}

export function createStripeConnection(deps: {
  db: Database;
  secretBox: SecretBox;
  stripeClient: StripeClientFactory;
  appUrl: string;
  logger: Logger;
  /** Creates and deletes the agency's event destination for meter-event error reports. */
  eventDestinations: EventDestinations;
  /** Connect OAuth, when configured; a Connect agency's status and disconnect go through it. */
  connect?: ConnectSide | null;
}) {
  const webhookUrl = (companyId: string) => agencyWebhookUrl(deps.appUrl, companyId);
  /**
   * The mode of a key stored without it (stored by an older version, or by `accounts.storeStripeKey`), from its
   * prefix as the reporter reads it (server/stripe/agency-connection.ts); null without a key or when it cannot be opened.
   */
  const keyModeOf = (sealedKey: string | null): 'test' | 'live' | null => {
    if (!sealedKey) return null;
    try {
      return stripeKeyMode(deps.secretBox.open(sealedKey));
    } catch {
      return null;
    }
  };

  async function status(companyId: string): Promise<StripeConnectionStatus> {
    const agency = await findAgency(deps.db, companyId);
    const viaConnect = agency?.stripeConnectionType === 'connect';
    const deauthorizedAt = viaConnect ? (agency?.stripeDeauthorizedAt ?? null) : null;
    return {
      connected: viaConnect ? !deauthorizedAt && Boolean(deps.connect) : Boolean(agency?.stripeSecretKey),
      mode: agency?.stripeMode ?? keyModeOf(agency?.stripeSecretKey ?? null),
      keyType: agency?.stripeKeyType ?? null,
      keyLast4: agency?.stripeKeyLast4 ?? null,
      accountId: agency?.stripeAccountId ?? null,
      accountName: agency?.stripeAccountName ?? null,
      missingPermissions: agency?.stripeMissingPermissions ?? [],
      webhook: {
        url: webhookUrl(companyId),
        // A Connect agency's events arrive through the platform's Connect webhook (/webhooks/stripe-connect).
        configured: viaConnect || Boolean(agency?.stripeWebhookSecret),
        createdByMeterbridge: Boolean(agency?.stripeWebhookEndpointId),
      },
      errorReports: { url: deps.eventDestinations.url(companyId), configured: Boolean(agency?.stripeEventDestinationId) },
      connect: {
        available: Boolean(deps.connect),
        method: viaConnect ? 'connect' : agency?.stripeSecretKey ? 'key' : null,
        deauthorized: Boolean(deauthorizedAt),
        deauthorizedAt: deauthorizedAt?.toISOString() ?? null,
      },
    };
  }

  return {
    status,

    /**
     * Checks and stores the key.
     * @throws AppError 400 `invalid_stripe_key` (format) or `stripe_key_rejected` (Stripe's message);
     *   422 `stripe_permissions_missing` naming every missing permission — nothing is stored then.
     */
    async connect(companyId: string, secretKey: string, actor: AuditActor = { type: 'system' }): Promise<StripeConnectionStatus> {
      const key = secretKey.trim();
      if (!KEY_FORMAT.test(key)) throw badRequest('invalid_stripe_key', 'Paste a Stripe secret key (sk_…) or restricted key (rk_…).');
      const stripe = deps.stripeClient(key);
      let check;
      try {
        check = await checkStripeKey(stripe, key);
      } catch (err) {
        if (err instanceof StripeKeyRejectedError) throw badRequest('stripe_key_rejected', `Stripe refused the key: ${err.message}`);
        throw new AppError('stripe_unavailable', `Stripe could not be reached to check the key: ${(err as Error).message}`);
      }
      const required = check.missing.filter((m) => !OPTIONAL_PERMISSION.test(m.permission));
      if (required.length > 0) {
        throw new AppError(
          'stripe_permissions_missing',
          `This restricted key lacks: ${required.map((m) => `${m.label} (${m.permission})`).join(', ')}. Add them to the key in Stripe, or use a secret key.`,
        );
      }
      await upsertAgency(deps.db, { companyId });
      const previous = await findAgency(deps.db, companyId);
      // Leaving Connect for a key: the platform's grant is revoked (and its event destination removed), best effort.
      if (previous?.stripeConnectionType === 'connect' && previous.stripeAccountId) await deps.connect?.disconnect(companyId, previous.stripeAccountId);
      let endpoint: CreatedWebhookEndpoint | null = null;
      if (!check.missing.some((m) => WEBHOOK_PERMISSION.test(m.permission))) {
        try {
          if (previous?.stripeWebhookEndpointId) await stripe.webhookEndpoints.del(previous.stripeWebhookEndpointId).catch(() => undefined);
          endpoint = await createWebhookEndpoint(stripe, deps.appUrl, companyId);
        } catch (err) {
          deps.logger.warn({ companyId, reason: (err as Error).message }, 'could not create the Stripe webhook endpoint; the agency can add it by hand');
        }
      }
      await auditedStripeChange(deps.db, companyId, actor, 'stripe.key_connected', (tx) => saveStripeConnection(tx, companyId, {
        sealedKey: deps.secretBox.seal(key),
        mode: check.mode,
        keyType: check.keyType,
        last4: key.slice(-4),
        accountId: check.accountId,
        accountName: check.accountName,
        missingPermissions: check.missing,
        webhookEndpointId: endpoint?.id ?? null,
        sealedWebhookSecret: endpoint ? deps.secretBox.seal(endpoint.secret) : null,
        webhookEvents: endpoint?.events ?? null,
      }));
      // Best effort: without it Stripe's asynchronous refusals go unseen, so the reporter's tick keeps trying.
      await deps.eventDestinations.tryCreate(companyId, stripe);
      deps.logger.info({ companyId, mode: check.mode, keyType: check.keyType, accountId: check.accountId }, 'Stripe connected');
      return status(companyId);
    },

    /** Removes the webhook endpoint and event destination Meterbridge made (best effort) and forgets the key. */
    async disconnect(companyId: string, actor: AuditActor = { type: 'system' }): Promise<StripeConnectionStatus> {
      const forget = () => auditedStripeChange(deps.db, companyId, actor, 'stripe.disconnected', (tx) => clearStripeConnection(tx, companyId));
      const agency = await findAgency(deps.db, companyId);
      if (agency?.stripeConnectionType === 'connect' && agency.stripeAccountId) {
        // Revoking the grant makes Stripe send account.application.deauthorized, which then matches no agency.
        await deps.connect?.disconnect(companyId, agency.stripeAccountId);
        await forget();
        return status(companyId);
      }
      if (agency?.stripeSecretKey && agency.stripeEventDestinationId) {
        await deps.eventDestinations.remove(companyId, deps.stripeClient(deps.secretBox.open(agency.stripeSecretKey)), agency.stripeEventDestinationId);
      }
      if (agency?.stripeSecretKey && agency.stripeWebhookEndpointId) {
        await deps
          .stripeClient(deps.secretBox.open(agency.stripeSecretKey))
          .webhookEndpoints.del(agency.stripeWebhookEndpointId)
          .catch((err: Error) => deps.logger.warn({ companyId, reason: err.message }, 'could not delete the Stripe webhook endpoint'));
      }
      await forget();
      return status(companyId);
    },

    /**
     * Stores a webhook signing secret the agency created by hand in Stripe.
     * @throws AppError 400 when it does not look like one (whsec_…).
     */
    async setWebhookSecret(companyId: string, secret: string, actor: AuditActor = { type: 'system' }): Promise<StripeConnectionStatus> {
      if (!/^whsec_[A-Za-z0-9]{8,}$/.test(secret.trim())) throw badRequest('invalid_webhook_secret', 'A Stripe webhook signing secret starts with whsec_.');
      const sealed = deps.secretBox.seal(secret.trim());
      await auditedStripeChange(deps.db, companyId, actor, 'stripe.webhook_secret_set', (tx) => setStripeWebhookSecret(tx, companyId, sealed));
      return status(companyId);
    },
  };
}

export type StripeConnection = ReturnType<typeof createStripeConnection>;
