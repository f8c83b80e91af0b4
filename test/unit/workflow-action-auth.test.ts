import pino from 'pino';
import request from 'supertest';
import { createHttpApp } from '../../server/http/app';
import type { UsageIngestion } from '../../server/usage-api/ingest-usage';
import { WORKFLOW_ACTION_PATH, workflowActionRouter } from '../../server/workflow-actions/workflow-action-routes';
import type { Database } from '../../models/database';

/** The action endpoint's gate alone: nothing past it (database, ingestion) may be reached by a refused call. */
function appWith(secret: string | undefined) {
  const ingest = jest.fn();
  const router = workflowActionRouter({ db: {} as Database, ingestion: { ingest } as unknown as UsageIngestion, secret });
  return { app: createHttpApp(pino({ level: 'silent' }), [router]), ingest };
}
const body = { data: { metric: 'sms' }, extras: { locationId: 'loc1' }, meta: { key: 'record_billable_usage', version: '1.0' } };

describe('workflow action authentication', () => {
  it('when the server has no HIGHLEVEL_WORKFLOW_ACTION_SECRET, then every call is a 401 saying so and nothing is read', async () => {
    const { app, ingest } = appWith(undefined);
    const res = await request(app).post(WORKFLOW_ACTION_PATH).set('authorization', 'Bearer anything-at-all-0123456789abcdef0123').send(body).expect(401);
    expect(res.body.error).toEqual({ code: 'workflow_action_not_configured', message: expect.stringContaining('HIGHLEVEL_WORKFLOW_ACTION_SECRET') });
    expect(ingest).not.toHaveBeenCalled();
  });

  it('when a wrong secret comes with a body that is not JSON, then the answer is 401 (the secret is checked first)', async () => {
    const { app, ingest } = appWith('s'.repeat(40));
    const res = await request(app).post(WORKFLOW_ACTION_PATH).set('authorization', `Bearer ${'t'.repeat(40)}`).set('content-type', 'application/json').send('{ nope').expect(401);
    expect(res.body.error.code).toBe('unauthenticated');
    expect(JSON.stringify(res.body)).not.toContain('s'.repeat(40));
    expect(ingest).not.toHaveBeenCalled();
  });
});
