import { sql } from 'drizzle-orm';
import nock from 'nock';
import Stripe from 'stripe';
import { Webhook } from 'standardwebhooks';
import { selectRows } from '../../models/database';
import { ALERT_KINDS } from '../../models/schema';
import { MAX_ATTEMPTS } from '../../server/alerts/deliver';
import { raiseAlert } from '../../server/alerts/raise';
import { ALERT_KIND_VALUES } from '../../server/alerts/schemas';
import { fixture } from '../support/highlevel-fixtures';
import { HIGHLEVEL_API, OAUTH_ENV, tokenResponse } from '../support/highlevel-oauth';
import { startStripeStub, type StripeStub } from '../support/stripe-stub';
import { startTestService, type TestService } from '../support/test-service';

/**
 * Alerts through their three channels, exactly once per event: a Stripe `invoice.payment_failed` delivered twice makes
 * one in-app notification, one outbound webhook (refused once with a 500, retried after the backoff, then
 * acknowledged; its signature verified with the Standard Webhooks library) and one HighLevel workflow trigger call
 * (HighLevel faked with nock as its marketplace docs describe triggers: a subscription call with a `targetUrl`, the app
 * posting the event there — marketplace.gohighlevel.com/docs/marketplace-modules/CustomTriggers). Then a payment
 * recovered, and a usage alert raised once per billing period.
 */
// PGlite migrates a fresh database in beforeAll: on a loaded 2-core machine that alone can take most of 30 s.
jest.setTimeout(90_000);

const COMPANY = 'companyAlerts0000001';
const LOCATION = 'locAlerts00000000001';
const KEY = 'sk_test_alertsKey000000001';
const ACTION_SECRET = 'alerts-workflow-secret-0001-0123456789abcdef';
const LOCATION_TOKEN = 'at-alerts-location-0001';
const RECEIVER = 'https://hooks.agency.example';
const targetUrl = (id: string) => `${HIGHLEVEL_API}/workflows-marketplace/triggers/execute/${LOCATION}/${id}`;

let t: TestService;
let stripe: StripeStub;
let token = '';
let customer = '';
let signingSecret = '';

const api = (method: 'get' | 'put' | 'post', path: string, body?: object) => {
  const req = t.http[method](path).set('authorization', `Bearer ${token}`);
  return body ? req.send(body) : req;
};

/** Posts a Stripe event (a hint: the handler re-reads the invoice) signed with the endpoint's secret. */
async function sendEvent(type: string, object: { id: string; object: string }) {
  const secret = [...stripe.state.webhookEndpoints.values()][0]!.secret as string;
  const payload = JSON.stringify({ id: `evt_${type}_${object.id}`, object: 'event', type, data: { object } });
  return t.http.post(`/webhooks/stripe/${COMPANY}`).set('stripe-signature', Stripe.webhooks.generateTestHeaderString({ payload, secret })).set('content-type', 'application/json').send(payload).expect(200);
}

/** HighLevel's call to the triggers' Subscription URL (CustomTriggers, "Trigger CREATED in workflow"). */
const subscribe = (id: string, key: string, eventType = 'CREATED', url = targetUrl(id)) =>
  t.http
    .post('/highlevel/triggers/subscription')
    .set('authorization', `Bearer ${ACTION_SECRET}`)
    .send({ triggerData: { id, key, filters: [], eventType, targetUrl: url }, meta: { key, version: '1.0' }, extras: { locationId: LOCATION, workflowId: `wf-${id}`, companyId: COMPANY } });

/** What the agency's receiver got: each request's headers and body, verified or not. */
const received: Array<{ headers: Record<string, string>; body: string; verified: unknown }> = [];
function receiver(status: number) {
  return nock(RECEIVER)
    .post('/meterbridge')
    .reply(function (_uri, body) {
      const headers = { 'webhook-id': String(this.req.headers['webhook-id']), 'webhook-timestamp': String(this.req.headers['webhook-timestamp']), 'webhook-signature': String(this.req.headers['webhook-signature']) };
      const raw = typeof body === 'string' ? body : JSON.stringify(body);
      let verified: unknown = null;
      try {
        verified = new Webhook(signingSecret).verify(raw, headers);
      } catch (err) {
        verified = `not verified: ${(err as Error).message}`;
      }
      received.push({ headers, body: raw, verified });
      return [status, status === 200 ? 'ok' : 'temporarily down'];
    });
}

beforeAll(async () => {
  stripe = await startStripeStub();
  t = await startTestService({ ...OAUTH_ENV, STRIPE_API_URL: stripe.url, HIGHLEVEL_WORKFLOW_ACTION_SECRET: ACTION_SECRET });
  await t.service.accounts.registerAgency(COMPANY, 'Alerts Agency');
  await t.service.accounts.registerSubAccount(LOCATION, COMPANY, 'Harbor Dental');
  await t.service.install.completeOAuth(tokenResponse({ userType: 'Location', companyId: COMPANY, locationId: LOCATION, accessToken: LOCATION_TOKEN, refreshToken: 'rt-alerts-0001' }));
  token = (await t.service.sessionTokens.issue({ userId: 'u-alerts', companyId: COMPANY, type: 'agency', role: 'admin', activeLocation: null })).token;
  await api('put', '/api/stripe/connection', { secretKey: KEY }).expect(200);
  await api('put', '/api/pricing/sms', { threshold: 1, price: { currency: 'usd', interval: 'month', unitAmountDecimal: '2' } }).expect(200);
  customer = (await api('put', `/api/sub-accounts/${LOCATION}/customer`, { create: true }).expect(200)).body.stripeCustomerId;
  await api('put', `/api/sub-accounts/${LOCATION}/billing`, { rebillingEnabled: true }).expect(200);
});
afterAll(async () => {
  nock.cleanAll();
  await t.close();
  await stripe.close();
});

describe('alert settings and trigger subscriptions', () => {
  it('when the agency sets its webhook, then the signing secret is shown once and stored sealed', async () => {
    // The API's kinds (zod only, for the page's bundle) are the stored ones.
    expect([...ALERT_KIND_VALUES]).toEqual([...ALERT_KINDS]);
    const saved = (await api('put', '/api/alerts/settings', { webhookUrl: `${RECEIVER}/meterbridge`, webhookEnabled: true, webhookEvents: ['payment_failed', 'payment_recovered', 'usage_threshold'] }).expect(200)).body;
    expect(saved).toMatchObject({ webhookUrl: `${RECEIVER}/meterbridge`, webhookEnabled: true, hasSigningSecret: true, signingSecret: expect.stringMatching(/^whsec_[A-Za-z0-9+/=]{40,}$/) });
    signingSecret = saved.signingSecret;
    const read = (await api('get', '/api/alerts/settings').expect(200)).body;
    expect(read).toEqual({ webhookUrl: `${RECEIVER}/meterbridge`, webhookEnabled: true, webhookEvents: ['payment_failed', 'payment_recovered', 'usage_threshold'], hasSigningSecret: true });
    // Saving again keeps the secret (and does not show it); a plain-http URL is refused, nothing stored.
    expect((await api('put', '/api/alerts/settings', { ...read, hasSigningSecret: undefined }).expect(200)).body.signingSecret).toBeUndefined();
    const refused = await api('put', '/api/alerts/settings', { webhookUrl: 'http://hooks.agency.example/x', webhookEnabled: true, webhookEvents: ['payment_failed'] }).expect(400);
    expect(refused.body.error.code).toBe('invalid_alert_settings');
    expect((await api('get', '/api/alerts/settings').expect(200)).body.webhookUrl).toBe(`${RECEIVER}/meterbridge`);
    const [stored] = await selectRows<{ secret: string }>(t.database.db, sql`select webhook_secret as secret from alert_settings where company_id = ${COMPANY}`);
    expect(stored!.secret).toMatch(/^v1\./);
    expect(stored!.secret).not.toContain(signingSecret.slice(6));
  });

  it('when HighLevel subscribes a workflow to a trigger, then only its own calls to its own host are taken', async () => {
    expect((await subscribe('trig-failed', 'meterbridge_payment_failed').expect(200)).body).toEqual({ status: 'subscribed', id: 'trig-failed' });
    await subscribe('trig-recovered', 'meterbridge_payment_recovered').expect(200);
    expect((await subscribe('trig-x', 'meterbridge_payment_failed', 'CREATED', 'https://evil.example/steal').expect(400)).body.error.code).toBe('invalid_trigger_subscription');
    expect((await subscribe('trig-y', 'not_ours').expect(400)).body.error.code).toBe('invalid_trigger_subscription');
    await t.http.post('/highlevel/triggers/subscription').set('authorization', 'Bearer wrong').send({}).expect(401);
    // A workflow that adds then removes the trigger is no longer called.
    await subscribe('trig-gone', 'meterbridge_payment_failed').expect(200);
    expect((await subscribe('trig-gone', 'meterbridge_payment_failed', 'DELETED').expect(200)).body).toEqual({ status: 'unsubscribed', id: 'trig-gone' });
  });
});

describe('a failed payment alerts through all three channels exactly once', () => {
  let invoiceId = '';
  let now = new Date();

  it('when Stripe delivers invoice.payment_failed twice, then one notification and one delivery per channel are written', async () => {
    const invoice = stripe.seedInvoice({
      customer, status: 'open', number: 'INV-ALERT-1', amount_due: 4200, attempt_count: 1, next_payment_attempt: Math.floor(Date.UTC(2026, 11, 9, 12) / 1000),
      hosted_invoice_url: 'https://invoice.stripe.com/i/acct_test/alerts',
      payments: { data: [{ id: 'inpay_a', object: 'invoice_payment', created: 1, status: 'open', payment: { type: 'payment_intent', payment_intent: { id: 'pi_a', object: 'payment_intent', status: 'requires_payment_method', last_payment_error: { code: 'card_declined', decline_code: 'insufficient_funds', message: 'Your card has insufficient funds.' } } } }] },
    });
    invoiceId = invoice.id;
    await sendEvent('invoice.payment_failed', { id: invoice.id, object: 'invoice' });
    await sendEvent('invoice.payment_failed', { id: invoice.id, object: 'invoice' });

    const list = (await api('get', '/api/alerts').expect(200)).body;
    expect(list.unread).toBe(1);
    expect(list.items).toEqual([
      expect.objectContaining({ kind: 'payment_failed', locationId: LOCATION, subAccountName: 'Harbor Dental', read: false, title: 'Payment failed: Harbor Dental', message: expect.stringContaining('Your card has insufficient funds.') }),
    ]);
    expect((await api('get', '/api/alerts/unread-count').expect(200)).body).toEqual({ unread: 1 });
    const log = (await api('get', '/api/alerts/deliveries').expect(200)).body.items;
    expect(log.map((d: { channel: string; status: string; target: string }) => [d.channel, d.status, d.target]).sort()).toEqual([
      ['highlevel_trigger', 'pending', targetUrl('trig-failed')],
      ['webhook', 'pending', `${RECEIVER}/meterbridge`],
    ]);
  });

  it('when the receiver answers 500, then the webhook is retried after the backoff until a 2xx, verifiable with Standard Webhooks; the trigger is called once', async () => {
    now = new Date();
    const trigger = nock(HIGHLEVEL_API, { reqheaders: { authorization: `Bearer ${LOCATION_TOKEN}`, version: '2021-07-28' } })
      .post(`/workflows-marketplace/triggers/execute/${LOCATION}/trig-failed`, (body) => body.kind === 'payment_failed' && body.invoiceId === invoiceId && body.amountDueCents === 4200)
      .reply(200, { ok: true });
    const down = receiver(500);
    expect(await t.service.alerts.delivery.deliverDue(now)).toEqual({ delivered: 1, retrying: 1, failed: 0 });
    expect(trigger.isDone() && down.isDone()).toBe(true);
    let webhook = (await api('get', '/api/alerts/deliveries').expect(200)).body.items.find((d: { channel: string }) => d.channel === 'webhook');
    expect(webhook).toMatchObject({ status: 'pending', attempts: 1, lastStatusCode: 500, nextAttemptAt: new Date(now.getTime() + 60_000).toISOString() });

    // Not due before the backoff has passed: nothing is sent.
    expect(await t.service.alerts.delivery.deliverDue(new Date(now.getTime() + 30_000))).toEqual({ delivered: 0, retrying: 0, failed: 0 });
    const up = receiver(200);
    expect(await t.service.alerts.delivery.deliverDue(new Date(now.getTime() + 61_000))).toEqual({ delivered: 1, retrying: 0, failed: 0 });
    expect(up.isDone()).toBe(true);
    webhook = (await api('get', '/api/alerts/deliveries').expect(200)).body.items.find((d: { channel: string }) => d.channel === 'webhook');
    expect(webhook).toMatchObject({ status: 'delivered', attempts: 2, lastStatusCode: 200, nextAttemptAt: null });

    const [alert] = (await api('get', '/api/alerts').expect(200)).body.items;
    expect(received).toHaveLength(2);
    expect(received.map((r) => r.headers['webhook-id'])).toEqual([alert.id, alert.id]);
    for (const r of received) {
      expect(r.verified).toMatchObject({ type: 'payment.failed', data: { alertId: alert.id, kind: 'payment_failed', locationId: LOCATION, invoiceId, attemptCount: 1, declineCode: 'insufficient_funds' } });
    }
    // A tampered body does not verify.
    expect(() => new Webhook(signingSecret).verify(received[1]!.body.replace('4200', '1'), received[1]!.headers)).toThrow();
    // Everything acknowledged: later runs send nothing more.
    expect(await t.service.alerts.delivery.deliverDue(new Date(now.getTime() + 86_400_000))).toEqual({ delivered: 0, retrying: 0, failed: 0 });
  });

  it('when the invoice is paid, then "payment recovered" reaches the list, the webhook and its own trigger', async () => {
    stripe.state.invoices.get(invoiceId)!.status = 'paid';
    await sendEvent('invoice.paid', { id: invoiceId, object: 'invoice' });
    await sendEvent('invoice.paid', { id: invoiceId, object: 'invoice' });
    const list = (await api('get', '/api/alerts').expect(200)).body;
    expect(list.items.map((a: { kind: string }) => a.kind)).toEqual(['payment_recovered', 'payment_failed']);
    const trigger = nock(HIGHLEVEL_API).post(`/workflows-marketplace/triggers/execute/${LOCATION}/trig-recovered`, (body) => body.kind === 'payment_recovered').reply(200, {});
    const up = receiver(200);
    expect(await t.service.alerts.delivery.deliverDue(new Date(now.getTime() + 90_000))).toEqual({ delivered: 2, retrying: 0, failed: 0 });
    expect(trigger.isDone() && up.isDone()).toBe(true);
    expect(received.at(-1)!.verified).toMatchObject({ type: 'payment.recovered', data: { invoiceId } });
  });

  it('when a payment waits for the client’s authentication, then "action required" is alerted once and fires the Payment failed trigger', async () => {
    const invoice = stripe.seedInvoice({
      customer, status: 'open', number: 'INV-ALERT-2', amount_due: 900, attempt_count: 1, next_payment_attempt: null, hosted_invoice_url: 'https://invoice.stripe.com/i/acct_test/sca',
      payments: { data: [{ id: 'inpay_sca', object: 'invoice_payment', created: 1, status: 'open', payment: { type: 'payment_intent', payment_intent: { id: 'pi_sca', object: 'payment_intent', status: 'requires_action', last_payment_error: null } } }] },
    });
    await sendEvent('invoice.payment_action_required', { id: invoice.id, object: 'invoice' });
    await sendEvent('invoice.payment_action_required', { id: invoice.id, object: 'invoice' });
    const [latest] = (await api('get', '/api/alerts').expect(200)).body.items;
    expect(latest).toMatchObject({ kind: 'payment_action_required', title: 'Payment needs the client’s action: Harbor Dental' });
    // Not among the webhook's chosen events: only the workflow trigger (Payment failed, status action_required) gets it.
    const trigger = nock(HIGHLEVEL_API).post(`/workflows-marketplace/triggers/execute/${LOCATION}/trig-failed`, (body) => body.status === 'action_required' && body.hostedInvoiceUrl === 'https://invoice.stripe.com/i/acct_test/sca').reply(200, {});
    expect(await t.service.alerts.delivery.deliverDue(new Date(now.getTime() + 120_000))).toEqual({ delivered: 1, retrying: 0, failed: 0 });
    expect(trigger.isDone()).toBe(true);
    // Paid: back to ok, "payment recovered" for this invoice.
    stripe.state.invoices.get(invoice.id)!.status = 'paid';
    await sendEvent('invoice.paid', { id: invoice.id, object: 'invoice' });
    expect((await api('get', '/api/alerts').expect(200)).body.items[0]).toMatchObject({ kind: 'payment_recovered' });
    nock(HIGHLEVEL_API).post(`/workflows-marketplace/triggers/execute/${LOCATION}/trig-recovered`).reply(200, {});
    receiver(200);
    expect(await t.service.alerts.delivery.deliverDue(new Date(now.getTime() + 150_000))).toEqual({ delivered: 2, retrying: 0, failed: 0 });
  });

  it('when the agency marks a notification read, then the count drops; "mark all read" clears it', async () => {
    const [recovered] = (await api('get', '/api/alerts?unread=true').expect(200)).body.items;
    expect((await api('post', `/api/alerts/${recovered.id}/read`).expect(200)).body).toEqual({ unread: 3 });
    expect((await api('post', '/api/alerts/not-an-id/read').expect(404)).body.error.code).toBe('not_found');
    expect((await api('post', '/api/alerts/read-all').expect(200)).body).toEqual({ unread: 0 });
    expect((await api('get', '/api/alerts?unread=true').expect(200)).body.items).toEqual([]);
  });
});

describe('usage alerts', () => {
  it('when a sub-account’s usage crosses its threshold, then it is alerted once in the period, and its override wins over the default', async () => {
    await api('put', '/api/alerts/usage-thresholds', { locationId: null, metric: 'sms', limit: '100' }).expect(200);
    const set = (await api('put', '/api/alerts/usage-thresholds', { locationId: LOCATION, metric: 'sms', limit: '2' }).expect(200)).body;
    expect(set.items).toEqual([{ locationId: LOCATION, metric: 'sms', limit: '2' }, { locationId: null, metric: 'sms', limit: '100' }]);
    const hook = receiver(200);
    // An SMS sent now (this billing period), one segment each.
    const sms = (n: number) => {
      const at = new Date().toISOString();
      return t.postSigned({ ...fixture('sms-outbound'), locationId: LOCATION, webhookId: `alerts-sms-${n}`, messageId: `alertsSms${n}`, dateAdded: at, timestamp: at }).expect(200);
    };

    await sms(1);
    expect(await t.service.alerts.checks.checkUsage()).toMatchObject({ raised: 0 });
    await sms(2);
    expect(await t.service.alerts.checks.checkUsage()).toMatchObject({ raised: 1 });
    await sms(3);
    expect(await t.service.alerts.checks.checkUsage()).toMatchObject({ raised: 0 });

    const usage = (await api('get', '/api/alerts').expect(200)).body.items.filter((a: { kind: string }) => a.kind === 'usage_threshold');
    const message = 'Usage this period reached 2 SMS messages, over the alert threshold of 2 SMS messages.';
    expect(usage).toEqual([expect.objectContaining({ title: 'Usage alert: Harbor Dental', message })]);
    expect(await t.service.alerts.delivery.deliverDue(new Date(Date.now() + 1000))).toMatchObject({ delivered: 1 });
    expect(hook.isDone()).toBe(true);
    // The webhook's message is in words; its data keeps the metric's key for machines.
    expect(received.at(-1)!.verified).toMatchObject({ type: 'usage.threshold_crossed', data: { metric: 'sms', threshold: '2', message } });
  });
});

describe('operations alerts', () => {
  it('when Stripe rejects a meter batch and a reconciliation finds drift, then each is alerted once', async () => {
    // The states as their owners store them: a batch marked rejected from Stripe's error report, a finished run with drift.
    await t.database.db.execute(sql`insert into meter_batches (company_id, stripe_customer_id, meter_event_name, identifier, value, timestamp, status, rejected_code, last_error)
      values (${COMPANY}, ${customer}, 'meterbridge_sms', 'alerts-rejected-1', 7, 1764000000, 'rejected', 'meter_event_customer_not_found', 'No customer with this id.')`);
    // The run repaired 3 SMS and 2 SEO reports (a custom metric): told per metric by label, never "5 units".
    await api('post', '/api/custom-metrics', { key: 'seo_reports', label: 'SEO reports', unit: 'report' }).expect(201);
    await api('put', '/api/pricing/seo_reports', { threshold: 1, price: { currency: 'usd', interval: 'month', unitAmountDecimal: '500' } }).expect(200);
    await t.database.db.execute(sql`with run as (
        insert into reconciliation_runs (company_id, trigger, status, settled_before, windows_from, pairs_checked, pairs_with_drift, missing_units, corrected_units, finished_at)
        values (${COMPANY}, 'scheduled', 'completed', now(), now() - interval '1 day', 3, 2, 5, 5, now()) returning id)
      insert into reconciliation_pairs (run_id, company_id, location_id, stripe_customer_id, meter_event_name, status, windows_checked, our_units, stripe_units, missing_units, corrected_units)
      select id, ${COMPANY}, ${LOCATION}, ${customer}, m.name, 'corrected', 1, m.units, 0, m.units, m.units
      from run, (values ('meterbridge_sms', 3), ('meterbridge_seo_reports', 2)) as m(name, units)`);
    expect(await t.service.alerts.checks.sweepOperations()).toEqual({ checked: 2, raised: 2 });
    expect(await t.service.alerts.checks.sweepOperations()).toEqual({ checked: 0, raised: 0 });
    const items = (await api('get', '/api/alerts').expect(200)).body.items;
    expect(items.find((a: { kind: string }) => a.kind === 'meter_batch_rejected')).toMatchObject({ locationId: LOCATION, title: 'Meter batch rejected: Harbor Dental', message: expect.stringMatching(/^Stripe rejected 7 units of SMS messages \(meter "meterbridge_sms"\) \(meter_event_customer_not_found\): No customer with this id\./) });
    const drift = items.find((a: { kind: string }) => a.kind === 'reconciliation_drift');
    expect(drift).toMatchObject({ locationId: null, message: expect.stringMatching(/^Run \d+ found 2 customer × meter pairs differing from Stripe\. SEO reports: 2 missing, 2 repaired\. SMS messages: 3 missing, 3 repaired\. /) });
    expect(drift.message).not.toMatch(/\b5\b|seo_reports|meterbridge_/);
  });
});

describe('giving up', () => {
  it('when a webhook is refused on every attempt, then the backoff doubles up to its cap and the delivery is given up after the last attempt', async () => {
    await t.service.accounts.registerSubAccount('locAlertsGiveUp00001', COMPANY, 'Cedar Clinic');
    const raised = await raiseAlert(t.database.db, { companyId: COMPANY, locationId: 'locAlertsGiveUp00001', kind: 'payment_failed', dedupeKey: 'give-up-1', title: 'Payment failed: Cedar Clinic', message: 'x', data: {} });
    expect(raised).toMatchObject({ created: true, deliveries: 1 });
    // A second on: the delivery is first due at the database's now(), in microseconds, which can fall after
    // Date.now() within the same millisecond (then nothing is due yet).
    let at = Date.now() + 1000;
    const gaps: number[] = [];
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt += 1) {
      nock(RECEIVER).post('/meterbridge').reply(503, 'no');
      const run = await t.service.alerts.delivery.deliverDue(new Date(at));
      expect(run).toEqual(attempt < MAX_ATTEMPTS ? { delivered: 0, retrying: 1, failed: 0 } : { delivered: 0, retrying: 0, failed: 1 });
      const row = (await api('get', '/api/alerts/deliveries').expect(200)).body.items.find((d: { alertId: string }) => d.alertId === raised.id);
      if (row.nextAttemptAt) {
        gaps.push((Date.parse(row.nextAttemptAt) - at) / 1000);
        at = Date.parse(row.nextAttemptAt);
      } else expect(row).toMatchObject({ status: 'failed', attempts: MAX_ATTEMPTS, lastStatusCode: 503 });
    }
    expect(gaps.slice(0, 4)).toEqual([60, 120, 240, 480]);
    expect(Math.max(...gaps)).toBe(6 * 3600);
    expect(await t.service.alerts.delivery.deliverDue(new Date(at + 86_400_000))).toEqual({ delivered: 0, retrying: 0, failed: 0 });
  });
});
