import { Router, type Request, type Response } from 'express';
import type { Logger } from 'pino';
import type { Manifest } from './manifest';
import type { InstallFlow } from './install';
import { installedPage, installFailedPage } from './oauth-pages';
import { STRATEGY, type createHighLevelPassport } from './oauth-strategy';
import type { TokenResponse } from './oauth-token-endpoint';

export interface OAuthRouteDependencies {
  manifest: Manifest;
  /** Null when HIGHLEVEL_CLIENT_ID / HIGHLEVEL_CLIENT_SECRET are not configured. */
  passport: ReturnType<typeof createHighLevelPassport> | null;
  install: InstallFlow;
  appUrl: string;
  agencyName: (companyId: string) => Promise<string | null>;
  logger: Logger;
}

/**
 * `GET <installPath>` redirects to HighLevel's location chooser; `GET <redirectPath>` finishes the exchange and
 * answers a page for a person: 200 installed, 400 cancelled or malformed, 502 when HighLevel refused the code,
 * 503 when OAuth is not configured. Nothing is stored unless the exchange succeeds.
 */
export function oauthRouter(deps: OAuthRouteDependencies): Router {
  const router = Router();
  const retryUrl = `${deps.appUrl}${deps.manifest.oauth.installPath}`;
  const settingsUrl = `${deps.appUrl}${deps.manifest.customPage.path}`;
  const fail = (res: Response, status: number, title: string, explanation: string, detail?: string) =>
    res.status(status).type('html').send(installFailedPage({ title, explanation, detail, retryUrl }));

  router.get(deps.manifest.oauth.installPath, (req, res, next) => {
    if (!deps.passport) return fail(res, 503, 'Installation is not set up', 'This Meterbridge server has no HighLevel app credentials configured.');
    deps.passport.authenticate(STRATEGY, { session: false })(req, res, next);
  });

  router.get(deps.manifest.oauth.redirectPath, async (req: Request, res: Response, next) => {
    if (!deps.passport) return fail(res, 503, 'Installation is not set up', 'This Meterbridge server has no HighLevel app credentials configured.');
    const query = req.query as Record<string, unknown>;
    if (query.error === 'access_denied') {
      return fail(res, 400, 'Installation cancelled', 'Access was not granted, so Meterbridge was not installed.', stringOr(query.error_description));
    }
    if (typeof query.error === 'string') {
      return fail(res, 400, 'Installation failed', 'HighLevel did not complete the authorization.', stringOr(query.error_description) ?? query.error);
    }
    if (typeof query.code !== 'string' || query.code.length === 0) {
      return fail(res, 400, 'Installation link incomplete', 'The link from HighLevel carried no authorization code.');
    }
    deps.passport.authenticate(STRATEGY, { session: false }, async (err: Error | null, grant: TokenResponse | false) => {
      try {
        if (err || !grant) {
          deps.logger.warn({ reason: err?.message }, 'HighLevel code exchange failed');
          return fail(res, 502, 'Installation failed', 'HighLevel did not accept the authorization code.', err?.message.replace(/^POST \/oauth\/token: /, ''));
        }
        const outcome = await deps.install.completeOAuth(grant);
        res
          .status(200)
          .type('html')
          .send(installedPage({ agencyName: await deps.agencyName(outcome.companyId), userType: outcome.userType, subAccounts: outcome.subAccounts, settingsUrl }));
      } catch (error) {
        next(error);
      }
    })(req, res, next);
  });
  return router;
}

function stringOr(value: unknown): string | undefined {
  return typeof value === 'string' && value.length > 0 ? value.slice(0, 500) : undefined;
}
