/**
 * The /metrics gauges read from the database at scrape time (./pipeline-snapshot.ts): one query per scrape at most,
 * and none while the last answer is younger than `cacheMs` (several Prometheus servers, or a burst of scrapes, cost
 * one query). When the query fails, these gauges show no stale values — those with labels are left out of the scrape,
 * the others read 0 — and `meterbridge_metrics_database_up` is 0; the process metrics are still served.
 */
import type { Logger } from 'pino';
import { Gauge, type Registry } from 'prom-client';
import { OPEN_BATCH_STATES, type PipelineSnapshot } from './pipeline-snapshot';

/** Reads the snapshot; throws the database's error. */
export type SnapshotReader = () => Promise<PipelineSnapshot>;

/** Default freshness of a snapshot, milliseconds. */
export const SNAPSHOT_CACHE_MS = 5_000;

/**
 * Registers the gauges on `registry`.
 * @param read reads a fresh snapshot (called at most once per `cacheMs`, shared by concurrent scrapes).
 * @param options.now the clock in milliseconds (tests); `logger` receives a failed read (once per failure, at warn).
 */
export function registerPipelineGauges(registry: Registry, read: SnapshotReader, options: { logger: Logger; cacheMs?: number; now?: () => number }): void {
  const cacheMs = options.cacheMs ?? SNAPSHOT_CACHE_MS;
  const now = options.now ?? (() => Date.now());
  let cached: { at: number; value: Promise<PipelineSnapshot | null> } | undefined;

  /** The snapshot, or null when the database did not answer. */
  const snapshot = (): Promise<PipelineSnapshot | null> => {
    if (cached && now() - cached.at < cacheMs) return cached.value;
    const value = read().catch((err: Error) => {
      options.logger.warn({ reason: err.message }, 'metrics: the database gauges could not be read');
      return null;
    });
    cached = { at: now(), value };
    return value;
  };

  const registers = [registry];
  /** A gauge whose values come from the snapshot; `set` fills it, and nothing is exported when the read failed. */
  const gauge = <L extends string>(name: string, help: string, labelNames: readonly L[], set: (g: Gauge<L>, s: PipelineSnapshot) => void) =>
    new Gauge<L>({
      name,
      help,
      labelNames,
      registers,
      async collect() {
        this.reset();
        const s = await snapshot();
        if (s) set(this, s);
      },
    });
  const setAge = (g: Gauge<never>, age: number | null) => g.set(Math.max(0, age ?? 0));

  new Gauge({
    name: 'meterbridge_metrics_database_up',
    help: '1 when the database answered the gauges query of this scrape, else 0.',
    registers,
    async collect() {
      this.set((await snapshot()) ? 1 : 0);
    },
  });
  gauge('meterbridge_inbox_events', 'Events in the inbox: received (not yet processed) or failed (to be retried).', ['status'], (g, s) => {
    g.set({ status: 'received' }, s.inbox.received);
    g.set({ status: 'failed' }, s.inbox.failed);
  });
  gauge('meterbridge_inbox_oldest_age_seconds', 'Age of the oldest event in the inbox (0 when empty).', [], (g, s) => setAge(g, s.inbox.oldestAgeSeconds));
  gauge('meterbridge_meter_batches', 'Meter batches by open state: queued, sending, failed, rejected (not yet resent), unconfirmed.', ['state'], (g, s) => {
    for (const state of OPEN_BATCH_STATES) g.set({ state }, s.meterBatches[state]);
  });
  gauge('meterbridge_meter_reports_pending', 'Meter reports not yet in a batch.', [], (g, s) => g.set(s.pendingReports));
  gauge('meterbridge_meter_reports_oldest_pending_age_seconds', 'Age of the oldest pending meter report (0 when none).', [], (g, s) =>
    setAge(g, s.pendingReportsOldestAgeSeconds),
  );
  gauge('meterbridge_retention_oldest_unredacted_age_seconds', 'Age of the oldest finished event whose private text is not yet redacted (0 when none).', [], (g, s) =>
    setAge(g, s.retentionOldestAgeSeconds),
  );
  gauge('meterbridge_reconciliation_latest_runs', "Agencies by their latest finished reconciliation run's status.", ['status'], (g, s) => {
    g.set({ status: 'completed' }, s.reconciliation.completed);
    g.set({ status: 'failed' }, s.reconciliation.failed);
  });
  gauge('meterbridge_reconciliation_drift_units', "Units found in each agency's latest reconciliation run, summed: missing in Stripe, in excess, corrected, left for a person.", ['kind'], (g, s) => {
    const r = s.reconciliation;
    g.set({ kind: 'missing' }, r.missingUnits);
    g.set({ kind: 'excess' }, r.excessUnits);
    g.set({ kind: 'corrected' }, r.correctedUnits);
    g.set({ kind: 'left_for_person' }, r.leftForPersonUnits);
  });
  gauge('meterbridge_reconciliation_pairs_with_drift', "(Customer, meter) pairs with drift in each agency's latest reconciliation run, summed.", [], (g, s) =>
    g.set(s.reconciliation.pairsWithDrift),
  );
  gauge('meterbridge_reconciliation_oldest_latest_run_age_seconds', 'Age of the oldest of the agencies\u2019 latest finished runs (0 when none): how stale the least recently reconciled agency is.', [], (g, s) =>
    setAge(g, s.reconciliation.oldestAgeSeconds),
  );
}
