/**
 * The world a browser test starts in, set up one way for every file: Chromium (./browser.ts), the Stripe double
 * (test/support/stripe-stub.ts), the real service booted through its composition root on a fresh database
 * (test/support/test-service.ts) and listening on a local port, an agency that installed the app in bulk with its
 * sub-accounts (HighLevel's OAuth faked with nock, test/support/highlevel-oauth.ts), its Stripe key connected the way
 * the page connects it, the host page that plays HighLevel around the app (./highlevel-parent.ts) with its users, and
 * an agency admin's session for the set-up calls. Each test seeds what it needs on top (prices, invoices, …) and
 * calls `close()` in afterAll.
 */
import { createServer } from 'node:net';
import type { Browser, BrowserContext, FrameLocator, Page } from 'playwright-core';
import type request from 'supertest';
import { TEST_STRIPE_KEY } from '../../support/billing';
import { installedLocations, OAUTH_ENV, serveInstalledLocations, tokenResponse } from '../../support/highlevel-oauth';
import { sendStripeEvent } from '../../support/payments';
import { startStripeStub, type StripeStub } from '../../support/stripe-stub';
import { startTestService, type TestService } from '../../support/test-service';
import { closeBrowserTest, launchBrowser, openSignedInAgencyPage } from './browser';
import { startHighLevelParent, type HighLevelParent, type SsoUser } from './highlevel-parent';

/** A user the HighLevel host page can sign in as (see SsoUser for what HighLevel's payload carries). */
/**
 * When a world's usage happens: now, as an ISO 8601 string. Never backdated: Stripe's invoice preview counts meter
 * events inside the subscription's current period (docs.stripe.com/billing/subscriptions/usage-based/recording-usage),
 * which starts the second the subscription was made in the set-up, so usage dated a second earlier could fall before
 * it and the preview would show none of it.
 */
export const justNow = (): string => new Date().toISOString();

export interface WorldUser {
  userName: string;
  /** HighLevel's role: `admin` (the default) or `user`. */
  role?: 'admin' | 'user';
  /** Default `user-<the name it is registered under>`. */
  userId?: string;
  email?: string;
  /** A sub-account user (type `location`) of the sub-account at this index of `locations`; absent: an agency user. */
  location?: number;
}

/** What differs between the browser tests' worlds; every field but `company` has a default. */
export interface BrowserWorldOptions {
  /** The agency's HighLevel company id. */
  company: string;
  /** The app's Shared Secret (HIGHLEVEL_SHARED_SECRET), which encrypts the SSO payload. Default `<company>-secret`. */
  sharedSecret?: string;
  /**
   * The sub-accounts the bulk install finds: their names, or how many with HighLevel's default names ("Client 0", …).
   * Their ids are `loc<company without its "company" prefix>000000`, `…000001`, … Default 1.
   */
  locations?: readonly string[] | number;
  /**
   * More of the service's environment, beside OAUTH_ENV, HIGHLEVEL_SHARED_SECRET and STRIPE_API_URL (which it may
   * override); a function gets the Stripe double and the app's URL (its port is chosen before the service starts).
   */
  env?: Record<string, string> | ((edges: { stripe: StripeStub; appUrl: string }) => Record<string, string>);
  /**
   * The agency's Stripe secret key, connected through PUT /api/stripe/connection as the page does it (the service
   * checks it and creates its webhook endpoint in the double, which from then on accepts that key only). `null`:
   * Stripe is left unconnected. Default TEST_STRIPE_KEY.
   */
  stripeKey?: string | null;
  /** The agency's HighLevel access token, for nock interceptors that require it. Default `at-<company>`. */
  accessToken?: string;
  /** Scopes the install grants beside tokenResponse's (e.g. `saas/company.read`). */
  extraScopes?: readonly string[];
  /**
   * Who the host page signs in as, by the name `parent.url(name)` takes: these beside `agency`, which is Olive Owner,
   * an agency admin, unless given here.
   */
  users?: Record<string, WorldUser>;
}

/** A page opened in its own browser context, and the app framed in it. */
export interface OpenedPage {
  context: BrowserContext;
  page: Page;
  app: FrameLocator;
}

/** The agency admin's calls to the service: each sends the session token and expects `status` (default 200). */
export interface AdminApi {
  get(path: string, status?: number): request.Test;
  put(path: string, body: object, status?: number): request.Test;
  post(path: string, body: object, status?: number): request.Test;
  delete(path: string, status?: number): request.Test;
}

/** A started world (startBrowserWorld): what a test drives, seeds and asserts on. */
export interface BrowserWorld {
  t: TestService;
  stripe: StripeStub;
  parent: HighLevelParent;
  browser: Browser;
  /** The service's own origin, e.g. http://127.0.0.1:41234. */
  appUrl: string;
  /** The sub-accounts' ids, in the order of `locations`. */
  locationIds: string[];
  /** The agency admin's session token (user `user-agency`). */
  token: string;
  api: AdminApi;
  /** Script errors of every page opened through the world (a test asserts it stays empty). */
  pageErrors: string[];
  /** Opens the host page as `user` (default `agency`) at 1280 × 900 and waits for the signed-in agency overview. */
  openAgencyPage(user?: string): Promise<OpenedPage>;
  /** Opens the host page as `user` at `width` × 900 without waiting for anything (e.g. a sub-account user's view). */
  openPage(user: string, width?: number): Promise<OpenedPage>;
  /** Posts a signed Stripe event of the agency's account to the service (sendStripeEvent); @throws unless 200. */
  sendStripeEvent(type: string, object: object): Promise<request.Response>;
  /**
   * Where the page should link `page` (e.g. `customers/cus_1`) in the Stripe Dashboard, written out from the agency's
   * connection as the API reports it: its account, then `/test` in test mode (docs.stripe.com/stripe-apps/deep-links).
   */
  stripeDashboardUrl(page: string): Promise<string>;
  /** Closes the pages opened through the world, the browser, the host page, the service and the Stripe double. */
  close(): Promise<void>;
}

/** A port free now, so that the service's URL is known before it starts (Connect's redirect URI names it). */
const freePort = () =>
  new Promise<number>((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });

/**
 * Starts the world described above. If a step fails, what was started is closed before the error is rethrown.
 * @throws when Chromium cannot be launched, the install or the Stripe connection is refused, or a port is taken.
 */
export async function startBrowserWorld(options: BrowserWorldOptions): Promise<BrowserWorld> {
  const { company, sharedSecret = `${company}-secret`, stripeKey = TEST_STRIPE_KEY } = options;
  const contexts: BrowserContext[] = [];
  const pageErrors: string[] = [];
  const started: Partial<Pick<BrowserWorld, 'browser' | 'stripe' | 't' | 'parent'>> = {};
  const close = () => closeBrowserTest(...contexts, started.browser, started.parent, started.t, started.stripe);
  try {
    const browser = (started.browser = await launchBrowser());
    const stripe = (started.stripe = await startStripeStub());
    const port = await freePort();
    const appUrl = `http://127.0.0.1:${port}`;
    const env = typeof options.env === 'function' ? options.env({ stripe, appUrl }) : options.env;
    const t = (started.t = await startTestService({ ...OAUTH_ENV, HIGHLEVEL_SHARED_SECRET: sharedSecret, STRIPE_API_URL: stripe.url, ...env }));
    await t.service.listen(port);

    const wanted = options.locations ?? 1;
    const names = typeof wanted === 'number' ? null : wanted;
    const prefix = `loc${company.replace(/^company/, '')}`;
    const locations = installedLocations(prefix, names?.length ?? (wanted as number)).map((l, i) => (names ? { ...l, name: names[i]! } : l));
    serveInstalledLocations(company, locations, 100);
    const grant = tokenResponse({ userType: 'Company', companyId: company, accessToken: options.accessToken ?? `at-${company}`, refreshToken: `rt-${company}`, isBulkInstallation: true });
    await t.service.install.completeOAuth({ ...grant, scope: [grant.scope, ...(options.extraScopes ?? [])].join(' ') });

    const token = (await t.service.sessionTokens.issue({ userId: 'user-agency', companyId: company, type: 'agency', role: 'admin', activeLocation: null })).token;
    const as = (test: request.Test, status: number) => test.set('authorization', `Bearer ${token}`).expect(status);
    const api: AdminApi = {
      get: (path, status = 200) => as(t.http.get(path), status),
      put: (path, body, status = 200) => as(t.http.put(path).send(body), status),
      post: (path, body, status = 200) => as(t.http.post(path).send(body), status),
      delete: (path, status = 200) => as(t.http.delete(path), status),
    };
    if (stripeKey !== null) {
      stripe.apiKeys.add(stripeKey);
      await api.put('/api/stripe/connection', { secretKey: stripeKey });
    }

    const parent = (started.parent = await startHighLevelParent({ appUrl, sharedSecret }));
    for (const [name, user] of Object.entries({ agency: { userName: 'Olive Owner' }, ...options.users })) {
      parent.users.set(name, ssoUser(company, name, user, locations.map((l) => l._id)));
    }

    const openPage = async (user: string, width = 1280): Promise<OpenedPage> => {
      const context = await browser.newContext({ viewport: { width, height: 900 } });
      contexts.push(context);
      const page = await context.newPage();
      page.on('pageerror', (err) => pageErrors.push(err.message));
      await page.goto(parent.url(user));
      return { context, page, app: page.frameLocator('#app') };
    };
    const openAgencyPage = async (user = 'agency'): Promise<OpenedPage> => {
      const opened = await openSignedInAgencyPage(browser, parent.url(user), pageErrors);
      contexts.push(opened.context);
      return opened;
    };
    let events = 0;
    const sendEvent = (type: string, object: object) => sendStripeEvent(t, stripe, company, { id: `evt_browser_${type}_${++events}`, type, object });
    const stripeDashboardUrl = async (page: string) => {
      const { mode, accountId } = (await api.get('/api/stripe/connection')).body as { mode: 'test' | 'live'; accountId: string | null };
      return `https://dashboard.stripe.com${accountId ? `/${accountId}` : ''}${mode === 'test' ? '/test' : ''}/${page}`;
    };
    return { t, stripe, parent, browser, appUrl, locationIds: locations.map((l) => l._id), token, api, pageErrors, openAgencyPage, openPage, sendStripeEvent: sendEvent, stripeDashboardUrl, close };
  } catch (err) {
    await close().catch(() => undefined); // the set-up's error is the one to see
    throw err;
  }
}

/** HighLevel's SSO payload for a WorldUser registered under `name`. */
function ssoUser(companyId: string, name: string, user: WorldUser, locationIds: string[]): SsoUser {
  const { location, role = 'admin', userId = `user-${name}`, ...rest } = user;
  if (location === undefined) return { ...rest, userId, companyId, role, type: 'agency' };
  return { ...rest, userId, companyId, role, type: 'location', activeLocation: locationIds[location]! };
}
