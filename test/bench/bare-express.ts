/**
 * The intake baseline: the least an Express 5 endpoint can do with a delivery — read the body, parse the JSON,
 * answer 200 — in the same kind of process as the app (node --import tsx, forked the same way). The app's
 * intake throughput is reported as a ratio of this one's, measured in the same run under the same load.
 */
import express from 'express';
import type { AddressInfo } from 'node:net';
import { collectGarbage, memoryFigures, serveCalls } from './ipc';

const app = express();
app.disable('x-powered-by');
app.post('/webhooks/highlevel', express.json({ type: () => true, limit: 1024 * 1024 }), (req, res) => {
  const body = req.body as { webhookId?: unknown; type?: unknown };
  res.status(200).json({ status: 'accepted', webhookId: body.webhookId, eventType: body.type });
});

const server = app.listen(0, () => {
  serveCalls({
    memory: () => memoryFigures(),
    gc: () => (collectGarbage(), memoryFigures()),
    close: () => {
      setTimeout(() => server.close(() => process.exit(0)), 10);
      return true;
    },
  });
  process.send!({ type: 'ready', port: (server.address() as AddressInfo).port, pid: process.pid });
});
