import { sql } from 'drizzle-orm';
import type { BrowserContext, FrameLocator, Page } from 'playwright-core';
import { selectRows } from '../../models/database';
import { fixture } from '../support/highlevel-fixtures';
import { screenshotFrame } from './support/browser';
import { startBrowserWorld, type BrowserWorld } from './support/browser-world';

/**
 * The "AI messages" card on the Usage API screen, in a real browser framed by a host page that plays HighLevel,
 * against the real service: the agency names its AI app's conversation provider, and that app's signed reply
 * webhook for one of its sub-accounts then counts as ai_messages; a malformed marker shows the server's 400
 * message; removing the marker saves an empty list. A sub-account user never sees the card.
 */
jest.setTimeout(120_000);

const COMPANY = 'companyBrowserAi0001';
let LOCATION = '';
const PROVIDER = 'cpAiReceptionist0001'; // the fixture's conversationProviderId

let world: BrowserWorld;
let context: BrowserContext;
let page: Page;
let app: FrameLocator;

const nav = (name: string) => app.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name, exact: true });
const card = () => app.getByRole('region', { name: 'AI messages' });
const savedMarkers = async () => (await world.api.get('/api/ai-senders')).body.markers;

/** The provider-sent AI reply fixture, addressed to the agency's sub-account. */
const aiReply = (webhookId: string) => ({ ...fixture('conversation-ai/sms-ai-provider'), locationId: LOCATION, webhookId, messageId: `m-${webhookId}` });

/** ai_* usage stored for a delivery. */
async function aiUsage(webhookId: string) {
  return selectRows<{ metric: string; quantity: string }>(
    world.t.database.db,
    sql`select u.metric, u.quantity::int::text as quantity from usage_records u join activity_events e on e.id = u.activity_event_id
        where e.webhook_id = ${webhookId} and u.metric like 'ai_%' order by u.metric`,
  );
}

beforeAll(async () => {
  world = await startBrowserWorld({
    company: COMPANY,
    locations: ['Robo Dental'],
    stripeKey: null,
    users: { agency: { userName: 'Ari Agency' }, dental: { userName: 'Dana Dental', role: 'user', location: 0 } },
  });
  [LOCATION] = world.locationIds as [string];
  ({ context, page, app } = await world.openAgencyPage());
});

afterAll(() => world?.close());

describe('AI messages card', () => {
  it('when the agency adds its AI app’s provider and saves, then it is listed and that app’s reply counts as ai_messages', async () => {
    await nav('Usage API').click();
    await card().getByText('No AI sender: no message counts as AI.').waitFor();
    await world.t.postSigned(aiReply('browser-ai-1')).expect(200);
    expect(await aiUsage('browser-ai-1')).toEqual([]); // no marker: an ordinary SMS

    await card().getByLabel('Kind').selectOption({ label: 'Conversation provider id' });
    await card().getByLabel('Conversation provider id').fill(PROVIDER);
    await card().getByRole('button', { name: 'Add sender' }).click();
    const row = card().locator(`table.ai-senders tr[data-marker="provider:${PROVIDER}"]`);
    await row.waitFor();
    await card().getByText('Unsaved changes.').waitFor();
    expect(await savedMarkers()).toEqual([]); // not before Save
    await card().getByRole('button', { name: 'Save AI senders' }).click();
    await card().getByText('AI senders saved: 1 marker.').waitFor();
    expect(await savedMarkers()).toEqual([`provider:${PROVIDER}`]);

    // Listed again after a reload of the screen, from the server.
    await nav('Overview').click();
    await nav('Usage API').click();
    await row.waitFor();
    expect((await row.innerText()).replace(/\s+/g, ' ')).toMatch(new RegExp(`Conversation provider id ${PROVIDER} Remove`));

    await world.t.postSigned(aiReply('browser-ai-2')).expect(200);
    const usage = await aiUsage('browser-ai-2');
    expect(usage.map((u) => u.metric)).toEqual(['ai_messages', 'ai_tokens']);
    expect(usage[0]!.quantity).toBe('1');
    expect(Number(usage[1]!.quantity)).toBeGreaterThan(0);
    await screenshotFrame(page, app, 'ai-senders.png');
  });

  it('when a malformed marker is added, then the page says what is wrong in words (no grammar notation) and nothing changes', async () => {
    await card().getByLabel('Kind').selectOption({ label: 'Message source' });
    await card().getByLabel('Message source').fill('has space');
    await card().getByRole('button', { name: 'Add sender' }).click();
    const alert = card().getByRole('alert');
    await alert.waitFor();
    expect(await alert.innerText()).toBe('“has space” cannot be a message source: use only letters, digits, “_” and “-”, without spaces or commas.');
    expect(await alert.innerText()).not.toMatch(/<id>|<source>/);
    expect(await card().locator('tr[data-marker="source:has space"]').count()).toBe(0);
    await screenshotFrame(page, app, 'ai-senders-error.png');
    expect(await savedMarkers()).toEqual([`provider:${PROVIDER}`]);
    expect(await card().getByText('Unsaved changes.').count()).toBe(0);
  });

  it('when the marker is removed and saved, then the list is empty on the server too', async () => {
    await card().getByRole('button', { name: `Remove provider:${PROVIDER}` }).click();
    await card().getByText('No AI sender: no message counts as AI.').waitFor();
    // Keyboard: Save is reachable and pressable without a mouse.
    await card().getByRole('button', { name: 'Save AI senders' }).focus();
    await page.keyboard.press('Enter');
    await card().getByText('AI senders saved: no message counts as AI.').waitFor();
    expect(await savedMarkers()).toEqual([]);
  });

  it('when the screen is 800 px wide, then the card does not stick out', async () => {
    await page.setViewportSize({ width: 800, height: 900 });
    const by = await app.locator('html').evaluate((html) => html.scrollWidth - html.clientWidth);
    expect(by).toBe(0);
    await card().getByLabel('Kind').selectOption('unattended');
    expect(await card().getByLabel('Kind').inputValue()).toBe('unattended');
    expect(await card().locator('#ai-sender-value').count()).toBe(0); // unattended takes no value
    await card().getByRole('button', { name: 'Add sender' }).click();
    await card().locator('tr[data-marker="unattended"]').waitFor();
    await screenshotFrame(page, app, 'ai-senders-800.png');
    await page.setViewportSize({ width: 1280, height: 900 });
  });

  it('when a sub-account user opens the Usage API path, then they see no AI senders, and the API refuses them', async () => {
    const own = await context.newPage();
    own.on('pageerror', (err) => world.pageErrors.push(err.message));
    await own.goto(world.parent.url('dental', '/app/usage-api'));
    const frame = own.frameLocator('#app');
    await frame.getByTestId('sub-account-name').filter({ hasText: 'Robo Dental' }).waitFor();
    await frame.locator('[role="status"] .spinner').first().waitFor({ state: 'detached' });
    const text = await frame.locator('body').innerText();
    // ("AI messages" is not checked: it names a metric of the sub-account's own usage.)
    for (const agencyOnly of ['AI sender', 'Conversation provider id', 'o200k_base', 'Usage API']) expect(text).not.toContain(agencyOnly);
    await own.close();
    const location = (await world.t.service.sessionTokens.issue({ userId: 'user-dental', companyId: COMPANY, type: 'location', role: 'user', activeLocation: LOCATION })).token;
    await world.t.http.get('/api/ai-senders').set('authorization', `Bearer ${location}`).expect(403);
  });

  it('when the walk is over, then no script error happened', () => {
    expect(world.pageErrors).toEqual([]);
  });
});
