/**
 * `POST /highlevel/actions/record-usage`: the URL of the "Record billable usage" workflow action in HighLevel's
 * developer portal (README, "Workflow action"). HighLevel documents no signature for action calls, only the headers
 * the developer configures on the action (record-usage-action.ts), so the action sends
 * `Authorization: Bearer <HIGHLEVEL_WORKFLOW_ACTION_SECRET>`; the secret is compared in constant time before the body
 * is read, and anything else is a 401 JSON error with nothing stored.
 * Answers: 200 `{ status: accepted | duplicate, locationId, metric, quantity, idempotencyKey }` (HighLevel can map
 * these to custom variables), or the errors of `RecordUsageAction.record`, 413 over 100 kB.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import express, { Router, type RequestHandler } from 'express';
import type { Database } from '../../models/database';
import { unauthorized } from '../http/errors';
import type { UsageIngestion } from '../usage-api/ingest-usage';
import { createRecordUsageAction } from './record-usage-action';

/** Where HighLevel posts the action. */
export const WORKFLOW_ACTION_PATH = '/highlevel/actions/record-usage';
/** An action payload is a few fields; anything larger is not HighLevel's. */
const MAX_ACTION_BYTES = 100 * 1024;

/**
 * The router over the usage API's ingestion. `secret` is HIGHLEVEL_WORKFLOW_ACTION_SECRET; when unset every call is
 * refused (401).
 */
export function workflowActionRouter(deps: { db: Database; ingestion: UsageIngestion; secret: string | undefined }): Router {
  const action = createRecordUsageAction(deps);
  const secret = deps.secret;
  return Router().post(WORKFLOW_ACTION_PATH, requireActionSecret(secret), express.json({ limit: MAX_ACTION_BYTES, type: () => true }), async (req, res) => {
    res.status(200).json(await action.record(req.body));
  });
}

/** Lets through only calls carrying `Authorization: Bearer <secret>` (also HighLevel's workflow trigger subscription calls, server/alerts/trigger-subscriptions.ts). */
export function requireActionSecret(secret: string | undefined): RequestHandler {
  const expected = secret ? digest(secret) : null;
  return (req, _res, next) => {
    if (!expected) {
      next(unauthorized('workflow_action_not_configured', 'This server has no HIGHLEVEL_WORKFLOW_ACTION_SECRET, so it accepts no workflow action calls.'));
      return;
    }
    const match = /^Bearer\s+(\S+)\s*$/i.exec(req.get('authorization') ?? '');
    if (!match || !timingSafeEqual(digest(match[1]!), expected)) {
      next(unauthorized('unauthenticated', 'A workflow action call must carry Authorization: Bearer <the action secret configured in HighLevel>.'));
      return;
    }
    next();
  };
}

/** Fixed-length digests, so the comparison takes the same time whatever the lengths. */
const digest = (text: string): Buffer => createHash('sha256').update(text, 'utf8').digest();
