import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import { sql } from 'drizzle-orm';
import pino from 'pino';
import { selectRows } from '../../models/database';
import { WORKFLOW_ACTION_PATH } from '../../server/workflow-actions/workflow-action-routes';
import { drainReporter, setUpBilling, TEST_STRIPE_KEY } from '../support/billing';
import { startStripeStub, type StripeStub } from '../support/stripe-stub';
import { startTestService, thenDrained, type TestService } from '../support/test-service';

/**
 * Issue #14 part 4b: the "Record billable usage" workflow action. HighLevel posts its documented action body
 * (test/fixtures/highlevel/workflow-action/record-usage.json) with the header configured on the action; the usage
 * ends at the Stripe double exactly once, a repeated run bills nothing, and a call without the secret is a 401.
 */
const DOCUMENTED = JSON.parse(readFileSync(path.join(__dirname, '../fixtures/highlevel/workflow-action/record-usage.json'), 'utf8'));
const SECRET = 'wa-secret-0123456789abcdef0123456789abcdef';
const COMPANY = 'coWorkflowAction01';
const LOCATION: string = DOCUMENTED.extras.locationId;
const CUSTOMER = 'cus_WorkflowAction01';
const METER = 'meterbridge_appointments_booked';

let t: TestService;
let stripe: StripeStub;
/** Every log line and response body of the file, to prove the secret appears in none. */
const logLines: string[] = [];
const answers: string[] = [];

type Body = typeof DOCUMENTED;
const run = (data: Partial<Body['data']>, extras: Partial<Body['extras']> = {}) => ({
  ...DOCUMENTED,
  data: { ...DOCUMENTED.data, ...data },
  extras: { ...DOCUMENTED.extras, ...extras },
});
const call = (body: unknown, authorization: string | null = `Bearer ${SECRET}`) => {
  const req = t.http.post(WORKFLOW_ACTION_PATH).set('content-type', 'application/json');
  req.on('response', (res: { text: string }) => answers.push(res.text));
  // Awaiting the call also lets the inbox processor count what it stored.
  return thenDrained((authorization === null ? req : req.set('authorization', authorization)).send(JSON.stringify(body)), () => t.drain());
};

async function actionUsage() {
  return selectRows<{ webhookId: string; metric: string; quantity: string }>(
    t.database.db,
    sql`select e.webhook_id as "webhookId", u.metric, u.quantity::text as quantity
        from activity_events e join usage_records u on u.activity_event_id = e.id
        where e.source = 'workflow_action' order by e.id`,
  );
}
const unitsAtStripe = () => stripe.events.filter((e) => e.customer === CUSTOMER && e.eventName === METER).reduce((s, e) => s + Number(e.value), 0);

beforeAll(async () => {
  stripe = await startStripeStub();
  stripe.apiKeys.add(TEST_STRIPE_KEY);
  const sink = new Writable({ write: (chunk, _enc, done) => (logLines.push(String(chunk)), done()) });
  const env = { STRIPE_API_URL: stripe.url, REPORTER_RETRY_BASE_SECONDS: '0', HIGHLEVEL_WORKFLOW_ACTION_SECRET: SECRET };
  t = await startTestService(env, { logger: pino({ level: 'debug' }, sink) });
  await setUpBilling(t.service, { companyId: COMPANY, locationId: LOCATION, customer: CUSTOMER, rules: [] });
  await t.service.customMetrics.define(COMPANY, { key: 'appointments_booked', label: 'Appointments booked', unit: 'appointment' });
  await t.service.rules.setRule({ companyId: COMPANY, locationId: null }, { metric: 'appointments_booked', threshold: 1, direction: 'both' });
}, 120_000);
afterAll(async () => {
  await t.close();
  await stripe.close();
});

describe('Record billable usage workflow action', () => {
  it('when HighLevel runs the action with its documented body and the configured header, then one unit reaches Stripe', async () => {
    const res = await call(DOCUMENTED).expect(200);
    expect(res.body).toEqual({ status: 'accepted', locationId: LOCATION, metric: 'appointments_booked', quantity: '1', idempotencyKey: 'apt_7Hh2KQ0aYb1nLw3c' });
    await drainReporter(t.service);
    expect(unitsAtStripe()).toBe(1);
    expect(await actionUsage()).toEqual([{ webhookId: `workflow-action:${COMPANY}:apt_7Hh2KQ0aYb1nLw3c`, metric: 'appointments_booked', quantity: '1.000000' }]);
  });

  it('when the same run is sent again (same idempotency key), then it is a duplicate and nothing more is billed', async () => {
    const res = await call(DOCUMENTED).expect(200);
    expect(res.body.status).toBe('duplicate');
    await drainReporter(t.service);
    expect(unitsAtStripe()).toBe(1);
    expect(await actionUsage()).toHaveLength(1);
  });

  it('when the key is reused for another quantity, then it is a 409 conflict and nothing is stored', async () => {
    const res = await call(run({ quantity: '3' })).expect(409);
    expect(res.body.error.code).toBe('idempotency_conflict');
    expect(await actionUsage()).toHaveLength(1);
  });

  it('when the call has no secret, a wrong one or only a webhook signature, then it is a 401 JSON error and nothing is stored', async () => {
    const fresh = run({ idempotencyKey: 'apt_unauthenticated' });
    for (const authorization of [null, `Bearer ${SECRET}x`, SECRET, `Basic ${Buffer.from(`x:${SECRET}`).toString('base64')}`]) {
      const res = await call(fresh, authorization).expect(401);
      expect(res.body.error.code).toBe('unauthenticated');
    }
    await t.http.post(WORKFLOW_ACTION_PATH).set('x-ghl-signature', t.keys.signEd25519(JSON.stringify(fresh))).send(fresh).expect(401);
    expect(await actionUsage()).toHaveLength(1);
  });

  it('when runs carry no idempotency key, then each run is new usage; a quantity sent as a number or decimal text counts exactly', async () => {
    await call(run({ idempotencyKey: '', quantity: 2 })).expect(200);
    await call(run({ idempotencyKey: undefined, quantity: '0.5' })).expect(200);
    await call(run({ idempotencyKey: null, quantity: '0.5' })).expect(200);
    await drainReporter(t.service);
    expect(unitsAtStripe()).toBe(4); // 1 + 2 + 0.5 + 0.5
    expect((await actionUsage()).map((u) => u.quantity)).toEqual(['1.000000', '2.000000', '0.500000', '0.500000']);
  });

  it('when the metric is a built-in one and the quantity is left empty, then one unit of that metric is recorded', async () => {
    const res = await call(run({ metric: 'ai_messages', quantity: '', idempotencyKey: 'ai-run-1' })).expect(200);
    expect(res.body).toMatchObject({ status: 'accepted', metric: 'ai_messages', quantity: '1' });
  });

  it.each([
    ['an unknown metric', run({ metric: 'not_defined', idempotencyKey: 'k1' }), 422, 'invalid_events'],
    ['an unknown sub-account', run({ idempotencyKey: 'k2' }, { locationId: 'locNobodyKnows' }), 422, 'unknown_location'],
    ['a negative quantity', run({ quantity: '-1', idempotencyKey: 'k3' }), 400, 'invalid_field'],
    ['a quantity that is not a number', run({ quantity: 'three', idempotencyKey: 'k4' }), 400, 'invalid_field'],
    ['a metric not in snake case', run({ metric: 'Appointments Booked', idempotencyKey: 'k5' }), 400, 'invalid_field'],
    ['no metric', { ...DOCUMENTED, data: { quantity: '1' } }, 400, 'invalid_request'],
    ['no locationId in extras', { ...DOCUMENTED, extras: { workflowId: 'wf' } }, 400, 'invalid_request'],
    ['a body that is not an action payload', ['not', 'an', 'object'], 400, 'invalid_request'],
  ])('when the action sends %s, then it is refused and nothing is stored', async (_name, body, status, code) => {
    const before = (await actionUsage()).length;
    const res = await call(body).expect(status);
    expect(res.body.error.code).toBe(code);
    expect(await actionUsage()).toHaveLength(before);
  });

  it('when everything above was logged, answered and stored, then the action secret appears nowhere', async () => {
    expect(logLines.length).toBeGreaterThan(10);
    expect(answers.length).toBeGreaterThan(10);
    const stored = await selectRows<{ dump: string }>(t.database.db, sql`select coalesce(string_agg(payload::text, ''), '') as dump from activity_events`);
    for (const text of [...logLines, ...answers, stored[0]!.dump]) expect(text).not.toContain(SECRET);
  });

  it('when the body is not JSON, then it is a 400 JSON error', async () => {
    const res = await t.http.post(WORKFLOW_ACTION_PATH).set('authorization', `Bearer ${SECRET}`).set('content-type', 'application/json').send('{ nope').expect(400);
    expect(res.body.error.code).toBe('invalid_json');
  });
});
