import { readFileSync } from 'node:fs';
import path from 'node:path';
import nock from 'nock';
import type { FrameLocator } from 'playwright-core';
import { HIGHLEVEL_API } from '../support/highlevel-oauth';
import { startBrowserWorld, type BrowserWorld } from './support/browser-world';

/**
 * The double-rebilling warning on the Pricing page, in a real browser framed by a host page that plays HighLevel:
 * after HighLevel's SaaS API (faked with nock, its documented answer) shows the agency's sub-account in SaaS mode,
 * the rows of metrics HighLevel also rebills say the client may be billed twice, and the others do not.
 */
jest.setTimeout(120_000);

const DOCUMENTED = JSON.parse(readFileSync(path.join(__dirname, '../fixtures/highlevel/api/saas-subscription.json'), 'utf8'));
const COMPANY = 'companyBrowserSaas001';
const COMPANY_TOKEN = 'at-browser-saas';
let LOCATION = '';

let world: BrowserWorld;
let app: FrameLocator;

beforeAll(async () => {
  world = await startBrowserWorld({
    company: COMPANY,
    locations: ['Saas Dental'],
    stripeKey: null,
    accessToken: COMPANY_TOKEN,
    extraScopes: ['saas/company.read'],
    users: { agency: { userName: 'Sam Saas' } },
  });
  [LOCATION] = world.locationIds as [string];
  ({ app } = await world.openAgencyPage());
});

afterAll(() => world?.close());

describe('double-rebilling warning on the Pricing page', () => {
  it('when HighLevel shows the sub-account in SaaS mode, then the SMS and email rows warn of double billing and Voice AI does not', async () => {
    nock(HIGHLEVEL_API, { reqheaders: { version: '2021-04-15', authorization: `Bearer ${COMPANY_TOKEN}` } })
      .get(`/saas/get-saas-subscription/${LOCATION}`)
      .query({ companyId: COMPANY })
      .reply(200, { ...DOCUMENTED, locationId: LOCATION, companyId: COMPANY });
    expect(await world.t.service.saasModeCheck.runOnce()).toMatchObject({ agencies: 1, checked: 1, inSaasMode: 1 });
    expect(nock.pendingMocks()).toEqual([]);

    await app.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name: 'Pricing', exact: true }).click();
    await app.getByRole('heading', { name: 'Price per metric' }).waitFor();
    const row = (metric: string) => app.locator(`table.pricing tr[data-metric="${metric}"]`);
    for (const metric of ['sms', 'call_minutes', 'phone_numbers', 'email']) {
      const text = await row(metric).innerText();
      expect(text).toContain('May be billed twice');
      expect(text).toContain('1 sub-account is in HighLevel SaaS mode');
    }
    expect(await row('ai_call_minutes').innerText()).not.toContain('May be billed twice');
    expect(world.pageErrors).toEqual([]);
  });
});
