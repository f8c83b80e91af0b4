/**
 * `POST /highlevel/triggers/subscription`: the "Subscription URL" of Meterbridge's marketplace workflow triggers.
 * HighLevel posts here whenever a workflow adds (`CREATED`), changes (`UPDATED`) or removes (`DELETED`) one of them
 * (marketplace docs "Creating a Marketplace Workflow Trigger", Set Up Subscription URL:
 * marketplace.gohighlevel.com/docs/marketplace-modules/CustomTriggers):
 * `{ triggerData: { id, key, filters, eventType, targetUrl }, meta: { key, version }, extras: { locationId, workflowId, companyId } }`.
 * Meterbridge stores the `targetUrl` by the trigger id and posts each matching alert to it (server/alerts/deliver.ts);
 * after `DELETED` it stops. The docs name no signature for this call, only the headers the developer sets on the
 * trigger, so it carries the same `Authorization: Bearer <HIGHLEVEL_WORKFLOW_ACTION_SECRET>` as the workflow action.
 * Filters are stored as sent; HighLevel's workflow applies them (Meterbridge's triggers define none in the portal).
 * Answers 200 `{ status: subscribed | unsubscribed, id }`; 400 `invalid_trigger_subscription`; 404 unknown sub-account.
 */
import express, { Router } from 'express';
import { z } from 'zod';
import { eq } from 'drizzle-orm';
import type { Database } from '../../models/database';
import { highLevelTriggerSubscriptions, subAccounts } from '../../models/schema';
import { AppError, notFound } from '../http/errors';
import { requireActionSecret } from '../workflow-actions/workflow-action-routes';
import { TRIGGER_KEYS } from './kinds';

/** Where HighLevel posts trigger subscriptions. */
export const TRIGGER_SUBSCRIPTION_PATH = '/highlevel/triggers/subscription';

/** HighLevel's subscription payload (the fields Meterbridge uses; others pass). */
export const triggerSubscriptionPayload = z.object({
  triggerData: z.object({
    id: z.string().min(1).max(200),
    key: z.string().min(1).max(200),
    filters: z.array(z.unknown()).optional().default([]),
    eventType: z.enum(['CREATED', 'UPDATED', 'DELETED']),
    targetUrl: z.string().url().max(2000).optional(),
  }),
  meta: z.object({ key: z.string(), version: z.string() }).partial().optional(),
  extras: z.object({ locationId: z.string().min(1).max(100), workflowId: z.string().max(200).optional(), companyId: z.string().max(100).optional() }),
});

const KNOWN_KEYS = new Set<string>(Object.values(TRIGGER_KEYS));

/**
 * The router. `secret` is HIGHLEVEL_WORKFLOW_ACTION_SECRET; `apiUrl` HighLevel's API base URL, whose host is the only
 * one a `targetUrl` may point at (the sub-account's token goes with each trigger call).
 */
export function triggerSubscriptionRouter(deps: { db: Database; secret: string | undefined; apiUrl: string }): Router {
  const apiHost = new URL(deps.apiUrl).host;
  return Router().post(TRIGGER_SUBSCRIPTION_PATH, requireActionSecret(deps.secret), express.json({ limit: '100kb', type: () => true }), async (req, res) => {
    const parsed = triggerSubscriptionPayload.safeParse(req.body);
    if (!parsed.success) throw new AppError('invalid_trigger_subscription', `Not a HighLevel trigger subscription: ${parsed.error.issues.map((i) => i.path.join('.')).join(', ')}.`);
    const { triggerData, extras } = parsed.data;
    if (!KNOWN_KEYS.has(triggerData.key)) throw new AppError('invalid_trigger_subscription', `Meterbridge has no workflow trigger "${triggerData.key}".`);
    if (triggerData.eventType === 'DELETED') {
      await deps.db.delete(highLevelTriggerSubscriptions).where(eq(highLevelTriggerSubscriptions.id, triggerData.id));
      res.status(200).json({ status: 'unsubscribed', id: triggerData.id });
      return;
    }
    const target = triggerData.targetUrl ? new URL(triggerData.targetUrl) : null;
    if (!target || target.protocol !== 'https:' || target.host !== apiHost) {
      throw new AppError('invalid_trigger_subscription', `The targetUrl must be an https URL on ${apiHost}.`);
    }
    const [sub] = await deps.db.select({ companyId: subAccounts.companyId }).from(subAccounts).where(eq(subAccounts.locationId, extras.locationId));
    if (!sub || (extras.companyId && extras.companyId !== sub.companyId)) throw notFound(`Meterbridge knows no sub-account ${extras.locationId} of that agency.`);
    const row = {
      triggerKey: triggerData.key, companyId: sub.companyId, locationId: extras.locationId, workflowId: extras.workflowId ?? null,
      targetUrl: target.toString(), filters: triggerData.filters,
    };
    await deps.db
      .insert(highLevelTriggerSubscriptions)
      .values({ id: triggerData.id, ...row })
      .onConflictDoUpdate({ target: highLevelTriggerSubscriptions.id, set: { ...row, updatedAt: new Date() } });
    res.status(200).json({ status: 'subscribed', id: triggerData.id });
  });
}

