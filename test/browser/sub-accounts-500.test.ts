import type { AddressInfo } from 'node:net';
import nock from 'nock';
import type { Browser, FrameLocator } from 'playwright-core';
import { installedLocations, OAUTH_ENV, serveInstalledLocations, tokenResponse } from '../support/highlevel-oauth';
import { startTestService, type TestService } from '../support/test-service';
import { launchBrowser, openSignedInAgencyPage, closeBrowserTest } from './support/browser';
import { startHighLevelParent, type HighLevelParent } from './support/highlevel-parent';

/**
 * An agency with 500 sub-accounts (a bulk install synced over 5 pages of HighLevel's installedLocations): the
 * table shows one server-side page at a time, and the search filters on the server. Times are printed, not
 * asserted (the machine is noisy); what is asserted is that the right rows show.
 */
jest.setTimeout(120_000);

const SHARED_SECRET = 'bulk-shared-secret';
const COMPANY = 'companyBrowserBulk001';
const NAMES = Array.from({ length: 500 }, (_, i) => `Client ${i}`);
/** The order the table uses (by name); for "Client N" names the database collation and code-unit order agree. */
const SORTED = [...NAMES].sort();

let t: TestService;
let parent: HighLevelParent;
let browser: Browser;
let app: FrameLocator;
const pageErrors: string[] = [];

const rowNames = () => app.locator('table.subs tbody th a').allInnerTexts();
const count = () => app.getByTestId('sub-count');
const timed = async (what: string, fn: () => Promise<void>) => {
  const started = performance.now();
  await fn();
  const ms = Math.round(performance.now() - started);
  console.log(`${what}: ${ms} ms`);
  return ms;
};

beforeAll(async () => {
  browser = await launchBrowser();
  t = await startTestService({ ...OAUTH_ENV, HIGHLEVEL_SHARED_SECRET: SHARED_SECRET });
  const server = await t.service.listen(0);
  const appUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  serveInstalledLocations(COMPANY, installedLocations('locBulk', 500), 100);
  const outcome = await t.service.install.completeOAuth(
    tokenResponse({ userType: 'Company', companyId: COMPANY, accessToken: 'at-bulk', refreshToken: 'rt-bulk', isBulkInstallation: true }),
  );
  expect(outcome).toBeDefined();
  expect(nock.pendingMocks()).toEqual([]); // all 5 pages were fetched
  parent = await startHighLevelParent({ appUrl, sharedSecret: SHARED_SECRET });
  parent.users.set('agency', { userId: 'user-bulk', companyId: COMPANY, role: 'admin', type: 'agency', userName: 'Bulk Agency' });
  ({ app } = await openSignedInAgencyPage(browser, parent.url('agency'), pageErrors));
});

afterAll(() => closeBrowserTest(browser, parent, t));

describe('an agency with 500 sub-accounts', () => {
  it('when the sub-accounts table opens, then it shows the first 50 by name and says there are 500', async () => {
    await timed('sub-accounts table, first page of 50 of 500', async () => {
      await app.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name: 'Sub-accounts', exact: true }).click();
      await count().filter({ hasText: '1–50 of 500 sub-accounts' }).waitFor();
    });
    expect(await rowNames()).toEqual(SORTED.slice(0, 50));
    // This month's usage fills in for the page: none yet.
    await app.locator('table.subs').getByText('No usage').nth(49).waitFor();
  });

  it('when a name is searched, then only the matching sub-accounts show', async () => {
    const search = app.getByLabel('Search sub-accounts');
    await timed('search "Client 42" to 11 rows', async () => {
      await search.fill('Client 42');
      await count().filter({ hasText: '1–11 of 11 sub-accounts' }).waitFor();
    });
    expect(await rowNames()).toEqual(SORTED.filter((n) => n.startsWith('Client 42')));
  });

  it('when the search is typed key by key, then the table ends on the last query only', async () => {
    const search = app.getByLabel('Search sub-accounts');
    await search.fill('');
    await count().filter({ hasText: '1–50 of 500 sub-accounts' }).waitFor();
    await timed('typing "Client 4" key by key to 111 matches', async () => {
      await search.pressSequentially('Client 4', { delay: 40 });
      await count().filter({ hasText: '1–50 of 111 sub-accounts' }).waitFor();
    });
    expect(await rowNames()).toEqual(SORTED.filter((n) => n.startsWith('Client 4')).slice(0, 50));
  });

  it('when the pages are walked, then each shows the next 50, and the last one the rest', async () => {
    await app.getByLabel('Search sub-accounts').fill('');
    await count().filter({ hasText: '1–50 of 500 sub-accounts' }).waitFor();
    await timed('next page', async () => {
      await app.getByRole('button', { name: 'Next page' }).click();
      await count().filter({ hasText: '51–100 of 500 sub-accounts' }).waitFor();
    });
    expect(await rowNames()).toEqual(SORTED.slice(50, 100));
    for (let p = 3; p <= 10; p++) await app.getByRole('button', { name: 'Next page' }).click();
    await count().filter({ hasText: '451–500 of 500 sub-accounts' }).waitFor();
    expect(await rowNames()).toEqual(SORTED.slice(450));
    expect(await app.getByRole('button', { name: 'Next page' }).isDisabled()).toBe(true);
  });

  it('when the walk is over, then no script error happened', () => {
    expect(pageErrors).toEqual([]);
  });
});
