import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import nock from 'nock';
import type { Browser, BrowserContext, FrameLocator } from 'playwright-core';
import { HIGHLEVEL_API, installedLocations, OAUTH_ENV, serveInstalledLocations, tokenResponse } from '../support/highlevel-oauth';
import { startTestService, type TestService } from '../support/test-service';
import { launchBrowser, openSignedInAgencyPage, closeBrowserTest } from './support/browser';
import { startHighLevelParent, type HighLevelParent } from './support/highlevel-parent';

/**
 * The double-rebilling warning on the Pricing page, in a real browser framed by a host page that plays HighLevel:
 * after HighLevel's SaaS API (faked with nock, its documented answer) shows the agency's sub-account in SaaS mode,
 * the rows of metrics HighLevel also rebills say the client may be billed twice, and the others do not.
 */
jest.setTimeout(120_000);

const DOCUMENTED = JSON.parse(readFileSync(path.join(__dirname, '../fixtures/highlevel/api/saas-subscription.json'), 'utf8'));
const SHARED_SECRET = 'browser-double-billing-secret';
const COMPANY = 'companyBrowserSaas001';
const COMPANY_TOKEN = 'at-browser-saas';
let LOCATION = '';

let t: TestService;
let parent: HighLevelParent;
let browser: Browser;
let context: BrowserContext;
let app: FrameLocator;
const pageErrors: string[] = [];

beforeAll(async () => {
  browser = await launchBrowser();
  t = await startTestService({ ...OAUTH_ENV, HIGHLEVEL_SHARED_SECRET: SHARED_SECRET });
  const server = await t.service.listen(0);
  const appUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const locations = installedLocations('locBrowserSaas', 1).map((l) => ({ ...l, name: 'Saas Dental' }));
  LOCATION = locations[0]!._id;
  serveInstalledLocations(COMPANY, locations, 100);
  const grant = tokenResponse({ userType: 'Company', companyId: COMPANY, accessToken: COMPANY_TOKEN, refreshToken: 'rt-browser-saas', isBulkInstallation: true });
  await t.service.install.completeOAuth({ ...grant, scope: `${grant.scope} saas/company.read` });

  parent = await startHighLevelParent({ appUrl, sharedSecret: SHARED_SECRET });
  parent.users.set('agency', { userId: 'user-saas', companyId: COMPANY, role: 'admin', type: 'agency', userName: 'Sam Saas' });
  ({ context, app } = await openSignedInAgencyPage(browser, parent.url('agency'), pageErrors));
});

afterAll(() => closeBrowserTest(context, browser, parent, t));

describe('double-rebilling warning on the Pricing page', () => {
  it('when HighLevel shows the sub-account in SaaS mode, then the SMS and email rows warn of double billing and Voice AI does not', async () => {
    nock(HIGHLEVEL_API, { reqheaders: { version: '2021-04-15', authorization: `Bearer ${COMPANY_TOKEN}` } })
      .get(`/saas/get-saas-subscription/${LOCATION}`)
      .query({ companyId: COMPANY })
      .reply(200, { ...DOCUMENTED, locationId: LOCATION, companyId: COMPANY });
    expect(await t.service.saasModeCheck.runOnce()).toMatchObject({ agencies: 1, checked: 1, inSaasMode: 1 });
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
    expect(pageErrors).toEqual([]);
  });
});
