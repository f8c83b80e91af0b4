/**
 * The `stripe-webhook-events` job: brings every agency's webhook endpoint up to the current event list
 * (webhook-endpoint.ts `ENABLED_WEBHOOK_EVENTS`). An endpoint is created with the list of its day and Stripe keeps
 * it until told otherwise, so when the list grows (payment_method.*, setup_intent.succeeded for the stored cards)
 * endpoints made before would miss events Meterbridge relies on until the agency connected its key again.
 *
 * What was last applied is recorded per agency (`agencies.stripe_webhook_events`, null for endpoints older than the
 * record), and only agencies whose record differs from the current list are read from the database, so an agency
 * already current costs no Stripe call (a restart costs none). For each of them, through the agency's own key:
 * - POST /v1/webhook_endpoints/{id} with the full `enabled_events` (docs.stripe.com/api/webhook_endpoints/update:
 *   "You may edit the url, the list of enabled_events, and the status of your endpoint"; the list given replaces
 *   the endpoint's list), then the list is recorded.
 * - 404 `resource_missing` (docs.stripe.com/error-codes#resource-missing: the endpoint no longer exists, e.g. the
 *   owner deleted it in the Dashboard): a new endpoint is created, as connecting the key does
 *   (webhook-endpoint.ts `createWebhookEndpoint`), and its id, its signing secret (sealed, server/crypto/secret-box.ts)
 *   and its list replace the old ones. Chosen because a deleted endpoint cannot be restored — Stripe returns an
 *   endpoint's secret "Only returned at creation" (docs.stripe.com/api/webhook_endpoints/object) — and Meterbridge
 *   relies on these events while the connection goes on showing the webhook as set up; an agency that wants no
 *   events disconnects Stripe. If that creation fails too, the record is left as it was and the next run tries again.
 * - Any other error (5xx, 429, a key revoked, a network failure): logged with Stripe's status, code and message
 *   (never the key), the record left unchanged so the next run retries; the run goes on with the other agencies
 *   and never throws.
 * Agencies connected through Stripe Connect have no endpoint of their own (their events come through the platform's
 * Connect endpoint) and are not touched.
 */
import { and, eq, isNotNull, sql } from 'drizzle-orm';
import type { Logger } from 'pino';
import type Stripe from 'stripe';
import type { Database } from '../../models/database';
import { agencies } from '../../models/schema';
import type { SecretBox } from '../crypto/secret-box';
import { forEachConcurrently } from '../jobs/concurrently';
import { isResourceMissing, stripeErrorFields } from '../stripe/stripe-errors';
import type { StripeClientFactory } from '../stripe/stripe-client';
import { createWebhookEndpoint, ENABLED_WEBHOOK_EVENTS, webhookEventsApplied } from './webhook-endpoint';

/** The job's name in the scheduler (server/jobs/scheduled-jobs.ts). */
export const WEBHOOK_EVENTS_JOB = 'stripe-webhook-events';

/**
 * Agencies handled at once. Each is a different Stripe account (Stripe's rate limits are per account,
 * docs.stripe.com/rate-limits) and costs one call, two when the endpoint is recreated.
 */
const IN_FLIGHT = 4;

/** What a run did, for the scheduler's log: agencies updated, whose endpoint was made again, and left to retry. */
export interface WebhookEventsRun {
  updated: number;
  recreated: number;
  failed: number;
}

/** Builds the job's use case. `appUrl` is `APP_URL` (a recreated endpoint points at /webhooks/stripe/:companyId there). */
export function createWebhookEndpointSync(deps: { db: Database; secretBox: SecretBox; stripeClient: StripeClientFactory; appUrl: string; logger: Logger }) {
  const { db, logger } = deps;
  const current = webhookEventsApplied();

  /** Records what is now on the agency's endpoint, unless a reconnection replaced that endpoint meanwhile. */
  async function record(companyId: string, endpointId: string, set: Partial<typeof agencies.$inferInsert>): Promise<boolean> {
    const rows = await db
      .update(agencies)
      .set({ ...set, updatedAt: sql`now()` })
      .where(and(eq(agencies.companyId, companyId), eq(agencies.stripeWebhookEndpointId, endpointId)))
      .returning({ companyId: agencies.companyId });
    return rows.length > 0;
  }

  /** A new endpoint in place of one Stripe no longer has. @returns whether it was made and stored. */
  async function recreate(companyId: string, stripe: Stripe, missingId: string): Promise<boolean> {
    const created = await createWebhookEndpoint(stripe, deps.appUrl, companyId);
    if (!created) throw new Error('Stripe did not return the new webhook endpoint signing secret.');
    const stored = await record(companyId, missingId, {
      stripeWebhookEndpointId: created.id,
      stripeWebhookSecret: deps.secretBox.seal(created.secret),
      stripeWebhookEvents: created.events,
    });
    if (!stored) await stripe.webhookEndpoints.del(created.id).catch(() => undefined); // reconnected meanwhile: not ours to keep
    else logger.warn({ companyId, missingId, endpointId: created.id }, 'the Stripe webhook endpoint was deleted in Stripe; a new one was created');
    return stored;
  }

  /** Brings one agency's endpoint up to date. Never throws. */
  async function syncOne(row: { companyId: string; key: string; endpointId: string }, run: WebhookEventsRun): Promise<void> {
    const { companyId, endpointId } = row;
    let stripe: Stripe | undefined;
    try {
      stripe = deps.stripeClient(deps.secretBox.open(row.key));
      await stripe.webhookEndpoints.update(endpointId, { enabled_events: ENABLED_WEBHOOK_EVENTS as Stripe.WebhookEndpointUpdateParams.EnabledEvent[] });
      if (await record(companyId, endpointId, { stripeWebhookEvents: current })) run.updated++;
    } catch (err) {
      try {
        if (stripe && isResourceMissing(err)) {
          if (await recreate(companyId, stripe, endpointId)) run.recreated++;
          return;
        }
      } catch (createErr) {
        err = createErr;
      }
      run.failed++;
      const { statusCode, code, message } = stripeErrorFields(err);
      logger.warn({ companyId, endpointId, status: statusCode, code, reason: message }, 'could not update the Stripe webhook endpoint events; the next run tries again');
    }
  }

  return {
    /**
     * One pass over the agencies whose recorded list differs from the current one (see the module comment).
     * @returns the counts of the run. Never throws for Stripe's answers; throws only when the database fails.
     */
    async runOnce(): Promise<WebhookEventsRun> {
      const due = await db
        .select({ companyId: agencies.companyId, key: agencies.stripeSecretKey, endpointId: agencies.stripeWebhookEndpointId })
        .from(agencies)
        .where(and(isNotNull(agencies.stripeSecretKey), isNotNull(agencies.stripeWebhookEndpointId), sql`${agencies.stripeWebhookEvents} is distinct from ${current}`));
      const run: WebhookEventsRun = { updated: 0, recreated: 0, failed: 0 };
      await forEachConcurrently(due, IN_FLIGHT, (row) => syncOne({ companyId: row.companyId, key: row.key!, endpointId: row.endpointId! }, run));
      return run;
    },
  };
}

/** The `stripe-webhook-events` use case (see `createWebhookEndpointSync`). */
export type WebhookEndpointSync = ReturnType<typeof createWebhookEndpointSync>;
