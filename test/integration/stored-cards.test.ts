import nock from 'nock';
import request from 'supertest';
import { buildService } from '../../server/main';
import { CARD_NUDGE_MS, CARD_REFRESH_JOB } from '../../server/jobs/scheduled-jobs';
import { CARD_REFRESH } from '../../server/payments/card-refresh';
import { startPaymentsWorld, type PaymentsAgency, type PaymentsWorld } from '../support/payments';
import { ALL_REQUESTS } from '../support/stripe/latency';
import type { StripeStub } from '../support/stripe-stub';
import type { TestService } from '../support/test-service';

/**
 * "Billed without a card" with many clients: the cards are stored (server/payments/stored-cards.ts) and read in the
 * background by the `card-summaries` job (card-refresh.ts), so the Overview's needs-attention list, the list's
 * `?status=no_card` filter and its card column answer from the store — no card call on the request — and say how
 * fresh they are; a card never read is said to be being checked, not counted as missing; a card webhook has that
 * client's card alone read again; a card Stripe refuses is shown with Stripe's message; the sub-account page's live
 * read is stored too; the job keeps at most CARD_REFRESH.perAgency calls in flight; the card alerts judge the stored
 * cards. Ten subscribed clients: more than the few a request reads itself (stored-reads.ts INLINE_READS), none with a
 * card at first.
 */
const COMPANY = 'companyStoredCards01';
const CLIENTS = Array.from({ length: 10 }, (_, i) => `locStoredCards${String(i).padStart(4, '0')}`);
/** A card read: the customer, the subscription or a payment method, by id (cards.ts `readCard`). */
const CARD_CALL = /^GET \/v1\/(customers|subscriptions|payment_methods)\/[^/]+$/;

let t: TestService;
let stripe: StripeStub;
let agency: PaymentsAgency;
let customers: Record<string, string> = {};

const cardCalls = () => stripe.requestLog.filter((r) => CARD_CALL.test(`${r.method} ${r.path}`));
const get = (path: string) => t.http.get(path).set('authorization', `Bearer ${agency.agencyToken}`).expect(200);
const attention = async () => (await get('/api/overview/attention')).body;
const noCard = (body: { items: Array<{ kind: string; count: number }> }) => body.items.find((i) => i.kind === 'no_card')!.count;
const listed = async () => (await get('/api/sub-accounts?status=no_card&pageSize=50')).body;
const flags = async (ids: string[]) => (await get(`/api/payments/sub-accounts?locationIds=${ids.join(',')}`)).body.items;
let pmSequence = 0;

/** The client's card, saved on its customer in the Stripe double and made the default for invoices (no event sent). */
function giveCard(locationId: string, last4: string): string {
  const id = `pm_storedCards${pmSequence++}`;
  const expYear = new Date().getUTCFullYear() + 3;
  stripe.state.paymentMethods.set(id, {
    id, object: 'payment_method', type: 'card', customer: customers[locationId], created: 1, livemode: false, metadata: {},
    billing_details: { address: null, email: null, name: null, phone: null },
    card: { brand: 'visa', country: 'US', exp_month: 12, exp_year: expYear, funding: 'credit', last4 },
  });
  stripe.state.customers.get(customers[locationId]!)!.invoice_settings.default_payment_method = id;
  return id;
}

let world: PaymentsWorld;
beforeAll(async () => {
  world = await startPaymentsWorld(COMPANY, CLIENTS, { flatFeeCents: 4900 });
  ({ t, stripe, agency, customers } = world);
}, 240_000);
afterAll(async () => {
  nock.cleanAll();
  await world.close();
});

describe('billed without a card, from stored cards', () => {
  it('when no card is stored yet, then the Overview and the no_card list answer without reading Stripe and say the cards are being checked; once the job stored them, from the store, after a restart too', async () => {
    const before = cardCalls().length;
    const cold = await attention();
    expect(cardCalls().length).toBe(before);
    expect(noCard(cold)).toBe(0); // not counted as missing while not read
    expect(cold.cards).toEqual({ asOf: null, checking: CLIENTS.length, refreshing: 0, unreadable: 0, error: null });
    expect((await listed()).cardCheck).toMatchObject({ checking: CLIENTS.length });
    expect((await flags(CLIENTS)).map((f: { checking: boolean; card: unknown }) => [f.checking, f.card])).toEqual(CLIENTS.map(() => [true, null]));
    expect(cardCalls().length).toBe(before);

    expect(await t.service.scheduler.runNow(CARD_REFRESH_JOB)).toBe(true);
    expect(new Set(cardCalls().slice(before).filter((c) => c.path.startsWith('/v1/customers/')).map((c) => c.path))).toEqual(new Set(CLIENTS.map((id) => `/v1/customers/${customers[id]}`)));
    const read = cardCalls().length;
    const stored = await attention();
    expect(noCard(stored)).toBe(CLIENTS.length);
    expect(stored.cards).toMatchObject({ checking: 0, refreshing: 0, unreadable: 0, error: null });
    expect(Date.parse(stored.cards.asOf)).toBeGreaterThan(Date.now() - 600_000);
    const list = await listed();
    expect(list.items.map((i: { locationId: string }) => i.locationId)).toEqual(CLIENTS);
    expect(list.cardCheck).toEqual(stored.cards);
    const [first] = await flags(CLIENTS);
    expect(first).toMatchObject({ checking: false, billedWithoutCard: true, card: { status: 'no_card' }, error: null });
    expect(Date.parse(first.checkedAt)).toBeGreaterThanOrEqual(Date.parse(stored.cards.asOf)); // the oldest counted
    expect(cardCalls().length).toBe(read);

    // A new process on the same database: its read cache is empty, the stored cards are not.
    const restarted = await buildService({ config: t.service.config, database: t.database });
    try {
      const body = (await request(restarted.app).get('/api/overview/attention').set('authorization', `Bearer ${agency.agencyToken}`).expect(200)).body;
      expect(noCard(body)).toBe(CLIENTS.length);
      expect(cardCalls().length).toBe(read);
    } finally {
      await restarted.close();
    }
  });

  it('when Stripe says a client’s default card changed (customer.updated), then the job reads that client’s card alone; a payment_method.detached of it does the same', async () => {
    const [client] = CLIENTS;
    const pm = giveCard(client!, '4242');
    const nudge = jest.spyOn(t.service.scheduler, 'nudge');
    await agency.sendEvent('customer.updated', { id: customers[client!]!, object: 'customer' });
    expect(nudge.mock.calls.filter(([job]) => job === CARD_REFRESH_JOB)).toEqual([[CARD_REFRESH_JOB, CARD_NUDGE_MS]]);
    nudge.mockRestore();
    const before = cardCalls().length;
    expect(noCard(await attention())).toBe(CLIENTS.length); // still the stored card: read again by the job, not here
    expect(cardCalls().length).toBe(before);

    await t.service.scheduler.runNow(CARD_REFRESH_JOB);
    // That client's customer, then its subscription (whose own default payment method Stripe charges first).
    expect(cardCalls().slice(before).map((c) => c.path)).toEqual([`/v1/customers/${customers[client!]}`, `/v1/subscriptions/${[...stripe.state.subscriptions.values()].find((s) => s.customer === customers[client!])!.id}`]);
    const after = cardCalls().length;
    expect(noCard(await attention())).toBe(CLIENTS.length - 1);
    expect((await listed()).items.map((i: { locationId: string }) => i.locationId)).toEqual(CLIENTS.slice(1));
    expect((await flags([client!]))[0]).toMatchObject({ billedWithoutCard: false, card: { status: 'card_on_file', last4: '4242', usable: true, paymentMethodId: pm } });
    expect(cardCalls().length).toBe(after);

    // Detached (in the Dashboard): the event's payment method no longer names the customer; the stored card shows it.
    stripe.state.paymentMethods.get(pm)!.customer = null;
    stripe.state.customers.get(customers[client!]!)!.invoice_settings.default_payment_method = null;
    await agency.sendEvent('payment_method.detached', { id: pm, object: 'payment_method', customer: null });
    await t.service.scheduler.runNow(CARD_REFRESH_JOB);
    expect(cardCalls().slice(after).filter((c) => c.path.startsWith('/v1/customers/')).map((c) => c.path)).toEqual([`/v1/customers/${customers[client!]}`]);
    expect(noCard(await attention())).toBe(CLIENTS.length);
  });

  it('when Stripe refuses to read a client’s card, then its message is stored and shown, and the card is not counted as missing', async () => {
    const client = CLIENTS[2]!;
    const message = 'The provided key does not have the required permissions for this endpoint (approximate).';
    stripe.apiFaults.push({ method: 'GET', path: `/v1/customers/${customers[client]}`, status: 400, error: { type: 'invalid_request_error', message } });
    await agency.sendEvent('payment_method.attached', { id: giveCard(client, '1881'), object: 'payment_method', customer: customers[client]! });
    await t.service.scheduler.runNow(CARD_REFRESH_JOB);
    const before = cardCalls().length;
    const body = await attention();
    expect(body.cards).toMatchObject({ unreadable: 1, checking: 0, error: `Stripe: ${message}` });
    expect(body.cardCheckError).toBe(`Stripe: ${message}`);
    expect(noCard(body)).toBe(CLIENTS.length - 1);
    expect((await listed()).items.map((i: { locationId: string }) => i.locationId)).not.toContain(client);
    expect((await flags([client]))[0]).toMatchObject({ card: null, error: `Stripe: ${message}`, checking: false, billedWithoutCard: false });
    expect(cardCalls().length).toBe(before);
  });

  it('when the sub-account page reads the card live, then what it read is stored and the Overview counts it without reading Stripe again', async () => {
    const client = CLIENTS[3]!;
    giveCard(client, '5556'); // no event: only the page's own read finds it
    const before = cardCalls().length;
    const page = (await get(`/api/sub-accounts/${client}/payments`)).body;
    expect(page.card).toMatchObject({ status: 'card_on_file', last4: '5556' });
    const read = cardCalls().length;
    expect(read).toBeGreaterThan(before);
    expect(noCard(await attention())).toBe(CLIENTS.length - 2); // the client above, unreadable, and this one
    expect((await flags([client]))[0]).toMatchObject({ card: { last4: '5556' } });
    expect(cardCalls().length).toBe(read);
  });

  it('when the job reads many cards and Stripe answers slowly, then it never has more than its bound in flight', async () => {
    for (const id of CLIENTS) await agency.sendEvent('customer.updated', { id: customers[id]!, object: 'customer' });
    stripe.latencyMs = 600; // at 10 calls started a second, an unbounded job would hold about 6 open at once
    stripe.peakInFlight.clear();
    const before = cardCalls().length;
    try {
      await t.service.scheduler.runNow(CARD_REFRESH_JOB);
    } finally {
      stripe.latencyMs = 0;
    }
    expect(cardCalls().slice(before).filter((c) => c.path.startsWith('/v1/customers/'))).toHaveLength(CLIENTS.length);
    expect(stripe.peakInFlight.get(ALL_REQUESTS)).toBeLessThanOrEqual(CARD_REFRESH.perAgency);
    expect((await attention()).cards).toMatchObject({ checking: 0, refreshing: 0, unreadable: 0 });
  });

  it('when the daily card check runs, then "no card on file" is alerted once a month from the stored cards, with no card call; a card not read yet is left for a later run', async () => {
    const late = 'locStoredCardsLate01';
    await agency.addSubAccount(late, 'Late Clinic');
    await t.http.put(`/api/sub-accounts/${late}/billing`).set('authorization', `Bearer ${agency.agencyToken}`).send({ rebillingEnabled: true }).expect(200); // its card not read yet
    const before = cardCalls().length;
    // Every client but 2 (1881) and 3 (5556) is without a card.
    expect(await t.service.alerts.checks.checkCards()).toEqual({ checked: CLIENTS.length, raised: CLIENTS.length - 2, unchecked: 1 });
    expect(cardCalls().length).toBe(before);
    await t.service.scheduler.runNow(CARD_REFRESH_JOB);
    expect(await t.service.alerts.checks.checkCards()).toEqual({ checked: CLIENTS.length + 1, raised: 1, unchecked: 0 });
    expect(await t.service.alerts.checks.checkCards()).toEqual({ checked: CLIENTS.length + 1, raised: 0, unchecked: 0 });
    const missing = (await get('/api/alerts')).body.items.filter((a: { kind: string; locationId: string }) => a.kind === 'card_missing' && a.locationId === late);
    expect(missing).toEqual([expect.objectContaining({ title: 'No card on file: Late Clinic' })]);
  });
});
