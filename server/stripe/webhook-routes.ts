import express, { Router } from 'express';
import type { ErrorReports } from './error-reports';
import type { PaymentEvents } from './payment-events';

/**
 * `POST /webhooks/stripe/:companyId`: one Stripe account's events (raw body for the signature, 1 MB at most).
 * 200 `{ received, type, locationId, billingStatus }`; 401 bad signature; 400 none configured; 404 unknown agency.
 * `POST /webhooks/stripe-events/:companyId`: the thin meter-error events of the agency's v2 event destination.
 * 200 `{ received, eventId, type, rejectedBatches }`; 401 bad signature; 400 none configured; 404 unknown agency.
 */
export function stripeWebhookRouter(events: PaymentEvents, errorReports: ErrorReports): Router {
  const router = Router();
  const raw = express.raw({ type: () => true, limit: 1024 * 1024 });
  const body = (req: express.Request) => (Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0));
  router.post('/webhooks/stripe/:companyId', raw, async (req, res) => {
    const outcome = await events.handle(String(req.params.companyId), body(req), req.get('stripe-signature'));
    res.json({ received: true, ...outcome });
  });
  router.post('/webhooks/stripe-events/:companyId', raw, async (req, res) => {
    const outcome = await errorReports.handle(String(req.params.companyId), body(req), req.get('stripe-signature'));
    res.json({ received: true, ...outcome });
  });
  return router;
}
