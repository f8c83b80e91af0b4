import { sql } from 'drizzle-orm';
import { selectRows } from '../../models/database';
import { drainReporter, setUpBilling, TEST_STRIPE_KEY } from '../support/billing';
import { fixture } from '../support/highlevel-fixtures';
import { deliverStripeEventsTo } from '../support/stripe-deliveries';
import { startStripeStub, type StripeStub } from '../support/stripe-stub';
import { startTestService, type TestService } from '../support/test-service';
import { until } from '../support/until';

/**
 * Stripe's asynchronous meter-event errors through the whole service: the event destination made on connect (or on
 * a reporter tick for an older connection), the signed thin event, the re-read of the full event, the batches it
 * names marked rejected, the log and overview, and the resend with a new identifier once the cause is fixed.
 */
const COMPANY = 'companyErrorReports01';
const KEY = 'sk_test_errorReportsKey00001';
let t: TestService;
let stripe: StripeStub;
let token = '';
let sequence = 0;

const api = (method: 'get' | 'put' | 'post' | 'delete', path: string, body?: object) => {
  const req = t.http[method](path).set('authorization', `Bearer ${token}`);
  return body ? req.send(body) : req;
};

beforeAll(async () => {
  stripe = await startStripeStub();
  t = await startTestService({ STRIPE_API_URL: stripe.url, REPORTER_RETRY_BASE_SECONDS: '0', APP_URL: 'https://meterbridge.example' });
  deliverStripeEventsTo(stripe, t);
  token = (await t.service.sessionTokens.issue({ userId: 'user-errors', companyId: COMPANY, type: 'agency', role: 'admin', activeLocation: null })).token;
  await t.service.accounts.registerAgency(COMPANY, 'Error Reports Agency');
  await api('put', '/api/stripe/connection', { secretKey: KEY }).expect(200);
});
afterAll(async () => {
  await t.close();
  await stripe.close();
});

/** A sub-account of COMPANY billed 1 unit per outbound SMS to a customer created in the Stripe double. */
async function freshSubAccount() {
  sequence += 1;
  const locationId = `locErrors${String(sequence).padStart(9, '0')}`;
  const customer = newCustomer();
  await setUpBilling(t.service, { companyId: COMPANY, locationId, customer, stripeKey: KEY, rules: [{ metric: 'sms', threshold: 1 }], as: 'override' });
  return { locationId, customer };
}
function newCustomer(): string {
  const id = `cus_errors${sequence}${Date.now()}`;
  stripe.state.customers.set(id, { id, object: 'customer', deleted: false, metadata: {} });
  stripe.customers.add(id);
  return id;
}
async function sendSms(locationId: string, count = 1, at?: Date) {
  const time = at ? { dateAdded: at.toISOString(), timestamp: at.toISOString() } : {};
  for (let i = 0; i < count; i++) {
    sequence += 1;
    await t.postSigned({ ...fixture('sms-outbound'), locationId, webhookId: `wh-errors-${sequence}`, ...time }).expect(200);
  }
}
/** Waits (up to 10 s) until every batch of the customer has one of `statuses`. */
async function untilBatches(customer: string, statuses: string[]) {
  for (const started = Date.now(); ; await new Promise((resolve) => setTimeout(resolve, 20))) {
    const batches = await batchesOf(customer);
    if (batches.length > 0 && batches.every((b) => statuses.includes(b.status))) return batches;
    if (Date.now() - started > 10_000) throw new Error(`batches of ${customer}: ${JSON.stringify(batches)}`);
  }
}
const batchesOf = (customer: string) =>
  selectRows<{ id: number; identifier: string; status: string; rejectedCode: string | null; lastError: string | null }>(
    t.database.db,
    sql`select id::int as id, identifier, status, rejected_code as "rejectedCode", last_error as "lastError"
        from meter_batches where stripe_customer_id = ${customer} order by id`,
  );

describe('the event destination', () => {
  it('when an agency connects Stripe, then a thin-payload webhook destination for the two meter error events is created and its secret stored sealed', async () => {
    const [destination] = [...stripe.state.eventDestinations.values()];
    expect(destination).toMatchObject({
      type: 'webhook_endpoint',
      event_payload: 'thin',
      enabled_events: ['v1.billing.meter.error_report_triggered', 'v1.billing.meter.no_meter_found'],
      webhook_endpoint: { url: `https://meterbridge.example/webhooks/stripe-events/${COMPANY}` },
    });
    const create = stripe.requestLog.find((r) => r.method === 'POST' && r.path === '/v2/core/event_destinations');
    expect(create?.params.include).toEqual(['webhook_endpoint.signing_secret']);
    const [row] = await selectRows<{ id: string; secret: string }>(
      t.database.db,
      sql`select stripe_event_destination_id as id, stripe_event_destination_secret as secret from agencies where company_id = ${COMPANY}`,
    );
    expect(row!.id).toBe(destination!.id);
    expect(row!.secret).not.toContain(destination!.webhook_endpoint.signing_secret);
    expect(row!.secret.length).toBeGreaterThan(20);
    const status = await api('get', '/api/stripe/connection').expect(200);
    expect(status.body.errorReports).toEqual({ url: `https://meterbridge.example/webhooks/stripe-events/${COMPANY}`, configured: true });
  });

  it('when an agency connected before event destinations existed, then the next reporter tick creates its destination', async () => {
    await setUpBilling(t.service, { companyId: 'companyOlderConnect01', locationId: 'locOlderConnect00001', customer: 'cus_older1', rules: [], stripeKey: TEST_STRIPE_KEY });
    const before = stripe.state.eventDestinations.size;
    await t.service.reporter.tick();
    expect(stripe.state.eventDestinations.size).toBe(before + 1);
    const urls = [...stripe.state.eventDestinations.values()].map((d) => d.webhook_endpoint.url);
    expect(urls).toContain('https://meterbridge.example/webhooks/stripe-events/companyOlderConnect01');
  });

  it('when a delivery is not signed with the destination secret, then it is refused with 401 and nothing changes', async () => {
    const body = JSON.stringify({ id: 'evt_test_forged', object: 'v2.core.event', type: 'v1.billing.meter.no_meter_found', created: new Date().toISOString(), livemode: false });
    const res = await t.http
      .post(`/webhooks/stripe-events/${COMPANY}`)
      .set('content-type', 'application/json')
      .set('stripe-signature', `t=${Math.floor(Date.now() / 1000)},v1=${'0'.repeat(64)}`)
      .send(body)
      .expect(401);
    expect(res.body.error.code).toBe('invalid_signature');
    expect(stripe.requestLog.some((r) => r.path === '/v2/core/events/evt_test_forged')).toBe(false);
  });
});

describe('rejected meter events', () => {
  it('when the customer was deleted in Stripe, then Stripe takes the event, reports it, and the batch is rejected with its code, shown in the log and overview', async () => {
    const { locationId, customer } = await freshSubAccount();
    stripe.state.customers.get(customer)!.deleted = true;
    await sendSms(locationId, 2);
    await drainReporter(t.service);
    expect((await batchesOf(customer)).map((b) => b.status)).toEqual(['sent']);
    expect(stripe.events.filter((e) => e.customer === customer)).toEqual([]);
    await stripe.flushErrorReports();

    const [batch] = await untilBatches(customer, ['rejected']);
    expect(batch).toMatchObject({ status: 'rejected', rejectedCode: 'meter_event_customer_not_found', lastError: expect.stringContaining(customer) });
    const reported = stripe.deliveries.at(-1)!;
    expect(reported).toMatchObject({ type: 'v1.billing.meter.error_report_triggered', status: 200 });
    // The thin delivery carries no data: the full event was read from Stripe.
    expect(stripe.requestLog.some((r) => r.method === 'GET' && r.path === `/v2/core/events/${reported.eventId}`)).toBe(true);
    const log = await api('get', `/api/sub-accounts/${locationId}/meter-reports`).expect(200);
    expect(log.body.counts).toMatchObject({ rejected: 2, sent: 0 });
    expect(log.body.items[0]).toMatchObject({ status: 'rejected', rejectedCode: 'meter_event_customer_not_found', identifier: batch!.identifier });
    const overview = await api('get', '/api/overview').expect(200);
    expect(overview.body.rejectedReports).toBeGreaterThanOrEqual(2);
    // The headline counts sub-accounts, as many as the list it links to shows (here 2 reports of one sub-account).
    const listed = (await api('get', '/api/sub-accounts?status=rejected').expect(200)).body;
    expect(listed.items.map((s: { locationId: string }) => s.locationId)).toContain(locationId);
    expect(overview.body.subAccountsWith.rejectedReports).toBe(listed.total);
  });

  it('when the agency re-maps the sub-account and resends, then the units go once to the new customer with a new identifier, dated at the resend', async () => {
    const { locationId, customer } = await freshSubAccount();
    stripe.state.customers.get(customer)!.deleted = true;
    await sendSms(locationId, 3, new Date(Date.now() - 3 * 86_400_000)); // used three days ago: maybe a period already invoiced
    await drainReporter(t.service);
    await stripe.flushErrorReports();
    const [rejected] = await untilBatches(customer, ['rejected']);

    // Resending before the sub-account has a customer again is refused; nothing is queued.
    await t.service.accounts.mapCustomer(locationId, null);
    const early = await api('post', `/api/sub-accounts/${locationId}/meter-batches/${rejected!.id}/retry`).expect(409);
    expect(early.body.error.code).toBe('no_stripe_customer');

    const replacement = newCustomer();
    await t.service.accounts.mapCustomer(locationId, replacement);
    const resentAt = Math.floor(Date.now() / 1000);
    const res = await api('post', `/api/sub-accounts/${locationId}/meter-batches/${rejected!.id}/retry`).expect(200);
    expect(res.body).toEqual({ requeued: true, batchId: rejected!.id, newIdentifier: true });
    await drainReporter(t.service);

    const sent = stripe.events.filter((e) => e.customer === replacement);
    expect(sent.map((e) => e.value)).toEqual(['3']);
    expect(sent[0]!.identifier).not.toBe(rejected!.identifier);
    // Dated at the resend, so the open period's invoice bills it (Stripe invoices a meter event in the period its
    // timestamp falls in: docs.stripe.com/billing/subscriptions/usage-based/configure-grace-period).
    expect(sent[0]!.timestamp).toBeGreaterThanOrEqual(resentAt);
    expect(stripe.events.filter((e) => e.customer === customer)).toEqual([]);
    // A second resend of the same rejected batch is refused.
    await api('post', `/api/sub-accounts/${locationId}/meter-batches/${rejected!.id}/retry`).expect(404);
  });

  it('when no meter takes the event name, then no_meter_found rejects every batch sent to that event name in the validation window', async () => {
    const { locationId, customer } = await freshSubAccount();
    const other = await freshSubAccount();
    // A meter exists only for another event name, so 'meterbridge_sms' has none. Both events land in one report
    // that names only one of them: the other is found through the validation window.
    stripe.state.meters.set('mtr_test_other', { id: 'mtr_test_other', object: 'billing.meter', event_name: 'some_other_event', status: 'active' });
    stripe.sampleErrors = 1;
    stripe.errorReportDelayMs = 60_000;
    try {
      await sendSms(locationId);
      await sendSms(other.locationId);
      await drainReporter(t.service);
      await stripe.flushErrorReports();
      await until(() => stripe.deliveries.some((d) => d.type === 'v1.billing.meter.no_meter_found' && d.status === 200));
    } finally {
      stripe.state.meters.delete('mtr_test_other');
      stripe.sampleErrors = 20;
      stripe.errorReportDelayMs = 100;
    }
    const report = [...stripe.state.v2Events.values()].find((e) => e.type === 'v1.billing.meter.no_meter_found')!;
    expect(report.related_object).toBeUndefined();
    expect(report.data.reason).toMatchObject({ error_count: 2, error_types: [{ code: 'no_meter', error_count: 2, sample_errors: [expect.anything()] }] });
    for (const c of [customer, other.customer]) {
      expect((await untilBatches(c, ['rejected'])).map((b) => [b.status, b.rejectedCode])).toEqual([['rejected', 'no_meter']]);
    }
  });
});

describe('disconnecting', () => {
  it('when the agency disconnects Stripe, then its event destination is deleted in Stripe and forgotten', async () => {
    const [row] = await selectRows<{ id: string }>(t.database.db, sql`select stripe_event_destination_id as id from agencies where company_id = ${COMPANY}`);
    expect(stripe.state.eventDestinations.has(row!.id)).toBe(true);
    await api('delete', '/api/stripe/connection').expect(200);
    expect(stripe.state.eventDestinations.has(row!.id)).toBe(false);
    const [after] = await selectRows<{ id: string | null; secret: string | null }>(
      t.database.db,
      sql`select stripe_event_destination_id as id, stripe_event_destination_secret as secret from agencies where company_id = ${COMPANY}`,
    );
    expect(after).toEqual({ id: null, secret: null });
  });
});
