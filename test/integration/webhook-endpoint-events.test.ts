import { Writable } from 'node:stream';
import { eq } from 'drizzle-orm';
import pino from 'pino';
import Stripe from 'stripe';
import { agencies } from '../../models/schema';
import { WEBHOOK_EVENTS_JOB } from '../../server/billing-setup/webhook-endpoint-sync';
import { ENABLED_WEBHOOK_EVENTS, webhookEventsApplied } from '../../server/billing-setup/webhook-endpoint';
import { startStripeStub, type StripeStub } from '../support/stripe-stub';
import { startTestService, type TestService } from '../support/test-service';
import { until } from '../support/until';

/**
 * The `stripe-webhook-events` job: an agency's webhook endpoint made with an older event list is updated in Stripe
 * (POST /v1/webhook_endpoints/{id}) once, at start and then hourly; an agency already current costs no call; an
 * endpoint deleted in Stripe is made again with a new signing secret; any other refusal is left for the next run and
 * stops nothing. The app is booted through its composition root; only Stripe's HTTP is the double.
 */
const COMPANY = 'companyWebhookEvents01';
const KEY = 'sk_test_webhookEventsKey00001';
/** The list endpoints were made with before the stored cards: no payment_method.*, no setup_intent.succeeded. */
const OLD_EVENTS = ENABLED_WEBHOOK_EVENTS.filter((e) => !e.startsWith('payment_method.') && e !== 'setup_intent.succeeded');

let t: TestService;
let stripe: StripeStub;
const logLines: string[] = [];

const agencyRow = async (companyId = COMPANY) => (await t.service.database.db.select().from(agencies).where(eq(agencies.companyId, companyId)))[0]!;
/** Requests to one webhook endpoint (update, retrieve, delete) and creations, as the double logged them. */
const endpointCalls = () => stripe.requestLog.filter((r) => r.path.startsWith('/v1/webhook_endpoints'));
const runJob = () => t.service.scheduler.runNow(WEBHOOK_EVENTS_JOB);

/** The agency's endpoint as it was before this change: the old list in Stripe, nothing recorded. */
async function endpointFromBefore(): Promise<string> {
  const { stripeWebhookEndpointId: id } = await agencyRow();
  stripe.state.webhookEndpoints.get(id!)!.enabled_events = [...OLD_EVENTS];
  await t.service.database.db.update(agencies).set({ stripeWebhookEvents: null }).where(eq(agencies.companyId, COMPANY));
  stripe.requestLog.length = 0;
  return id!;
}

/** Posts an event nobody acts on, signed with `secret`, to the agency's webhook URL. @returns the HTTP status. */
async function signedEventStatus(secret: string): Promise<number> {
  const payload = JSON.stringify({ id: 'evt_charge_1', object: 'event', type: 'charge.succeeded', data: { object: { id: 'ch_1', object: 'charge' } } });
  const res = await t.http
    .post(`/webhooks/stripe/${COMPANY}`)
    .set('stripe-signature', Stripe.webhooks.generateTestHeaderString({ payload, secret }))
    .set('content-type', 'application/json')
    .send(payload);
  return res.status;
}

beforeAll(async () => {
  stripe = await startStripeStub();
  const sink = new Writable({ write: (chunk, _enc, done) => (logLines.push(String(chunk)), done()) });
  t = await startTestService({ STRIPE_API_URL: stripe.url }, { logger: pino({ level: 'warn' }, sink) });
  await t.service.stripeConnection.connect(COMPANY, KEY);
});
afterAll(async () => {
  await t.close();
  await stripe.close();
});

describe('stripe-webhook-events job', () => {
  it('when the service starts while Stripe answers 500, then the boot goes on and the endpoint is left for the next run', async () => {
    const id = await endpointFromBefore();
    stripe.apiFaults.push({ method: 'POST', path: `/v1/webhook_endpoints/${id}`, status: 500, error: { message: 'Stripe is having a moment.' } });
    t.service.start();
    await until(() => endpointCalls().some((r) => r.status === 500));
    await t.http.get('/healthz').expect(200);
    expect((await agencyRow()).stripeWebhookEvents).toBeNull();
    expect(stripe.state.webhookEndpoints.get(id)!.enabled_events).toEqual(OLD_EVENTS);
    await until(() => logLines.some((l) => l.includes('could not update the Stripe webhook endpoint events')));
    const logged = logLines.find((l) => l.includes('could not update the Stripe webhook endpoint events'))!;
    expect(JSON.parse(logged)).toMatchObject({ companyId: COMPANY, endpointId: id, status: 500, reason: 'Stripe is having a moment.' });
    expect(logLines.join('\n')).not.toContain(KEY);
  });

  it('when an endpoint has the old list, then one update sends the full current list and the agency is recorded as current', async () => {
    const id = await endpointFromBefore();
    expect(await runJob()).toBe(true);
    expect(endpointCalls().map((r) => [r.method, r.path, r.status])).toEqual([['POST', `/v1/webhook_endpoints/${id}`, 200]]);
    expect(endpointCalls()[0]!.params.enabled_events).toEqual(ENABLED_WEBHOOK_EVENTS);
    const endpoint = stripe.state.webhookEndpoints.get(id)!;
    expect(endpoint.enabled_events).toEqual(ENABLED_WEBHOOK_EVENTS);
    expect(endpoint.enabled_events).toEqual(expect.arrayContaining(['payment_method.attached', 'payment_method.detached', 'setup_intent.succeeded']));
    expect((await agencyRow()).stripeWebhookEvents).toBe(webhookEventsApplied());
  });

  it('when every endpoint is current (one updated, one connected since), then a run makes no Stripe call', async () => {
    await t.service.stripeConnection.connect('companyWebhookEvents02', 'sk_test_webhookEventsKey00002');
    expect((await agencyRow('companyWebhookEvents02')).stripeWebhookEvents).toBe(webhookEventsApplied());
    stripe.requestLog.length = 0;
    expect(await runJob()).toBe(true);
    expect(endpointCalls()).toEqual([]);
  });

  it('when the owner deleted the endpoint in the Dashboard (404), then a new one is made and its new secret verifies events', async () => {
    const oldId = await endpointFromBefore();
    const oldSecret = stripe.state.webhookEndpoints.get(oldId)!.secret as string;
    stripe.state.webhookEndpoints.delete(oldId);
    expect(await runJob()).toBe(true);
    const [update, create] = endpointCalls();
    expect([update!.method, update!.path, update!.status]).toEqual(['POST', `/v1/webhook_endpoints/${oldId}`, 404]);
    expect([create!.method, create!.path, create!.status]).toEqual(['POST', '/v1/webhook_endpoints', 200]);
    const row = await agencyRow();
    expect(row.stripeWebhookEndpointId).not.toBe(oldId);
    const created = stripe.state.webhookEndpoints.get(row.stripeWebhookEndpointId!)!;
    expect(created).toMatchObject({ url: `${t.service.config.appUrl}/webhooks/stripe/${COMPANY}`, enabled_events: ENABLED_WEBHOOK_EVENTS });
    expect(row.stripeWebhookEvents).toBe(webhookEventsApplied());
    expect(row.stripeWebhookSecret).not.toContain('whsec_'); // sealed
    expect(await signedEventStatus(created.secret as string)).toBe(200);
    expect(await signedEventStatus(oldSecret)).toBe(401);
  });

  it('when Stripe refuses the update (429), then the run goes on, nothing is recorded, and the next run updates it', async () => {
    const id = await endpointFromBefore();
    stripe.apiFaults.push({ method: 'POST', path: `/v1/webhook_endpoints/${id}`, status: 429, error: { type: 'invalid_request_error', code: 'rate_limit', message: 'Too many requests.' } });
    expect(await runJob()).toBe(true);
    expect((await agencyRow()).stripeWebhookEvents).toBeNull();
    expect(await runJob()).toBe(true);
    expect(endpointCalls().map((r) => r.status)).toEqual([429, 200]);
    expect(stripe.state.webhookEndpoints.get(id)!.enabled_events).toEqual(ENABLED_WEBHOOK_EVENTS);
    expect((await agencyRow()).stripeWebhookEvents).toBe(webhookEventsApplied());
  });
});
