/**
 * The usage-API use case: a request's events, already read (usage-request.ts), are checked against the API key's
 * agency and the clock — every event, before anything is written — then stored in the inbox in one transaction
 * (server/pipeline/inbox.ts), source `usage_api`; the inbox processor counts them as it counts every webhook.
 *
 * Idempotency is per agency and `idempotencyKey` (delivery key `usage-api:<companyId>:<idempotencyKey>`, or
 * `workflow-action:<companyId>:<idempotencyKey>` for the workflow action, a namespace of its own): a key seen before
 * with the same event (same sub-account, metric, quantity and time) is a `duplicate` and changes nothing; seen with a
 * different event it is a `conflict` and changes nothing either (like Stripe's idempotency keys). A workflow action's
 * time is when HighLevel called, so a retry differs in time only: for it the time is not compared. A key repeated inside one request is recorded once, at its first occurrence, and every occurrence is judged
 * against what the key stands for: the event stored before, else that first occurrence.
 */
import type { Database } from '../../models/database';
import { AppError } from '../http/errors';
import { isBuiltInMetric } from '../metering/custom-metrics';
import { findActiveCustomMetrics } from '../metering/custom-metrics-repository';
import { METRIC_UNITS } from '../metering/metrics';
import { storeBatch, type BatchActivity } from '../pipeline/inbox';
import { findOwnSubAccounts } from './ingestion-repository';
import type { EventProblem, ParsedUsageRequest, UsageEvent } from './usage-request';

/** How far ahead of the server clock `occurredAt` may be (clock skew), seconds; Stripe allows the same. */
export const FUTURE_TOLERANCE_SECONDS = 300;
/** Usage before this is refused as a typo'd year. */
const EARLIEST = new Date('2000-01-01T00:00:00Z');
/** `activity_events.event_type` and `usage_records.source_type` of usage-API events. */
export const USAGE_API_EVENT_TYPE = 'UsageReported';

/** What happened to one event: stored (the processor offers it to the rules), or nothing (a repeat, or a reused key). */
export type EventOutcome = 'accepted' | 'duplicate' | 'conflict';

/** The answer: one outcome per event, in request order, and the counts. */
export interface UsageIngestionResult {
  results: Array<{ index: number; idempotencyKey: string; status: EventOutcome }>;
  totals: { received: number; accepted: number; duplicate: number; conflict: number };
}

/**
 * Who reports the usage: an agency API key (`POST /api/v1/usage`), or HighLevel running the agency's "Record billable
 * usage" workflow action (server/workflow-actions/), with the action's context from HighLevel's payload.
 */
export type UsageCaller = { companyId: string; apiKeyId: number } | { companyId: string; workflowAction: WorkflowActionContext };

/** What HighLevel tells about one workflow action run (its `extras` and `meta`; null when not sent). */
export interface WorkflowActionContext {
  actionKey: string | null;
  actionVersion: string | null;
  workflowId: string | null;
  contactId: string | null;
}

/** `activity_events.event_type` and `usage_records.source_type` of usage reported by the workflow action. */
export const WORKFLOW_ACTION_EVENT_TYPE = 'WorkflowActionExecuted';

/** Builds the use case. `now` is injectable for tests. */
export function createUsageIngestion(deps: {
  db: Database;
  now?: () => Date;
  /** Called after a request's commit stored new events, to nudge the inbox processor. */
  onStored?: () => void;
}) {
  const now = deps.now ?? (() => new Date());
  return {
    /**
     * Records a request's events, or none of them.
     * @throws AppError 422 `invalid_events` with `error.events: [{ index, field, code, message }]` when any event is
     *   malformed, names a metric the agency does not have (or archived), a sub-account that is not the agency's, or
     *   a time too far ahead or before 2000; nothing is stored then. Database errors propagate (answered 5xx;
     *   nothing is stored, and a retry is safe).
     */
    async ingest(caller: UsageCaller, request: ParsedUsageRequest): Promise<UsageIngestionResult> {
      const units = await checkAgainstAgency(deps.db, caller.companyId, request, now());
      const events = request.events as UsageEvent[]; // every one checked: no problems means none is null

      // A key repeated inside the request is recorded once, at its first occurrence.
      const firstIndex = new Map<string, number>();
      const firsts: number[] = [];
      events.forEach((event, index) => {
        if (firstIndex.has(event.idempotencyKey)) return;
        firstIndex.set(event.idempotencyKey, index);
        firsts.push(index);
      });
      const recorded = await storeBatch(
        deps.db,
        firsts.map((index) => toActivity(caller, events[index]!, units.get(events[index]!.metric)!)),
      );
      if (recorded.some((r) => r.status === 'recorded')) deps.onStored?.();
      // Each key is judged against what it stands for: the event stored before, else its first occurrence here.
      const status: EventOutcome[] = [];
      const standsFor = new Map<string, unknown>();
      firsts.forEach((index, i) => {
        const outcome = recorded[i]!;
        if (outcome.status === 'recorded') status[index] = 'accepted';
        standsFor.set(events[index]!.idempotencyKey, outcome.status === 'recorded' ? payloadOf(events[index]!) : outcome.storedPayload);
      });
      const results = events.map((event, index) => {
        status[index] ??= samePayload(standsFor.get(event.idempotencyKey), event, !('workflowAction' in caller)) ? 'duplicate' : 'conflict';
        return { index, idempotencyKey: event.idempotencyKey, status: status[index] };
      });
      const count = (status: EventOutcome) => results.filter((r) => r.status === status).length;
      return { results, totals: { received: events.length, accepted: count('accepted'), duplicate: count('duplicate'), conflict: count('conflict') } };
    },
  };
}

/** The usage-API use case (see `createUsageIngestion`). */
export type UsageIngestion = ReturnType<typeof createUsageIngestion>;

/**
 * Adds the checks that need the database and the clock to the request's own problems.
 * @returns the unit of every metric used.
 * @throws AppError 422 `invalid_events` listing every problem, by index.
 */
async function checkAgainstAgency(db: Database, companyId: string, request: ParsedUsageRequest, at: Date): Promise<Map<string, string>> {
  const valid = request.events.filter((e): e is UsageEvent => e !== null);
  const ownLocations = await findOwnSubAccounts(db, companyId, [...new Set(valid.map((e) => e.locationId))]);
  const customKeys = [...new Set(valid.map((e) => e.metric).filter((m) => !isBuiltInMetric(m)))];
  const units = new Map<string, string>((await findActiveCustomMetrics(db, companyId, customKeys)).map((m) => [m.key, m.unit]));
  for (const key of new Set(valid.map((e) => e.metric))) if (isBuiltInMetric(key)) units.set(key, METRIC_UNITS[key]);
  const latest = at.getTime() + FUTURE_TOLERANCE_SECONDS * 1000;

  const problems: EventProblem[] = [...request.problems];
  request.events.forEach((event, index) => {
    if (!event) return;
    if (!ownLocations.has(event.locationId)) {
      problems.push({ index, field: 'locationId', code: 'unknown_location', message: `locationId: ${event.locationId} is not a sub-account of this agency.` });
    }
    if (!units.has(event.metric)) {
      problems.push({ index, field: 'metric', code: 'unknown_metric', message: `metric: "${event.metric}" is neither built in nor an active custom metric of this agency.` });
    }
    if (event.occurredAt.getTime() > latest) {
      problems.push({ index, field: 'occurredAt', code: 'occurred_in_future', message: `occurredAt: more than ${FUTURE_TOLERANCE_SECONDS / 60} minutes in the future.` });
    } else if (event.occurredAt < EARLIEST) {
      problems.push({ index, field: 'occurredAt', code: 'occurred_too_early', message: 'occurredAt: before 2000-01-01.' });
    }
  });
  if (problems.length > 0) {
    problems.sort((a, b) => a.index - b.index);
    const invalid = new Set(problems.map((p) => p.index)).size;
    throw new AppError(422, 'invalid_events', `${invalid} of ${request.events.length} events are invalid; nothing was stored. See error.events.`, {
      events: problems.slice(0, MAX_LISTED_PROBLEMS),
    });
  }
  return units;
}

/** Problems listed in one answer (the message counts them all). */
const MAX_LISTED_PROBLEMS = 1_000;

function payloadOf(event: UsageEvent) {
  return { locationId: event.locationId, metric: event.metric, quantity: event.quantity, occurredAt: event.occurredAt.toISOString(), idempotencyKey: event.idempotencyKey };
}

/** Same event: same sub-account, metric, quantity (canonical) and, when `sameTime`, instant. */
function samePayload(stored: unknown, event: UsageEvent, sameTime: boolean): boolean {
  const s = (stored ?? {}) as Record<string, unknown>;
  const e = payloadOf(event);
  return s.locationId === e.locationId && s.metric === e.metric && s.quantity === e.quantity && (!sameTime || s.occurredAt === e.occurredAt);
}

function toActivity(caller: UsageCaller, event: UsageEvent, unit: string): BatchActivity {
  const fromAction = 'workflowAction' in caller;
  const eventType = fromAction ? WORKFLOW_ACTION_EVENT_TYPE : USAGE_API_EVENT_TYPE;
  return {
    webhookId: `${fromAction ? 'workflow-action' : 'usage-api'}:${caller.companyId}:${event.idempotencyKey}`,
    eventType,
    source: fromAction ? 'workflow_action' : 'usage_api',
    companyId: caller.companyId,
    locationId: event.locationId,
    payload: { ...payloadOf(event), ...(fromAction ? { workflowAction: caller.workflowAction } : { apiKeyId: caller.apiKeyId }) },
    occurredAt: event.occurredAt,
    usage: [
      {
        locationId: event.locationId,
        metric: event.metric,
        quantity: event.quantity,
        unit,
        direction: null,
        occurredAt: event.occurredAt,
        sourceType: eventType,
        sourceId: null,
        attributes: {},
      },
    ],
  };
}
