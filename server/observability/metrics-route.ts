/**
 * `GET /metrics`: the registry in Prometheus' text exposition format (version 0.0.4), for operators' scrapers. When
 * `METRICS_TOKEN` is set it asks for `Authorization: Bearer <token>` (401 `unauthenticated` otherwise, compared in
 * constant time); unset, it is open. Labels carry states and outcomes only: no agency, customer, key or token.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { Router } from 'express';
import type { Registry } from 'prom-client';
import { unauthorized } from '../http/errors';

/** Where the metrics are served. */
export const METRICS_PATH = '/metrics';

/** The router. `token`: the bearer token required, or undefined for none. Errors go to the app's error middleware. */
export function metricsRouter(registry: Registry, token: string | undefined): Router {
  const expected = token === undefined ? undefined : digest(token);
  return Router().get(METRICS_PATH, async (req, res) => {
    if (expected) {
      const presented = /^Bearer\s+(\S+)$/i.exec(req.get('authorization') ?? '')?.[1];
      if (!presented || !timingSafeEqual(digest(presented), expected)) {
        res.setHeader('www-authenticate', 'Bearer realm="metrics"');
        throw unauthorized('unauthenticated', 'Send the metrics token (METRICS_TOKEN) as "Authorization: Bearer …".');
      }
    }
    const body = await registry.metrics();
    res.setHeader('cache-control', 'no-store');
    res.type(registry.contentType).send(body);
  });
}

/** SHA-256 of a token: equal-length inputs for `timingSafeEqual`, whatever was presented. */
function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}
