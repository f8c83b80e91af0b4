/**
 * Serves the settings page HighLevel embeds (manifest.json `customPage.path`: /app): the Vite build in ui/dist,
 * with its own security headers. The rest of the service forbids framing (helmet's defaults); this page must be
 * framed by HighLevel, so its CSP names who may frame it (`frame-ancestors`) and it sends no X-Frame-Options.
 *
 * - /app/assets/*: content-hashed files, cached for a year (immutable); a missing one is a 404, never the page.
 * - /app and every other /app/* path: index.html (the page routes on the client), never cached, so a deploy is
 *   picked up at the next open.
 * - /app/dev: the development host page (plays HighLevel's parent with a simulated user); absent in production.
 */
import path from 'node:path';
import { existsSync } from 'node:fs';
import express, { Router, type RequestHandler, type Response } from 'express';
import helmet from 'helmet';

/** HighLevel's app domains: the agency view, sub-account views and white-label defaults all live under these. */
export const HIGHLEVEL_FRAME_ANCESTORS = ['https://app.gohighlevel.com', 'https://*.gohighlevel.com', 'https://*.leadconnectorhq.com'];

/** Local origins a developer's or a test's host page runs on (development and test only). */
const LOCAL_FRAME_ANCESTORS = ['http://localhost:*', 'http://127.0.0.1:*', 'http://[::1]:*'];

/** The path prefix of the page; its headers are this router's, not the app's defaults. */
export const UI_PREFIX = '/app';

/** Who may frame the page: itself, HighLevel, the agency's white-label domains, and local hosts outside production. */
export function frameAncestors(nodeEnv: 'development' | 'production' | 'test', extra: string[]): string[] {
  const local = nodeEnv === 'production' ? [] : LOCAL_FRAME_ANCESTORS;
  return [...new Set(["'self'", ...HIGHLEVEL_FRAME_ANCESTORS, ...extra, ...local])];
}

/** Options of `uiRouter`. */
export interface UiRouterOptions {
  distDir: string;
  nodeEnv: 'development' | 'production' | 'test';
  /** Extra `frame-ancestors` sources (FRAME_ANCESTORS: white-label domains). */
  extraFrameAncestors: string[];
}

/** The headers of every /app response: a strict CSP that lets HighLevel (and only it) frame the page. */
export function uiSecurityHeaders(options: Pick<UiRouterOptions, 'nodeEnv' | 'extraFrameAncestors'>): RequestHandler {
  return helmet({
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        // React and the chart library set style attributes; no external stylesheet is loaded.
        styleSrc: ["'self'", "'unsafe-inline'"],
        imgSrc: ["'self'", 'data:', 'blob:'],
        fontSrc: ["'self'", 'data:'],
        connectSrc: ["'self'"],
        objectSrc: ["'none'"],
        baseUri: ["'self'"],
        formAction: ["'self'"],
        frameAncestors: frameAncestors(options.nodeEnv, options.extraFrameAncestors),
        ...(options.nodeEnv === 'production' ? { upgradeInsecureRequests: [] } : {}),
      },
    },
    xFrameOptions: false,
    // Inside HighLevel's iframe the page is cross-site: keep the referrer to our origin only.
    referrerPolicy: { policy: 'strict-origin-when-cross-origin' },
  });
}

/** The /app router. Mount it before the API; it answers only under /app. */
export function uiRouter(options: UiRouterOptions): Router {
  const index = path.join(options.distDir, 'index.html');
  const router = Router();
  router.use(UI_PREFIX, uiSecurityHeaders(options));
  router.use(
    `${UI_PREFIX}/assets`,
    express.static(path.join(options.distDir, 'assets'), { immutable: true, maxAge: '365d', index: false, fallthrough: true }),
    (_req, res) => void res.status(404).type('text/plain').send('Not found.'),
  );
  const page = (file: string) => (_req: unknown, res: Response) => {
    if (!existsSync(file)) return void notBuilt(res);
    res.setHeader('cache-control', 'no-cache');
    res.sendFile(file, { cacheControl: false });
  };
  // The development host exists outside production only; in production the path is not the app either.
  router.get(
    `${UI_PREFIX}/dev`,
    options.nodeEnv === 'production' ? (_req, res) => void res.status(404).type('text/plain').send('Not found.') : page(path.join(options.distDir, 'dev.html')),
  );
  router.get([UI_PREFIX, `${UI_PREFIX}/{*rest}`], page(index));
  return router;
}

function notBuilt(res: Response): void {
  res
    .status(503)
    .setHeader('cache-control', 'no-store')
    .type('html')
    .send(
      '<!doctype html><meta charset="utf-8"><title>Meterbridge</title>' +
        '<p>The settings page has not been built yet. Run <code>npm run build</code> (or restart with <code>npm start</code>, which builds it).</p>',
    );
}
