import { sql } from 'drizzle-orm';
import { selectRows } from '../../models/database';
import { findCounter } from '../../server/metering/rules-repository';
import { drainReporter, setUpBilling, TEST_STRIPE_KEY } from '../support/billing';
import { fixture, fixtureNames } from '../support/highlevel-fixtures';
import { startStripeStub, type StripeStub } from '../support/stripe-stub';
import { startTestService, type TestService } from '../support/test-service';

let t: TestService;
let stripe: StripeStub;
const LOCATION = 've9EPM428h8vShlRW1KT';
const CUSTOMER = 'cus_HarborDental01';
/** HighLevel delivers in time order; the uninstall fixture is the latest. */
const inTimeOrder = [...fixtureNames].sort((a, b) => String(fixture(a).timestamp).localeCompare(String(fixture(b).timestamp)));

beforeAll(async () => {
  stripe = await startStripeStub();
  stripe.customers.add(CUSTOMER);
  stripe.apiKeys.add(TEST_STRIPE_KEY);
  t = await startTestService({ STRIPE_API_URL: stripe.url, REPORTER_RETRY_BASE_SECONDS: '0' });
  await setUpBilling(t.service, {
    companyId: '5DP4iH6HLkQsiKESj6rh',
    locationId: LOCATION,
    customer: CUSTOMER,
    rules: [
      { metric: 'sms', threshold: 1 },
      { metric: 'sms_segments', threshold: 2, direction: 'both' },
      { metric: 'mms', threshold: 1 },
      { metric: 'email', threshold: 1, direction: 'both' },
      { metric: 'call_minutes', threshold: 1 },
      { metric: 'whatsapp', threshold: 1 },
      { metric: 'ai_call_minutes', threshold: 1 },
    ],
  });
});
afterAll(async () => {
  await t.close();
  await stripe.close();
});

describe('end to end: HighLevel webhooks in, Stripe meter events out', () => {
  it('when every fixture is replayed in time order through the webhook endpoint, then exactly the expected meter events reach Stripe', async () => {
    for (const name of inTimeOrder) await t.postSigned(fixture(name)).expect(200);
    await drainReporter(t.service);

    const batches = await selectRows<{ identifier: string; meterEventName: string }>(
      t.database.db,
      sql`select identifier, meter_event_name as "meterEventName" from meter_batches where status = 'sent'`,
    );
    const identifierOf = new Map(batches.map((b) => [b.meterEventName, b.identifier]));
    const expected = [
      // outbound only: sms-outbound, sms-outbound-unicode-long, sms-custom-provider (mms-outbound is an MMS only)
      ['meterbridge_sms', '3'],
      // both directions, every 2 segments: 1 + 3 + 1 + 1 (inbound) = 6 → 3 units
      ['meterbridge_sms_segments', '3'],
      ['meterbridge_mms', '1'],
      ['meterbridge_email', '2'],
      // voicemail 31 s → 1, completed 125 s → 3, no-answer → 0
      ['meterbridge_call_minutes', '4'],
      ['meterbridge_whatsapp', '1'],
      // Voice AI 187 s → 4
      ['meterbridge_ai_call_minutes', '4'],
    ];
    const received = stripe.events.map((e) => [e.eventName, e.value]).sort();
    expect(received).toEqual([...expected].sort());
    for (const event of stripe.events) {
      expect(event.customer).toBe(CUSTOMER);
      expect(event.apiKey).toBe(TEST_STRIPE_KEY);
      expect(event.identifier).toMatch(/^mb_[0-9a-f]{40}$/);
      expect(event.identifier).toBe(identifierOf.get(event.eventName));
    }
    expect(await findCounter(t.database.db, LOCATION, 'sms_segments')).toEqual({ total: '6.000000', billedUnits: 3 });
  });

  it('when the sub-account has uninstalled (the last fixture), then its new usage is kept but not billed', async () => {
    const before = stripe.requests.length;
    await t.postSigned({ ...fixture('sms-outbound'), webhookId: 'after-uninstall-1', timestamp: '2026-11-20T09:00:00.000Z' }).expect(200);
    await drainReporter(t.service);
    expect(stripe.requests.length).toBe(before);
    const [usage] = await selectRows<{ n: number }>(t.database.db, sql`select count(*)::int as n from usage_records u join activity_events e on e.id = u.activity_event_id where e.webhook_id = 'after-uninstall-1'`);
    expect(usage!.n).toBe(2);
  });

  it('when the same fixtures are replayed again, then no further meter event is sent', async () => {
    const before = stripe.requests.length;
    for (const name of fixtureNames) {
      const res = await t.postSigned(fixture(name)).expect(200);
      expect(res.body.status).toBe('duplicate');
    }
    await drainReporter(t.service);
    expect(stripe.requests.length).toBe(before);
  });
});
