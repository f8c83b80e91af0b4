import Stripe from 'stripe';
import { startStripeStub, type StripeStub } from '../support/stripe-stub';

/**
 * The Stripe double's meter events behave as Stripe documents them (test/support/stripe/meter-events.ts,
 * event-destinations.ts), checked through stripe-node 23.1 itself: a test that relies on the double relies on these.
 */
let stripe: StripeStub;
let client: Stripe;
const received: Array<{ body: string; signature: string }> = [];
let secret = '';

beforeAll(async () => {
  stripe = await startStripeStub();
  client = new Stripe('sk_test_doubleKey000001', { host: '127.0.0.1', port: Number(new URL(stripe.url).port), protocol: 'http', maxNetworkRetries: 0 });
  stripe.deliver = async (_url, body, headers) => {
    received.push({ body, signature: headers['stripe-signature']! });
    return 200;
  };
  const destination = await client.v2.core.eventDestinations.create({
    name: 'double test',
    type: 'webhook_endpoint',
    event_payload: 'thin',
    enabled_events: ['v1.billing.meter.error_report_triggered', 'v1.billing.meter.no_meter_found'],
    webhook_endpoint: { url: 'https://receiver.example/hook' },
    include: ['webhook_endpoint.signing_secret'],
  });
  secret = destination.webhook_endpoint!.signing_secret!;
});
afterAll(() => stripe.close());
beforeEach(() => {
  stripe.meterEventsPerSecond = 1000;
  received.length = 0;
});

const send = (identifier: string, extra: { customer?: string; timestamp?: number; eventName?: string } = {}) =>
  client.billing.meterEvents.create({
    event_name: extra.eventName ?? 'double_sms',
    payload: { stripe_customer_id: extra.customer ?? 'cus_double1', value: '1' },
    identifier,
    ...(extra.timestamp === undefined ? {} : { timestamp: extra.timestamp }),
  });

describe('the Stripe double', () => {
  it('when an event destination is created without include, then its signing secret is not returned', async () => {
    const plain = await client.v2.core.eventDestinations.create({
      name: 'no secret', type: 'webhook_endpoint', event_payload: 'thin', enabled_events: ['v1.billing.meter.no_meter_found'],
      webhook_endpoint: { url: 'https://receiver.example/other' },
    });
    expect(plain.webhook_endpoint?.signing_secret).toBeUndefined();
    await client.v2.core.eventDestinations.del(plain.id);
  });

  it('when an identifier is resent within 24 hours, then it is refused and counted once; after 24 hours on the clock, then it counts again', async () => {
    await send('dbl-window-1');
    await expect(send('dbl-window-1')).rejects.toMatchObject({ statusCode: 400 });
    stripe.clock.advance(23 * 3600);
    await expect(send('dbl-window-1')).rejects.toMatchObject({ statusCode: 400 });
    stripe.clock.advance(3600 + 1);
    await send('dbl-window-1');
    expect(stripe.events.filter((e) => e.identifier === 'dbl-window-1')).toHaveLength(2);
  });

  it('when the customer is unknown, then the call is answered 200 and a signed thin error report follows, its full event readable from GET /v2/core/events/:id', async () => {
    stripe.customers.add('cus_known1');
    try {
      await send('dbl-unknown-1', { customer: 'cus_nobody' });
      expect(stripe.events.some((e) => e.identifier === 'dbl-unknown-1')).toBe(false);
      await stripe.flushErrorReports();
    } finally {
      stripe.customers.clear();
    }
    expect(received).toHaveLength(1);
    const notification = client.parseEventNotification(received[0]!.body, received[0]!.signature, secret);
    expect(notification.type).toBe('v1.billing.meter.error_report_triggered');
    expect(JSON.parse(received[0]!.body).data).toBeUndefined();
    const event = (await client.v2.core.events.retrieve(notification.id)) as unknown as { data: { reason: { error_types: Array<{ code: string; sample_errors: Array<{ request: { identifier: string } }> }> } } };
    expect(event.data.reason.error_types).toEqual([
      expect.objectContaining({ code: 'meter_event_customer_not_found', sample_errors: [expect.objectContaining({ request: { identifier: 'dbl-unknown-1' } })] }),
    ]);
    expect(() => client.parseEventNotification(received[0]!.body, received[0]!.signature, 'whsec_wrong')).toThrow();
  });

  it('when the timestamp is more than 35 days old or 5 minutes ahead, then the event is not counted and is reported with the matching code', async () => {
    const now = Math.floor(stripe.clock.nowMs() / 1000);
    await send('dbl-old-1', { timestamp: now - 35 * 86_400 - 60 });
    await send('dbl-future-1', { timestamp: now + 6 * 60 });
    await send('dbl-edge-1', { timestamp: now - 35 * 86_400 + 3600 });
    await stripe.flushErrorReports();
    expect(stripe.rejectedEvents.filter((r) => r.identifier.startsWith('dbl-')).map((r) => [r.identifier, r.code])).toEqual(
      expect.arrayContaining([
        ['dbl-old-1', 'timestamp_too_far_in_past'],
        ['dbl-future-1', 'timestamp_in_future'],
      ]),
    );
    expect(stripe.events.some((e) => e.identifier === 'dbl-edge-1')).toBe(true);
  });

  it('when the meter is deactivated, then its events are reported as archived_meter; with no meter for the name, as no_meter_found', async () => {
    stripe.state.meters.set('mtr_test_double', { id: 'mtr_test_double', object: 'billing.meter', event_name: 'double_sms', status: 'inactive' });
    try {
      await send('dbl-archived-1');
      await send('dbl-nometer-1', { eventName: 'nobody_meters_this' });
      await stripe.flushErrorReports();
    } finally {
      stripe.state.meters.delete('mtr_test_double');
    }
    const types = received.map((r) => JSON.parse(r.body) as { type: string; related_object?: { id: string } });
    expect(types).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ type: 'v1.billing.meter.error_report_triggered', related_object: expect.objectContaining({ id: 'mtr_test_double' }) }),
        expect.objectContaining({ type: 'v1.billing.meter.no_meter_found' }),
      ]),
    );
    expect(stripe.rejectedEvents.find((r) => r.identifier === 'dbl-archived-1')?.code).toBe('archived_meter');
  });

  it('when more meter events arrive in a second than the test-mode limit, then the excess gets 429 rate_limit', async () => {
    stripe.meterEventsPerSecond = 25;
    const results = await Promise.allSettled(Array.from({ length: 30 }, (_, i) => send(`dbl-rate-${i}`, { customer: `cus_rate${i}` })));
    const limited = results.filter((r) => r.status === 'rejected' && (r.reason as { statusCode?: number }).statusCode === 429);
    expect(limited.length).toBeGreaterThanOrEqual(5);
  });

  it('when two calls for the same customer and meter overlap, then the second gets 429', async () => {
    stripe.script = [{ slowMs: 300 }];
    const [first, second] = await Promise.allSettled([send('dbl-overlap-1', { customer: 'cus_overlap' }), new Promise((r) => setTimeout(r, 50)).then(() => send('dbl-overlap-2', { customer: 'cus_overlap' }))]);
    expect(first.status).toBe('fulfilled');
    expect(second).toMatchObject({ status: 'rejected', reason: expect.objectContaining({ statusCode: 429 }) });
  });
});
