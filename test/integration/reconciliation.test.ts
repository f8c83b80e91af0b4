import { listAudit } from '../../server/audit/audit-log';
import { sql } from 'drizzle-orm';
import { selectRows } from '../../models/database';
import { ensureMeter } from '../../server/stripe/catalog';
import { createStripeClientFactory } from '../../server/stripe/stripe-client';
import { drainReporter, setUpBilling, TEST_STRIPE_KEY } from '../support/billing';
import { fixture } from '../support/highlevel-fixtures';
import { withMeterSummaries, type MeterSummaries } from '../support/stripe/meter-summaries';
import { startStripeStub, type StripeStub } from '../support/stripe-stub';
import { startTestService, type TestService } from '../support/test-service';

/**
 * Reconciliation against the Stripe double's meter totals, through the composition root: drift injected in the
 * double (an accepted event it dropped, an event counted twice, units nobody sent, an unconfirmed batch) is found,
 * repaired through the outbox, and the next run finds none.
 */
let t: TestService;
let stripe: StripeStub;
let summaries: MeterSummaries;
let sequence = 0;
const EVENT_NAME = 'meterbridge_sms';
/** The double aggregates after this long (seconds); the tests wait it out before comparing. */
const PROCESSING_DELAY = 0.2;

beforeAll(async () => {
  stripe = await startStripeStub();
  summaries = withMeterSummaries(stripe, { processingDelaySeconds: PROCESSING_DELAY });
  t = await startTestService({ STRIPE_API_URL: stripe.url, REPORTER_RETRY_BASE_SECONDS: '0', RECONCILE_SETTLE_SECONDS: '3600' });
  const client = createStripeClientFactory({ apiUrl: stripe.url, timeoutMs: 5000 })(TEST_STRIPE_KEY);
  await ensureMeter(client, { metric: 'sms', eventName: EVENT_NAME, displayName: 'SMS' });
});
afterAll(async () => {
  await t.close();
  await stripe.close();
});

const settled = () => new Promise((resolve) => setTimeout(resolve, PROCESSING_DELAY * 1000 + 100));
/** A run two hours from now: with a settle time of one hour, everything sent so far is settled. */
const runLater = (companyId: string, locationId: string | null = null) =>
  t.service.reconciliation.run({ companyId, locationId, trigger: 'on_demand', now: new Date(Date.now() + 2 * 3600_000) });

/** A fresh agency with `count` sub-accounts billed 1 unit per outbound SMS, each to its own customer. */
async function freshAgency(count: number) {
  sequence += 1;
  const companyId = `coRecon${sequence}`;
  const subs = [];
  for (let i = 0; i < count; i++) {
    const sub = { locationId: `locRecon${sequence}x${i}`, customer: `cus_recon${sequence}x${i}` };
    await setUpBilling(t.service, { companyId, ...sub, rules: [{ metric: 'sms', threshold: 1 }], as: i === 0 ? 'default' : 'override' });
    subs.push(sub);
  }
  const token = (await t.service.sessionTokens.issue({ userId: `u${sequence}`, companyId, type: 'agency', role: 'admin', activeLocation: null })).token;
  return { companyId, subs, token };
}

/** Sends `count` outbound SMS (sent by HighLevel at `occurredAt`) for the sub-account and drains the reporter: one meter event of `count` units. */
async function sendSms(locationId: string, count: number, occurredAt = new Date()): Promise<string> {
  for (let i = 0; i < count; i++) {
    sequence += 1;
    const at = occurredAt.toISOString();
    await t.postSigned({ ...fixture('sms-outbound'), locationId, webhookId: `wh-recon-${sequence}`, messageId: `mRecon${sequence}`, dateAdded: at, timestamp: at }).expect(200);
  }
  await drainReporter(t.service);
  const [batch] = await selectRows<{ identifier: string }>(
    t.database.db,
    sql`select b.identifier from meter_batches b join meter_reports r on r.batch_id = b.id where r.location_id = ${locationId} order by b.id desc limit 1`,
  );
  return batch!.identifier;
}

const pairOf = (run: Awaited<ReturnType<typeof runLater>>, customer: string) => run.pairs.find((p) => p.stripeCustomerId === customer)!;

it('when Stripe dropped an accepted event and counted another twice, then a run sends a correction and cancels the double, and the next run finds no drift', async () => {
  const { companyId, subs, token } = await freshAgency(2);
  const [a, b] = subs as [(typeof subs)[0], (typeof subs)[0]];
  await sendSms(a.locationId, 2);
  summaries.drop(await sendSms(a.locationId, 3));
  const doubled = await sendSms(b.locationId, 4);
  // Its first send's answer was lost and it was resent 25 hours later, past Stripe's identifier window: counted twice.
  await t.database.db.execute(sql`update meter_batches set created_at = created_at - interval '25 hours', first_sent_at = coalesce(first_sent_at, created_at) - interval '25 hours', attempts = 2 where identifier = ${doubled}`);
  summaries.countTwice(doubled);
  await settled();

  const first = await runLater(companyId);
  expect(first).toMatchObject({ status: 'completed', pairsChecked: 2, pairsWithDrift: 2, missingUnits: 3, excessUnits: 4, correctedUnits: 7, leftForPersonUnits: 0 });
  expect(pairOf(first, a.customer)).toMatchObject({ status: 'corrected', ourUnits: 5, stripeUnits: 2, missingUnits: 3 });
  expect(pairOf(first, a.customer).windows[0]!.actions).toEqual([expect.objectContaining({ kind: 'correct', units: 3 })]);
  expect(pairOf(first, b.customer)).toMatchObject({ status: 'corrected', ourUnits: 4, stripeUnits: 8, excessUnits: 4 });
  expect(summaries.cancellations).toEqual([{ identifier: doubled, eventName: EVENT_NAME }]);
  const [correction] = await selectRows<{ kind: string; value: number; identifier: string }>(
    t.database.db,
    sql`select kind, value::int as value, identifier from meter_batches where reconciliation_run_id = ${first.id}`,
  );
  expect(correction).toEqual({ kind: 'correction', value: 3, identifier: expect.stringMatching(/^mbr_[0-9a-f]{40}$/) });

  await drainReporter(t.service);
  await settled();
  const second = await runLater(companyId);
  expect(second).toMatchObject({ status: 'completed', pairsChecked: 2, pairsWithDrift: 0, missingUnits: 0, excessUnits: 0, correctedUnits: 0 });
  expect(summaries.settledTotal(a.customer, EVENT_NAME)).toBe(5);
  expect(summaries.settledTotal(b.customer, EVENT_NAME)).toBe(4);

  const runs = await t.http.get('/api/reconciliation/runs').set('authorization', `Bearer ${token}`).expect(200);
  expect(runs.body.items.map((r: { id: number }) => r.id)).toEqual([second.id, first.id]);
  expect(runs.body.alert).toMatchObject({ pairs: 0, units: 0 });
});

it('when Stripe counted units nobody sent, then the excess is left for a person and the overview raises an alert that stays', async () => {
  const { companyId, subs, token } = await freshAgency(1);
  const [a] = subs;
  await sendSms(a!.locationId, 2);
  summaries.addForeignEvent({ customer: a!.customer, eventName: EVENT_NAME, value: 6, timestamp: Math.floor(Date.now() / 1000) });
  await settled();

  const first = await runLater(companyId);
  expect(pairOf(first, a!.customer)).toMatchObject({ status: 'flagged', excessUnits: 6, leftForPersonUnits: 6, correctedUnits: 0 });
  expect(summaries.cancellations.filter((c) => c.identifier.startsWith('foreign'))).toEqual([]);
  await runLater(companyId);

  const overview = await t.http.get('/api/overview').set('authorization', `Bearer ${token}`).expect(200);
  expect(overview.body.reconciliation).toEqual({ pairs: 1, units: 6, lastRunAt: expect.any(String) });
  const mine = await t.http.get(`/api/sub-accounts/${a!.locationId}/reconciliation/runs`).set('authorization', `Bearer ${token}`).expect(200);
  expect(mine.body.items).toHaveLength(2);
  expect(mine.body.alert).toMatchObject({ pairs: 1, units: 6 });
});

it('when unconfirmed batches are compared, then the one Stripe counted is marked sent and the missing one is resent with a new identifier', async () => {
  const { companyId, subs } = await freshAgency(1);
  const [a] = subs;
  const counted = await sendSms(a!.locationId, 2);
  const lost = await sendSms(a!.locationId, 3);
  summaries.drop(lost);
  await t.database.db.execute(sql`update meter_batches set status = 'unconfirmed' where identifier in (${counted}, ${lost})`);
  await settled();

  const first = await runLater(companyId);
  expect(first).toMatchObject({ unconfirmedSettled: 1, missingUnits: 3, correctedUnits: 3 });
  const batches = await selectRows<{ identifier: string; status: string; replaces: string | null; reports: number }>(
    t.database.db,
    sql`select b.identifier, b.status, o.identifier as replaces, (select count(*)::int from meter_reports r where r.batch_id = b.id) as reports
        from meter_batches b left join meter_batches o on o.id = b.replaces_batch_id
        where b.stripe_customer_id = ${a!.customer} order by b.id`,
  );
  expect(batches).toEqual([
    { identifier: counted, status: 'sent', replaces: null, reports: 2 },
    { identifier: lost, status: 'replaced', replaces: null, reports: 0 },
    { identifier: expect.stringMatching(/^mbr_/), status: 'queued', replaces: lost, reports: 3 },
  ]);
  // The resend is Meterbridge's change, in the audit log (issue 19: "batches resent").
  const resent = await listAudit(t.database.db, companyId, { action: 'meter_batch.resent', limit: 5 });
  expect(resent).toEqual([expect.objectContaining({ actor: { type: 'system' }, subject: 'meter_batch', after: expect.objectContaining({ replacesBatchId: expect.any(Number) }) })]);

  await drainReporter(t.service);
  await settled();
  const second = await runLater(companyId);
  expect(second).toMatchObject({ pairsWithDrift: 0, missingUnits: 0, excessUnits: 0 });
  expect(summaries.settledTotal(a!.customer, EVENT_NAME)).toBe(5);
  const [reports] = await selectRows<{ sent: number }>(t.database.db, sql`select count(*)::int as sent from meter_reports where stripe_customer_id = ${a!.customer} and status = 'sent'`);
  expect(reports!.sent).toBe(5);
});

it('when a send is younger than the settle time, then an on-demand run skips its window and corrects nothing', async () => {
  const { subs, token } = await freshAgency(1);
  const [a] = subs;
  // Usage of three hours ago (inside the compared range) whose meter event reached Stripe just now (unsettled).
  summaries.drop(await sendSms(a!.locationId, 2, new Date(Date.now() - 3 * 3600_000)));
  await settled();

  const res = await t.http.post(`/api/sub-accounts/${a!.locationId}/reconciliation/runs`).set('authorization', `Bearer ${token}`).expect(200);
  expect(res.body).toMatchObject({ status: 'completed', trigger: 'on_demand', locationId: a!.locationId, missingUnits: 0, correctedUnits: 0 });
  expect(res.body).toMatchObject({ pairsChecked: 1, windowsChecked: 0, windowsSkipped: 1 });
  expect(res.body.pairs[0].windows[0]).toMatchObject({ ours: null, stripe: null, skipped: expect.stringContaining('settle time') });
  const [corrections] = await selectRows<{ n: number }>(t.database.db, sql`select count(*)::int as n from meter_batches where stripe_customer_id = ${a!.customer} and kind = 'correction'`);
  expect(corrections!.n).toBe(0);
});

it('when the user is not an agency admin, the agency has not connected Stripe or a run is already going, then a run is refused and nothing is stored', async () => {
  const { companyId, token } = await freshAgency(1);
  await t.database.db.execute(sql`insert into reconciliation_runs (company_id, trigger, settled_before, windows_from) values (${companyId}, 'on_demand', now(), now())`);
  const viewer = (await t.service.sessionTokens.issue({ userId: 'uViewer', companyId, type: 'agency', role: 'user', activeLocation: null })).token;
  const notAdmin = await t.http.post('/api/reconciliation/runs').set('authorization', `Bearer ${viewer}`).expect(403);
  expect(notAdmin.body.error.code).toBe('admin_required');
  await t.http.get('/api/reconciliation/runs').set('authorization', `Bearer ${viewer}`).expect(200);
  const busy = await t.http.post('/api/reconciliation/runs').set('authorization', `Bearer ${token}`).expect(409);
  expect(busy.body.error.code).toBe('reconciliation_running');

  await t.service.accounts.registerAgency('coReconNoStripe', 'No Stripe');
  const other = (await t.service.sessionTokens.issue({ userId: 'uNone', companyId: 'coReconNoStripe', type: 'agency', role: 'admin', activeLocation: null })).token;
  const refused = await t.http.post('/api/reconciliation/runs').set('authorization', `Bearer ${other}`).expect(409);
  expect(refused.body.error.code).toBe('stripe_not_connected');
  const [runs] = await selectRows<{ n: number }>(t.database.db, sql`select count(*)::int as n from reconciliation_runs where company_id = 'coReconNoStripe'`);
  expect(runs!.n).toBe(0);
});

it('when the nightly job runs, then each agency with Stripe connected and sent batches in the range gets a scheduled run', async () => {
  const { companyId, subs } = await freshAgency(1);
  await sendSms(subs[0]!.locationId, 1, new Date(Date.now() - 3 * 3600_000));
  expect(await t.service.scheduler.runNow('reconciliation')).toBe(true);
  const runs = await selectRows<{ trigger: string; status: string; pairs: number }>(
    t.database.db,
    sql`select trigger, status, pairs_checked as pairs from reconciliation_runs where company_id = ${companyId}`,
  );
  expect(runs).toEqual([{ trigger: 'scheduled', status: 'completed', pairs: 1 }]);
});

it('when a run repaired drift and its repairs have settled, then a follow-up run checks the agency once, while Stripe can still cancel them', async () => {
  const { companyId, subs } = await freshAgency(1);
  summaries.drop(await sendSms(subs[0]!.locationId, 2));
  await settled();
  const repairing = await runLater(companyId);
  expect(repairing.correctedUnits).toBe(2);
  await drainReporter(t.service);
  await settled();
  expect(await t.service.scheduler.runNow('reconciliation-follow-up')).toBe(true);
  const before = await selectRows<{ trigger: string }>(t.database.db, sql`select trigger from reconciliation_runs where company_id = ${companyId} order by id`);
  expect(before.map((r) => r.trigger)).toEqual(['on_demand']); // not settled yet

  // The settle time (one hour) and the margin have passed since that run.
  await t.database.db.execute(sql`update reconciliation_runs set finished_at = finished_at - interval '76 minutes' where id = ${repairing.id}`);
  await t.database.db.execute(sql`update meter_batches set sent_at = sent_at - interval '76 minutes' where reconciliation_run_id = ${repairing.id}`);
  expect(await t.service.scheduler.runNow('reconciliation-follow-up')).toBe(true);
  expect(await t.service.scheduler.runNow('reconciliation-follow-up')).toBe(true);
  const runs = await selectRows<{ trigger: string; missing: number; corrected: number }>(
    t.database.db,
    sql`select trigger, missing_units::int as missing, corrected_units::int as corrected from reconciliation_runs where company_id = ${companyId} order by id`,
  );
  expect(runs).toEqual([{ trigger: 'on_demand', missing: 2, corrected: 2 }, { trigger: 'follow_up', missing: 0, corrected: 0 }]);
});

describe('the Stripe double’s totals, as Stripe documents them', () => {
  const client = () => createStripeClientFactory({ apiUrl: stripe.url, timeoutMs: 5000 })(TEST_STRIPE_KEY);
  const meterId = () => [...stripe.state.meters.values()].find((m) => m.event_name === EVENT_NAME)!.id;

  it('when start or end is off a minute (or off a UTC day with daily grouping), then the summaries are refused with 400', async () => {
    const day = Math.floor(Date.now() / 86_400_000) * 86_400;
    await expect(client().billing.meters.listEventSummaries(meterId(), { customer: 'cus_x', start_time: day + 30, end_time: day + 3600 })).rejects.toMatchObject({ statusCode: 400 });
    await expect(
      client().billing.meters.listEventSummaries(meterId(), { customer: 'cus_x', start_time: day + 3600, end_time: day + 86_400, value_grouping_window: 'day' }),
    ).rejects.toMatchObject({ statusCode: 400 });
    const page = await client().billing.meters.listEventSummaries(meterId(), { customer: 'cus_x', start_time: day - 3 * 86_400, end_time: day, value_grouping_window: 'day', limit: 2 });
    expect(page.data.map((s) => s.start_time)).toEqual([day - 3 * 86_400, day - 2 * 86_400]);
    expect(page.has_more).toBe(true);
  });

  it('when an event is younger than the processing delay, then the summary leaves it out; a cancelled event leaves it once processed, and is cancelled once', async () => {
    const { subs } = await freshAgency(1);
    summaries.processingDelaySeconds = 2; // long enough that the first look is always inside it
    const wait = () => new Promise((resolve) => setTimeout(resolve, 2_100));
    const identifier = await sendSms(subs[0]!.locationId, 2);
    const now = Math.floor(Date.now() / 1000);
    const range = { customer: subs[0]!.customer, start_time: Math.floor(now / 60) * 60 - 3600, end_time: Math.floor(now / 60) * 60 + 120 };
    const total = async () => (await client().billing.meters.listEventSummaries(meterId(), range)).data[0]!.aggregated_value;
    try {
      expect(await total()).toBe(0);
      await wait();
      expect(await total()).toBe(2);
      await client().billing.meterEventAdjustments.create({ event_name: EVENT_NAME, type: 'cancel', cancel: { identifier } });
      expect(await total()).toBe(2);
      await wait();
      expect(await total()).toBe(0);
    } finally {
      summaries.processingDelaySeconds = PROCESSING_DELAY;
    }
    await expect(client().billing.meterEventAdjustments.create({ event_name: EVENT_NAME, type: 'cancel', cancel: { identifier } })).rejects.toMatchObject({ statusCode: 400 });
  });
});
