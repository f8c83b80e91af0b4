import type { FrameLocator, Page } from 'playwright-core';
import { setUpBilling } from '../support/billing';
import { screenshotFrame } from './support/browser';
import { startBrowserWorld, type BrowserWorld } from './support/browser-world';

/**
 * The Activity page (issue 19 item 3) in a real browser, framed by a host page that plays HighLevel: changes two
 * agency users made through the API are listed newest first with who and before → after; filters by subject and
 * user narrow the list; the CSV downloads; at 800 px (the top bar wraps) nothing sticks out.
 */
jest.setTimeout(120_000);

const COMPANY = 'companyBrowserActivity01';

let world: BrowserWorld;
let page: Page;
let app: FrameLocator;
let apiKey = '';

const nav = (name: string) => app.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name, exact: true });
const rows = () => app.locator('table.activity tbody tr');
const as = async (userId: string, userName: string) =>
  `Bearer ${(await world.t.service.sessionTokens.issue({ userId, companyId: COMPANY, type: 'agency', role: 'admin', activeLocation: null, userName })).token}`;

beforeAll(async () => {
  world = await startBrowserWorld({ company: COMPANY, stripeKey: null, users: { viewer: { userName: 'Vic Viewer', role: 'user' } } });
  await setUpBilling(world.t.service, { companyId: COMPANY, locationId: world.locationIds[0]!, customer: 'cus_activityBrowser01', rules: [{ metric: 'sms', threshold: '1' }] });

  const olive = await as('user-olive', 'Olive Owner');
  const bert = await as('user-bert', 'Bert Billing');
  await world.t.http.put('/api/defaults').set('authorization', olive).send({ autoApply: true }).expect(200);
  const key = await world.t.http.post('/api/api-keys').set('authorization', bert).send({ name: 'Voice vendor' }).expect(201);
  apiKey = key.body.key;
  await world.t.http.delete(`/api/api-keys/${key.body.id}`).set('authorization', olive).expect(200);
  await world.t.http.put('/api/ai-senders').set('authorization', bert).send({ markers: ['provider:activityBot01'] }).expect(200);

  ({ page, app } = await world.openAgencyPage('viewer'));
});

afterAll(() => world?.close());

it('when an agency user opens Activity, then every change is listed newest first with who and before → after', async () => {
  await nav('Activity').click();
  await app.getByRole('heading', { name: 'Activity', level: 1 }).waitFor();
  await rows().first().waitFor();
  expect(await rows().count()).toBe(4);
  const texts = await rows().allInnerTexts();
  expect(texts[0]).toContain('Bert Billing');
  expect(texts[0]).toContain('AI senders');
  expect(texts[1]).toContain('Olive Owner');
  expect(texts[1]).toContain('api_key.revoked');
  expect(texts[1]).toMatch(/revoked: false → true/);
  expect(texts[3]).toMatch(/autoApply: false → true/);
  expect(texts[2]).toContain(`prefix: ${apiKey.slice(0, 12)}`); // the prefix the Usage API page shows, never the key
  expect(apiKey).toHaveLength(47);
  expect(texts.join('\n')).not.toContain(apiKey);
});

it('when filtered by subject, then by user, then only those changes stay', async () => {
  await app.getByLabel('What').selectOption('api_key');
  await app.getByRole('button', { name: 'Filter' }).click();
  await app.getByText('api_key.created').waitFor();
  await app.locator('tr', { hasText: 'AI senders' }).waitFor({ state: 'detached' });
  expect(await rows().count()).toBe(2);
  await app.getByLabel('Who').selectOption('user-bert');
  await app.getByRole('button', { name: 'Filter' }).click();
  await app.getByText('api_key.revoked').waitFor({ state: 'detached' });
  expect(await rows().count()).toBe(1);
  expect(await rows().first().innerText()).toContain('Bert Billing');
});

it('when the CSV is exported, then the browser saves the filtered entries', async () => {
  const [download] = await Promise.all([page.waitForEvent('download'), app.getByRole('button', { name: 'Export CSV' }).click()]);
  expect(download.suggestedFilename()).toMatch(/^meterbridge-activity-\d{4}-\d{2}-\d{2}\.csv$/);
  const stream = await download.createReadStream();
  let text = '';
  for await (const chunk of stream) text += chunk.toString();
  const lines = text.trim().split('\n');
  expect(lines).toHaveLength(2);
  expect(lines[1]).toContain('api_key.created');
});

it('when the screen is 800 px wide, then the page does not stick out', async () => {
  await page.setViewportSize({ width: 800, height: 900 });
  await app.getByLabel('What').selectOption('');
  await app.getByLabel('Who').selectOption('');
  await app.getByRole('button', { name: 'Filter' }).click();
  await app.locator('tr', { hasText: 'AI senders' }).waitFor();
  const by = await app.locator('html').evaluate((html) => html.scrollWidth - html.clientWidth);
  expect(by).toBe(0);
  // The log's table fits too: no sideways scrolling to read a change.
  expect(await app.locator('.table-wrap', { has: app.locator('table.activity') }).evaluate((el) => el.scrollWidth - el.clientWidth)).toBe(0);
  await screenshotFrame(page, app, 'activity-800.png');
  await page.setViewportSize({ width: 1280, height: 900 });
  expect(world.pageErrors).toEqual([]);
});
