/**
 * Request and response schemas of the reconciliation routes (server/reconciliation/routes.ts). Zod only: the page
 * takes its types from here (ui/src/api-types-reconciliation.ts). Units are whole meter units; times ISO 8601 UTC.
 */
import { z } from 'zod';

const isoTime = z.string().describe('ISO 8601, UTC');
const units = z.number().int().describe('whole meter units');
const metricKey = z.string().describe('the metric the meter counts (its key), or the meter event name when no rule or report names it');

/** A run's summary (server/reconciliation/runs-repository.ts `RunSummary`). */
export const reconciliationRun = z.object({
  id: z.number().int(),
  locationId: z.string().nullable().describe('the sub-account the run was limited to; null for the whole agency'),
  trigger: z.enum(['scheduled', 'on_demand', 'follow_up']),
  status: z.enum(['running', 'completed', 'failed']),
  settledBefore: isoTime.describe('windows were compared up to this instant (run time less the settle time)'),
  windowsFrom: isoTime,
  pairsChecked: z.number().int(),
  pairsWithDrift: z.number().int(),
  pairsFailed: z.number().int(),
  windowsChecked: z.number().int(),
  windowsSkipped: z.number().int(),
  missingUnits: units,
  excessUnits: units,
  correctedUnits: units,
  leftForPersonUnits: units,
  unconfirmedSettled: z.number().int(),
  error: z.string().nullable(),
  startedAt: isoTime,
  finishedAt: isoTime.nullable(),
  drift: z
    .array(z.object({ metric: metricKey, missingUnits: units, excessUnits: units, correctedUnits: units, leftForPersonUnits: units }))
    .describe('per metric with any drift, its units over the pairs of that metric (of the sub-account, on its routes); the four totals above add every metric'),
});

/** What a run did in one window: confirm, resend, correct, cancel, flag or deferred. */
export const windowAction = z.object({
  kind: z.enum(['confirm', 'resend', 'correct', 'cancel', 'flag', 'deferred']),
  units: z.number(),
  batchId: z.number().int().optional(),
  identifier: z.string().optional(),
  message: z.string().optional(),
});

/** A run with what it found per (customer, meter) pair. */
export const reconciliationRunDetail = reconciliationRun.extend({
  pairs: z.array(
    z.object({
      locationId: z.string().nullable(),
      subAccountName: z.string().nullable().describe('the HighLevel name of the sub-account billed to the customer (null: unknown)'),
      stripeCustomerId: z.string(),
      meterEventName: z.string(),
      metric: metricKey,
      stripeMeterId: z.string().nullable(),
      status: z.enum(['ok', 'corrected', 'flagged', 'error']),
      windowsChecked: z.number().int(),
      windowsSkipped: z.number().int(),
      ourUnits: units,
      stripeUnits: z.number(),
      missingUnits: units,
      excessUnits: units,
      correctedUnits: units,
      leftForPersonUnits: z.number(),
      message: z.string().nullable(),
      windows: z.array(
        z.object({
          start: z.number().int().describe('Unix seconds'),
          end: z.number().int().describe('Unix seconds, exclusive'),
          ours: z.number().nullable(),
          stripe: z.number().nullable(),
          skipped: z.string().optional(),
          actions: z.array(windowAction),
        }),
      ),
    }),
  ),
});

/** The drift that stays (overview alert). */
export const driftAlertSchema = z.object({ pairs: z.number().int(), units: z.number(), lastRunAt: isoTime.nullable() });

/** `GET …/reconciliation/runs`: the runs, newest first, and the drift that stays. */
export const runsResponse = z.object({ items: z.array(reconciliationRun), alert: driftAlertSchema });
/** `:runId`, checked to be a positive integer in the route. */
export const runIdParam = z.object({ runId: z.string().min(1).max(20) });

