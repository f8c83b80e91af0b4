/**
 * Email billed from ONE source per agency (server/metering/email-billing.ts): conversation emails sent through LC Email
 * (the default) or LCEmailStats delivered events, chosen with PUT /api/email-billing; the other source is recorded
 * with 0, so no email reaches Stripe twice. Replayed with HighLevel's own examples (test/fixtures/highlevel/official)
 * through the signed webhook endpoint, to the Stripe double.
 */
import { sql } from 'drizzle-orm';
import { selectRows } from '../../models/database';
import { drainReporter, setUpBilling, TEST_STRIPE_KEY } from '../support/billing';
import { officialExample } from '../support/highlevel-fixtures';
import { startStripeStub, type StripeStub } from '../support/stripe-stub';
import { startTestService, type TestService } from '../support/test-service';

let t: TestService;
let stripe: StripeStub;
let token: string;
const AGENCY = 'emailBillingAgency01';
const LOCATION = 'emailBillingLoc00001';
const CUSTOMER = 'cus_EmailBilling01';

const conversationEmail = (webhookId: string, extra: Record<string, unknown> = {}) => ({ ...officialExample('outbound-email'), locationId: LOCATION, webhookId, ...extra });
const lcEmailStats = (webhookId: string) => ({ ...officialExample('lc-email-stats'), locationId: LOCATION, companyId: AGENCY, webhookId });
const emailUnits = () => stripe.events.filter((e) => e.eventName === 'meterbridge_email').reduce((sum, e) => sum + Number(e.value), 0);
async function emailQuantity(webhookId: string): Promise<string | undefined> {
  const [row] = await selectRows<{ quantity: string }>(
    t.database.db,
    sql`select u.quantity::int::text as quantity from usage_records u join activity_events e on e.id = u.activity_event_id where e.webhook_id = ${webhookId}`,
  );
  return row?.quantity;
}
const api = () => ({
  get: () => t.http.get('/api/email-billing').set('authorization', `Bearer ${token}`),
  put: (body: unknown) => t.http.put('/api/email-billing').set('authorization', `Bearer ${token}`).send(body as object),
});

beforeAll(async () => {
  stripe = await startStripeStub();
  stripe.apiKeys.add(TEST_STRIPE_KEY);
  stripe.customers.add(CUSTOMER);
  t = await startTestService({ STRIPE_API_URL: stripe.url, REPORTER_RETRY_BASE_SECONDS: '0' });
  await setUpBilling(t.service, { companyId: AGENCY, locationId: LOCATION, customer: CUSTOMER, rules: [{ metric: 'email', threshold: 1 }] });
  token = (await t.service.sessionTokens.issue({ userId: 'u-email', companyId: AGENCY, type: 'agency', role: 'admin', activeLocation: null })).token;
}, 120_000);
afterAll(async () => {
  await t.close();
  await stripe.close();
});

describe('email billing source per agency', () => {
  it('when the agency has not chosen, then the source is conversation emails and that is the default shown', async () => {
    await api().get().expect(200, { source: 'conversations', default: 'conversations' });
  });

  it('when conversation emails bill, then an LC Email send is 1 unit, a Gmail send and an LCEmailStats delivery are recorded with 0', async () => {
    await t.postSigned(conversationEmail('eb-conv-1')).expect(200);
    await t.postSigned(conversationEmail('eb-gmail-1', { provider: 'Leadconnector Gmail' })).expect(200);
    await t.postSigned(lcEmailStats('eb-stats-1')).expect(200);
    await drainReporter(t.service);
    expect([await emailQuantity('eb-conv-1'), await emailQuantity('eb-gmail-1'), await emailQuantity('eb-stats-1')]).toEqual(['1', '0', '0']);
    expect(emailUnits()).toBe(1);
  });

  it('when the agency switches to LCEmailStats, then deliveries bill and conversation emails are recorded with 0', async () => {
    await api().put({ source: 'lc_email_stats' }).expect(200, { source: 'lc_email_stats', default: 'conversations' });
    await api().get().expect(200, { source: 'lc_email_stats', default: 'conversations' });
    await t.postSigned(lcEmailStats('eb-stats-2')).expect(200);
    await t.postSigned(conversationEmail('eb-conv-2', { provider: 'mailgun' })).expect(200);
    await drainReporter(t.service);
    expect([await emailQuantity('eb-stats-2'), await emailQuantity('eb-conv-2')]).toEqual(['1', '0']);
    expect(emailUnits()).toBe(2);
  });

  it('when the source named is not one of the two, then 400 and the setting is unchanged', async () => {
    const res = await api().put({ source: 'both' }).expect(400);
    expect(res.body.error.code).toEqual(expect.any(String));
    await api().get().expect(200, { source: 'lc_email_stats', default: 'conversations' });
  });
});
