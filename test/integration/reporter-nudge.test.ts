/**
 * Lag: a delivery whose processing crosses a threshold nudges the reporter (server/main.ts, REPORTER_NUDGE_MS), so
 * its meter event reaches Stripe about a second after the inbox processor's commit instead of at the next scheduled tick. The tick
 * here is once a minute (REPORTER_INTERVAL_SECONDS=59), so only the nudge can deliver within the wait below.
 */
import { REPORTER_NUDGE_MS } from '../../server/jobs/scheduled-jobs';
import { setUpBilling, TEST_STRIPE_KEY } from '../support/billing';
import { fixture } from '../support/highlevel-fixtures';
import { startStripeStub, type StripeStub } from '../support/stripe-stub';
import { startTestService, type TestService } from '../support/test-service';

let t: TestService;
let stripe: StripeStub;
const LOCATION = 'nudgeLoc01';
const CUSTOMER = 'cus_Nudge01';

beforeAll(async () => {
  stripe = await startStripeStub();
  stripe.customers.add(CUSTOMER);
  stripe.apiKeys.add(TEST_STRIPE_KEY);
  t = await startTestService({ STRIPE_API_URL: stripe.url, REPORTER_INTERVAL_SECONDS: '59' });
  await setUpBilling(t.service, { companyId: 'NudgeAgency01', locationId: LOCATION, customer: CUSTOMER, rules: [{ metric: 'sms', threshold: 1 }] });
  t.service.start();
});
afterEach(() => jest.restoreAllMocks());
afterAll(async () => {
  await t.close();
  await stripe.close();
});

/** Waits for `done()` for up to `ms` milliseconds; returns whether it came true. */
async function within(ms: number, done: () => boolean): Promise<boolean> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (done()) return true;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return done();
}

describe('reporter nudge', () => {
  it('when a delivery crosses a threshold, then it nudges the reporter and its meter event reaches Stripe within seconds, not at the next minute tick', async () => {
    const nudge = jest.spyOn(t.service.scheduler, 'nudge');
    await t.postSigned({ ...fixture('sms-outbound'), locationId: LOCATION, webhookId: 'nudge-1' }).expect(200);
    expect(nudge.mock.calls).toEqual([['meter-reporter', REPORTER_NUDGE_MS]]);
    expect(await within(3_000, () => stripe.events.length === 1)).toBe(true);
    expect(stripe.events.map((e) => [e.customer, e.eventName, String(e.value)])).toEqual([[CUSTOMER, 'meterbridge_sms', '1']]);
  });

  it('when usage posted to the usage API crosses a threshold, then it nudges the reporter too', async () => {
    const nudge = jest.spyOn(t.service.scheduler, 'nudge');
    const { key } = await t.service.apiKeys.create('NudgeAgency01', 'nudge test');
    await t.http
      .post('/api/v1/usage')
      .set('authorization', `Bearer ${key}`)
      .send({ locationId: LOCATION, metric: 'sms', quantity: 2, occurredAt: new Date().toISOString(), idempotencyKey: 'nudge-api-1' })
      .expect(200);
    // The usage API answers once the event is in the inbox; the processor counts it a moment later and nudges then.
    await t.drain();
    expect(nudge.mock.calls).toEqual([['meter-reporter', REPORTER_NUDGE_MS]]);
    expect(await within(3_000, () => stripe.events.reduce((sum, e) => sum + Number(e.value), 0) === 3)).toBe(true);
  });

  it('when a delivery crosses nothing (an inbound SMS under an outbound rule), then the reporter is not nudged', async () => {
    const nudge = jest.spyOn(t.service.scheduler, 'nudge');
    await t.postSigned({ ...fixture('sms-inbound'), locationId: LOCATION, webhookId: 'nudge-2' }).expect(200);
    expect(nudge).not.toHaveBeenCalled();
  });
});
