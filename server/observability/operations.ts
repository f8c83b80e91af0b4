/**
 * The operator's side of the service, wired in one place for the composition root (server/main.ts): the metrics
 * registry with the process' default metrics, the pipeline's measurements and database gauges, the `GET /metrics`
 * route, and the retention use case its scheduled job runs.
 */
import type { Router } from 'express';
import type { Logger } from 'pino';
import { collectDefaultMetrics, Counter, Registry } from 'prom-client';
import type { DatabaseHandle } from '../../models/database';
import type { Config } from '../config';
import { createRetention, type Retention } from '../retention/retention';
import { metricsRouter } from './metrics-route';
import { registerPipelineGauges } from './pipeline-gauges';
import { createPipelineMetrics, type PipelineMetrics } from './pipeline-metrics';
import { readPipelineSnapshot } from './pipeline-snapshot';

/**
 * What the composition root hands on: `pipelineMetrics` to the pipeline's workers (processor, reporter), `retention`
 * to the scheduled jobs, `router` to the HTTP app; `registry` holds every metric of this service (one per service, so
 * tests can build several in one process).
 */
export interface Operations {
  registry: Registry;
  pipelineMetrics: PipelineMetrics;
  retention: Retention;
  router: Router;
}

/** Builds the registry, the measurements, the gauges (read at scrape time), the route and retention. */
export function createOperations(deps: { config: Pick<Config, 'retentionDays' | 'metricsToken'>; database: Pick<DatabaseHandle, 'db'>; logger: Logger }): Operations {
  const { config, database, logger } = deps;
  const registry = new Registry();
  // CPU, memory, heap, event-loop lag, GC, handles: prom-client's defaults (process_*, nodejs_*).
  collectDefaultMetrics({ register: registry });
  const pipelineMetrics = createPipelineMetrics(registry);
  registerPipelineGauges(registry, () => readPipelineSnapshot(database.db), { logger });
  const redacted = new Counter({
    name: 'meterbridge_retention_redacted_events_total',
    help: 'Events whose private text the retention job redacted (or found none in) and marked done.',
    registers: [registry],
  });
  const retention = createRetention({ db: database.db, logger, options: { retentionDays: config.retentionDays }, onRedacted: (events) => redacted.inc(events) });
  return { registry, pipelineMetrics, retention, router: metricsRouter(registry, config.metricsToken) };
}
