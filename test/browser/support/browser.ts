/**
 * Chromium driven by playwright-core, and a built settings page to load in it. Which Chromium: Debian's
 * (`/usr/bin/chromium`) when the machine has it, else the one shipped inside the npm package @sparticuz/chromium
 * (a devDependency: `npm install` brings it, nothing is downloaded), so `npm install && npm test` runs the browser
 * tests on a fresh machine. `CHROMIUM_PATH` picks another binary.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type FrameLocator, type Page } from 'playwright-core';
import { ensureUiBuilt } from '../../../server/ui/build-ui';
import nock from 'nock';

/** Debian's Chromium, used when installed (`apt-get install -y --no-install-recommends chromium`). */
export const DEBIAN_CHROMIUM = '/usr/bin/chromium';

const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  // Lets a test play other sites (a white-label domain, a hostile one) on this machine: *.example is 127.0.0.1.
  '--host-resolver-rules=MAP *.example 127.0.0.1',
];

/** Which Chromium the browser tests run, and why. */
export interface ChromiumChoice {
  executablePath: string;
  source: 'CHROMIUM_PATH' | 'debian' | '@sparticuz/chromium';
}

/**
 * Picks the Chromium binary: `CHROMIUM_PATH`, else Debian's when installed, else the npm-packaged one (unpacked
 * into the temp folder on first use, ~1.5 s; test/support/global-setup.js does it once before the workers start).
 * @throws when `CHROMIUM_PATH` names no file, or the packaged Chromium cannot be unpacked.
 */
export function chooseChromium(): ChromiumChoice {
  const chosen = process.env.CHROMIUM_PATH;
  if (chosen) {
    if (!existsSync(chosen)) throw new Error(`CHROMIUM_PATH=${chosen}: no such file`);
    return { executablePath: chosen, source: 'CHROMIUM_PATH' };
  }
  if (existsSync(DEBIAN_CHROMIUM)) return { executablePath: DEBIAN_CHROMIUM, source: 'debian' };
  const script = path.join(__dirname, 'packaged-chromium.mjs');
  const { executablePath } = JSON.parse(execFileSync(process.execPath, [script], { encoding: 'utf8' })) as { executablePath: string };
  return { executablePath, source: '@sparticuz/chromium' };
}

/**
 * Builds ui/dist if it is missing or older than its sources, then launches Chromium (see chooseChromium).
 * @throws when no Chromium can be found or launched.
 */
export async function launchBrowser(): Promise<Browser> {
  const build = await ensureUiBuilt();
  if (build.built) console.log(`built ui/dist (${build.reason}) in ${build.ms} ms`);
  return chromium.launch({ executablePath: chooseChromium().executablePath, args: ARGS });
}

/**
 * Where a screenshot goes: always $TMPDIR/meterbridge-screenshots/ (to look at); a `published` one (the README's
 * picture) also goes to docs/ when UPDATE_SCREENSHOTS=1, so an ordinary test run leaves the checkout untouched.
 */
export function screenshotPaths(name: string, options: { published?: boolean } = {}): string[] {
  const dir = path.join(tmpdir(), 'meterbridge-screenshots');
  mkdirSync(dir, { recursive: true });
  const paths = [path.join(dir, name)];
  if (options.published && process.env.UPDATE_SCREENSHOTS === '1') {
    const docs = path.join(__dirname, '..', '..', '..', 'docs');
    mkdirSync(docs, { recursive: true });
    paths.push(path.join(docs, name));
  }
  return paths;
}

/**
 * Screenshots the host page with the frame's whole content visible: the viewport grows to the frame's height
 * (the host page's header is 40 px), then returns to its size.
 */
export async function screenshotFrame(page: Page, frame: FrameLocator, name: string, options: { published?: boolean } = {}): Promise<void> {
  const size = page.viewportSize()!;
  const height = await frame.locator('html').evaluate((el) => el.scrollHeight);
  await page.setViewportSize({ width: size.width, height: Math.min(Math.max(height + 40, size.height), 4000) });
  // Let the taller frame lay out and paint (charts measure their box) before the picture is taken.
  await frame.locator('html').evaluate((html) => {
    const window = html.ownerDocument.defaultView;
    return new Promise((resolve) => setTimeout(() => window.requestAnimationFrame(() => window.requestAnimationFrame(resolve)), 250));
  });
  for (const path of screenshotPaths(name, options)) await page.screenshot({ path });
  await page.setViewportSize(size);
}

/**
 * Opens `url` (the fake HighLevel parent page) at 1280 × 900 and waits for the framed settings page to sign in
 * and show the agency overview ("Usage billing"). Script errors on the page are pushed to `pageErrors`.
 * @returns the context, the page and the framed app.
 */
export async function openSignedInAgencyPage(browser: Browser, url: string, pageErrors: string[]): Promise<{ context: BrowserContext; page: Page; app: FrameLocator }> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  page.on('pageerror', (err) => pageErrors.push(err.message));
  const app = page.frameLocator('#app');
  await page.goto(url);
  await app.getByRole('heading', { name: 'Usage billing' }).waitFor();
  return { context, page, app };
}

/**
 * Opens a folded section of the page (a `details.fold` whose summary reads `title`, ui/src/components/Fold.tsx) if
 * it is closed, and waits for it to be open.
 */
export async function openFold(app: FrameLocator, title: string): Promise<void> {
  const details = app.locator('details.fold', { has: app.locator('summary .fold-title', { hasText: title }) });
  await details.waitFor();
  if (!(await details.evaluate((el) => (el as unknown as { open: boolean }).open))) await details.locator('summary').click();
  await details.locator('summary + *').first().waitFor();
}

/**
 * A browser test's tear-down: clears nock's interceptors, then closes what the test opened, in the order given
 * (context, browser, the HighLevel parent page, the service, the Stripe double); ones a failed set-up never opened
 * are undefined and skipped. @throws what a close throws (the rest then stay open, as a failure should show).
 */
export async function closeBrowserTest(...opened: Array<{ close(): Promise<unknown> } | undefined>): Promise<void> {
  nock.cleanAll();
  for (const thing of opened) await thing?.close();
}
