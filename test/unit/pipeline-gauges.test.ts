/**
 * The /metrics database gauges (server/observability/pipeline-gauges.ts) over a fake reader and clock: one read per
 * cache period however many scrapes, and no stale values when the database does not answer.
 */
import pino from 'pino';
import { Registry } from 'prom-client';
import { registerPipelineGauges } from '../../server/observability/pipeline-gauges';
import type { PipelineSnapshot } from '../../server/observability/pipeline-snapshot';

const snapshot = (received: number): PipelineSnapshot => ({
  inbox: { received, failed: 0, oldestAgeSeconds: received > 0 ? 12 : null },
  meterBatches: { queued: 0, sending: 1, failed: 0, rejected: 0, unconfirmed: 2 },
  pendingReports: 3,
  pendingReportsOldestAgeSeconds: 4,
  retentionOldestAgeSeconds: null,
  reconciliation: { completed: 1, failed: 0, missingUnits: 5, excessUnits: 0, correctedUnits: 5, leftForPersonUnits: 0, pairsWithDrift: 1, oldestAgeSeconds: 60 },
});

function setUp(read: () => Promise<PipelineSnapshot>) {
  const registry = new Registry();
  let clock = 1_000_000;
  registerPipelineGauges(registry, read, { logger: pino({ level: 'silent' }), cacheMs: 5_000, now: () => clock });
  return { registry, advance: (ms: number) => (clock += ms) };
}

const line = (text: string, name: string) => text.split('\n').find((l) => l.startsWith(name));

describe('pipeline gauges', () => {
  it('when scraped twice within the cache period, then the database is read once; after it, once more', async () => {
    let reads = 0;
    const { registry, advance } = setUp(async () => snapshot(++reads));
    expect(line(await registry.metrics(), 'meterbridge_inbox_events{status="received"}')).toBe('meterbridge_inbox_events{status="received"} 1');
    advance(4_000);
    expect(line(await registry.metrics(), 'meterbridge_inbox_events{status="received"}')).toBe('meterbridge_inbox_events{status="received"} 1');
    expect(reads).toBe(1);
    advance(1_500);
    expect(line(await registry.metrics(), 'meterbridge_inbox_events{status="received"}')).toBe('meterbridge_inbox_events{status="received"} 2');
    expect(reads).toBe(2);
  });

  it('when scrapes arrive together, then they share one read', async () => {
    let reads = 0;
    const { registry } = setUp(async () => {
      reads += 1;
      await new Promise((resolve) => setTimeout(resolve, 20));
      return snapshot(1);
    });
    await Promise.all([registry.metrics(), registry.metrics(), registry.metrics()]);
    expect(reads).toBe(1);
  });

  it('when the database does not answer, then database_up is 0 and no labelled gauge shows a stale value', async () => {
    let fail = false;
    const { registry, advance } = setUp(async () => {
      if (fail) throw new Error('connection refused');
      return snapshot(7);
    });
    expect(line(await registry.metrics(), 'meterbridge_meter_batches{state="unconfirmed"}')).toBe('meterbridge_meter_batches{state="unconfirmed"} 2');
    fail = true;
    advance(10_000);
    const text = await registry.metrics();
    expect(line(text, 'meterbridge_metrics_database_up')).toBe('meterbridge_metrics_database_up 0');
    expect(line(text, 'meterbridge_meter_batches{')).toBeUndefined();
    expect(line(text, 'meterbridge_inbox_events{')).toBeUndefined();
    expect(line(text, 'meterbridge_inbox_oldest_age_seconds')).toBe('meterbridge_inbox_oldest_age_seconds 0');
  });
});
