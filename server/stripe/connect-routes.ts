/**
 * "Connect with Stripe" over HTTP (Stripe Connect OAuth for Standard accounts, docs.stripe.com/connect/oauth-reference):
 * 1. `POST /api/stripe/connect` (settings API: agency admins only, through the gatekeeper) → a signed single-use state
 *    bound to the agency and the SSO session's user, and the Meterbridge link that starts the authorization;
 * 2. `GET /stripe/connect/authorize?state=…` (a new browser tab: Stripe's page cannot be framed, and a top-level
 *    navigation carries no bearer token — the state is the credential) → checks the state, remembers its nonce in an
 *    HttpOnly cookie of this browser, and redirects (302) to `https://connect.stripe.com/oauth/authorize?…`;
 * 3. `GET /stripe/connect/callback?code=…&state=…` (Stripe's redirect to the registered `redirect_uri`) → the state
 *    must be valid, unexpired, unused, and the one this browser started (the cookie); it is used up, the code is
 *    exchanged and the connection stored. `?error=access_denied` (the agency declined) uses the state up and says so.
 * Answers are a small HTML page for a browser and `{ error: { code, message } }` / `{ connected, accountId, mode }`
 * for `Accept: application/json`; failures are 4xx (502 when Stripe cannot be reached). The page never echoes the
 * code, a token or any return URL from the query (no open redirect): it links only to the settings page.
 */
import { Router, type Request, type Response } from 'express';
import type { Logger } from 'pino';
import { defineRoute, type ApiRoute } from '../http/api-route';
import { AppError, badRequest } from '../http/errors';
import type { ConnectConnection } from './connect-connection';
import type { ConnectOAuth } from './connect-oauth';
import { stripeConnectStartResponse } from './connect-schemas';

const COOKIE = 'mb_stripe_connect';
const COOKIE_PATH = '/stripe/connect';

/** The settings-API route that starts an authorization (in the route table: matrix, OpenAPI). */
export function stripeConnectApiRoutes(deps: { oauth: ConnectOAuth | null; appUrl: string }): ApiRoute<any, any, any, any>[] {
  return [
    defineRoute({
      method: 'post', path: '/api/stripe/connect', tag: 'Stripe', access: 'agency',
      summary: 'Start “Connect with Stripe” (Connect OAuth): a single-use link, valid 15 minutes, to open in a new tab',
      response: stripeConnectStartResponse,
      responses: { '404': { description: '`stripe_connect_not_configured`: the operator has not configured a Stripe Connect platform' } },
      handler: async ({ caller }) => {
        if (!deps.oauth) throw new AppError(404, 'stripe_connect_not_configured', 'Connect with Stripe is not available here: paste a Stripe key instead.');
        const started = await deps.oauth.createState(caller!.companyId, caller!.userId, caller!.userName ?? null);
        return { authorizeUrl: `${deps.appUrl}${COOKIE_PATH}/authorize?state=${encodeURIComponent(started.state)}`, expiresAt: started.expiresAt.toISOString() };
      },
    }),
  ];
}

/** The browser legs: authorize (redirect to Stripe) and callback. Without a Connect platform both answer 404. */
export function stripeConnectRouter(deps: { oauth: ConnectOAuth | null; connect: ConnectConnection | null; appUrl: string; logger: Logger }): Router {
  const router = Router();
  const secure = deps.appUrl.startsWith('https://');

  const fail = (req: Request, res: Response, err: unknown) => {
    const known = err instanceof AppError ? err : new AppError('internal', 'Connecting Stripe failed unexpectedly. Try again.');
    if (!(err instanceof AppError)) deps.logger.error({ err }, 'Stripe Connect callback failed');
    answer(req, res, known.status, { error: { code: known.code, message: known.message } }, 'Stripe was not connected', known.message);
  };

  router.get(`${COOKIE_PATH}/authorize`, async (req, res) => {
    try {
      if (!deps.oauth) throw new AppError(404, 'stripe_connect_not_configured', 'Connect with Stripe is not available here.');
      const state = await deps.oauth.check(req.query.state);
      res.cookie(COOKIE, state.nonce, { httpOnly: true, sameSite: 'lax', secure, path: COOKIE_PATH, maxAge: state.expiresAt.getTime() - Date.now() });
      res.redirect(302, deps.oauth.authorizeUrl(String(req.query.state)));
    } catch (err) {
      fail(req, res, err);
    }
  });

  router.get(`${COOKIE_PATH}/callback`, async (req, res) => {
    try {
      if (!deps.oauth || !deps.connect) throw new AppError(404, 'stripe_connect_not_configured', 'Connect with Stripe is not available here.');
      const state = await deps.oauth.consume(req.query.state);
      res.clearCookie(COOKIE, { path: COOKIE_PATH });
      if (cookieOf(req) !== state.nonce) {
        throw badRequest('stripe_connect_browser_mismatch', 'This Stripe authorization was started in another browser. Start again from "Connect with Stripe" in Meterbridge, in this browser.');
      }
      if (typeof req.query.error === 'string') {
        const declined = req.query.error === 'access_denied';
        throw badRequest(
          declined ? 'stripe_connect_declined' : 'stripe_connect_failed',
          declined ? 'You declined to connect your Stripe account; nothing changed.' : `Stripe did not connect the account (${req.query.error}); nothing changed.`,
        );
      }
      if (typeof req.query.code !== 'string' || !/^[A-Za-z0-9_]{1,200}$/.test(req.query.code)) throw badRequest('stripe_connect_code_missing', 'Stripe sent no authorization code.');
      const done = await deps.connect.complete(state.companyId, req.query.code, { type: 'user', userId: state.userId, name: state.userName });
      answer(req, res, 200, { connected: true, ...done }, 'Stripe connected', `Stripe account ${done.accountId} (${done.mode} mode) is connected to Meterbridge. You can close this tab.`);
    } catch (err) {
      fail(req, res, err);
    }
  });
  return router;
}

/** The nonce cookie this browser got at the authorize step, if any. */
function cookieOf(req: Request): string | null {
  for (const part of (req.get('cookie') ?? '').split(';')) {
    const [name, ...value] = part.trim().split('=');
    if (name === COOKIE) return decodeURIComponent(value.join('='));
  }
  return null;
}

/** JSON for API clients (`Accept: application/json` or no Accept), a small page for browsers. */
function answer(req: Request, res: Response, status: number, body: unknown, title: string, message: string): void {
  res.status(status).setHeader('cache-control', 'no-store');
  if (req.accepts(['json', 'html']) === 'html') {
    res.type('html').send(
      `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escape(title)} · Meterbridge</title></head>` +
        `<body><main><h1>${escape(title)}</h1><p>${escape(message)}</p><p><a href="/app">Back to Meterbridge</a></p></main></body></html>`,
    );
    return;
  }
  res.json({ ...(body as object), ...(status >= 400 ? { requestId: String(req.id) } : {}) });
}

const escape = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
