import type { FrameLocator } from 'playwright-core';
import { startBrowserWorld, type BrowserWorld } from './support/browser-world';

/**
 * "Sort by this period's amount" on the sub-accounts list is the server's order over every client, not a re-sort of
 * the page on screen: 55 clients (the page shows 50), two of them billed — Aspen Clinic (3 SMS at 2¢, first by name)
 * and Zephyr Dental (50 SMS, last by name, so on page 2 by name). Sorted by amount, Zephyr comes first on page 1.
 */
jest.setTimeout(180_000);

const COMPANY = 'companyByAmountPage1';
const FILLERS = Array.from({ length: 53 }, (_, i) => `Client ${String(i).padStart(2, '0')}`);
const NAMES = ['Aspen Clinic', ...FILLERS, 'Zephyr Dental'];

let world: BrowserWorld;
let app: FrameLocator;
const listRequests: URL[] = [];

const listed = () => app.locator('table.subs tbody th > a').allInnerTexts();
const count = () => app.getByTestId('sub-count');

beforeAll(async () => {
  world = await startBrowserWorld({ company: COMPANY, locations: NAMES, env: { REPORTER_ENABLED: 'false' } });
  const { t, api } = world;
  const id = (name: string) => world.locationIds[NAMES.indexOf(name)]!;
  await api.put('/api/pricing/sms', { threshold: 1, price: { currency: 'usd', unitAmountDecimal: '2' } });
  const apiKey = (await t.service.apiKeys.create(COMPANY, 'by amount')).key;
  for (const [name, sms] of [['Aspen Clinic', 3], ['Zephyr Dental', 50]] as const) {
    await api.put(`/api/sub-accounts/${id(name)}/customer`, { create: true });
    await api.put(`/api/sub-accounts/${id(name)}/billing`, { rebillingEnabled: true, subscription: {} });
    await t.http.post('/api/v1/usage').set('authorization', `Bearer ${apiKey}`)
      .send({ locationId: id(name), metric: 'sms', quantity: String(sms), occurredAt: new Date().toISOString(), idempotencyKey: `amount-${sms}` }).expect(200);
  }
  await t.drain();

  const opened = await world.openAgencyPage();
  app = opened.app;
  opened.page.on('request', (request) => {
    const url = new URL(request.url());
    if (url.pathname === '/api/sub-accounts') listRequests.push(url);
  });
});

afterAll(() => world?.close());

describe('the sub-accounts list sorted by this period’s amount, across pages', () => {
  it('when the list opens by name, then the biggest client is not on page 1', async () => {
    await app.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name: 'Sub-accounts', exact: true }).click();
    await count().filter({ hasText: '1–50 of 55 sub-accounts' }).waitFor();
    const names = await listed();
    expect(names[0]).toBe('Aspen Clinic');
    expect(names).not.toContain('Zephyr Dental');
  });

  it('when sorted by amount, then the page asks the server for sort=amount and the biggest client, from page 2 by name, is first', async () => {
    await app.getByLabel('Sort by').selectOption('amount');
    await app.locator('table.subs tbody tr').first().getByRole('link', { name: 'Zephyr Dental' }).waitFor();
    expect((await listed()).slice(0, 2)).toEqual(['Zephyr Dental', 'Aspen Clinic']);
    await app.locator('table.subs tbody tr').first().getByTestId('period-amount').getByText('$1.00 so far').waitFor();
    expect(listRequests.at(-1)!.searchParams.get('sort')).toBe('amount');
    expect(await app.locator('body').evaluate((b) => b.ownerDocument.defaultView!.location.search)).toBe('?sort=amount');
    expect(await count().innerText()).toBe('1–50 of 55 sub-accounts');
  });

  it('when the next page is opened, then it goes on in the same order: the last clients not billed, by name', async () => {
    await app.getByRole('button', { name: 'Next page' }).click();
    await count().filter({ hasText: '51–55 of 55 sub-accounts' }).waitFor();
    expect(await listed()).toEqual(FILLERS.slice(-5));
    expect(listRequests.at(-1)!.searchParams.get('sort')).toBe('amount');
    expect(listRequests.at(-1)!.searchParams.get('page')).toBe('2');
  });

  it('when the walk is over, then no script error happened', () => {
    expect(world.pageErrors).toEqual([]);
  });
});
