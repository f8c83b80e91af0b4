/**
 * Rate limits on the endpoints a stranger can hammer without credentials: the SSO session exchange, the OAuth
 * install flow and (with their own, keyed limits) the usage API. express-rate-limit, in memory per process: with
 * N replicas the effective limit is N × the figure, which is fine for abuse control (not for quotas).
 */
import { createHash } from 'node:crypto';
import type { RequestHandler } from 'express';
import { ipKeyGenerator, rateLimit } from 'express-rate-limit';
import { sendError } from './error-middleware';

/** Requests per minute per client IP. */
export interface RateLimitSettings {
  sessionPerMinute: number;
  oauthPerMinute: number;
}

/** Answers 429 in the standard error shape with a Retry-After header (draft-8 RateLimit headers too). */
export function perMinuteLimit(limit: number, what: string): RequestHandler {
  return rateLimit({
    windowMs: 60_000,
    limit,
    standardHeaders: 'draft-8',
    legacyHeaders: false,
    handler: (req, res) => {
      sendError(res, 'rate_limited', `Too many ${what} requests from this address; try again in a minute.`, req.id);
    },
  });
}

/**
 * The usage API's limit: requests per minute per API key, counted before the key is even looked up (keyed by the
 * SHA-256 of the bearer credential; a request without one is counted per address). Answers 429 like
 * `perMinuteLimit`. The key itself is never kept in memory.
 */
export function perApiKeyLimit(limit: number): RequestHandler {
  return rateLimit({
    windowMs: 60_000,
    limit,
    standardHeaders: 'draft-8',
    legacyHeaders: false,
    keyGenerator: (req) => {
      const bearer = /^Bearer\s+(\S+)$/i.exec(req.get('authorization') ?? '')?.[1];
      return bearer ? `key:${createHash('sha256').update(bearer).digest('hex')}` : `ip:${ipKeyGenerator(req.ip ?? '')}`;
    },
    handler: (req, res) => {
      sendError(res, 'rate_limited', `Too many requests with this API key (at most ${limit} a minute); retry after the Retry-After header's seconds.`, req.id);
    },
  });
}
