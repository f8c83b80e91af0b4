import { sql } from 'drizzle-orm';
import type { FrameLocator } from 'playwright-core';
import { drainReporter } from '../support/billing';
import { fixture } from '../support/highlevel-fixtures';
import { openFold } from './support/browser';
import { justNow, startBrowserWorld, type BrowserWorld } from './support/browser-world';

/**
 * Issue 22's words and counts left by the audit (docs/owner-page-tests.md, rows "audit 2"), in a real browser against
 * the real service and the Stripe double, on the shared world (support/browser-world.ts). Four clients: Held Clinic
 * (customer, no subscription: its 2 SMS and 3 SEO reports — a custom metric — are held back, and the SEO reports
 * cross the agency's usage alert of 2), Shadow Clinic (subscribed, in shadow mode with a backlog of 3 SMS), Failed
 * Clinic A and B (3 and 1 meter reports Stripe refused; last night's reconciliation left 2 SMS and 3 SEO reports in
 * excess on A's customer). No screen adds units of different metrics, names a metric by its key or shows a `cus_` id
 * in a sentence, and a headline counts what its link lists.
 */
jest.setTimeout(180_000);

const NAMES = ['Held Clinic', 'Shadow Clinic', 'Failed Clinic A', 'Failed Clinic B'] as const;
const ids = {} as Record<(typeof NAMES)[number], string>;

let world: BrowserWorld;
let app: FrameLocator;

const nav = (name: string | RegExp) => app.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name, exact: typeof name === 'string' });
const card = (heading: string | RegExp) => app.locator('section', { has: app.getByRole('heading', { name: heading, exact: true }) });
const customerOf = async (name: (typeof NAMES)[number]) => (await world.api.get(`/api/sub-accounts/${ids[name]}`)).body.stripeCustomerId as string;

beforeAll(async () => {
  world = await startBrowserWorld({ company: 'companyOwnerWords01', locations: NAMES, env: { REPORTER_ENABLED: 'false' } });
  NAMES.forEach((name, i) => (ids[name] = world.locationIds[i]!));
  const { api } = world;
  await api.put('/api/pricing/sms', { threshold: 1, price: { currency: 'usd', unitAmountDecimal: '2' } });
  await api.post('/api/custom-metrics', { key: 'seo_reports', label: 'SEO reports', unit: 'report' }, 201);
  await api.put('/api/pricing/seo_reports', { threshold: 1, price: { currency: 'usd', unitAmountDecimal: '500' } });
  for (const name of NAMES) await api.put(`/api/sub-accounts/${ids[name]}/billing`, { rebillingEnabled: true });
  for (const name of NAMES) await api.put(`/api/sub-accounts/${ids[name]}/customer`, { create: true });
  await api.put(`/api/sub-accounts/${ids['Shadow Clinic']}/billing`, { subscription: {} });
  await api.put(`/api/sub-accounts/${ids['Shadow Clinic']}/billing-mode`, { mode: 'shadow' });
  await api.put('/api/alerts/usage-thresholds', { locationId: null, metric: 'seo_reports', limit: '2' });

  const webhook = (name: (typeof NAMES)[number], id: string) => {
    const at = justNow();
    return world.t.postSigned({ ...fixture('sms-outbound'), locationId: ids[name], webhookId: id, messageId: id, dateAdded: at, timestamp: at }).expect(200);
  };
  for (let i = 0; i < 2; i++) await webhook('Held Clinic', `words-held-sms-${i}`);
  for (let i = 0; i < 3; i++) await webhook('Shadow Clinic', `words-shadow-sms-${i}`);
  const { key } = (await api.post('/api/api-keys', { name: 'reports' }, 201)).body as { key: string };
  await world.t.http.post('/api/v1/usage').set('authorization', `Bearer ${key}`).send({ locationId: ids['Held Clinic'], metric: 'seo_reports', quantity: '3', occurredAt: justNow(), idempotencyKey: 'words-seo-1' }).expect(200);
  await drainReporter(world.t.service);
  await world.t.service.alerts.checks.checkUsage();

  // Meter reports Stripe refused (what the reporter stores: server/stripe/meter-batch-settlement.ts): 3 of Failed
  // Clinic A, 1 of Failed Clinic B. Last night's reconciliation (what server/reconciliation/ stores for a completed
  // run) left 2 SMS and 3 SEO reports in excess on A's customer; the operations sweep alerts on it.
  for (const [name, count] of [['Failed Clinic A', 3], ['Failed Clinic B', 1]] as const) {
    const customer = await customerOf(name);
    await world.t.database.db.execute(sql`insert into meter_reports (company_id, location_id, metric, stripe_customer_id, meter_event_name, units, crossed_at, status)
      select 'companyOwnerWords01', ${ids[name]}, 'sms', ${customer}, 'meterbridge_sms', 1, now(), 'failed' from generate_series(1, ${count})`);
  }
  await world.t.database.db.execute(sql`with run as (
      insert into reconciliation_runs (company_id, trigger, status, settled_before, windows_from, pairs_checked, pairs_with_drift, excess_units, left_for_person_units, finished_at)
      values ('companyOwnerWords01', 'scheduled', 'completed', now() - interval '2 hours', now() - interval '3 days', 2, 2, 5, 5, now()) returning id)
    insert into reconciliation_pairs (run_id, company_id, location_id, stripe_customer_id, meter_event_name, status, windows_checked, our_units, stripe_units, excess_units, left_for_person_units)
    select id, 'companyOwnerWords01', ${ids['Failed Clinic A']}, ${await customerOf('Failed Clinic A')}, m.name, 'flagged', 1, 0, m.units, m.units, m.units
    from run, (values ('meterbridge_sms', 2), ('meterbridge_seo_reports', 3)) as m(name, units)`);
  await world.t.service.alerts.checks.sweepOperations();
  ({ app } = await world.openAgencyPage());
});

afterAll(() => world?.close());

describe('no sum across metrics, metrics by their labels (audit items 1, 2 and 5)', () => {
  it('when reconciliation left drift on two metrics, then its run shows each metric’s units by label and never their sum', async () => {
    await nav('Reconciliation').click();
    const drift = app.locator('section[aria-labelledby="reconciliation-title"] tr[data-run]').getByTestId('run-drift');
    await drift.getByText('SEO reports: 3 in excess, 3 left for you').waitFor();
    expect(await drift.locator('li').allInnerTexts()).toEqual(['SEO reports: 3 in excess, 3 left for you', 'SMS messages: 2 in excess, 2 left for you']);
    expect(await drift.innerText()).not.toMatch(/\b5\b/);
  });

  it('when usage crosses its alert and reconciliation finds drift, then the Notifications page says so by the metrics’ labels, without a sum', async () => {
    await nav(/^Notifications/).click();
    const usage = app.getByTestId('notification').filter({ hasText: 'Usage alert: Held Clinic' });
    await usage.getByText('Usage this period reached 3 SEO reports, over the alert threshold of 2 SEO reports.').waitFor();
    const drift = app.getByTestId('notification').filter({ hasText: 'Reconciliation found drift' });
    await drift.getByText(/SEO reports: 3 in excess, 3 left for you\. SMS messages: 2 in excess, 2 left for you\./).waitFor();
    const alerts = await app.getByRole('list', { name: 'Alerts' }).innerText();
    expect(alerts).not.toMatch(/seo_reports|meterbridge_|\b5 units\b/);
  });

  it('when a client’s usage of two metrics is held back, then the payments API the page reads gives units per metric and no total', async () => {
    const { held } = (await world.api.get(`/api/sub-accounts/${ids['Held Clinic']}/payments`)).body;
    expect(Object.keys(held)).toEqual(['metrics']);
    expect(held.metrics.map((m: { metric: string; units: number }) => [m.metric, m.units])).toEqual([['seo_reports', 3], ['sms', 2]]);
  });
});

describe('the shadow backlog names the customer (audit item 3)', () => {
  it('when the backlog is billed, then the confirmation and the success message name the client’s customer, its id only on hover', async () => {
    const customer = await customerOf('Shadow Clinic');
    await nav('Sub-accounts').click();
    await app.getByRole('link', { name: 'Shadow Clinic', exact: true }).click();
    await app.getByTestId('sub-account-summary').waitFor();
    await openFold(app, 'Shadow mode and per-metric rules');
    const mode = card(/^Billing mode/);
    await mode.getByRole('button', { name: 'Bill this backlog' }).click();
    const confirm = mode.getByRole('group', { name: 'Confirm billing the backlog' });
    await confirm.getByText('Send $0.06 (3 units of SMS messages) to Stripe for Shadow Clinic?').waitFor();
    expect(await confirm.getByTestId('backlog-invoice-note').innerText()).toBe('It goes on the client’s next invoice.');
    expect(await confirm.innerText()).not.toMatch(/cus_/);
    expect(await confirm.getByText('Shadow Clinic', { exact: true }).getAttribute('title')).toBe(customer);
    await confirm.getByRole('button', { name: 'Yes, bill it' }).click();
    const success = mode.getByText('3 reports queued for Stripe, to bill Shadow Clinic.');
    await success.waitFor();
    expect(await success.innerText()).not.toMatch(/cus_/);
    expect(await success.getByText('Shadow Clinic', { exact: true }).getAttribute('title')).toBe(customer);
  });
});

describe('a headline counts what its link lists (audit item 4)', () => {
  it('when two clients have failed reports (4 reports), then the Overview says 2 sub-accounts and its link lists those 2', async () => {
    await nav('Overview').click();
    const failed = app.getByRole('region', { name: 'Headline numbers' }).getByRole('link', { name: /with failed reports/ });
    await failed.waitFor();
    expect(await failed.innerText()).toMatch(/^2\s+Sub-accounts with failed reports$/);
    await failed.click();
    await app.getByTestId('status-filter').getByText('With failed reports', { exact: true }).waitFor();
    await app.getByText('1–2 of 2 sub-accounts').waitFor();
    expect(await app.locator('table.subs tbody tr').count()).toBe(2);
  });

  it('when the walk is over, then no script error happened', () => {
    expect(world.pageErrors).toEqual([]);
  });
});
