/**
 * The agency's Stripe event destination for meter-event error reports. Stripe validates meter events
 * asynchronously and reports the refused ones only as THIN events (`v1.billing.meter.error_report_triggered`,
 * `v1.billing.meter.no_meter_found`; docs.stripe.com/api/v2/core/events/event-types), which reach an application
 * only through a v2 event destination (docs.stripe.com/event-destinations). One is created per agency through its
 * own key, pointing at `/webhooks/stripe-events/:companyId`, with a thin payload; its signing secret comes back only
 * in the create response and only when asked for with `include: ['webhook_endpoint.signing_secret']` (stripe-node
 * 23.1 `V2.Core.EventDestinationCreateParams.include`), and is stored sealed (server/crypto/secret-box.ts).
 * Created on connect; for agencies connected before (or when creation failed) the reporter's tick calls `ensureAll`.
 */
import { and, eq, isNotNull, isNull, or, sql } from 'drizzle-orm';
import type { Logger } from 'pino';
import type Stripe from 'stripe';
import type { Database } from '../../models/database';
import { agencies } from '../../models/schema';
import type { SecretBox } from '../crypto/secret-box';
import type { StripeClientFactory } from './stripe-client';

/**
 * The thin event types Meterbridge listens to. A destination keeps the list it was created with, and nothing brings
 * existing destinations up to a longer one (unlike webhook endpoints, server/billing-setup/webhook-endpoint-sync.ts):
 * this list is unchanged since destinations were first made, so none is behind. Adding a type here needs the same
 * job for destinations — record the applied list, then POST /v2/core/event_destinations/{id} with `enabled_events`
 * (docs.stripe.com/api/v2/core/event-destinations/update) — or connected agencies would not receive it.
 */
export const METER_ERROR_EVENT_TYPES = ['v1.billing.meter.error_report_triggered', 'v1.billing.meter.no_meter_found'] as const;

/** How long `ensureAll` waits before trying an agency again after a failed creation, milliseconds. */
const RETRY_AFTER_MS = 10 * 60 * 1000;

/**
 * Builds the event-destination use cases. `appUrl` is the public base URL Stripe delivers to (`APP_URL`).
 * Nothing here throws for Stripe's refusals except `create`; `tryCreate`, `remove` and `ensureAll` log them.
 */
export function createEventDestinations(deps: { db: Database; secretBox: SecretBox; stripeClient: StripeClientFactory; appUrl: string; logger: Logger }) {
  const { db, secretBox, logger } = deps;
  /** companyId → when creation last failed (in this process). */
  const failedAt = new Map<string, number>();
  const url = (companyId: string) => `${deps.appUrl}/webhooks/stripe-events/${encodeURIComponent(companyId)}`;

  /**
   * Creates the agency's destination through `stripe` and stores its id and sealed secret, replacing (and deleting
   * in Stripe, best effort) any previous one.
   * @throws the Stripe error when it cannot be created (e.g. a restricted key without the permission).
   */
  async function create(companyId: string, stripe: Stripe): Promise<string> {
    const [previous] = await db.select({ id: agencies.stripeEventDestinationId }).from(agencies).where(eq(agencies.companyId, companyId));
    if (previous?.id) await stripe.v2.core.eventDestinations.del(previous.id).catch(() => undefined);
    const created = await stripe.v2.core.eventDestinations.create({
      name: 'Meterbridge meter-event errors',
      description: 'Meterbridge: meter events Stripe refused after accepting them',
      type: 'webhook_endpoint',
      event_payload: 'thin',
      enabled_events: [...METER_ERROR_EVENT_TYPES],
      webhook_endpoint: { url: url(companyId) },
      include: ['webhook_endpoint.signing_secret'],
      metadata: { meterbridge_company_id: companyId },
    });
    const secret = created.webhook_endpoint?.signing_secret;
    if (!secret) throw new Error('Stripe did not return the event destination signing secret.');
    await db
      .update(agencies)
      .set({ stripeEventDestinationId: created.id, stripeEventDestinationSecret: secretBox.seal(secret), updatedAt: sql`now()` })
      .where(eq(agencies.companyId, companyId));
    failedAt.delete(companyId);
    logger.info({ companyId, eventDestinationId: created.id }, 'Stripe event destination created for meter-event error reports');
    return created.id;
  }

  return {
    /** The URL Stripe delivers the agency's error reports to. */
    url,
    create,

    /** `create`, logging instead of throwing; the reporter's tick tries again later. @returns whether it worked. */
    async tryCreate(companyId: string, stripe: Stripe): Promise<boolean> {
      try {
        await create(companyId, stripe);
        return true;
      } catch (err) {
        failedAt.set(companyId, Date.now());
        logger.warn({ companyId, reason: (err as Error).message }, 'could not create the Stripe event destination; meter-event error reports will not arrive until it exists');
        return false;
      }
    },

    /** Deletes the agency's destination in Stripe (best effort, logged); the caller forgets the stored one. */
    async remove(companyId: string, stripe: Stripe, destinationId: string): Promise<void> {
      await stripe.v2.core.eventDestinations
        .del(destinationId)
        .catch((err: Error) => logger.warn({ companyId, reason: err.message }, 'could not delete the Stripe event destination'));
    },

    /**
     * Creates the destination of every connected agency that has none (each retried at most every 10 minutes).
     * @param connect resolves the client of agencies connected through Stripe Connect (server/stripe/agency-connection.ts);
     *   without it only key-connected agencies are handled.
     */
    async ensureAll(connect?: { clientFor(companyId: string): Promise<{ client: Stripe } | null> }): Promise<void> {
      const viaConnect = sql`${agencies.stripeConnectionType} = 'connect' and ${agencies.stripeDeauthorizedAt} is null`;
      const missing = await db
        .select({ companyId: agencies.companyId, key: agencies.stripeSecretKey })
        .from(agencies)
        .where(and(connect ? or(isNotNull(agencies.stripeSecretKey), viaConnect) : isNotNull(agencies.stripeSecretKey), isNull(agencies.stripeEventDestinationId)));
      for (const { companyId, key } of missing) {
        if (Date.now() - (failedAt.get(companyId) ?? 0) < RETRY_AFTER_MS) continue;
        let stripe: Stripe;
        try {
          const viaPlatform = key ? null : await connect?.clientFor(companyId);
          if (!key && !viaPlatform) continue;
          stripe = viaPlatform ? viaPlatform.client : deps.stripeClient(secretBox.open(key!));
        } catch (err) {
          failedAt.set(companyId, Date.now());
          logger.warn({ companyId, reason: (err as Error).message }, 'the agency Stripe key cannot be read');
          continue;
        }
        await this.tryCreate(companyId, stripe);
      }
    },
  };
}

/** The agency event-destination use cases (see `createEventDestinations`). */
export type EventDestinations = ReturnType<typeof createEventDestinations>;
