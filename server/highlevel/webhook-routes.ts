import express, { Router } from 'express';
import type { IntakeResult } from './webhook-intake';
import type { SignatureHeaders } from './webhook-signature';

/** HighLevel deliveries are small JSON documents; anything over this is refused with 413 before verification. */
export const MAX_WEBHOOK_BYTES = 1024 * 1024;

/**
 * `POST <path>` (manifest.json `webhooks.path`, /webhooks/highlevel): reads the raw bytes (any content type; the signature covers the bytes), hands them
 * to the intake, and answers 200 `{ status, webhookId, eventType, usageRecords }` only after the commit.
 * Errors: 401 bad signature, 400 bad JSON or schema, 413 over 1 MB, 503 database unavailable.
 */
export function highLevelWebhookRouter(
  path: string,
  receiveDelivery: (raw: Buffer, headers: SignatureHeaders) => Promise<IntakeResult>,
): Router {
  const router = Router();
  router.post(
    path,
    express.raw({ type: () => true, limit: MAX_WEBHOOK_BYTES }),
    async (req, res) => {
      const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      const result = await receiveDelivery(raw, {
        ghlSignature: req.get('x-ghl-signature'),
        legacySignature: req.get('x-wh-signature'),
      });
      res.status(200).json(result);
    },
  );
  return router;
}
