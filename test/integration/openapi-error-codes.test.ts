/**
 * The OpenAPI document lists each route's possible error codes (server/http/route-errors.ts): every code is in the
 * catalogue, sits under the status the catalogue gives it, and a route's own use-case codes are there.
 */
import SwaggerParser from '@apidevtools/swagger-parser';
import { ERROR_CODES, type ErrorCode } from '../../server/http/error-codes';
import { startTestService, type TestService } from '../support/test-service';

let t: TestService;
let doc: { paths: Record<string, Record<string, { 'x-error-codes': ErrorCode[]; responses: Record<string, any> }>> };
beforeAll(async () => {
  t = await startTestService();
  doc = (await t.http.get('/api/openapi.json').expect(200)).body;
});
afterAll(() => t.close());

const operations = () => Object.entries(doc.paths).flatMap(([path, ops]) => Object.entries(ops).map(([method, op]) => ({ name: `${method} ${path}`, op })));

describe('error codes in the OpenAPI document', () => {
  it('when the document is fetched, then it is valid and every operation lists its error codes, all from the catalogue', async () => {
    await SwaggerParser.validate(structuredClone(doc) as never);
    expect(operations().length).toBe(t.service.apiRoutes.length);
    for (const { name, op } of operations()) {
      expect({ name, codes: op['x-error-codes'].filter((code) => !(code in ERROR_CODES)) }).toEqual({ name, codes: [] });
      expect(op['x-error-codes']).toEqual(expect.arrayContaining(['invalid_request', 'internal', 'unavailable']));
    }
  });

  it('when a status is documented, then its schema names exactly the codes with that status in the catalogue', () => {
    for (const { name, op } of operations()) {
      for (const code of op['x-error-codes']) {
        const response = op.responses[String(ERROR_CODES[code].status)];
        expect({ name, code, documented: Boolean(response) }).toEqual({ name, code, documented: true });
        expect(response.description).toContain(`\`${code}\``);
      }
      for (const [status, response] of Object.entries(op.responses)) {
        const listed: ErrorCode[] | undefined = response.content?.['application/json']?.schema?.properties?.error?.properties?.code?.enum;
        if (listed) expect({ name, status, wrong: listed.filter((code) => String(ERROR_CODES[code].status) !== status) }).toEqual({ name, status, wrong: [] });
      }
    }
  });

  it('when routes have access levels and use cases of their own, then their codes are listed', () => {
    const codes = (method: string, path: string) => doc.paths[path]![method]!['x-error-codes'];
    expect(codes('post', '/api/session')).toEqual(expect.arrayContaining(['invalid_sso_payload', 'install_required', 'rate_limited']));
    expect(codes('post', '/api/session')).not.toContain('session_expired');
    expect(codes('get', '/api/overview')).toEqual(expect.arrayContaining(['unauthenticated', 'session_expired', 'invalid_session', 'forbidden']));
    expect(codes('get', '/api/overview')).not.toContain('admin_required');
    expect(codes('put', '/api/pricing/{metric}')).toEqual(expect.arrayContaining(['admin_required', 'unknown_metric', 'stripe_not_connected', 'stripe_error']));
    expect(codes('post', '/api/reconciliation/runs')).toContain('reconciliation_running');
    expect(codes('post', '/api/sub-accounts/{locationId}/backfills')).toEqual(expect.arrayContaining(['not_found', 'backfill_active', 'not_installed', 'invalid_range']));
    expect(codes('post', '/api/sub-accounts/{locationId}/meter-batches/{batchId}/retry')).toEqual(expect.arrayContaining(['no_stripe_customer', 'not_retryable']));
    expect(codes('post', '/api/v1/usage')).toEqual(expect.arrayContaining(['invalid_events', 'invalid_api_key', 'rate_limited']));
  });
});
