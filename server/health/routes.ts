import { Router } from 'express';
import type { DatabaseHandle } from '../../models/database';
import { sendError } from '../http/error-middleware';

/**
 * `GET /healthz`: the process is up (200 `{status:'ok'}`).
 * `GET /readyz`: the database answers and every migration is applied (200), else 503 with the reason.
 */
export function healthRouter(database: Pick<DatabaseHandle, 'ping' | 'migrationsApplied'>): Router {
  const router = Router();
  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  router.get('/readyz', async (req, res) => {
    try {
      await database.ping();
      if (!(await database.migrationsApplied())) {
        sendError(res, 'not_ready', 'Database migrations are not applied.', req.id);
        return;
      }
      res.json({ status: 'ready' });
    } catch {
      sendError(res, 'not_ready', 'The database is not reachable.', req.id);
    }
  });
  return router;
}
