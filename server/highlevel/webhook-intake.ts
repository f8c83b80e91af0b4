/**
 * The webhook intake: a signed HighLevel delivery is verified on its raw bytes, checked against its event's schema
 * (so a malformed delivery is refused with a 400 at once, and nothing is stored), stored in the inbox as received
 * (through group commit: server/pipeline/group-commit.ts) and acknowledged. The inbox processor
 * (server/pipeline/inbox-processor.ts) derives its usage and crossings afterwards. Replays of a webhookId change
 * nothing. Install-lifecycle events are the exception: their effects commit with the event, before the answer.
 */
import { createHash } from 'node:crypto';
import type { Database } from '../../models/database';
import { badRequest, unauthorized } from '../http/errors';
import { createGroupCommit, type GroupCommit } from '../pipeline/group-commit';
import { recordLifecycleEvent } from '../pipeline/inbox';
import { eventSchemas, installKind, isHandledEventType, LIFECYCLE_EVENT_TYPES, type ActivityEvent } from './webhook-events';
import { applyLifecycleEvent } from './install-lifecycle';
import { findUnstorableJson } from './storable-json';
import type { SignatureHeaders, WebhookVerifier } from './webhook-signature';

/** What the intake did with a delivery; every outcome is acknowledged with 200. */
export interface IntakeResult {
  /** `accepted`: stored now (its usage is derived by the inbox processor); `duplicate`: its webhookId was stored before. */
  status: 'accepted' | 'duplicate' | 'ignored';
  webhookId: string;
  eventType: string;
}

export interface IntakeDependencies {
  db: Database;
  /** Writes deliveries; default a group commit on `db` with its default tuning. */
  groupCommit?: GroupCommit;
  verifier: WebhookVerifier;
  /**
   * Called after a first INSTALL of one sub-account has committed, to mint its Location token from the agency's
   * Company grant when there is one (as HighLevel's SDK does on INSTALL: @gohighlevel/api-client
   * lib/webhook/webhook-manager.ts `generateLocationAccessToken`). Its failure is logged by the callee, never fails
   * the delivery: the token is minted again on first use.
   */
  onLocationInstalled?: (companyId: string, locationId: string) => Promise<void>;
  now?: () => Date;
  /** Called after a delivery with usage to derive was stored, to nudge the inbox processor. */
  onStored?: () => void;
}

/**
 * Builds the intake. Deliveries are written through group commit, except install-lifecycle events, whose effects
 * need their own transaction.
 * The returned function throws `AppError` 401 (no valid signature), 400 (not JSON, not an object with a `type`,
 * or a handled type that fails its schema); database errors propagate (the route answers 5xx, HighLevel retries).
 */
export function createWebhookIntake(deps: IntakeDependencies) {
  const now = deps.now ?? (() => new Date());
  const groupCommit = deps.groupCommit ?? createGroupCommit(deps.db);

  return async function receiveDelivery(rawBody: Buffer, headers: SignatureHeaders): Promise<IntakeResult> {
    const parsed = parseJson(rawBody);
    const signatureScheme = deps.verifier.verify(rawBody, parsed.ok ? parsed.value : undefined, headers);
    if (!signatureScheme) {
      const missing = !headers.ghlSignature && !headers.legacySignature;
      throw unauthorized(
        'invalid_signature',
        missing ? 'Missing x-ghl-signature header.' : 'The webhook signature does not match the body.',
      );
    }
    if (!parsed.ok) throw badRequest('invalid_json', 'The request body is not valid JSON.');
    const body = parsed.value;
    if (!isPlainObject(body) || typeof body.type !== 'string' || body.type.length === 0) {
      throw badRequest('invalid_event', 'The webhook body must be a JSON object with a "type".');
    }
    const unstorable = findUnstorableJson(body);
    if (unstorable) throw badRequest('invalid_text', `The webhook body cannot be stored: ${unstorable}.`);
    const webhookId = deliveryKey(body, rawBody);
    const receivedAt = now();

    if (!isHandledEventType(body.type)) {
      const stored = await groupCommit.record({
        webhookId,
        eventType: body.type.slice(0, 200),
        status: 'ignored',
        companyId: stringOrNull(body.companyId),
        locationId: stringOrNull(body.locationId),
        signatureScheme,
        payload: body,
        occurredAt: null,
      });
      return { status: stored.duplicate ? 'duplicate' : 'ignored', webhookId, eventType: body.type };
    }

    const result = eventSchemas[body.type].safeParse(body);
    if (!result.success) {
      const detail = result.error.issues
        .slice(0, 5)
        .map((issue) => `${issue.path.join('.') || '(body)'}: ${issue.message}`)
        .join('; ');
      throw badRequest('invalid_event', `The ${body.type} event does not match its schema: ${detail}`);
    }
    const event = result.data as ActivityEvent;
    const lifecycle = LIFECYCLE_EVENT_TYPES.has(event.type);
    const row = {
      webhookId,
      eventType: event.type,
      status: lifecycle ? ('processed' as const) : ('received' as const),
      companyId: stringOrNull((event as { companyId?: unknown }).companyId),
      locationId: eventLocationId(event),
      signatureScheme,
      payload: body,
      occurredAt: eventTime(event),
    };
    const stored = lifecycle
      ? await recordLifecycleEvent(deps.db, row, (tx) => applyLifecycleEvent(tx, event, receivedAt))
      : await groupCommit.record(row);
    if (!stored.duplicate && !lifecycle) deps.onStored?.();
    if (!stored.duplicate && event.type === 'INSTALL' && installKind(event) === 'Location' && event.locationId) {
      await deps.onLocationInstalled?.(event.companyId, event.locationId);
    }
    return { status: stored.duplicate ? 'duplicate' : 'accepted', webhookId, eventType: event.type };
  };
}

type JsonParse = { ok: true; value: unknown } | { ok: false };

function parseJson(raw: Buffer): JsonParse {
  try {
    return { ok: true, value: JSON.parse(raw.toString('utf8')) };
  } catch {
    return { ok: false };
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** HighLevel's webhookId, or — for a delivery without one — a hash of the signed bytes, so a replay still matches. */
function deliveryKey(body: Record<string, unknown>, rawBody: Buffer): string {
  const id = body.webhookId;
  if (typeof id === 'string' && id.trim().length > 0 && id.length <= 200) return id.trim();
  return `sha256:${createHash('sha256').update(rawBody).digest('hex')}`;
}

function stringOrNull(value: unknown): string | null {
  return typeof value === 'string' && value.length > 0 && value.length <= 200 ? value : null;
}

function eventLocationId(event: ActivityEvent): string | null {
  if (event.type === 'LocationCreate' || event.type === 'LocationUpdate') return event.id;
  return stringOrNull((event as { locationId?: unknown }).locationId);
}

function eventTime(event: ActivityEvent): Date | null {
  // Only a time that parses: a schema that does not list `dateAdded` (INSTALL, UNINSTALL, …) passes it through
  // unchecked, and a hostile value there must not turn a valid delivery into a 500 (found by the hostile-input test).
  for (const value of [(event as { timestamp?: unknown }).timestamp, (event as { dateAdded?: unknown }).dateAdded]) {
    if (typeof value !== 'string') continue;
    const at = new Date(value);
    if (!Number.isNaN(at.getTime())) return at;
  }
  return null;
}
