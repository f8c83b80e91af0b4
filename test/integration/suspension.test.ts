import { sql } from 'drizzle-orm';
import nock from 'nock';
import { selectRows } from '../../models/database';
import { formBatches } from '../../server/stripe/meter-batch-repository';
import { createSecretBox } from '../../server/crypto/secret-box';
import { upsertInstallation } from '../../server/highlevel/installation-repository';
import { drainReporter } from '../support/billing';
import { HIGHLEVEL_API } from '../support/highlevel-oauth';
import { setUpPaymentsAgency, type PaymentsAgency } from '../support/payments';
import { startStripeStub, type StripeStub } from '../support/stripe-stub';
import { startTestService, TEST_ENCRYPTION_KEY, type TestService } from '../support/test-service';

/**
 * Issue 16 item 6, the suspension policy, against the Stripe double and a HighLevel fake (nock): after N failed
 * payment attempts (Stripe's `attempt_count`, re-read from the invoice on each `invoice.payment_failed`) or a
 * subscription canceled for non-payment, usage is held (not sent to Stripe) and the sub-account is paused in
 * HighLevel with HighLevel's documented call — `POST /saas/pause/{locationId}`, `Version: 2021-04-15`, body
 * `{ paused, companyId }` (GoHighLevel/highlevel-api-docs apps/saas-api.json, operation pause-location), the agency's
 * token; `invoice.paid` resumes it there and the held usage is billed, dated at the resume. HighLevel's refusal is
 * shown with its message, and billing stays stopped.
 */
const COMPANY = 'coSuspension0001';
const LOC = 'locSuspension0001';
const LOC_REFUSED = 'locSuspension0002';
const LOC_CANCELED = 'locSuspension0003';
const COMPANY_TOKEN = 'at-company-suspension';
const HOSTED = 'https://invoice.stripe.com/i/acct_test/suspension';

let t: TestService;
let stripe: StripeStub;
let agency: PaymentsAgency;
const customers: Record<string, string> = {};
const box = createSecretBox(Buffer.from(TEST_ENCRYPTION_KEY, 'base64'));

const as = (method: 'get' | 'put' | 'post', path: string, token = agency.agencyToken) => t.http[method](path).set('authorization', `Bearer ${token}`);
const state = async (locationId: string) => (await as('get', `/api/sub-accounts/${locationId}/suspension`).expect(200)).body;
const metered = (locationId: string) => stripe.events.filter((e) => e.customer === customers[locationId]);

/** The sub-account's meter reports counted by status, e.g. `{ held: 1 }`. */
async function statuses(locationId: string): Promise<Record<string, number>> {
  const rows = await selectRows<{ status: string; n: number }>(t.database.db, sql`select status, count(*)::int as n from meter_reports where location_id = ${locationId} group by status`);
  return Object.fromEntries(rows.map((r) => [r.status, r.n]));
}

/** HighLevel's pause endpoint, answering `status`; the request must be exactly the documented one. */
const highLevelPause = (locationId: string, paused: boolean, status = 201, body: nock.Body = {}) =>
  nock(HIGHLEVEL_API, { reqheaders: { version: '2021-04-15', authorization: `Bearer ${COMPANY_TOKEN}`, 'content-type': /application\/json/ } })
    .post(`/saas/pause/${locationId}`, { paused, companyId: COMPANY })
    .reply(status, body);

/** An open invoice of the sub-account whose payment Stripe has attempted `attempts` times, all declined. */
function unpaidInvoice(locationId: string, attempts: number) {
  return stripe.seedInvoice({
    customer: customers[locationId]!,
    status: 'open',
    number: `INV-SUSP-${locationId.slice(-4)}`,
    amount_due: 4900,
    attempt_count: attempts,
    next_payment_attempt: Math.floor(Date.now() / 1000) + 3 * 86_400,
    hosted_invoice_url: HOSTED,
    payments: { data: [{ id: `inpay_${locationId}`, object: 'invoice_payment', created: 1, status: 'open', payment: { type: 'payment_intent', payment_intent: { id: `pi_${locationId}`, object: 'payment_intent', status: 'requires_payment_method', last_payment_error: { code: 'card_declined', decline_code: 'insufficient_funds', message: 'Your card has insufficient funds.' } } } }] },
  });
}

/** Stripe retried and failed again: the invoice now says `attempts`, and the event is sent. */
async function failedAttempt(invoiceId: string, attempts: number) {
  stripe.state.invoices.get(invoiceId)!.attempt_count = attempts;
  await agency.sendEvent('invoice.payment_failed', { id: invoiceId, object: 'invoice' });
}

beforeAll(async () => {
  stripe = await startStripeStub();
  t = await startTestService({ STRIPE_API_URL: stripe.url, REPORTER_RETRY_BASE_SECONDS: '0' });
  agency = await setUpPaymentsAgency(t, stripe, COMPANY);
  await upsertInstallation(t.database.db, {
    companyId: COMPANY, locationId: null, userType: 'Company', userId: null, accessToken: box.seal(COMPANY_TOKEN), refreshToken: box.seal('refresh-suspension'),
    scopes: 'oauth.readonly saas/company.read saas/company.write', expiresAt: new Date(Date.now() + 86_400_000), isBulkInstallation: true, source: 'oauth',
  });
  for (const [locationId, name] of [[LOC, 'Harbor Dental'], [LOC_REFUSED, 'Pine Realty'], [LOC_CANCELED, 'Bay Plumbing']] as const) {
    customers[locationId] = await agency.addSubAccount(locationId, name);
    await as('put', `/api/sub-accounts/${locationId}/billing`).send({ subscription: {} }).expect(200);
  }
}, 120_000);
afterAll(async () => {
  nock.cleanAll();
  await t.close();
  await stripe.close();
});
afterEach(() => {
  const pending = nock.pendingMocks();
  nock.cleanAll();
  expect(pending).toEqual([]);
});

describe('suspension policy', () => {
  it('when the agency has not chosen, then the policy is off and failed payments suspend nothing', async () => {
    expect((await as('get', '/api/suspension/settings').expect(200)).body).toEqual({ policy: 'off', afterAttempts: 3, highLevelPauseScope: true });
    const invoice = unpaidInvoice(LOC, 5);
    await failedAttempt(invoice.id as string, 5);
    expect(await state(LOC)).toEqual({ locationId: LOC, policy: 'off', suspension: null });
    stripe.state.invoices.get(invoice.id as string)!.status = 'paid';
    await agency.sendEvent('invoice.paid', { id: invoice.id as string, object: 'invoice' });
  });

  it('when a setting is out of range, then 400 and nothing is stored; a sub-account user cannot change it', async () => {
    await as('put', '/api/suspension/settings').send({ policy: 'stop_billing', afterAttempts: 11 }).expect(400);
    await as('put', '/api/suspension/settings').send({ policy: 'pause', afterAttempts: 2 }).expect(400);
    await as('put', '/api/suspension/settings', await agency.clientToken(LOC)).send({ policy: 'stop_billing', afterAttempts: 2 }).expect(403);
    expect((await as('get', '/api/suspension/settings').expect(200)).body.policy).toBe('off');
    const saved = await as('put', '/api/suspension/settings').send({ policy: 'stop_billing_and_pause', afterAttempts: 3 }).expect(200);
    expect(saved.body).toEqual({ policy: 'stop_billing_and_pause', afterAttempts: 3, highLevelPauseScope: true });
  });

  it('when the third attempt fails, then HighLevel is asked to pause the sub-account with the documented call, and usage is held, not sent', async () => {
    const invoice = unpaidInvoice(LOC, 1);
    await failedAttempt(invoice.id as string, 1);
    await failedAttempt(invoice.id as string, 2);
    expect((await state(LOC)).suspension).toBeNull();

    const pause = highLevelPause(LOC, true);
    await failedAttempt(invoice.id as string, 3);
    expect(pause.isDone()).toBe(true);
    const s = (await state(LOC)).suspension;
    expect(s).toMatchObject({
      active: true, trigger: 'payment_failed', invoiceId: invoice.id, hostedInvoiceUrl: HOSTED, attemptCount: 3,
      highLevel: { requested: true, state: 'paused', error: null }, resumedAt: null });
    expect(s.summary).toMatch(/^Suspended for non-payment since \d{4}-\d\d-\d\d \d\d:\d\d UTC \(3 failed payment attempts\)/);

    // A fourth failure changes nothing: HighLevel is not asked again (no second nock).
    await failedAttempt(invoice.id as string, 4);

    const before = metered(LOC).length;
    await agency.recordSms(LOC, 2);
    await t.service.pipeline.drain();
    // A crossing committed after a reporter's hold step is not batched by it either: it waits for the next hold.
    expect(await statuses(LOC)).toEqual({ pending: 1 });
    expect(await formBatches(t.database.db)).toBe(0);
    await drainReporter(t.service);
    expect(await statuses(LOC)).toMatchObject({ held: 1 });
    expect(metered(LOC).length).toBe(before);
    const payments = (await as('get', `/api/sub-accounts/${LOC}/payments`).expect(200)).body;
    expect(payments.held).toMatchObject({ metrics: [{ metric: 'sms', units: 2, reason: expect.stringMatching(/^Suspended for non-payment since .* billed once the invoice is paid/) }] });
    const list = (await as('get', '/api/suspensions').expect(200)).body.items;
    expect(list.map((i: { locationId: string }) => i.locationId)).toEqual([LOC]);

    // The client's own view reads the same state, with the link to pay.
    const client = (await as('get', `/api/sub-accounts/${LOC}/suspension`, await agency.clientToken(LOC, false)).expect(200)).body;
    expect(client.suspension).toMatchObject({ active: true, hostedInvoiceUrl: HOSTED });
  });

  it('when the invoice is paid, then HighLevel is asked to resume it and the held usage is billed, dated at the resume', async () => {
    const invoiceId = (await state(LOC)).suspension.invoiceId as string;
    const resume = highLevelPause(LOC, false);
    stripe.state.invoices.get(invoiceId)!.status = 'paid';
    const paidAt = Math.floor(Date.now() / 1000);
    await agency.sendEvent('invoice.paid', { id: invoiceId, object: 'invoice' });
    expect(resume.isDone()).toBe(true);
    expect((await state(LOC)).suspension).toMatchObject({ active: false, resumedBy: 'invoice_paid', highLevel: { state: 'resumed', error: null } });

    const before = metered(LOC).length;
    await drainReporter(t.service);
    const sent = metered(LOC).slice(before);
    expect(sent.reduce((sum, e) => sum + Number(e.value), 0)).toBe(2);
    for (const e of sent) expect(e.timestamp).toBeGreaterThanOrEqual(paidAt);
    expect((await as('get', `/api/sub-accounts/${LOC}/payments`).expect(200)).body.held.metrics).toEqual([]);
    expect((await as('get', '/api/suspensions').expect(200)).body.items).toEqual([]);
  });

  it('when HighLevel refuses the pause (403, no Agency Pro), then its message is shown on the sub-account and billing still stops; Resume now ends it', async () => {
    const invoice = unpaidInvoice(LOC_REFUSED, 3);
    const refused = highLevelPause(LOC_REFUSED, true, 403, { statusCode: 403, message: 'The SaaS API is available on the Agency Pro plan' });
    await failedAttempt(invoice.id as string, 3);
    expect(refused.isDone()).toBe(true);
    const s = (await state(LOC_REFUSED)).suspension;
    expect(s).toMatchObject({ active: true, highLevel: { state: 'pause_failed', error: `POST /saas/pause/${LOC_REFUSED}: The SaaS API is available on the Agency Pro plan` } });
    const listed = (await as('get', '/api/suspensions').expect(200)).body.items;
    expect(listed).toEqual([expect.objectContaining({ locationId: LOC_REFUSED, highLevel: expect.objectContaining({ error: expect.stringContaining('Agency Pro') }) })]);

    const before = metered(LOC_REFUSED).length;
    await agency.recordSms(LOC_REFUSED, 1);
    await drainReporter(t.service);
    expect(metered(LOC_REFUSED).length).toBe(before);

    // Only an agency admin resumes by hand; HighLevel never paused it, so it is not asked to resume.
    const viewer = (await t.service.sessionTokens.issue({ userId: 'u-viewer', companyId: COMPANY, type: 'agency', role: 'user', activeLocation: null })).token;
    await as('post', `/api/sub-accounts/${LOC_REFUSED}/suspension/resume`, viewer).expect(403);
    const resumed = (await as('post', `/api/sub-accounts/${LOC_REFUSED}/suspension/resume`).expect(200)).body;
    expect(resumed.suspension).toMatchObject({ active: false, resumedBy: 'manual' });
    await drainReporter(t.service);
    expect(metered(LOC_REFUSED).length).toBe(before + 1);
    const audit = (await as('get', '/api/audit-log?action=sub_account.suspension_resumed').expect(200)).body;
    expect(JSON.stringify(audit)).toContain(LOC_REFUSED);

    // The same unpaid invoice failing again does not suspend it again: the admin chose to wait for it.
    await failedAttempt(invoice.id as string, 4);
    expect((await state(LOC_REFUSED)).suspension.active).toBe(false);
  });

  it('when Stripe cancels the subscription for non-payment, then the sub-account is suspended and paused, its usage still counted and held; paying resumes it', async () => {
    const subscriptionId = (await as('get', `/api/sub-accounts/${LOC_CANCELED}`).expect(200)).body.stripeSubscriptionId as string;
    const invoice = unpaidInvoice(LOC_CANCELED, 4);
    const sub = stripe.state.subscriptions.get(subscriptionId)!;
    Object.assign(sub, { status: 'canceled', latest_invoice: invoice.id, cancellation_details: { comment: null, feedback: null, reason: 'payment_failed' } });
    const pause = highLevelPause(LOC_CANCELED, true);
    await agency.sendEvent('customer.subscription.deleted', { id: subscriptionId, object: 'subscription' });
    expect(pause.isDone()).toBe(true);
    expect((await state(LOC_CANCELED)).suspension).toMatchObject({ active: true, trigger: 'subscription_canceled', invoiceId: invoice.id, hostedInvoiceUrl: HOSTED });

    await agency.recordSms(LOC_CANCELED, 3);
    await drainReporter(t.service);
    expect((await as('get', `/api/sub-accounts/${LOC_CANCELED}/payments`).expect(200)).body.held.metrics[0]).toMatchObject({ units: 3, reason: expect.stringContaining('Suspended for non-payment') });

    const resume = highLevelPause(LOC_CANCELED, false);
    stripe.state.invoices.get(invoice.id as string)!.status = 'paid';
    await agency.sendEvent('invoice.paid', { id: invoice.id as string, object: 'invoice' });
    expect(resume.isDone()).toBe(true);
    expect((await state(LOC_CANCELED)).suspension).toMatchObject({ active: false, resumedBy: 'invoice_paid' });
    // No subscription invoices it yet: the units stay held for that reason, and go once a new subscription starts.
    const held = (await as('get', `/api/sub-accounts/${LOC_CANCELED}/payments`).expect(200)).body.held;
    expect(held.metrics[0]).toMatchObject({ units: 3, reason: expect.stringMatching(/^No subscription/) });
    expect((await as('get', `/api/sub-accounts/${LOC_CANCELED}`).expect(200)).body.paymentProblem).toBeNull();
    const before = metered(LOC_CANCELED).length;
    await as('put', `/api/sub-accounts/${LOC_CANCELED}/billing`).send({ subscription: {} }).expect(200);
    await drainReporter(t.service);
    expect(metered(LOC_CANCELED).slice(before).reduce((sum, e) => sum + Number(e.value), 0)).toBe(3);
  });
});
