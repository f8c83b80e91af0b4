import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pino from 'pino';
import request from 'supertest';
import { loadConfig } from '../../server/config';
import { createHttpApp } from '../../server/http/app';
import { ensureUiBuilt, uiBuildNeeded, type UiPaths } from '../../server/ui/build-ui';
import { HIGHLEVEL_FRAME_ANCESTORS, uiRouter, UI_PREFIX } from '../../server/ui/ui-router';
import { startTestService, TEST_ENCRYPTION_KEY, type TestService } from '../support/test-service';

/**
 * How the settings page is served: who may frame it (CSP frame-ancestors, no X-Frame-Options on /app only),
 * caching (the page never, hashed assets for a year), the client-side routes' fallback, the development host
 * outside production only, and when a build is needed.
 */
const INDEX = '<!doctype html><title>app</title><div id="root"></div>';
const DEV = '<!doctype html><title>dev host</title>';
let dist: string;
let t: TestService;

const frameAncestors = (csp: string | undefined) => /frame-ancestors ([^;]+)/.exec(csp ?? '')?.[1]?.split(' ') ?? [];
const appFor = (nodeEnv: 'development' | 'production' | 'test', distDir = dist, extra: string[] = []) =>
  createHttpApp(pino({ level: 'silent' }), [uiRouter({ distDir, nodeEnv, extraFrameAncestors: extra })], { ownHeaders: [UI_PREFIX] });

beforeAll(async () => {
  dist = mkdtempSync(path.join(tmpdir(), 'meterbridge-dist-'));
  mkdirSync(path.join(dist, 'assets'));
  writeFileSync(path.join(dist, 'index.html'), INDEX);
  writeFileSync(path.join(dist, 'dev.html'), DEV);
  writeFileSync(path.join(dist, 'assets', 'main-Ab12Cd34.js'), 'console.log(1)');
  t = await startTestService({ FRAME_ANCESTORS: 'https://crm.agency.example, https://*.white-label.example:8443/' });
});
afterAll(async () => {
  await t.close();
  rmSync(dist, { recursive: true, force: true });
});

describe('serving the settings page', () => {
  it('when /app is requested from the service, then its CSP lets HighLevel and the configured white-label domains frame it, and no X-Frame-Options is sent', async () => {
    const res = await t.http.get('/app/');
    expect(res.headers['x-frame-options']).toBeUndefined();
    expect(frameAncestors(res.headers['content-security-policy'])).toEqual([
      "'self'",
      ...HIGHLEVEL_FRAME_ANCESTORS,
      'https://crm.agency.example',
      'https://*.white-label.example:8443',
      'http://localhost:*',
      'http://127.0.0.1:*',
      'http://[::1]:*',
    ]);
    expect(HIGHLEVEL_FRAME_ANCESTORS).toEqual(['https://app.gohighlevel.com', 'https://*.gohighlevel.com', 'https://*.leadconnectorhq.com']);
  });

  it('when the API, health or an unknown path is requested, then framing stays forbidden as before', async () => {
    for (const path of ['/healthz', '/api/openapi.json', '/nowhere', '/application']) {
      const res = await t.http.get(path);
      expect({ path, xfo: res.headers['x-frame-options'] }).toEqual({ path, xfo: 'SAMEORIGIN' });
      expect(frameAncestors(res.headers['content-security-policy'])).toEqual(["'self'"]);
    }
  });

  it('when running in production, then only HighLevel and the configured domains may frame the page, and the development host is absent', async () => {
    const app = appFor('production', dist, ['https://crm.agency.example']);
    const res = await request(app).get('/app/').expect(200);
    expect(frameAncestors(res.headers['content-security-policy'])).toEqual(["'self'", ...HIGHLEVEL_FRAME_ANCESTORS, 'https://crm.agency.example']);
    expect(res.headers['content-security-policy']).toContain('upgrade-insecure-requests');
    expect(res.headers['content-security-policy']).toContain("script-src 'self'");
    await request(app).get('/app/dev').expect(404);
    await request(app).head('/app/dev').expect(404);
  });

  it('when running in development, then the development host is served, never cached', async () => {
    const res = await request(appFor('development')).get('/app/dev').expect(200);
    expect(res.text).toBe(DEV);
    expect(res.headers['cache-control']).toBe('no-cache');
  });

  it('when the page or one of its client-side routes is requested, then index.html is served and never cached', async () => {
    const app = appFor('test');
    for (const p of ['/app', '/app/', '/app/sub-accounts/loc123', '/app/usage?from=2026-01-01']) {
      const res = await request(app).get(p);
      expect({ p, status: res.status, body: res.text, cache: res.headers['cache-control'] }).toEqual({ p, status: 200, body: INDEX, cache: 'no-cache' });
      expect(res.headers['content-type']).toMatch(/^text\/html/);
    }
  });

  it('when a hashed asset is requested, then it is cached for a year as immutable; a missing asset is a 404, not the page', async () => {
    const app = appFor('test');
    const asset = await request(app).get('/app/assets/main-Ab12Cd34.js').expect(200);
    expect(asset.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(asset.headers['content-type']).toMatch(/javascript/);
    const missing = await request(app).get('/app/assets/main-Gone0000.js').expect(404);
    expect(missing.text).not.toContain('<div id="root">');
  });

  it('when the page has not been built, then /app answers 503 saying how to build it', async () => {
    const res = await request(appFor('test', path.join(dist, 'nothing-here'))).get('/app/').expect(503);
    expect(res.text).toContain('npm run build');
    expect(res.headers['cache-control']).toBe('no-store');
  });

  it('when FRAME_ANCESTORS holds something that is not an origin, then the configuration is refused naming it', () => {
    const base = { ENCRYPTION_KEY: TEST_ENCRYPTION_KEY, NODE_ENV: 'test' };
    expect(() => loadConfig({ ...base, FRAME_ANCESTORS: "https://ok.example, 'unsafe-inline'" })).toThrow(/FRAME_ANCESTORS/);
    expect(() => loadConfig({ ...base, FRAME_ANCESTORS: 'crm.example.com' })).toThrow(/FRAME_ANCESTORS/);
    expect(loadConfig({ ...base, FRAME_ANCESTORS: '' }).frameAncestors).toEqual([]);
    expect(loadConfig({ ...base, FRAME_ANCESTORS: 'https://a.example,https://*.b.example:*' }).frameAncestors).toEqual(['https://a.example', 'https://*.b.example:*']);
  });
});

describe('building the page when needed', () => {
  jest.setTimeout(90_000);
  const project = (): UiPaths => {
    const root = mkdtempSync(path.join(tmpdir(), 'meterbridge-ui-'));
    mkdirSync(path.join(root, 'ui', 'src'), { recursive: true });
    writeFileSync(path.join(root, 'ui', 'index.html'), INDEX);
    writeFileSync(path.join(root, 'ui', 'src', 'main.tsx'), '');
    return { root, sourceDir: path.join(root, 'ui'), distDir: path.join(root, 'ui', 'dist') };
  };
  const age = (file: string, secondsAgo: number) => utimesSync(file, new Date(Date.now() - secondsAgo * 1000), new Date(Date.now() - secondsAgo * 1000));

  it('when ui/dist is missing, then a build is needed; when it is newer than every source, then not; when a source changed since, then it is stale', () => {
    const paths = project();
    expect(uiBuildNeeded(paths)).toBe('missing');
    mkdirSync(paths.distDir);
    writeFileSync(path.join(paths.distDir, 'index.html'), INDEX);
    age(path.join(paths.sourceDir, 'index.html'), 60);
    age(path.join(paths.sourceDir, 'src', 'main.tsx'), 60);
    expect(uiBuildNeeded(paths)).toBeNull();
    writeFileSync(path.join(paths.sourceDir, 'src', 'main.tsx'), '// changed');
    age(path.join(paths.distDir, 'index.html'), 30);
    expect(uiBuildNeeded(paths)).toBe('stale');
    rmSync(paths.root, { recursive: true, force: true });
  });

  it('when a build was killed midway (its lock and temp folder left behind), then the next start takes over at once and builds', async () => {
    const paths = project();
    // A tiny Vite project of its own: the repository's node_modules, a config building ui/ like ours.
    symlinkSync(path.join(__dirname, '..', '..', 'node_modules'), path.join(paths.root, 'node_modules'));
    writeFileSync(path.join(paths.root, 'vite.config.mjs'), "export default { root: 'ui', logLevel: 'silent' };\n");
    const lock = path.join(tmpdir(), `meterbridge-ui-build-${createHash('sha256').update(paths.root).digest('hex').slice(0, 12)}`);
    mkdirSync(lock);
    writeFileSync(path.join(lock, 'pid'), '4194305'); // above Linux's pid_max: a process that cannot exist
    mkdirSync(path.join(paths.sourceDir, 'dist.4194305.tmp'));
    const result = await ensureUiBuilt({ paths });
    expect(result).toMatchObject({ built: true, reason: 'missing' });
    expect(result.ms).toBeLessThan(60_000);
    expect(readFileSync(path.join(paths.distDir, 'index.html'), 'utf8')).toContain('<div id="root">');
    expect(existsSync(lock)).toBe(false);
    expect(readdirSync(paths.sourceDir).sort()).toEqual(['dist', 'index.html', 'src']);
    expect(await ensureUiBuilt({ paths })).toMatchObject({ built: false });
    rmSync(paths.root, { recursive: true, force: true });
  });

  it('when only ui/dist is shipped (no sources), then no build is ever needed', () => {
    const paths = project();
    rmSync(path.join(paths.sourceDir, 'index.html'));
    expect(uiBuildNeeded(paths)).toBeNull();
    rmSync(paths.root, { recursive: true, force: true });
  });
});
