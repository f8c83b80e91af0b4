/**
 * Metrics an agency defines for the usage API (e.g. `vapi_minutes`), and the one answer to "may this metric be
 * used?": rules and prices accept a built-in metric or any custom metric the agency defined (archived ones too, so
 * their rules can still be switched off or repriced); the usage API accepts built-in and active custom metrics.
 */
import { z } from 'zod';
import type { Database, Executor } from '../../models/database';
import { AppError, badRequest, notFound } from '../http/errors';
import { findAgency } from '../tenancy/accounts-repository';
import {
  archiveCustomMetric,
  countActiveCustomMetrics,
  findCustomMetric,
  insertOrRestoreCustomMetric,
  listCustomMetrics,
  type CustomMetric,
} from './custom-metrics-repository';
import { builtInMetricDisplay } from '../metric-labels';
import { BUILT_IN_METRICS, METRIC_UNITS, type BuiltInMetric } from './metrics';

/** Lower snake case, starting with a letter, at most 63 characters: `vapi_minutes`, `gpt4o_tokens`. */
export const CUSTOM_METRIC_KEY = /^(?=.{1,63}$)[a-z][a-z0-9]*(_[a-z0-9]+)*$/;
/** Most active custom metrics one agency may have. */
export const MAX_CUSTOM_METRICS = 100;

const BUILT_IN = new Set<string>(BUILT_IN_METRICS);
const printable = (max: number) =>
  z
    .string()
    .trim()
    .min(1)
    .max(max)
    .refine((v) => !/\p{Cc}/u.test(v), 'must not contain control characters');

/** Input for defining a custom metric. */
export const customMetricInput = z.object({
  key: z.string().regex(CUSTOM_METRIC_KEY, 'must be lower snake case (a-z, 0-9, single underscores), starting with a letter, at most 63 characters'),
  /** Shown in the settings page and as the Stripe product name. */
  label: printable(100),
  /** What one unit of quantity counts, e.g. "minute", "token", "GB". */
  unit: printable(40),
});
/** A custom metric to define, after validation (trimmed label and unit). */
export type CustomMetricInput = z.infer<typeof customMetricInput>;

/** A metric as rules and the usage API see it. `label` is null for built-in metrics (their labels live in settings). */
export type KnownMetric =
  | { key: BuiltInMetric; builtIn: true; label: null; unit: string; archived: false }
  | { key: string; builtIn: false; label: string; unit: string; archived: boolean };

/**
 * A metric's name in words, wherever an owner reads it (Stripe product names, alerts): the built-in label
 * (server/metric-labels.ts), else the agency's label of its custom metric, else the key itself.
 */
export async function metricLabel(db: Executor, companyId: string, metric: string): Promise<string> {
  return builtInMetricDisplay(metric)?.label ?? (await findCustomMetric(db, companyId, metric))?.label ?? metric;
}

/** True for the metrics Meterbridge derives from HighLevel activity. */
export const isBuiltInMetric = (metric: string): metric is BuiltInMetric => BUILT_IN.has(metric);

/** A built-in metric, or one the agency defined (archived ones included); null when neither. */
export async function resolveMetric(db: Executor, companyId: string, metric: string): Promise<KnownMetric | null> {
  if (isBuiltInMetric(metric)) return { key: metric, builtIn: true, label: null, unit: METRIC_UNITS[metric], archived: false };
  const custom = await findCustomMetric(db, companyId, metric);
  return custom ? { key: custom.key, builtIn: false, label: custom.label, unit: custom.unit, archived: custom.archivedAt !== null } : null;
}

/**
 * The check rules and prices make before anything is changed (or created in Stripe).
 * @throws AppError 400 `unknown_metric` when the metric is neither built in nor defined by the agency.
 */
export async function requireKnownMetric(db: Executor, companyId: string, metric: string): Promise<KnownMetric> {
  const known = await resolveMetric(db, companyId, metric);
  if (!known) {
    throw badRequest(
      'unknown_metric',
      `"${metric}" is neither a built-in metric (${BUILT_IN_METRICS.join(', ')}) nor a custom metric of this agency; define it first with POST /api/custom-metrics.`,
    );
  }
  return known;
}

/** Builds the custom-metric use cases over a database. */
export function createCustomMetrics({ db }: { db: Database }) {
  return {
    /** The agency's custom metrics, active first. */
    list: (companyId: string): Promise<CustomMetric[]> => listCustomMetrics(db, companyId),

    /**
     * Defines a metric, or restores an archived one with this label and unit.
     * @throws AppError 404 when the agency has not installed Meterbridge; 409 `metric_exists` when the key is built
     *   in or already active; 409 `too_many_metrics` past MAX_CUSTOM_METRICS active metrics.
     */
    async define(companyId: string, input: CustomMetricInput): Promise<CustomMetric> {
      if (isBuiltInMetric(input.key)) throw new AppError(409, 'metric_exists', `"${input.key}" is a built-in metric; choose another key.`);
      if (!(await findAgency(db, companyId))) throw notFound('Meterbridge is not installed for this agency.');
      return db.transaction(async (tx) => {
        if ((await countActiveCustomMetrics(tx, companyId)) >= MAX_CUSTOM_METRICS) {
          throw new AppError(409, 'too_many_metrics', `An agency can have at most ${MAX_CUSTOM_METRICS} active custom metrics; archive one first.`);
        }
        const stored = await insertOrRestoreCustomMetric(tx, { companyId, ...input });
        if (!stored) throw new AppError(409, 'metric_exists', `The custom metric "${input.key}" already exists.`);
        return stored;
      });
    },

    /**
     * Archives a metric: the usage API refuses new usage for it; its rules, counters and owed units stay.
     * Archiving twice is harmless.
     * @throws AppError 404 when the agency has no such custom metric.
     */
    async archive(companyId: string, key: string): Promise<CustomMetric> {
      const archived = await archiveCustomMetric(db, companyId, key);
      if (!archived) throw notFound(`No custom metric "${key}".`);
      return archived;
    },
  };
}

/** The custom-metric use cases (see `createCustomMetrics`). */
export type CustomMetrics = ReturnType<typeof createCustomMetrics>;
