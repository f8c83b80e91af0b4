import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import Stripe from 'stripe';
import { MIGRATIONS_FOLDER, selectRows } from '../../models/database';
import { findCounter } from '../../server/metering/rules-repository';
import { drainReporter, TEST_STRIPE_KEY } from '../support/billing';
import { officialExample } from '../support/highlevel-fixtures';
import { startStripeStub, type StripeJson, type StripeStub } from '../support/stripe-stub';
import { startTestService, type TestService } from '../support/test-service';

/**
 * Inbound and outbound calls billed at their own prices (issue 18): a directional metric's default rule split into an
 * inbound and an outbound rule, each on its own Stripe meter and price; HighLevel's call webhooks (HighLevel's own
 * example payloads, test/fixtures/highlevel/official) become meter events on the two meters, and the Stripe double's
 * invoice preview bills each at its price. Today's single-direction rules keep their meaning.
 */
const COMPANY = 'companyDirections0001';
const L1 = 'locDirections01';
const L2 = 'locDirections02';

let t: TestService;
let stripe: StripeStub;
let client: Stripe;
let token = '';
let calls = 0;
const api = (method: 'get' | 'put' | 'post' | 'delete', url: string, body?: object) => {
  let req = t.http[method](url).set('authorization', `Bearer ${token}`);
  if (body) req = req.send(body);
  return req;
};

/** HighLevel's own example of a call, made ours: its sub-account, a fresh message and webhook id, a duration in seconds. */
function call(direction: 'inbound' | 'outbound', locationId: string, seconds: number): Record<string, unknown> {
  calls += 1;
  const example = officialExample(direction === 'inbound' ? 'inbound-call-voicemail' : 'outbound-call');
  return { ...example, locationId, callDuration: seconds, messageId: `dirCall${calls}`, webhookId: `dir-call-${calls}`, dateAdded: new Date().toISOString() };
}

const usd = (unitAmountDecimal: string) => ({ currency: 'usd', interval: 'month', unitAmountDecimal });
const eventsOn = (eventName: string, customer: string) =>
  stripe.events.filter((e) => e.eventName === eventName && e.customer === customer).reduce((sum, e) => sum + Number(e.value), 0);
const customerOf = async (locationId: string): Promise<string> => (await api('get', `/api/sub-accounts/${locationId}`)).body.stripeCustomerId;

beforeAll(async () => {
  stripe = await startStripeStub();
  client = new Stripe(TEST_STRIPE_KEY, { host: '127.0.0.1', port: Number(new URL(stripe.url).port), protocol: 'http', maxNetworkRetries: 0 });
  t = await startTestService({ STRIPE_API_URL: stripe.url, REPORTER_ENABLED: 'false' });
  await t.service.accounts.registerAgency(COMPANY, 'Direction Agency');
  await t.service.accounts.storeStripeKey(COMPANY, TEST_STRIPE_KEY);
  token = (await t.service.sessionTokens.issue({ userId: 'u-dir', companyId: COMPANY, type: 'agency', role: 'admin', activeLocation: null })).token;
  // Today's kind of rule: call minutes, outbound only, one price.
  await api('put', '/api/pricing/call_minutes', { threshold: 1, direction: 'outbound', price: usd('9') }).expect(200);
  for (const locationId of [L1, L2]) {
    await t.service.accounts.registerSubAccount(locationId, COMPANY, `Clinic ${locationId}`);
    await api('put', `/api/sub-accounts/${locationId}/customer`, { create: true }).expect(200);
    await api('put', `/api/sub-accounts/${locationId}/billing`, { rebillingEnabled: true }).expect(200);
  }
});
afterAll(async () => {
  await t.close();
  await stripe.close();
});

describe('migration 0023 (directional rules)', () => {
  // First, while every rule is one rule per (scope, metric), as it was when the migration ran.
  it('when a counter of the one rule before any split is migrated, then it takes that rule’s direction and goes on counting as it did', async () => {
    const file = readdirSync(MIGRATIONS_FOLDER).find((f) => f.endsWith('_directional_rules_trials.sql'))!;
    const update = readFileSync(path.join(MIGRATIONS_FOLDER, file), 'utf8').split('--> statement-breakpoint').find((s) => s.includes('UPDATE "usage_counters"'))!;
    await t.service.accounts.registerSubAccount('locDirections03', COMPANY, 'Old counter');
    await api('put', '/api/pricing/sms', { threshold: 3, direction: 'outbound', price: usd('2') }).expect(200);
    // A counter as it stood before the migration (no direction yet: the column's default).
    await t.database.db.execute(sql`insert into usage_counters (location_id, metric, direction, company_id, total, billed_units) values ('locDirections03', 'sms', 'both', ${COMPANY}, 2, 0)`);
    await t.database.db.execute(sql.raw(update));
    const rows = await selectRows<{ direction: string; total: string }>(t.database.db, sql`select direction, total::text as total from usage_counters where location_id = 'locDirections03'`);
    expect(rows).toEqual([{ direction: 'outbound', total: '2.000000' }]);
  });
});

describe('a directional metric priced per direction', () => {
  it('when the metric has one outbound rule (as before), then an inbound call is not billed and an outbound call is, on the one meter', async () => {
    await t.postSigned(call('inbound', L1, 185)).expect(200);
    await t.postSigned(call('outbound', L1, 120)).expect(200);
    await drainReporter(t.service);
    const customer = await customerOf(L1);
    expect(eventsOn('meterbridge_call_minutes', customer)).toBe(2);
    expect(stripe.events.filter((e) => e.eventName.startsWith('meterbridge_call_minutes_'))).toEqual([]);
  });

  it('when inbound and outbound get their own prices, then the grid lists two rows on two meters and every subscription carries both prices', async () => {
    const inbound = (await api('put', '/api/pricing/call_minutes/directions/inbound', { threshold: 1, price: usd('5') }).expect(200)).body.rows;
    // Until priced on its own, the outbound rule kept the single rule's threshold, meter and price.
    expect(inbound.map((r: StripeJson) => [r.direction, r.priceTerms.unitAmountDecimal])).toEqual([['inbound', '5'], ['outbound', '9']]);
    await api('put', '/api/pricing/call_minutes/directions/outbound', { threshold: 1, price: usd('9') }).expect(200);
    const grid = (await api('get', '/api/pricing').expect(200)).body;
    expect(grid.rows.map((r: { metric: string }) => r.metric)).not.toContain('call_minutes');
    const rows = grid.directionalRows.filter((r: StripeJson) => r.metric === 'call_minutes');
    expect(rows.map((r: StripeJson) => r.direction)).toEqual(['inbound', 'outbound']);
    const [inPrice, outPrice] = rows.map((r: StripeJson) => stripe.state.prices.get(r.stripePriceId)!);
    const meterOf = (price: StripeJson) => stripe.state.meters.get(price.recurring.meter)!.event_name;
    expect([meterOf(inPrice), meterOf(outPrice)]).toEqual(['meterbridge_call_minutes_inbound', 'meterbridge_call_minutes_outbound']);
    for (const locationId of [L1, L2]) {
      const sub = stripe.state.subscriptions.get((await api('get', `/api/sub-accounts/${locationId}`)).body.stripeSubscriptionId)!;
      expect(sub.items.data.map((i: StripeJson) => i.price.id)).toEqual(expect.arrayContaining([inPrice.id, outPrice.id]));
    }
  });

  it('when HighLevel reports an inbound and an outbound call, then each meter gets its minutes and the invoice preview bills each at its own price', async () => {
    await t.postSigned(call('inbound', L2, 185)).expect(200); // 4 started minutes
    await t.postSigned(call('outbound', L2, 120)).expect(200); // 2 minutes
    await drainReporter(t.service);
    const customer = await customerOf(L2);
    expect(eventsOn('meterbridge_call_minutes_inbound', customer)).toBe(4);
    expect(eventsOn('meterbridge_call_minutes_outbound', customer)).toBe(2);
    expect(await findCounter(t.database.db, L2, 'call_minutes', 'inbound')).toEqual({ total: '4.000000', billedUnits: 4 });
    expect(await findCounter(t.database.db, L2, 'call_minutes', 'outbound')).toEqual({ total: '2.000000', billedUnits: 2 });

    const preview = await client.invoices.createPreview({ customer });
    const byMeter = new Map(
      preview.lines.data.map((line) => {
        const price = stripe.state.prices.get(line.pricing!.price_details!.price as string)!;
        return [stripe.state.meters.get(price.recurring.meter)?.event_name, { quantity: line.quantity, amount: line.amount }];
      }),
    );
    expect(byMeter.get('meterbridge_call_minutes_inbound')).toEqual({ quantity: 4, amount: 4 * 5 });
    expect(byMeter.get('meterbridge_call_minutes_outbound')).toEqual({ quantity: 2, amount: 2 * 9 });
    // The usage dashboard's money prices each meter's units at its own rule: 4 × 5 ¢ + 2 × 9 ¢.
    const today = new Date().toISOString().slice(0, 10);
    const amounts = (await api('get', `/api/usage/amounts?locationId=${L2}&from=${today}&to=${today}`).expect(200)).body;
    expect(amounts.totals.find((m: StripeJson) => m.metric === 'call_minutes')).toMatchObject({ amountCents: 38, priced: true });
    // So does the sub-account's running estimate for the period (list, summary, wallet balance, spend alerts).
    const period = (await api('get', `/api/sub-accounts/${L2}/current-period`).expect(200)).body;
    expect(period.lines.find((l: StripeJson) => l.metric === 'call_minutes')).toMatchObject({ unitsBilled: 6, estimatedCents: '38' });
  });

  it('when calls are costed and a shadow client is priced, then each direction is at its own rule: HighLevel’s cost and the would-bill figures', async () => {
    // HighLevel's cost per direction (cents per minute): the Overview's money costs L2's 4 inbound and 2 outbound
    // minutes (previous test) at 1.5 ¢ and 2 ¢ = 6 + 4 ¢; one base cost for the metric would say 6 × 2 = 12 ¢.
    await api('put', '/api/pricing/call_minutes/directions/inbound', { threshold: 1, price: usd('5'), baseCostDecimal: '1.5' }).expect(200);
    await api('put', '/api/pricing/call_minutes/directions/outbound', { threshold: 1, price: usd('9'), baseCostDecimal: '2' }).expect(200);
    const month = new Date().toISOString().slice(0, 7);
    const money = (await api('get', `/api/money/sub-accounts?month=${month}`).expect(200)).body;
    expect(money.items.find((i: StripeJson) => i.locationId === L2)).toMatchObject({ costCents: 10 });
    const usage = (await api('get', `/api/usage/amounts?locationId=${L2}&from=${month}-01&to=${new Date().toISOString().slice(0, 10)}`).expect(200)).body;
    expect(usage.totals.find((m: StripeJson) => m.metric === 'call_minutes')).toMatchObject({ costCents: 10 });

    // A client in shadow mode: its would-bill prices each meter's units at that direction's price, 4 × 5 + 2 × 9 ¢.
    const L3 = 'locDirections03';
    await t.service.accounts.registerSubAccount(L3, COMPANY, 'Shadow clinic');
    await api('put', `/api/sub-accounts/${L3}/billing-mode`, { mode: 'shadow' }).expect(200);
    await t.postSigned(call('inbound', L3, 185)).expect(200);
    await t.postSigned(call('outbound', L3, 120)).expect(200);
    await drainReporter(t.service);
    const wouldBill = (await api('get', `/api/sub-accounts/${L3}/would-bill`).expect(200)).body;
    expect(wouldBill.metrics.map((m: StripeJson) => [m.metric, m.direction, m.meterEventName, m.units, m.amountCents])).toEqual([
      ['call_minutes', 'inbound', 'meterbridge_call_minutes_inbound', 4, '20'],
      ['call_minutes', 'outbound', 'meterbridge_call_minutes_outbound', 2, '18'],
    ]);
    expect(wouldBill.totalCents).toBe('38');
  });

  it('when a sub-account prices only its inbound calls itself, then its inbound calls bill at its price and its outbound calls still at the default’s', async () => {
    await api('put', `/api/sub-accounts/${L1}/billing`, { overrides: [{ metric: 'call_minutes', direction: 'inbound', perDirection: true, threshold: 1, price: usd('7') }] }).expect(200);
    const rules = (await api('get', `/api/sub-accounts/${L1}`)).body.rules.filter((r: StripeJson) => r.metric === 'call_minutes');
    expect(rules.map((r: StripeJson) => [r.direction, r.inherited, r.meterEventName])).toEqual([
      ['inbound', false, 'meterbridge_call_minutes_inbound'],
      ['outbound', false, 'meterbridge_call_minutes_outbound'],
    ]);
    const defaults = (await api('get', '/api/pricing')).body.directionalRows;
    expect(rules[1].stripePriceId).toBe(defaults.find((r: StripeJson) => r.direction === 'outbound').stripePriceId);
    const customer = await customerOf(L1);
    const before = { inbound: eventsOn('meterbridge_call_minutes_inbound', customer), outbound: eventsOn('meterbridge_call_minutes_outbound', customer) };
    await t.postSigned(call('inbound', L1, 60)).expect(200);
    await t.postSigned(call('outbound', L1, 61)).expect(200);
    await drainReporter(t.service);
    expect(eventsOn('meterbridge_call_minutes_inbound', customer) - before.inbound).toBe(1);
    expect(eventsOn('meterbridge_call_minutes_outbound', customer) - before.outbound).toBe(2);
    const sub = stripe.state.subscriptions.get((await api('get', `/api/sub-accounts/${L1}`)).body.stripeSubscriptionId)!;
    expect(sub.items.data.map((i: StripeJson) => stripe.state.prices.get(i.price.id)!.unit_amount_decimal).sort()).toEqual(expect.arrayContaining(['7', '9']));
  });

  it('when a metric HighLevel reports without a direction is given a directional rule, then 400 invalid_rule and nothing changes', async () => {
    const res = await api('put', '/api/pricing/ai_call_minutes/directions/inbound', { threshold: 1, price: usd('5') }).expect(400);
    expect(res.body.error.code).toBe('invalid_rule');
    expect((await api('get', '/api/pricing')).body.directionalRows.map((r: StripeJson) => r.metric)).not.toContain('ai_call_minutes');
  });

  it('when the pair is priced as one rule again, then it is one row and the counters’ remainders carry into it', async () => {
    // Every 3 inbound minutes = 1 unit: a 2-minute inbound call leaves a remainder of 2 on the inbound counter.
    await api('put', '/api/pricing/call_minutes/directions/inbound', { threshold: 3, price: usd('5') }).expect(200);
    await t.postSigned(call('inbound', L2, 120)).expect(200);
    await drainReporter(t.service);
    expect(await findCounter(t.database.db, L2, 'call_minutes', 'inbound')).toEqual({ total: '2.000000', billedUnits: 0 });
    await api('put', '/api/pricing/call_minutes', { threshold: 3, direction: 'both', price: usd('6') }).expect(200);
    const grid = (await api('get', '/api/pricing')).body;
    expect(grid.directionalRows.map((r: StripeJson) => r.metric)).not.toContain('call_minutes');
    expect(grid.rows.find((r: StripeJson) => r.metric === 'call_minutes')).toMatchObject({ direction: 'both', priceTerms: { unitAmountDecimal: '6' } });
    expect(await findCounter(t.database.db, L2, 'call_minutes', 'both')).toEqual({ total: '2.000000', billedUnits: 0 });
    // One more outbound minute completes the unit the carried remainder started.
    await t.postSigned(call('outbound', L2, 45)).expect(200);
    await drainReporter(t.service);
    expect(eventsOn('meterbridge_call_minutes', await customerOf(L2))).toBe(1);
  });
});
