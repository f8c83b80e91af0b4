/**
 * The Express application: security headers, request ids and logs, the capability routers, a JSON 404 and the
 * one error middleware. Built by the composition root (`server/main.ts`) from already-wired routers.
 */
import { randomUUID } from 'node:crypto';
import express, { type Express, type Router } from 'express';
import helmet from 'helmet';
import { pinoHttp } from 'pino-http';
import type { Logger } from 'pino';
import { errorHandler, notFoundHandler } from './error-middleware';

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,100}$/;

/**
 * Builds the HTTP app. Routers are mounted in order; each declares its own paths and body parsers.
 * @param options.ownHeaders path prefixes whose router sets its own security headers instead of helmet's defaults
 *   (the settings page HighLevel frames, which the default `X-Frame-Options` and CSP would forbid).
 */
export function createHttpApp(logger: Logger, routers: Router[], options: { ownHeaders?: string[] } = {}): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', 1);
  const defaultHeaders = helmet();
  const own = options.ownHeaders ?? [];
  app.use((req, res, next) => (own.some((p) => req.path === p || req.path.startsWith(`${p}/`)) ? next() : defaultHeaders(req, res, next)));
  app.use(
    pinoHttp({
      logger,
      genReqId: (req, res) => {
        const given = req.headers['x-request-id'];
        const id = typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
        res.setHeader('x-request-id', id);
        return id;
      },
      // Paths only: query strings can carry OAuth codes, and headers credentials.
      serializers: {
        req: (req) => ({ id: req.id, method: req.method, path: String(req.url).split('?')[0] }),
        res: (res) => ({ statusCode: res.statusCode }),
      },
      customLogLevel: (_req, res, err) => (err || res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : 'info'),
    }),
  );
  for (const router of routers) app.use(router);
  app.use(notFoundHandler);
  app.use(errorHandler(logger));
  return app;
}
