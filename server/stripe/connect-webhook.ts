/**
 * The platform's Connect webhook: `POST /webhooks/stripe-connect`. Stripe delivers the events of every connected
 * account to the platform's Connect endpoint, each with `account` naming the connected account
 * (docs.stripe.com/connect/webhooks); the signature (`Stripe-Signature`, docs.stripe.com/webhooks/signature) is
 * checked with the endpoint's secret (`STRIPE_CONNECT_WEBHOOK_SECRET`).
 * - `account.application.deauthorized` → the agencies connected to that account are held
 *   (server/stripe/connect-connection.ts);
 * - the payment events a key-connected agency gets on `/webhooks/stripe/:companyId` (invoice.payment_failed,
 *   invoice.payment_action_required, invoice.paid, customer.subscription.deleted) are dispatched to the same
 *   handler (server/stripe/payment-events.ts), re-reading the truth through the connected account.
 * An event of an account no agency is connected to (or a held one) is acknowledged and ignored, so Stripe stops
 * retrying it.
 */
import express, { Router } from 'express';
import type Stripe from 'stripe';
import type { Database } from '../../models/database';
import { AppError } from '../http/errors';
import type { AgencyConnections } from './agency-connection';
import type { ConnectConnection } from './connect-connection';
import { findConnectAgencies } from './connect-repository';
import type { PaymentEvents } from './payment-events';

/** What one delivery did. `companies`: the agencies it was applied to. */
export interface ConnectEventOutcome {
  eventId: string;
  type: string;
  account: string | null;
  companies: string[];
  /** Per agency, the sub-account whose billing status changed (payment events). */
  locations: Array<{ companyId: string; locationId: string | null; billingStatus: string | null }>;
}

export function createConnectWebhook(deps: { db: Database; webhookSecret: string; connections: AgencyConnections; connect: ConnectConnection; paymentEvents: PaymentEvents }) {
  return {
    /**
     * Verifies and applies one delivery.
     * @throws AppError 400 `invalid_signature` (nothing applied); Stripe read errors propagate (5xx, Stripe retries).
     */
    async handle(rawBody: Buffer, signature: string | undefined): Promise<ConnectEventOutcome> {
      const platform = deps.connections.platformClient();
      if (!platform) throw new AppError(404, 'stripe_connect_not_configured', 'Stripe Connect is not configured on this Meterbridge.');
      let event: Stripe.Event;
      try {
        event = platform.webhooks.constructEvent(rawBody, signature ?? '', deps.webhookSecret);
      } catch (err) {
        throw new AppError(401, 'invalid_signature', `The Stripe signature does not match: ${(err as Error).message}`);
      }
      const account = event.account ?? null;
      const outcome: ConnectEventOutcome = { eventId: event.id, type: event.type, account, companies: [], locations: [] };
      if (!account) return outcome;
      if (event.type === 'account.application.deauthorized') {
        outcome.companies = await deps.connect.deauthorized(account, new Date(event.created * 1000));
        return outcome;
      }
      for (const agency of await findConnectAgencies(deps.db, account)) {
        const credentials = await deps.connections.credentials(agency.companyId);
        if (!credentials) continue; // held: Stripe cannot be read for it until it connects again
        const applied = await deps.paymentEvents.apply(agency.companyId, event, deps.connections.client(credentials));
        outcome.companies.push(agency.companyId);
        outcome.locations.push({ companyId: agency.companyId, locationId: applied.locationId, billingStatus: applied.billingStatus });
      }
      return outcome;
    },
  };
}

/** `POST /webhooks/stripe-connect` (raw body for the signature, 1 MB at most). 200 `{ received, ...outcome }`. */
export function connectWebhookRouter(webhook: ReturnType<typeof createConnectWebhook>): Router {
  return Router().post('/webhooks/stripe-connect', express.raw({ type: () => true, limit: 1024 * 1024 }), async (req, res) => {
    const outcome = await webhook.handle(Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0), req.get('stripe-signature'));
    res.json({ received: true, ...outcome });
  });
}
