import { sql } from 'drizzle-orm';
import { selectRows } from '../../models/database';
import { drainReporter, outboxState } from '../support/billing';
import { fixture } from '../support/highlevel-fixtures';
import { agencyAuth, beginConnect, connectEnv, connectThroughStripe, deliverConnectEvent } from '../support/stripe-connect';
import { startStripeStub, type StripeStub } from '../support/stripe-stub';
import { startTestService, type TestService } from '../support/test-service';

/**
 * Connect with Stripe, end to end: authorize → callback → connected → meter events sent on the connected account
 * (`Stripe-Account` seen at the double) → the agency revokes access (account.application.deauthorized) → billing held,
 * nothing lost → connecting again resumes and sends what waited.
 */
let t: TestService;
let stripe: StripeStub;
const COMPANY = '5DP4iH6HLkQsiKESj6rh';
const LOCATION = 've9EPM428h8vShlRW1KT';
const CUSTOMER = 'cus_ConnectDental01';
const APP_URL = 'http://localhost:3999';
let accountId = '';

const sms = (n: number) => ({ ...fixture('sms-outbound'), webhookId: `connect-walk-${n}`, messageId: `connectwalk${String(n).padStart(9, '0')}`, dateAdded: new Date().toISOString() });
const meterEventsOn = (acct: string) => stripe.requestLog.filter((r) => r.path === '/v1/billing/meter_events' && r.stripeAccount === acct);

beforeAll(async () => {
  stripe = await startStripeStub();
  t = await startTestService({ ...connectEnv(stripe, APP_URL), REPORTER_RETRY_BASE_SECONDS: '0' });
  await t.service.accounts.registerAgency(COMPANY, 'Connect Dental Group');
  await t.service.accounts.registerSubAccount(LOCATION, COMPANY, 'Harbor Dental');
  await t.service.accounts.mapCustomer(LOCATION, CUSTOMER);
  await t.service.rules.setRule({ companyId: COMPANY, locationId: null }, { metric: 'sms', threshold: 1 });
});
afterAll(async () => {
  await t.close();
  await stripe.close();
});

describe('Connect with Stripe: the walk', () => {
  it('when an agency admin starts Connect, then Meterbridge redirects to Stripe’s authorize page with a signed state and the registered redirect', async () => {
    const status = await t.http.get('/api/stripe/connection').set('authorization', await agencyAuth(t, COMPANY)).expect(200);
    expect(status.body.connect).toEqual({ available: true, method: null, deauthorized: false, deauthorizedAt: null });
    const { stripeUrl, state, cookie } = await beginConnect(t, COMPANY);
    expect(`${stripeUrl.origin}${stripeUrl.pathname}`).toBe('https://connect.stripe.com/oauth/authorize');
    expect(Object.fromEntries(stripeUrl.searchParams)).toEqual({
      response_type: 'code',
      client_id: stripe.connect.clientId,
      scope: 'read_write',
      state,
      redirect_uri: `${APP_URL}/stripe/connect/callback`,
    });
    expect(state).toMatch(/^[A-Za-z0-9_-]{43}\.[A-Za-z0-9_-]{43}$/);
    expect(cookie).toMatch(/^mb_stripe_connect=/);
  });

  it('when an agency user who is not an admin starts Connect, then 403 admin_required', async () => {
    const res = await t.http.post('/api/stripe/connect').set('authorization', await agencyAuth(t, COMPANY, 'user'));
    expect([res.status, res.body.error.code]).toEqual([403, 'admin_required']);
  });

  it('when the agency approves on Stripe and comes back, then the account is connected without any secret stored or shown', async () => {
    const { res, accountId: acct } = await connectThroughStripe(t, stripe, COMPANY);
    accountId = acct;
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ connected: true, accountId, mode: 'test' });
    const status = await t.http.get('/api/stripe/connection').set('authorization', await agencyAuth(t, COMPANY)).expect(200);
    expect(status.body).toMatchObject({ connected: true, mode: 'test', accountId, keyLast4: null, connect: { method: 'connect', deauthorized: false } });
    expect(JSON.stringify(status.body)).not.toMatch(/sk_|rt_|whsec_/);
    const [row] = await selectRows<Record<string, unknown>>(t.database.db, sql`select * from agencies where company_id = ${COMPANY}`);
    expect(row).toMatchObject({ stripe_connection_type: 'connect', stripe_account_id: accountId, stripe_secret_key: null });
    expect(JSON.stringify(row)).not.toMatch(/sk_(test|live)_|rt_/);
  });

  it('when a Connect agency lacks its meter-error event destination, then the reporter’s tick creates it on the connected account', async () => {
    const connected = stripe.connect.accounts.get(accountId)!;
    expect(connected.state.eventDestinations.size).toBe(1); // made when it connected
    await t.database.db.execute(sql`update agencies set stripe_event_destination_id = null, stripe_event_destination_secret = null where company_id = ${COMPANY}`);
    await t.service.reporter.tick();
    expect(connected.state.eventDestinations.size).toBe(2);
    expect(stripe.state.eventDestinations.size).toBe(0); // never on the platform's own account
    const status = await t.http.get('/api/stripe/connection').set('authorization', await agencyAuth(t, COMPANY)).expect(200);
    expect(status.body.errorReports.configured).toBe(true);
  });

  it('when usage crosses a threshold, then the meter event is sent on the connected account with the platform key and Stripe-Account', async () => {
    await t.postSigned(sms(1)).expect(200);
    await drainReporter(t.service);
    const connected = stripe.connect.accounts.get(accountId)!;
    expect(connected.events.map((e) => [e.customer, e.eventName, e.value])).toEqual([[CUSTOMER, 'meterbridge_sms', '1']]);
    expect(stripe.events).toEqual([]); // nothing on the platform's own account
    const sent = meterEventsOn(accountId);
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({ apiKey: stripe.connect.platformKey, status: 200, stripeAccount: accountId });
  });

  it('when the agency revokes access in Stripe, then the Connect webhook shows it disconnected and holds billing: reports stay pending', async () => {
    stripe.connect.revoke(accountId);
    const delivered = await deliverConnectEvent(t, stripe.connect.deauthorizedEvent(accountId)).expect(200);
    expect(delivered.body).toMatchObject({ received: true, type: 'account.application.deauthorized', account: accountId, companies: [COMPANY] });
    const status = await t.http.get('/api/stripe/connection').set('authorization', await agencyAuth(t, COMPANY)).expect(200);
    expect(status.body).toMatchObject({ connected: false, accountId, connect: { method: 'connect', deauthorized: true, deauthorizedAt: expect.any(String) } });

    const before = stripe.requestLog.length;
    await t.postSigned(sms(2)).expect(200);
    await t.postSigned(sms(3)).expect(200);
    for (let i = 0; i < 3; i++) await t.service.reporter.tick();
    expect(stripe.requestLog.length).toBe(before); // nothing sent to Stripe while held
    expect(await outboxState(t.database.db)).toMatchObject({ pending: 2, failed: 0 });
    const pricing = await t.http.put('/api/pricing/sms').set('authorization', await agencyAuth(t, COMPANY)).send({ threshold: 1, price: { currency: 'usd', unitAmountDecimal: '2' } });
    expect([pricing.status, pricing.body.error?.code]).toEqual([409, 'stripe_not_connected']);
  });

  it('when a repeated deauthorization arrives, then nothing more changes', async () => {
    const again = await deliverConnectEvent(t, stripe.connect.deauthorizedEvent(accountId)).expect(200);
    expect(again.body.companies).toEqual([]);
  });

  it('when the agency connects the same account again, then billing resumes and what waited is sent once', async () => {
    const { res } = await connectThroughStripe(t, stripe, COMPANY, accountId);
    expect(res.status).toBe(200);
    await drainReporter(t.service);
    const connected = stripe.connect.accounts.get(accountId)!;
    expect(connected.events.map((e) => Number(e.value)).reduce((a, b) => a + b, 0)).toBe(3);
    expect(meterEventsOn(accountId).every((r) => r.apiKey === stripe.connect.platformKey)).toBe(true);
    expect(await outboxState(t.database.db)).toMatchObject({ pending: 0, sending: 0, failed: 0 });
  });

  it('when a payment fails on the connected account, then the Connect webhook dispatches it like the agency webhook: re-read there, sub-account delinquent', async () => {
    const invoice = stripe.connect.accounts.get(accountId)!.seedInvoice({
      customer: CUSTOMER,
      status: 'open',
      amount_due: 4200,
      attempt_count: 1,
      next_payment_attempt: Math.floor(Date.now() / 1000) + 86_400,
      payments: {
        data: [{ id: 'inpay_connect', object: 'invoice_payment', created: 1, status: 'open', payment: { type: 'payment_intent', payment_intent: { id: 'pi_connect', object: 'payment_intent', status: 'requires_payment_method', last_payment_error: { code: 'card_declined', decline_code: 'insufficient_funds', message: 'Your card has insufficient funds.' } } } }],
      },
    });
    const event = { id: 'evt_connect_failed', object: 'event', account: accountId, created: Math.floor(Date.now() / 1000), type: 'invoice.payment_failed', data: { object: { id: invoice.id, object: 'invoice' } } };
    const res = await deliverConnectEvent(t, event).expect(200);
    expect(res.body.locations).toEqual([{ companyId: COMPANY, locationId: LOCATION, billingStatus: 'delinquent' }]);
    expect(stripe.requestLog.some((r) => r.path === `/v1/invoices/${invoice.id}` && r.stripeAccount === accountId && r.status === 200)).toBe(true);
  });

  it('when an agency disconnects a Connect account, then the grant is revoked at Stripe and the connection forgotten', async () => {
    const res = await t.http.delete('/api/stripe/connection').set('authorization', await agencyAuth(t, COMPANY)).expect(200);
    expect(res.body).toMatchObject({ connected: false, accountId: null, connect: { method: null } });
    expect(stripe.connect.grants.get(accountId)?.status).toBe('revoked');
    const oauthCalls = stripe.requestLog.filter((r) => r.path === '/oauth/deauthorize');
    expect(oauthCalls.at(-1)).toMatchObject({ status: 200, params: { client_id: stripe.connect.clientId, stripe_user_id: accountId } });
  });
});
