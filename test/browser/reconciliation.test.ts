import { sql } from 'drizzle-orm';
import type { FrameLocator, Page } from 'playwright-core';
import { selectRows } from '../../models/database';
import { ensureMeter } from '../../server/stripe/catalog';
import { createStripeClientFactory } from '../../server/stripe/stripe-client';
import { drainReporter, setUpBilling, TEST_STRIPE_KEY } from '../support/billing';
import { fixture } from '../support/highlevel-fixtures';
import { withMeterSummaries, type MeterSummaries } from '../support/stripe/meter-summaries';
import { openSignedInAgencyPage, screenshotFrame, openFold } from './support/browser';
import { startBrowserWorld, type BrowserWorld } from './support/browser-world';

/**
 * The Reconciliation view in a real browser, framed by a host page that plays HighLevel, against the real service
 * with Stripe faked by the double and its meter totals: Stripe dropped one sub-account's meter event and counts
 * units nobody sent for another → "Reconcile now" shows the missing units repaired and the excess left for the
 * agency; after the correction is sent, a second run finds the first pair matching and the excess still there,
 * which raises the alert on the section and on the overview; the sub-account page shows its own pairs only. A pair's
 * customer shows as its sub-account, linked to the Stripe Dashboard, never as a `cus_` id.
 */
jest.setTimeout(180_000);

const COMPANY = 'companyBrowserRecon01';
const EVENT_NAME = 'meterbridge_sms';
const A = { locationId: '', customer: 'cus_BrowserReconA' };
const B = { locationId: '', customer: 'cus_BrowserReconB' };

let world: BrowserWorld;
let summaries: MeterSummaries;
let page: Page;
let app: FrameLocator;
let sequence = 0;

const nav = (name: string) => app.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name, exact: true });
const section = () => app.locator('section[aria-labelledby="reconciliation-title"]');
const pairRow = (customer: string) => section().locator(`tr[data-pair="${customer}"]`);
/** Everything sent so far was sent two hours ago: older than the one-hour settle time, so reconciliation compares it. */
const ageSends = () => world.t.database.db.execute(sql`update meter_batches set sent_at = sent_at - interval '2 hours' where sent_at > now() - interval '1 hour'`);
const processed = () => new Promise((resolve) => setTimeout(resolve, 300));

/** `count` outbound SMS sent by HighLevel three hours ago, then the reporter drained. @returns the meter event identifier. */
async function sendSms(locationId: string, count: number): Promise<string> {
  const at = new Date(Date.now() - 3 * 3600_000).toISOString();
  for (let i = 0; i < count; i++) {
    sequence += 1;
    await world.t.postSigned({ ...fixture('sms-outbound'), locationId, webhookId: `wh-browser-recon-${sequence}`, messageId: `mBrRecon${sequence}`, dateAdded: at, timestamp: at }).expect(200);
  }
  await drainReporter(world.t.service);
  const [batch] = await selectRows<{ identifier: string }>(world.t.database.db, sql`select identifier from meter_batches order by id desc limit 1`);
  return batch!.identifier;
}

beforeAll(async () => {
  world = await startBrowserWorld({
    company: COMPANY,
    locations: 2,
    env: { REPORTER_RETRY_BASE_SECONDS: '0', RECONCILE_SETTLE_SECONDS: '3600' },
    stripeKey: null,
    users: { agency: { userName: 'Rita Recon' }, viewer: { userName: 'Vic Viewer', role: 'user' } },
  });
  [A.locationId, B.locationId] = world.locationIds as [string, string];
  summaries = withMeterSummaries(world.stripe, { processingDelaySeconds: 0.2 });
  await ensureMeter(createStripeClientFactory({ apiUrl: world.stripe.url, timeoutMs: 5000 })(TEST_STRIPE_KEY), { metric: 'sms', eventName: EVENT_NAME, displayName: 'SMS' });
  await setUpBilling(world.t.service, { companyId: COMPANY, ...A, rules: [{ metric: 'sms', threshold: 1 }] });
  await setUpBilling(world.t.service, { companyId: COMPANY, ...B, rules: [] });

  await sendSms(B.locationId, 2);
  summaries.drop(await sendSms(A.locationId, 3));
  summaries.addForeignEvent({ customer: B.customer, eventName: EVENT_NAME, value: 4, timestamp: Math.floor(Date.now() / 1000) - 3 * 3600 });
  await ageSends();
  await processed();
  ({ page, app } = await world.openAgencyPage());
});

afterAll(() => world?.close());

it('when Stripe dropped a meter event and counts foreign units, then "Reconcile now" shows the repair and the units left for the agency', async () => {
  expect(await app.getByTestId('overview-drift-alert').count()).toBe(0);
  await nav('Reconciliation').click();
  await app.getByRole('heading', { name: 'Reconciliation', level: 1 }).waitFor();
  await section().getByText('No reconciliation yet: the first runs tonight.').waitFor();

  await section().getByRole('button', { name: 'Reconcile now' }).click();
  await section().getByText('Reconciled 2 customer × meter pairs. SMS messages: 3 missing, 4 in excess, 3 repaired, 4 left for you.').waitFor();
  await pairRow(A.customer).waitFor();
  expect(await pairRow(A.customer).getAttribute('data-status')).toBe('corrected');
  await pairRow(A.customer).getByText('3 units missing in Stripe, a corrective meter event sent').waitFor();
  expect(await pairRow(B.customer).getAttribute('data-status')).toBe('flagged');
  await pairRow(B.customer).getByText(/4 units left for you/).waitFor();
  expect(await section().locator('tr[data-run]').count()).toBe(1);
  // Each customer shows as the sub-account billed to it, linked to its page in the Stripe Dashboard (id on hover only).
  for (const { locationId, customer } of [A, B]) {
    const link = pairRow(customer).getByTestId('pair-customer');
    expect(await link.innerText()).toBe(`Sub-account ${locationId}`);
    expect(await link.getAttribute('href')).toBe(await world.stripeDashboardUrl(`customers/${customer}`));
    expect(await link.getAttribute('title')).toBe(customer);
    expect(await link.getAttribute('rel')).toBe('noopener noreferrer');
  }
  expect(await section().locator('tr[data-pair]').allInnerTexts()).not.toContainEqual(expect.stringMatching(/cus_/));
});

it('when the correction reached Stripe and the excess stays, then the next run shows no drift for the repaired pair and the alert appears here and on the overview', async () => {
  await drainReporter(world.t.service);
  await ageSends();
  await processed();
  await section().getByRole('button', { name: 'Reconcile now' }).click();
  await section().getByText('Reconciled 2 customer × meter pairs. SMS messages: 4 in excess, 4 left for you.').waitFor();
  // The runs and the new run's pairs are read again after that message shows: wait for them, then count.
  await section().locator('tr[data-run]').nth(1).waitFor();
  expect(await section().locator('tr[data-run]').count()).toBe(2);
  await section().locator(`tr[data-pair="${A.customer}"][data-status="ok"]`).waitFor();
  expect(await pairRow(A.customer).getAttribute('data-status')).toBe('ok');
  await section().getByTestId('drift-alert').getByText(/4 units on 1 customer × meter pair/).waitFor();
  await screenshotFrame(page, app, 'reconciliation.png');

  await nav('Overview').click();
  await app.getByTestId('overview-drift-alert').getByText(/by 4 units on 1 customer × meter pair/).waitFor();
  await app.getByTestId('overview-drift-alert').getByRole('link', { name: 'Review reconciliation' }).click();
  await app.getByRole('heading', { name: 'Reconciliation', level: 1 }).waitFor();
});

it('when the agency opens a sub-account, then its Reconciliation card lists the runs that compared it and only its own pair', async () => {
  await nav('Sub-accounts').click();
  await app.getByRole('link', { name: `Sub-account ${A.locationId}` }).click();
  await openFold(app, 'Reconciliation with Stripe'); // a rare tool: folded on the sub-account page
  await section().getByRole('heading', { name: 'Reconciliation with Stripe' }).waitFor();
  await section().locator('tr[data-run]').first().waitFor();
  expect(await section().locator('tr[data-run]').count()).toBe(2);
  expect(await section().getByTestId('drift-alert').count()).toBe(0);
  await section().getByRole('button', { name: /^Details of the run/ }).last().click();
  await pairRow(A.customer).waitFor();
  expect(await section().locator('tr[data-pair]').count()).toBe(1);

  // At 800 px nothing sticks out of the frame (tables scroll inside their wrapper) and every control has a name.
  await page.setViewportSize({ width: 800, height: 900 });
  const overflow = await app.locator('html').evaluate((html) =>
    [...html.ownerDocument.querySelectorAll('section[aria-labelledby="reconciliation-title"] *')]
      .filter((el) => el.getBoundingClientRect().right > html.clientWidth + 1 && !el.closest('.table-wrap'))
      .map((el) => el.tagName),
  );
  expect(overflow).toEqual([]);
  const unnamed = await section().evaluate((card) =>
    [...card.querySelectorAll('button, a[href]')].filter((el) => !el.getAttribute('aria-label') && !(el.textContent ?? '').trim()).length,
  );
  expect(unnamed).toBe(0);
  await screenshotFrame(page, app, 'reconciliation-sub-account-800.png');
  expect(world.pageErrors).toEqual([]);
});

it('when an agency user who is not an admin opens Reconciliation, then the runs and the alert show but not “Reconcile now”', async () => {
  const viewer = await openSignedInAgencyPage(world.browser, world.parent.url('viewer'), world.pageErrors);
  try {
    const frame = viewer.app;
    await frame.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name: 'Reconciliation', exact: true }).click();
    const card = frame.locator('section[aria-labelledby="reconciliation-title"]');
    await card.locator('tr[data-run]').first().waitFor();
    expect(await card.locator('tr[data-run]').count()).toBe(2);
    await card.getByTestId('drift-alert').waitFor();
    expect(await card.getByRole('button', { name: 'Reconcile now' }).count()).toBe(0);
    expect(world.pageErrors).toEqual([]);
  } finally {
    await viewer.context.close();
  }
});
