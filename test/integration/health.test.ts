import { sql } from 'drizzle-orm';
import request from 'supertest';
import { loadConfig } from '../../server/config';
import { buildService, type Service } from '../../server/main';
import { openTestDatabase, type TestDatabase } from '../support/test-database';
import { startTestService, TEST_ENCRYPTION_KEY, type TestService } from '../support/test-service';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

let t: TestService;
beforeAll(async () => {
  t = await startTestService();
});
afterAll(() => t.close());

describe('GET /healthz and /readyz', () => {
  it('when the process is up, then /healthz answers 200 {status: "ok"}', async () => {
    const res = await t.http.get('/healthz').expect(200);
    expect(res.headers['content-type']).toMatch(/application\/json/);
    expect(res.body).toEqual({ status: 'ok' });
  });

  it('when the database is migrated and answering, then /readyz answers 200 {status: "ready"}', async () => {
    const res = await t.http.get('/readyz').expect(200);
    expect(res.headers['content-type']).toMatch(/application\/json/);
    expect(res.body).toEqual({ status: 'ready' });
  });

  it('when a probe is answered, then it carries a request id and security headers', async () => {
    const res = await t.http.get('/healthz').expect(200);
    expect(res.headers['x-request-id']).toMatch(UUID);
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['x-powered-by']).toBeUndefined();
  });
});

describe('unknown routes', () => {
  it('when a path has no route, then 404 with the JSON error shape and the request id in body and header', async () => {
    const res = await t.http.get('/nope').expect(404);
    expect(res.headers['content-type']).toMatch(/application\/json/);
    expect(res.body).toEqual({
      error: { code: 'not_found', message: expect.any(String) },
      requestId: expect.stringMatching(UUID),
    });
    expect(res.body.error.message).toContain('/nope');
    expect(res.headers['x-request-id']).toBe(res.body.requestId);
  });

  it('when two requests arrive without an id, then each gets its own', async () => {
    const [a, b] = await Promise.all([t.http.get('/nope'), t.http.get('/nope')]);
    expect(a.body.requestId).not.toBe(b.body.requestId);
  });

  it('when a method has no route on a known path, then 404 too', async () => {
    const res = await t.http.post('/healthz').expect(404);
    expect(res.body.error.code).toBe('not_found');
    expect(res.body.error.message).toContain('POST');
  });

  it('when the caller sends x-request-id: abc-123, then it is echoed in the header and the body', async () => {
    const res = await t.http.get('/nope').set('x-request-id', 'abc-123').expect(404);
    expect(res.headers['x-request-id']).toBe('abc-123');
    expect(res.body.requestId).toBe('abc-123');
  });

  it('when the caller sends x-request-id on a probe, then it is echoed', async () => {
    const res = await t.http.get('/readyz').set('x-request-id', 'probe.42:a_b').expect(200);
    expect(res.headers['x-request-id']).toBe('probe.42:a_b');
  });

  it('when the given x-request-id is not a safe token, then a fresh id replaces it', async () => {
    const res = await t.http.get('/nope').set('x-request-id', 'abc 123<script>').expect(404);
    expect(res.headers['x-request-id']).toMatch(UUID);
    expect(res.body.requestId).toBe(res.headers['x-request-id']);
    const long = await t.http.get('/nope').set('x-request-id', 'a'.repeat(101)).expect(404);
    expect(long.headers['x-request-id']).toMatch(UUID);
  });
});

describe('GET /readyz when the database is not usable', () => {
  // A service of its own on a second database, so closing that database leaves the shared one alone.
  let database: TestDatabase;
  let service: Service;
  let http: ReturnType<typeof request>;
  beforeAll(async () => {
    database = await openTestDatabase();
    const config = loadConfig({
      NODE_ENV: 'test',
      LOG_LEVEL: 'silent',
      ENCRYPTION_KEY: TEST_ENCRYPTION_KEY,
      ...(database.url ? { DATABASE_URL: database.url } : {}),
    });
    service = await buildService({ config, database });
    http = request(service.app);
  });
  afterAll(async () => {
    await service?.close();
    await database?.close(); // safe when the last test already closed it (both drivers)
  });

  it('when a migration is not recorded as applied, then /readyz answers 503 not_ready naming migrations', async () => {
    await http.get('/readyz').expect(200, { status: 'ready' });
    await database.db.execute(sql`delete from drizzle.__drizzle_migrations where id = (select max(id) from drizzle.__drizzle_migrations)`);

    const res = await http.get('/readyz').expect(503);
    expect(res.headers['content-type']).toMatch(/application\/json/);
    expect(res.body).toEqual({ error: { code: 'not_ready', message: expect.stringMatching(/migration/i) }, requestId: expect.stringMatching(UUID) });
    expect(res.headers['x-request-id']).toBe(res.body.requestId);
  });

  it('when the database is closed, then /readyz answers 503 with a JSON error while /healthz still answers 200', async () => {
    await database.close();

    const res = await http.get('/readyz').set('x-request-id', 'ready-check-1').expect(503);
    expect(res.headers['content-type']).toMatch(/application\/json/);
    expect(res.body).toEqual({ error: { code: 'not_ready', message: expect.stringMatching(/not reachable/) }, requestId: 'ready-check-1' });
    expect(res.headers['x-request-id']).toBe('ready-check-1');
    await http.get('/healthz').expect(200, { status: 'ok' });
    // The shared service's own database is untouched.
    await t.http.get('/readyz').expect(200, { status: 'ready' });
  });
});
