/**
 * The agency's Stripe webhook endpoint (pointing at /webhooks/stripe/:companyId): which events it listens to, and
 * the one place it is created — by the connect flow (stripe-connection.ts) and by the `stripe-webhook-events` job
 * when the endpoint was deleted in Stripe (webhook-endpoint-sync.ts).
 */
import type Stripe from 'stripe';
import { PAYMENT_WEBHOOK_EVENTS } from '../payments/webhook-events';

/**
 * Stripe events Meterbridge listens to: payment problems, one-time charges following their invoice to the end
 * (server/catalog/one-time-charges.ts), plus what server/payments needs (PAYMENT_WEBHOOK_EVENTS). An endpoint made
 * with an older list is brought up to this one by the `stripe-webhook-events` job (webhook-endpoint-sync.ts).
 */
export const STRIPE_WEBHOOK_EVENTS = [
  'invoice.payment_failed',
  'invoice.payment_action_required',
  'invoice.paid',
  'invoice.voided',
  'invoice.marked_uncollectible',
  'customer.subscription.deleted',
  ...PAYMENT_WEBHOOK_EVENTS,
] as const;

/** `STRIPE_WEBHOOK_EVENTS` as sent to Stripe: each type once, sorted (the order carries no meaning for Stripe). */
export const ENABLED_WEBHOOK_EVENTS: string[] = [...new Set<string>(STRIPE_WEBHOOK_EVENTS)].sort();

/**
 * What is recorded of a list applied to an endpoint (`agencies.stripe_webhook_events`): the sorted types, comma-joined,
 * so two lists compare as equal strings, in SQL too.
 */
export const webhookEventsApplied = (events: readonly string[] = ENABLED_WEBHOOK_EVENTS): string => [...new Set(events)].sort().join(',');

/** The URL Stripe delivers the agency's events to. `appUrl` is `APP_URL`, without a trailing slash. */
export const agencyWebhookUrl = (appUrl: string, companyId: string): string => `${appUrl}/webhooks/stripe/${encodeURIComponent(companyId)}`;

/** An endpoint just created: its id, its signing secret (`whsec_…`, to be sealed before storing) and what it listens to. */
export interface CreatedWebhookEndpoint {
  id: string;
  secret: string;
  /** `webhookEventsApplied()` of the list it was created with. */
  events: string;
}

/**
 * Creates the agency's endpoint through its own key with the current event list (POST /v1/webhook_endpoints,
 * docs.stripe.com/api/webhook_endpoints/create: `url` and `enabled_events` required; the `secret` is "Only returned at
 * creation", docs.stripe.com/api/webhook_endpoints/object — hence a deleted endpoint can only be replaced, never
 * restored with its old secret).
 * @returns the endpoint, or null when Stripe returned no secret (nothing could verify its deliveries).
 * @throws the Stripe error when it refuses (e.g. a restricted key without the webhook permission).
 */
export async function createWebhookEndpoint(stripe: Stripe, appUrl: string, companyId: string): Promise<CreatedWebhookEndpoint | null> {
  const created = await stripe.webhookEndpoints.create({
    url: agencyWebhookUrl(appUrl, companyId),
    enabled_events: ENABLED_WEBHOOK_EVENTS as Stripe.WebhookEndpointCreateParams.EnabledEvent[],
    description: 'Meterbridge: payment problems of rebilled sub-accounts',
    metadata: { meterbridge_company_id: companyId },
  });
  return created.secret ? { id: created.id, secret: created.secret, events: webhookEventsApplied() } : null;
}
