/**
 * The "Record billable usage" workflow action: HighLevel calls it when a workflow runs the action, and the usage it
 * names is recorded for the sub-account through the usage API's own use case (ingest-usage.ts): the same metric
 * checks, idempotency, ledger writer, rules and meter reports.
 *
 * What HighLevel documents (Marketplace Workflow Actions: marketplace.gohighlevel.com/docs/marketplace-modules/
 * CustomActions and /WorkflowActionsAndTriggers, "Action Execution"; scope `workflows.readonly`):
 * - HighLevel sends `POST <the action's URL>` with a JSON body
 *   `{ data: { <field reference>: value, … }, extras: { locationId, contactId, workflowId }, meta: { key, version } }`:
 *   `data` holds the action's configured fields under their reference keys (numbers may arrive as strings, as in
 *   HighLevel's own sample `"age": "29"`), `extras` the run's context, `meta` the action key and version.
 * - Authentication: HighLevel signs nothing here (the `x-ghl-signature` of webhooks is documented for webhook events
 *   only); the action's "Headers" are "required header data that has to be included while sending data to the API
 *   endpoint", set by the app's developer. Meterbridge's action is configured with `Authorization: Bearer
 *   <HIGHLEVEL_WORKFLOW_ACTION_SECRET>`; any other call is refused with 401 (workflow-action-routes.ts).
 * - The documented payload carries no execution id. The action therefore has an optional `idempotencyKey` field the
 *   agency maps to a value unique to what it bills (e.g. `{{appointment.id}}`); a run with a key seen before bills
 *   nothing. Without a key every call is a new usage.
 */
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { Database } from '../../models/database';
import { AppError, badRequest } from '../http/errors';
import { findSubAccount } from '../tenancy/accounts-repository';
import type { UsageIngestion } from '../usage-api/ingest-usage';
import { parseUsageRequest } from '../usage-api/usage-request';

/** A field value as HighLevel sends it: text or a number; empty text means "not set". */
const fieldValue = z.union([z.string().max(1_000), z.number()]).nullish();
const idText = z.string().max(200).nullish();

/** HighLevel's documented action payload; unknown fields are kept out of the checks, not refused. */
export const workflowActionPayloadSchema = z.looseObject({
  data: z.looseObject({
    metric: z.string({ error: 'data.metric: the action needs a metric (a built-in or one of the agency’s custom metrics)' }).max(63),
    quantity: fieldValue,
    idempotencyKey: fieldValue,
  }),
  extras: z.looseObject({ locationId: z.string({ error: 'extras.locationId: HighLevel names the sub-account here' }).min(1).max(200), contactId: idText, workflowId: idText }),
  meta: z.looseObject({ key: idText, version: z.union([z.string().max(50), z.number()]).nullish() }).nullish(),
});

/** What a call did: recorded now, or already recorded under its idempotency key (nothing more billed). */
export interface WorkflowActionResult {
  status: 'accepted' | 'duplicate';
  locationId: string;
  metric: string;
  quantity: string;
  idempotencyKey: string | null;
}

/** Builds the use case over the usage API's ingestion. `now` is injectable for tests. */
export function createRecordUsageAction(deps: { db: Database; ingestion: UsageIngestion; now?: () => Date }) {
  const now = deps.now ?? (() => new Date());
  return {
    /**
     * Records one run of the action (the caller is already authenticated).
     * @throws AppError 400 `invalid_request` (not HighLevel's action payload), 400 `invalid_field` (metric, quantity or
     *   idempotency key malformed), 422 `unknown_location` (no sub-account with that id), 422 `invalid_events`
     *   (unknown or archived metric), 409 `idempotency_conflict` (the key was used for a different usage). Nothing
     *   is stored then.
     */
    async record(body: unknown): Promise<WorkflowActionResult> {
      const parsed = workflowActionPayloadSchema.safeParse(body);
      if (!parsed.success) throw badRequest('invalid_request', parsed.error.issues.slice(0, 5).map((i) => i.message).join('; '));
      const { data, extras, meta } = parsed.data;
      const given = textOf(data.idempotencyKey);
      const event = {
        locationId: extras.locationId,
        metric: data.metric.trim(),
        quantity: textOf(data.quantity) ?? '1',
        occurredAt: now().toISOString(),
        idempotencyKey: given ?? `unkeyed-${randomUUID()}`,
      };
      const request = parseUsageRequest(event);
      if (request.problems.length > 0) throw badRequest('invalid_field', request.problems.map((p) => p.message.replace(/^quantity|^metric|^idempotencyKey/, (f) => `data.${f}`)).join('; '));

      const sub = await findSubAccount(deps.db, extras.locationId);
      if (!sub) throw new AppError(422, 'unknown_location', `extras.locationId: ${extras.locationId} is not a sub-account Meterbridge knows (is the app installed there?).`);
      const workflowAction = { actionKey: meta?.key ?? null, actionVersion: meta?.version == null ? null : String(meta.version), workflowId: extras.workflowId ?? null, contactId: extras.contactId ?? null };
      const outcome = await deps.ingestion.ingest({ companyId: sub.companyId, workflowAction }, request);
      const status = outcome.results[0]!.status;
      if (status === 'conflict') {
        throw new AppError(409, 'idempotency_conflict', `idempotencyKey "${given}" was already used for a different usage of this agency; nothing was recorded.`);
      }
      return { status, locationId: extras.locationId, metric: event.metric, quantity: request.events[0]!.quantity, idempotencyKey: given };
    },
  };
}

/** The workflow-action use case (see `createRecordUsageAction`). */
export type RecordUsageAction = ReturnType<typeof createRecordUsageAction>;

/** A field's text, trimmed; null when HighLevel sent nothing or an empty value. */
function textOf(value: string | number | null | undefined): string | null {
  if (value === null || value === undefined) return null;
  const text = String(value).trim();
  return text === '' ? null : text;
}
