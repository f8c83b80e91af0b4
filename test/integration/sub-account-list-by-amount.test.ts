import { setUpPaymentsAgency, type PaymentsAgency } from '../support/payments';
import { startStripeStub, type StripeStub } from '../support/stripe-stub';
import { startTestService, type TestService } from '../support/test-service';

/**
 * `GET /api/sub-accounts?sort=amount`: every sub-account matching the filters ordered by this period's amount (the
 * estimate each row shows: server/reporting/period-charges.ts), largest first, then paginated — not a re-sort of a
 * page by name. Not billed last, ties by name, amounts in another currency after the agency's (usd).
 *
 * Eight clients, SMS at 2¢ (a unit per SMS), no flat fee; by name: Alder 3 SMS (6¢), Birch billed without usage (0¢),
 * Cedar with a customer and no subscription (not billed), Dune without a customer (not billed), Elm 10 SMS (20¢),
 * Fir 50 SMS (100¢), Gale 3 SMS (6¢), Hazel 200 SMS at its own price in euros (400 euro cents).
 */
const COMPANY = 'companyByAmount0001';
const loc = (name: string) => `locByAmount${name}`;
const NAMES = ['Alder', 'Birch', 'Cedar', 'Dune', 'Elm', 'Fir', 'Gale', 'Hazel'] as const;

let t: TestService;
let stripe: StripeStub;
let agency: PaymentsAgency;

const get = (path: string) => t.http.get(path).set('authorization', `Bearer ${agency.agencyToken}`);
const billing = (name: string, body: object) => t.http.put(`/api/sub-accounts/${loc(name)}/billing`).set('authorization', `Bearer ${agency.agencyToken}`).send(body).expect(200);
type Item = { name: string; billingState: string; periodAmount: { cents: string; currency: string } | null };
const list = async (query: string) => {
  const body = (await get(`/api/sub-accounts?${query}`).expect(200)).body as { total: number; page: number; items: Item[] };
  return { total: body.total, page: body.page, names: body.items.map((i) => i.name.split(' ')[0]), items: body.items };
};

beforeAll(async () => {
  stripe = await startStripeStub();
  t = await startTestService({ STRIPE_API_URL: stripe.url, REPORTER_ENABLED: 'false' });
  agency = await setUpPaymentsAgency(t, stripe, COMPANY);
  for (const name of NAMES) {
    if (name === 'Dune') await t.service.accounts.registerSubAccount(loc(name), COMPANY, `${name} Clinic`);
    else await agency.addSubAccount(loc(name), `${name} Clinic`);
  }
  await billing('Hazel', { overrides: [{ metric: 'sms', enabled: true, threshold: '1', price: { currency: 'eur', interval: 'month', unitAmountDecimal: '2' } }] });
  for (const name of ['Alder', 'Birch', 'Elm', 'Fir', 'Gale', 'Hazel']) await billing(name, { rebillingEnabled: true, subscription: {} });
  for (const [name, sms] of [['Alder', 3], ['Elm', 10], ['Fir', 50], ['Gale', 3], ['Hazel', 200], ['Cedar', 4]] as const) await agency.recordSms(loc(name), sms);
  await t.drain();
}, 120_000);
afterAll(async () => {
  await t.close();
  await stripe.close();
});

describe('the sub-accounts list sorted by this period’s amount', () => {
  it('when sorted by amount with pages of 3, then the biggest client, on page 2 by name, comes first on page 1, and the pages go on in amount order', async () => {
    expect((await list('pageSize=3')).names).toEqual(['Alder', 'Birch', 'Cedar']); // by name, Fir is on page 2
    const first = await list('sort=amount&pageSize=3');
    expect(first).toMatchObject({ total: 8, page: 1, names: ['Fir', 'Elm', 'Alder'] });
    expect(first.items.map((i) => i.periodAmount)).toEqual([{ cents: '100', currency: 'usd' }, { cents: '20', currency: 'usd' }, { cents: '6', currency: 'usd' }]);
    // Gale ties Alder at 6¢ and follows it (by name); Birch is billed at 0; Hazel's euros come after the dollars.
    expect(await list('sort=amount&pageSize=3&page=2')).toMatchObject({ total: 8, page: 2, names: ['Gale', 'Birch', 'Hazel'] });
    expect((await list('sort=amount&pageSize=3&page=2')).items.at(-1)!.periodAmount).toEqual({ cents: '400', currency: 'eur' });
    const last = await list('sort=amount&pageSize=3&page=3');
    expect(last).toMatchObject({ total: 8, names: ['Cedar', 'Dune'] });
    expect(last.items.map((i) => [i.billingState, i.periodAmount])).toEqual([['no_subscription', null], ['no_customer', null]]);
    expect(await list('sort=amount&pageSize=3&page=4')).toMatchObject({ total: 8, names: [] });
  });

  it('when each row’s amount is read, then it is the one its own page shows (one estimate)', async () => {
    for (const item of (await list('sort=amount&pageSize=200')).items.filter((i) => i.periodAmount)) {
      const id = loc(item.name.split(' ')[0]!);
      const own = (await get(`/api/sub-accounts/${id}/current-period`).expect(200)).body as { estimatedTotalCents: string; currency: string };
      expect([item.name, item.periodAmount]).toEqual([item.name, { cents: own.estimatedTotalCents, currency: own.currency }]);
    }
  });

  it('when a filter or a search is given, then only the matching clients are sorted and counted', async () => {
    expect(await list('sort=amount&status=billing&pageSize=2&page=2')).toMatchObject({ total: 6, names: ['Alder', 'Gale'] });
    expect(await list('sort=amount&status=not_billing')).toMatchObject({ total: 2, names: ['Cedar', 'Dune'] });
    expect(await list('sort=amount&search=d')).toMatchObject({ total: 3, names: ['Alder', 'Cedar', 'Dune'] });
  });
});
