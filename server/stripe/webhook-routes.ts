import express, { Router } from 'express';
import type { PaymentEvents } from './payment-events';

/**
 * `POST /webhooks/stripe/:companyId`: one Stripe account's events (raw body for the signature, 1 MB at most).
 * 200 `{ received, type, locationId, billingStatus }`; 400 bad signature; 404 unknown agency.
 */
export function stripeWebhookRouter(events: PaymentEvents): Router {
  const router = Router();
  router.post('/webhooks/stripe/:companyId', express.raw({ type: () => true, limit: 1024 * 1024 }), async (req, res) => {
    const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    const outcome = await events.handle(String(req.params.companyId), raw, req.get('stripe-signature'));
    res.json({ received: true, ...outcome });
  });
  return router;
}
