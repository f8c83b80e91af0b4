/**
 * GET /metrics through the real app, scraped and parsed as Prometheus would: the token, the process' default
 * metrics, the inbox backlog and age, meter batches by state, Stripe call outcomes from real reporter ticks against
 * the Stripe double, reconciliation drift, the retention backlog, and the measurements the pipeline reports.
 */
import { sql } from 'drizzle-orm';
import { setUpBilling } from '../support/billing';
import { fixture } from '../support/highlevel-fixtures';
import { startStripeStub, type StripeStub } from '../support/stripe-stub';
import { startTestService, type TestService } from '../support/test-service';

const TOKEN = 'metrics-token-0123456789abcdef';
let t: TestService;
let stripe: StripeStub;
/**
 * The gauges read the database at most once per 5 s (pipeline-gauges.ts); each scrape here moves the clock the cache
 * reads 10 s on, so every scrape sees the database as the test just left it.
 */
let clockOffset = 0;
const realNow = Date.now.bind(Date);

beforeAll(async () => {
  jest.spyOn(Date, 'now').mockImplementation(() => realNow() + clockOffset);
  stripe = await startStripeStub();
  t = await startTestService({ STRIPE_API_URL: stripe.url, REPORTER_RETRY_BASE_SECONDS: '0', METRICS_TOKEN: TOKEN });
});
afterAll(async () => {
  jest.restoreAllMocks();
  await t.close();
  await stripe.close();
});

/** One sample of the text format: `name{a="b",…} value`. */
interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Parses Prometheus' text exposition format (comments skipped; label values without escaped quotes). */
function parse(text: string): { samples: Sample[]; types: Map<string, string> } {
  const samples: Sample[] = [];
  const types = new Map<string, string>();
  for (const line of text.split('\n')) {
    const type = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (type) types.set(type[1]!, type[2]!);
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) throw new Error(`not a sample line: ${line}`);
    const labels = Object.fromEntries([...(m[2] ?? '').matchAll(/([a-zA-Z_]\w*)="([^"]*)"/g)].map((l) => [l[1]!, l[2]!]));
    samples.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return { samples, types };
}

async function scrape() {
  clockOffset += 10_000;
  const res = await t.http.get('/metrics').set('authorization', `Bearer ${TOKEN}`).expect(200);
  expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
  const parsed = parse(res.text);
  const value = (name: string, labels: Record<string, string> = {}) =>
    parsed.samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
  return { ...parsed, value };
}

describe('GET /metrics', () => {
  it('when no token, or the wrong one, is presented, then 401 and no metrics', async () => {
    const none = await t.http.get('/metrics').expect(401);
    expect(none.body).toMatchObject({ error: { code: 'unauthenticated' } });
    await t.http.get('/metrics').set('authorization', 'Bearer not-the-token-at-all').expect(401);
  });

  it('when scraped, then the process metrics are there and every pipeline metric has its type', async () => {
    const { types, value } = await scrape();
    expect(value('process_cpu_user_seconds_total')).toBeGreaterThan(0);
    expect(value('nodejs_heap_size_used_bytes')).toBeGreaterThan(0);
    expect(value('meterbridge_metrics_database_up')).toBe(1);
    expect(Object.fromEntries([...types].filter(([name]) => name.startsWith('meterbridge_')))).toEqual({
      meterbridge_pipeline_events_processed_total: 'counter',
      meterbridge_pipeline_events_failed_total: 'counter',
      meterbridge_pipeline_ack_to_counted_seconds: 'histogram',
      meterbridge_pipeline_ack_to_meter_event_seconds: 'histogram',
      meterbridge_stripe_meter_event_calls_total: 'counter',
      meterbridge_stripe_meter_event_call_seconds: 'histogram',
      meterbridge_metrics_database_up: 'gauge',
      meterbridge_inbox_events: 'gauge',
      meterbridge_inbox_oldest_age_seconds: 'gauge',
      meterbridge_meter_batches: 'gauge',
      meterbridge_meter_reports_pending: 'gauge',
      meterbridge_meter_reports_oldest_pending_age_seconds: 'gauge',
      meterbridge_retention_oldest_unredacted_age_seconds: 'gauge',
      meterbridge_reconciliation_latest_runs: 'gauge',
      meterbridge_reconciliation_drift_units: 'gauge',
      meterbridge_reconciliation_pairs_with_drift: 'gauge',
      meterbridge_reconciliation_oldest_latest_run_age_seconds: 'gauge',
      meterbridge_retention_redacted_events_total: 'counter',
    });
  });

  it('when the database holds inbox events, open batches and reconciliation runs, then the gauges show them', async () => {
    const db = t.database.db;
    await db.execute(sql`insert into activity_events (webhook_id, event_type, status, source, payload, received_at) values
      ('metrics-inbox-1', 'InboundMessage', 'received', 'webhook', '{}'::jsonb, now() - interval '120 seconds'),
      ('metrics-inbox-2', 'InboundMessage', 'received', 'webhook', '{}'::jsonb, now()),
      ('metrics-inbox-3', 'InboundMessage', 'failed', 'webhook', '{}'::jsonb, now() - interval '10 seconds'),
      ('metrics-old-1', 'OutboundMessage', 'processed', 'webhook', '{"body":"hi"}'::jsonb, now() - interval '3 days')`);
    await db.execute(sql`insert into meter_batches (company_id, stripe_customer_id, meter_event_name, identifier, value, timestamp, status) values
      ('companyMetrics1', 'cus_m1', 'meterbridge_sms', 'metrics-b1', 3, 1, 'unconfirmed'),
      ('companyMetrics1', 'cus_m1', 'meterbridge_sms', 'metrics-b2', 2, 1, 'failed'),
      ('companyMetrics1', 'cus_m2', 'meterbridge_sms', 'metrics-b3', 1, 1, 'sent')`);
    await db.execute(sql`insert into meter_batches (company_id, stripe_customer_id, meter_event_name, identifier, value, timestamp, status, resent_at) values
      ('companyMetrics1', 'cus_m3', 'meterbridge_sms', 'metrics-b4', 1, 1, 'rejected', null),
      ('companyMetrics1', 'cus_m3', 'meterbridge_sms', 'metrics-b5', 1, 1, 'rejected', now())`);
    const run = (company: string, status: string, missing: number, hoursAgo: number) =>
      sql`(${company}, 'scheduled', ${status}, now(), now(), ${missing}, 1, 2, 1, ${missing > 0 ? 1 : 0}, now() - make_interval(hours => ${hoursAgo}))`;
    await db.execute(sql`insert into reconciliation_runs (company_id, trigger, status, settled_before, windows_from, missing_units, excess_units,
        corrected_units, left_for_person_units, pairs_with_drift, finished_at)
      values ${run('companyMetrics1', 'completed', 100, 48)}, ${run('companyMetrics1', 'completed', 3, 5)}, ${run('companyMetrics2', 'failed', 0, 30)}`);

    const { value } = await scrape();
    expect(value('meterbridge_inbox_events', { status: 'received' })).toBe(2);
    expect(value('meterbridge_inbox_events', { status: 'failed' })).toBe(1);
    expect(value('meterbridge_inbox_oldest_age_seconds')).toBeGreaterThanOrEqual(119);
    expect(value('meterbridge_meter_batches', { state: 'unconfirmed' })).toBe(1);
    expect(value('meterbridge_meter_batches', { state: 'failed' })).toBe(1);
    expect(value('meterbridge_meter_batches', { state: 'rejected' })).toBe(1); // the resent one is settled
    expect(value('meterbridge_meter_batches', { state: 'sent' })).toBeUndefined();
    // Each agency's latest run: companyMetrics1's 5 h old one (3 missing), companyMetrics2's failed one.
    expect(value('meterbridge_reconciliation_drift_units', { kind: 'missing' })).toBe(3);
    expect(value('meterbridge_reconciliation_drift_units', { kind: 'excess' })).toBe(2);
    expect(value('meterbridge_reconciliation_drift_units', { kind: 'left_for_person' })).toBe(2);
    expect(value('meterbridge_reconciliation_pairs_with_drift')).toBe(1);
    expect(value('meterbridge_reconciliation_latest_runs', { status: 'completed' })).toBe(1);
    expect(value('meterbridge_reconciliation_latest_runs', { status: 'failed' })).toBe(1);
    expect(value('meterbridge_reconciliation_oldest_latest_run_age_seconds')).toBeGreaterThanOrEqual(30 * 3600 - 5);
    expect(value('meterbridge_retention_oldest_unredacted_age_seconds')).toBeGreaterThanOrEqual(3 * 86_400 - 5);
  });

  it('when the reporter sends through a Stripe 500 and then a 200, then the call outcomes are counted', async () => {
    await setUpBilling(t.service, { companyId: 'companyMetrics3', locationId: 'locMetrics000000001', customer: 'cus_metrics3', rules: [{ metric: 'sms', threshold: 1 }] });
    await t.postSigned({ ...fixture('sms-outbound'), locationId: 'locMetrics000000001', webhookId: 'metrics-sms-1' }).expect(200);
    const before = await scrape();
    expect(before.value('meterbridge_meter_reports_pending')).toBe(1);
    stripe.script = [500];
    expect(await t.service.reporter.tick()).toMatchObject({ retried: 1 });
    expect((await scrape()).value('meterbridge_meter_batches', { state: 'sending' })).toBe(1);
    expect(await t.service.reporter.tick()).toMatchObject({ sent: 1 });

    const { value } = await scrape();
    expect(value('meterbridge_stripe_meter_event_calls_total', { outcome: 'retry' })).toBe(1);
    expect(value('meterbridge_stripe_meter_event_calls_total', { outcome: 'sent' })).toBe(1);
    expect(value('meterbridge_stripe_meter_event_calls_total', { outcome: 'unconfirmed' })).toBe(0);
    expect(value('meterbridge_stripe_meter_event_call_seconds_count', { outcome: 'sent' })).toBe(1);
    // The sent report's webhook, acknowledged moments ago: one ack → meter event observation, under a minute.
    expect(value('meterbridge_pipeline_ack_to_meter_event_seconds_count')).toBe(1);
    expect(value('meterbridge_pipeline_ack_to_meter_event_seconds_bucket', { le: '60' })).toBe(1);
  });

  it('when the pipeline reports processed events and lag (and nonsense), then counters and histograms follow, and nothing throws', async () => {
    const metrics = t.service.operations.pipelineMetrics;
    // The real inbox processor already reported the webhooks posted above: compare with what it reported.
    const before = (await scrape()).value;
    const processedBefore = before('meterbridge_pipeline_events_processed_total') ?? 0;
    const countedBefore = before('meterbridge_pipeline_ack_to_counted_seconds_count') ?? 0;
    const failedBefore = before('meterbridge_pipeline_events_failed_total') ?? 0;
    const underOneBefore = before('meterbridge_pipeline_ack_to_counted_seconds_bucket', { le: '1' }) ?? 0;
    metrics.processed(3, [0.02, 0.4, 1.5]);
    metrics.failed(1);
    metrics.meterEventsSent([1.2]);
    expect(() => {
      metrics.processed(Number.NaN, [-1, Number.POSITIVE_INFINITY]);
      metrics.failed(-5);
      metrics.meterEventsSent(undefined as unknown as number[]);
      metrics.stripeCall('bogus' as 'sent', 1);
    }).not.toThrow();
    const { value } = await scrape();
    expect((value('meterbridge_pipeline_events_processed_total') ?? 0) - processedBefore).toBe(3);
    expect((value('meterbridge_pipeline_events_failed_total') ?? 0) - failedBefore).toBe(1);
    expect((value('meterbridge_pipeline_ack_to_counted_seconds_count') ?? 0) - countedBefore).toBe(3);
    expect((value('meterbridge_pipeline_ack_to_counted_seconds_bucket', { le: '1' }) ?? 0) - underOneBefore).toBe(2);
    expect(value('meterbridge_pipeline_ack_to_meter_event_seconds_count')).toBe(2);
  });

  it('when the retention job redacts, then its counter and the backlog gauge follow', async () => {
    await t.service.operations.retention.runOnce();
    const { value } = await scrape();
    expect(value('meterbridge_retention_redacted_events_total')).toBe(0);
    await t.database.db.execute(sql`update activity_events set received_at = now() - interval '40 days' where webhook_id = 'metrics-old-1'`);
    await t.service.operations.retention.runOnce();
    const after = await scrape();
    expect(after.value('meterbridge_retention_redacted_events_total')).toBe(1);
    expect(after.value('meterbridge_retention_oldest_unredacted_age_seconds')).toBeLessThan(4 * 86_400);
  });
});
