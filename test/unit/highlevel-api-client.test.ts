import { inspect } from 'node:util';
import nock from 'nock';
import {
  API_VERSIONS,
  backoffMs,
  createHighLevelApiClient,
  serverRequestedWaitMs,
  type AccessTokenSource,
  type ApiAuth,
  type HighLevelApiClientOptions,
} from '../../server/highlevel/api-client';
import { HighLevelApiError } from '../../server/highlevel/api-errors';

const BASE = 'https://services.leadconnectorhq.com';
/** Distinctive token strings, so a leak anywhere is easy to spot. */
const TOKEN = 'tok-ALPHA-7f3e9c1d-do-not-leak';
const REFRESHED = 'tok-BRAVO-2b8a4e6f-do-not-leak';
const LOCATION: ApiAuth = { locationId: 'loc-123' };
const COMPANY: ApiAuth = { companyId: 'comp-456' };

function fakeTokens(first = TOKEN, refreshed = REFRESHED) {
  return {
    accessToken: jest.fn<Promise<string>, [ApiAuth]>(async () => first),
    refreshAfterUnauthorized: jest.fn<Promise<string>, [ApiAuth, string]>(async () => refreshed),
  } satisfies AccessTokenSource;
}

function setup(overrides: Partial<HighLevelApiClientOptions> = {}) {
  const tokens = fakeTokens();
  const sleep = jest.fn<Promise<void>, [number]>(async () => undefined);
  const client = createHighLevelApiClient({ baseUrl: BASE, tokens, sleep, ...overrides });
  return { client, tokens, sleep };
}

/** Runs the promise expecting a HighLevelApiError and returns it. */
async function failure(promise: Promise<unknown>): Promise<HighLevelApiError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(HighLevelApiError);
    return error as HighLevelApiError;
  }
  throw new Error('expected the call to fail');
}

/**
 * A socket error as Node raises it (an Error with a code). nock 14 only surfaces `replyWithError` to axios when it
 * is given an Error instance; a plain `{ code }` object never reaches the request and the call hangs until timeout.
 */
function socketError(code: string, message = `read ${code}`): Error {
  return Object.assign(new Error(message), { code });
}

function expectNoToken(error: unknown) {
  const views = [JSON.stringify(error), inspect(error, { depth: 10 }), String((error as Error).message), String((error as Error).stack)];
  for (const view of views) {
    expect(view).not.toContain(TOKEN);
    expect(view).not.toContain(REFRESHED);
    expect(view).not.toMatch(/Bearer\s+tok-/);
  }
}

afterEach(() => {
  nock.abortPendingRequests();
  nock.cleanAll();
  jest.restoreAllMocks();
});

describe('createHighLevelApiClient: headers and bodies', () => {
  it('when a location call is made, then it sends Version, Bearer token and Accept and returns the parsed body', async () => {
    const { client, tokens } = setup();
    const scope = nock(BASE)
      .matchHeader('version', '2021-04-15')
      .matchHeader('authorization', `Bearer ${TOKEN}`)
      .matchHeader('accept', 'application/json')
      .get('/conversations/messages/msg-1')
      .reply(200, { message: { id: 'msg-1', type: 1 } });

    const body = await client.request<{ message: { id: string } }>({
      method: 'GET',
      path: '/conversations/messages/msg-1',
      version: API_VERSIONS.conversations,
      auth: LOCATION,
    });

    expect(body).toEqual({ message: { id: 'msg-1', type: 1 } });
    expect(tokens.accessToken).toHaveBeenCalledTimes(1);
    expect(tokens.accessToken).toHaveBeenCalledWith(LOCATION);
    expect(scope.isDone()).toBe(true);
  });

  it.each([
    ['oauth', '/oauth/installedLocations', '2021-07-28'],
    ['locations', '/locations/loc-123', '2021-07-28'],
    ['users', '/users/', '2021-07-28'],
    ['conversations', '/conversations/search', '2021-04-15'],
    ['voiceAi', '/voice-ai/dashboard/call-logs', '2021-04-15'],
  ] as const)('when a %s call to %s is made with its API_VERSIONS entry, then the Version header is %s', async (group, path, version) => {
    const { client } = setup();
    expect(API_VERSIONS[group]).toBe(version);
    const scope = nock(BASE).matchHeader('version', version).get(path).reply(200, { ok: true });

    await expect(client.request({ method: 'GET', path, version: API_VERSIONS[group], auth: COMPANY })).resolves.toEqual({ ok: true });
    expect(scope.isDone()).toBe(true);
  });

  it('when a company call is made, then the token is asked for the company', async () => {
    const { client, tokens } = setup();
    const scope = nock(BASE).matchHeader('authorization', `Bearer ${TOKEN}`).get('/oauth/installedLocations').query(true).reply(200, {});

    await client.request({ method: 'GET', path: '/oauth/installedLocations', params: { companyId: 'comp-456' }, version: API_VERSIONS.oauth, auth: COMPANY });

    expect(tokens.accessToken).toHaveBeenCalledWith(COMPANY);
    expect(scope.isDone()).toBe(true);
  });

  it("when auth is 'none', then no Authorization header is sent and no token is asked for", async () => {
    const { client, tokens } = setup();
    const scope = nock(BASE, { badheaders: ['authorization'] })
      .matchHeader('version', '2021-07-28')
      .matchHeader('accept', 'application/json')
      .post('/oauth/token')
      .reply(200, { access_token: 'new' });

    await client.request({ method: 'POST', path: '/oauth/token', form: { grant_type: 'refresh_token' }, version: API_VERSIONS.oauth, auth: 'none' });

    expect(tokens.accessToken).not.toHaveBeenCalled();
    expect(scope.isDone()).toBe(true);
  });

  it('when params hold reserved characters, numbers, booleans and undefined, then they are encoded and undefined is left out', async () => {
    const { client } = setup();
    let rawPath = '';
    const scope = nock(BASE)
      .get('/oauth/installedLocations')
      .query({ companyId: 'comp 1&x=y/é', limit: '100', isInstalled: 'true', skip: '0' })
      .reply(function () {
        rawPath = this.req.path;
        return [200, { locations: [] }];
      });

    await client.request({
      method: 'GET',
      path: '/oauth/installedLocations',
      params: { companyId: 'comp 1&x=y/é', limit: 100, isInstalled: true, skip: 0, appId: undefined },
      version: API_VERSIONS.oauth,
      auth: COMPANY,
    });

    expect(scope.isDone()).toBe(true);
    expect(rawPath).not.toContain('appId');
    expect(rawPath).toContain('companyId=comp+1%26x%3Dy%2F%C3%A9');
  });

  it('when form is given, then the body is application/x-www-form-urlencoded with each value encoded', async () => {
    const { client } = setup();
    let received: unknown;
    const scope = nock(BASE)
      .matchHeader('content-type', /^application\/x-www-form-urlencoded/)
      .post('/oauth/token')
      .reply(function (_uri, body) {
        received = body;
        return [200, { access_token: 'a' }];
      });

    await client.request({
      method: 'POST',
      path: '/oauth/token',
      form: { client_id: 'cid', client_secret: 's&e=c+r/t', grant_type: 'authorization_code', code: 'c o d e' },
      version: API_VERSIONS.oauth,
      auth: 'none',
    });

    expect(scope.isDone()).toBe(true);
    expect(received).toBe('client_id=cid&client_secret=s%26e%3Dc%2Br%2Ft&grant_type=authorization_code&code=c+o+d+e');
    expect(Object.fromEntries(new URLSearchParams(received as string))).toEqual({
      client_id: 'cid',
      client_secret: 's&e=c+r/t',
      grant_type: 'authorization_code',
      code: 'c o d e',
    });
  });

  it('when data is given, then it is sent as JSON', async () => {
    const { client } = setup();
    const scope = nock(BASE)
      .matchHeader('content-type', /^application\/json/)
      .post('/oauth/locationToken', { companyId: 'comp-456', locationId: 'loc-123' })
      .reply(201, { access_token: 'loc-token' });

    await expect(
      client.request({
        method: 'POST',
        path: '/oauth/locationToken',
        data: { companyId: 'comp-456', locationId: 'loc-123' },
        version: API_VERSIONS.oauth,
        auth: COMPANY,
      }),
    ).resolves.toEqual({ access_token: 'loc-token' });
    expect(scope.isDone()).toBe(true);
  });

  it.each([
    ['an absolute URL', 'https://evil.example/steal'],
    ['a protocol-relative URL', '//evil.example/steal'],
    ['a path without a leading slash', 'oauth/installedLocations'],
  ])('when the path is %s, then it throws TypeError before asking for a token or sending anything', async (_what, path) => {
    const { client, tokens } = setup();
    await expect(client.request({ method: 'GET', path, version: API_VERSIONS.oauth, auth: COMPANY })).rejects.toThrow(TypeError);
    expect(tokens.accessToken).not.toHaveBeenCalled();
  });

  it('when both data and form are given, then it throws TypeError before sending', async () => {
    const { client, tokens } = setup();
    await expect(
      client.request({ method: 'POST', path: '/oauth/token', data: {}, form: { a: 'b' }, version: API_VERSIONS.oauth, auth: 'none' }),
    ).rejects.toThrow(TypeError);
    expect(tokens.accessToken).not.toHaveBeenCalled();
  });

  it('when the options are invalid, then building the client throws TypeError', () => {
    const tokens = fakeTokens();
    expect(() => createHighLevelApiClient({ baseUrl: BASE, tokens, maxRetries: -1 })).toThrow(TypeError);
    expect(() => createHighLevelApiClient({ baseUrl: BASE, tokens, maxRetries: 1.5 })).toThrow(TypeError);
    expect(() => createHighLevelApiClient({ baseUrl: BASE, tokens, timeoutMs: 0 })).toThrow(TypeError);
  });
});

describe('createHighLevelApiClient: 429 rate limiting', () => {
  it('when HighLevel answers 429 with retry-after 3 and then 200, then it sleeps 3000 ms once and returns the success', async () => {
    const { client, sleep, tokens } = setup();
    const scope = nock(BASE)
      .get('/locations/loc-123')
      .reply(429, { message: 'Too many requests' }, { 'retry-after': '3' })
      .get('/locations/loc-123')
      .reply(200, { location: { id: 'loc-123' } });

    await expect(client.request({ method: 'GET', path: '/locations/loc-123', version: API_VERSIONS.locations, auth: LOCATION })).resolves.toEqual({
      location: { id: 'loc-123' },
    });
    expect(sleep).toHaveBeenCalledTimes(1);
    expect(sleep).toHaveBeenCalledWith(3000);
    expect(tokens.accessToken).toHaveBeenCalledTimes(2);
    expect(scope.isDone()).toBe(true);
  });

  it('when a 429 carries x-ratelimit-remaining 0 and no retry-after, then it waits x-ratelimit-interval-milliseconds', async () => {
    const { client, sleep } = setup();
    const scope = nock(BASE)
      .get('/users/')
      .query(true)
      .reply(429, {}, { 'x-ratelimit-remaining': '0', 'x-ratelimit-interval-milliseconds': '10000', 'x-ratelimit-max': '100' })
      .get('/users/')
      .query(true)
      .reply(200, { users: [] });

    await client.request({ method: 'GET', path: '/users/', params: { locationId: 'loc-123' }, version: API_VERSIONS.users, auth: LOCATION });

    expect(sleep.mock.calls).toEqual([[10000]]);
    expect(scope.isDone()).toBe(true);
  });

  it('when a 429 carries both retry-after and the rate-limit headers, then retry-after wins', async () => {
    const { client, sleep } = setup();
    const scope = nock(BASE)
      .get('/users/u1')
      .reply(429, {}, { 'retry-after': '1', 'x-ratelimit-remaining': '0', 'x-ratelimit-interval-milliseconds': '10000' })
      .get('/users/u1')
      .reply(200, {});

    await client.request({ method: 'GET', path: '/users/u1', version: API_VERSIONS.users, auth: LOCATION });

    expect(sleep.mock.calls).toEqual([[1000]]);
    expect(scope.isDone()).toBe(true);
  });

  it('when 429s carry no wait hints, then the waits back off exponentially from 1 s with jitter, capped at 10 s', async () => {
    const { client, sleep } = setup();
    const scope = nock(BASE)
      .get('/users/u1')
      .times(5)
      .reply(429, {}, { 'x-ratelimit-remaining': '12' })
      .get('/users/u1')
      .reply(200, { id: 'u1' });

    await client.request({ method: 'GET', path: '/users/u1', version: API_VERSIONS.users, auth: LOCATION });

    const waits = sleep.mock.calls.map(([ms]) => ms);
    expect(waits).toHaveLength(5);
    const steps = [1000, 2000, 4000, 8000, 10000];
    waits.forEach((ms, i) => {
      expect(ms).toBeGreaterThanOrEqual(steps[i]! / 2);
      expect(ms).toBeLessThanOrEqual(steps[i]!);
    });
    expect(scope.isDone()).toBe(true);
  });

  it('when backoffMs is given the extremes of the random source, then it spans half to all of each step and never exceeds 10 s', () => {
    expect([0, 1, 2, 3, 4, 10].map((retry) => backoffMs(retry, () => 0))).toEqual([500, 1000, 2000, 4000, 5000, 5000]);
    expect([0, 1, 2, 3, 4, 10].map((retry) => backoffMs(retry, () => 1))).toEqual([1000, 2000, 4000, 8000, 10000, 10000]);
  });

  it('when retry-after is an HTTP date, then the wait is the time until that date', () => {
    const now = () => Date.parse('2026-01-01T00:00:00Z');
    expect(serverRequestedWaitMs({ 'retry-after': 'Thu, 01 Jan 2026 00:00:05 GMT' }, now)).toBe(5000);
    expect(serverRequestedWaitMs({ 'retry-after': 'Wed, 31 Dec 2025 23:59:00 GMT' }, now)).toBe(0);
    expect(serverRequestedWaitMs({ 'retry-after': 'soon' }, now)).toBeUndefined();
    expect(serverRequestedWaitMs({ 'x-ratelimit-remaining': '3', 'x-ratelimit-interval-milliseconds': '10000' }, now)).toBeUndefined();
  });

  it('when HighLevel answers 429 five times and maxRetries is 4, then it fails rate_limited after 5 attempts', async () => {
    const { client, sleep } = setup({ maxRetries: 4 });
    const scope = nock(BASE).get('/locations/loc-123').times(5).reply(429, { message: 'Too many requests' }, { 'retry-after': '1' });

    const error = await failure(client.request({ method: 'GET', path: '/locations/loc-123', version: API_VERSIONS.locations, auth: LOCATION }));

    expect(error).toMatchObject({ status: 429, code: 'rate_limited', method: 'GET', path: '/locations/loc-123' });
    expect(error.message).toBe('GET /locations/loc-123: Too many requests');
    expect(sleep).toHaveBeenCalledTimes(4);
    expect(scope.isDone()).toBe(true);
  });

  it('when HighLevel keeps answering 429 with the default maxRetries, then it makes 6 attempts and fails rate_limited', async () => {
    const { client, sleep } = setup();
    const scope = nock(BASE).get('/locations/loc-123').times(6).reply(429, {});

    const error = await failure(client.request({ method: 'GET', path: '/locations/loc-123', version: API_VERSIONS.locations, auth: LOCATION }));

    expect(error.code).toBe('rate_limited');
    expect(error.message).toBe('GET /locations/loc-123: HTTP 429');
    expect(sleep).toHaveBeenCalledTimes(5);
    expect(scope.isDone()).toBe(true);
  });

  it('when maxRetries is 0, then a 429 fails at once without sleeping', async () => {
    const { client, sleep } = setup({ maxRetries: 0 });
    const scope = nock(BASE).get('/users/u1').reply(429, {}, { 'retry-after': '1' });

    expect((await failure(client.request({ method: 'GET', path: '/users/u1', version: API_VERSIONS.users, auth: LOCATION }))).code).toBe('rate_limited');
    expect(sleep).not.toHaveBeenCalled();
    expect(scope.isDone()).toBe(true);
  });

  it('when a POST gets 429, then it is retried (HighLevel rejected it before processing)', async () => {
    const { client, sleep } = setup();
    const scope = nock(BASE)
      .post('/conversations/messages', { type: 'SMS' })
      .reply(429, {}, { 'retry-after': '2' })
      .post('/conversations/messages', { type: 'SMS' })
      .reply(201, { messageId: 'm1' });

    await expect(
      client.request({ method: 'POST', path: '/conversations/messages', data: { type: 'SMS' }, version: API_VERSIONS.conversations, auth: LOCATION }),
    ).resolves.toEqual({ messageId: 'm1' });
    expect(sleep.mock.calls).toEqual([[2000]]);
    expect(scope.isDone()).toBe(true);
  });
});

describe('createHighLevelApiClient: 401 and token refresh', () => {
  it('when HighLevel answers 401 then 200, then it refreshes once with the rejected token and retries with the new one', async () => {
    const { client, tokens, sleep } = setup();
    const scope = nock(BASE)
      .matchHeader('authorization', `Bearer ${TOKEN}`)
      .get('/locations/loc-123')
      .reply(401, { statusCode: 401, message: 'Invalid JWT' });
    const retried = nock(BASE).matchHeader('authorization', `Bearer ${REFRESHED}`).get('/locations/loc-123').reply(200, { location: {} });

    await expect(client.request({ method: 'GET', path: '/locations/loc-123', version: API_VERSIONS.locations, auth: LOCATION })).resolves.toEqual({
      location: {},
    });
    expect(tokens.refreshAfterUnauthorized).toHaveBeenCalledTimes(1);
    expect(tokens.refreshAfterUnauthorized).toHaveBeenCalledWith(LOCATION, TOKEN);
    expect(tokens.accessToken).toHaveBeenCalledTimes(1);
    expect(sleep).not.toHaveBeenCalled();
    expect(scope.isDone()).toBe(true);
    expect(retried.isDone()).toBe(true);
  });

  it('when HighLevel answers 401 twice, then it fails unauthorized after one refresh', async () => {
    const { client, tokens } = setup();
    const first = nock(BASE).matchHeader('authorization', `Bearer ${TOKEN}`).post('/conversations/messages').reply(401, { message: 'Invalid JWT' });
    const scope = nock(BASE)
      .matchHeader('authorization', `Bearer ${REFRESHED}`)
      .post('/conversations/messages')
      .reply(401, { message: 'The token is not authorized for this scope.' });

    const error = await failure(
      client.request({ method: 'POST', path: '/conversations/messages', data: {}, version: API_VERSIONS.conversations, auth: LOCATION }),
    );

    expect(error).toMatchObject({ status: 401, code: 'unauthorized', method: 'POST', path: '/conversations/messages' });
    expect(error.message).toBe('POST /conversations/messages: The token is not authorized for this scope.');
    expect(tokens.refreshAfterUnauthorized).toHaveBeenCalledTimes(1);
    expect(first.isDone()).toBe(true);
    expect(scope.isDone()).toBe(true);
  });

  it("when a call with auth 'none' gets 401, then it fails unauthorized without refreshing", async () => {
    const { client, tokens } = setup();
    const scope = nock(BASE).post('/oauth/token').reply(401, { error: 'invalid_client', error_description: 'Client authentication failed' });

    const error = await failure(client.request({ method: 'POST', path: '/oauth/token', form: { a: 'b' }, version: API_VERSIONS.oauth, auth: 'none' }));

    expect(error.code).toBe('unauthorized');
    expect(error.message).toBe('POST /oauth/token: Client authentication failed');
    expect(tokens.refreshAfterUnauthorized).not.toHaveBeenCalled();
    expect(scope.isDone()).toBe(true);
  });

  it('when HighLevel answers 403, then it fails unauthorized without refreshing', async () => {
    const { client, tokens } = setup();
    const scope = nock(BASE).get('/locations/loc-999').reply(403, { message: 'The token does not have access to this location.' });

    const error = await failure(client.request({ method: 'GET', path: '/locations/loc-999', version: API_VERSIONS.locations, auth: LOCATION }));

    expect(error).toMatchObject({ status: 403, code: 'unauthorized' });
    expect(tokens.refreshAfterUnauthorized).not.toHaveBeenCalled();
    expect(scope.isDone()).toBe(true);
  });

  it('when the token source throws, then that error propagates unchanged and nothing is sent', async () => {
    const tokens = fakeTokens();
    const boom = new Error('install not found');
    tokens.accessToken.mockRejectedValueOnce(boom);
    const client = createHighLevelApiClient({ baseUrl: BASE, tokens, sleep: async () => undefined });

    await expect(client.request({ method: 'GET', path: '/users/u1', version: API_VERSIONS.users, auth: LOCATION })).rejects.toBe(boom);
  });
});

describe('createHighLevelApiClient: 5xx and network errors', () => {
  it('when a POST gets 500, then it is not retried and fails server_error', async () => {
    const { client, sleep } = setup();
    const scope = nock(BASE).post('/conversations/messages').reply(500, { message: 'Internal server error' });

    const error = await failure(
      client.request({ method: 'POST', path: '/conversations/messages', data: { type: 'SMS' }, version: API_VERSIONS.conversations, auth: LOCATION }),
    );

    expect(error).toMatchObject({ status: 500, code: 'server_error', method: 'POST' });
    expect(error.message).toBe('POST /conversations/messages: Internal server error');
    expect(sleep).not.toHaveBeenCalled();
    expect(scope.isDone()).toBe(true);
  });

  it('when a POST gets 503, then it is not retried', async () => {
    const { client, sleep } = setup();
    const scope = nock(BASE).post('/conversations/messages').reply(503, 'Service Unavailable');

    const error = await failure(
      client.request({ method: 'POST', path: '/conversations/messages', data: {}, version: API_VERSIONS.conversations, auth: LOCATION }),
    );

    expect(error).toMatchObject({ status: 503, code: 'server_error' });
    expect(error.message).toBe('POST /conversations/messages: Service Unavailable');
    expect(sleep).not.toHaveBeenCalled();
    expect(scope.isDone()).toBe(true);
  });

  it.each([502, 503, 504])('when a GET gets %i and then 200, then it is retried after a backoff and succeeds', async (status) => {
    const { client, sleep } = setup();
    const scope = nock(BASE).get('/users/u1').reply(status, '<html>Bad gateway</html>').get('/users/u1').reply(200, { id: 'u1' });

    await expect(client.request({ method: 'GET', path: '/users/u1', version: API_VERSIONS.users, auth: LOCATION })).resolves.toEqual({ id: 'u1' });
    expect(sleep).toHaveBeenCalledTimes(1);
    expect(sleep.mock.calls[0]![0]).toBeGreaterThanOrEqual(500);
    expect(sleep.mock.calls[0]![0]).toBeLessThanOrEqual(1000);
    expect(scope.isDone()).toBe(true);
  });

  it('when a GET gets 503 on every attempt, then it fails server_error after maxRetries + 1 attempts', async () => {
    const { client, sleep } = setup({ maxRetries: 2 });
    const scope = nock(BASE).get('/users/u1').times(3).reply(503, '<html>Service Unavailable</html>');

    const error = await failure(client.request({ method: 'GET', path: '/users/u1', version: API_VERSIONS.users, auth: LOCATION }));

    expect(error).toMatchObject({ status: 503, code: 'server_error' });
    expect(error.message).toBe('GET /users/u1: HTTP 503');
    expect(sleep).toHaveBeenCalledTimes(2);
    expect(scope.isDone()).toBe(true);
  });

  it('when a GET gets 500, then it is not retried (only 502/503/504 are)', async () => {
    const { client, sleep } = setup();
    const scope = nock(BASE).get('/users/u1').reply(500, {});

    expect((await failure(client.request({ method: 'GET', path: '/users/u1', version: API_VERSIONS.users, auth: LOCATION }))).code).toBe('server_error');
    expect(sleep).not.toHaveBeenCalled();
    expect(scope.isDone()).toBe(true);
  });

  it('when a GET hits ECONNRESET and then succeeds, then it is retried and returns the body', async () => {
    const { client, sleep } = setup();
    const scope = nock(BASE).get('/users/u1').replyWithError(socketError('ECONNRESET')).get('/users/u1').reply(200, { id: 'u1' });

    await expect(client.request({ method: 'GET', path: '/users/u1', version: API_VERSIONS.users, auth: LOCATION })).resolves.toEqual({ id: 'u1' });
    expect(sleep).toHaveBeenCalledTimes(1);
    expect(scope.isDone()).toBe(true);
  });

  it('when a GET hits ECONNRESET on every attempt, then it fails network with status 0 after maxRetries + 1 attempts', async () => {
    const { client, sleep } = setup({ maxRetries: 3 });
    const scope = nock(BASE).get('/users/u1').query({ locationId: 'loc-123' }).times(4).replyWithError(socketError('ECONNRESET', 'socket hang up'));

    const error = await failure(client.request({ method: 'GET', path: '/users/u1', params: { locationId: 'loc-123' }, version: API_VERSIONS.users, auth: LOCATION }));

    expect(error).toMatchObject({ status: 0, code: 'network', method: 'GET', path: '/users/u1' });
    expect(error.message).toMatch(/^GET \/users\/u1: network error \(ECONNRESET\)/);
    expect(sleep).toHaveBeenCalledTimes(3);
    expect(scope.isDone()).toBe(true);
    expectNoToken(error);
  });

  it('when a GET hits ETIMEDOUT and then succeeds, then it is retried', async () => {
    const { client } = setup();
    const scope = nock(BASE).get('/users/u1').replyWithError(socketError('ETIMEDOUT')).get('/users/u1').reply(200, { id: 'u1' });

    await expect(client.request({ method: 'GET', path: '/users/u1', version: API_VERSIONS.users, auth: LOCATION })).resolves.toEqual({ id: 'u1' });
    expect(scope.isDone()).toBe(true);
  });

  it('when a GET times out (timeoutMs) and then succeeds, then the timeout counts as a retryable network error', async () => {
    // 1 s, not less: the retry's immediate answer must arrive within it even on a loaded machine (it flaked at 50 ms).
    const { client } = setup({ timeoutMs: 1_000 });
    const scope = nock(BASE).get('/users/u1').delay(4_000).reply(200, { slow: true }).get('/users/u1').reply(200, { id: 'u1' });

    await expect(client.request({ method: 'GET', path: '/users/u1', version: API_VERSIONS.users, auth: LOCATION })).resolves.toEqual({ id: 'u1' });
    expect(scope.isDone()).toBe(true);
  });

  it('when a POST hits ECONNRESET, then it is not retried and fails network', async () => {
    const { client, sleep } = setup();
    const scope = nock(BASE).post('/conversations/messages').replyWithError(socketError('ECONNRESET'));

    const error = await failure(
      client.request({ method: 'POST', path: '/conversations/messages', data: {}, version: API_VERSIONS.conversations, auth: LOCATION }),
    );

    expect(error).toMatchObject({ status: 0, code: 'network', method: 'POST' });
    expect(sleep).not.toHaveBeenCalled();
    expect(scope.isDone()).toBe(true);
  });
});

describe('createHighLevelApiClient: error messages', () => {
  it("when HighLevel's message is a string, then the error reads 'METHOD path: message' without the query string", async () => {
    const { client } = setup();
    const scope = nock(BASE).get('/oauth/installedLocations').query(true).reply(400, { statusCode: 400, message: 'Location is not active' });

    const error = await failure(
      client.request({ method: 'GET', path: '/oauth/installedLocations', params: { companyId: 'comp-456', appId: 'app-1' }, version: API_VERSIONS.oauth, auth: COMPANY }),
    );

    expect(error.message).toBe('GET /oauth/installedLocations: Location is not active');
    expect(error).toMatchObject({ status: 400, code: 'bad_request', method: 'GET', path: '/oauth/installedLocations' });
    expect(error.name).toBe('HighLevelApiError');
    expect(scope.isDone()).toBe(true);
  });

  it("when HighLevel's message is an array of strings, then they are joined", async () => {
    const { client } = setup();
    const scope = nock(BASE)
      .post('/conversations/messages')
      .reply(422, { statusCode: 422, message: ['type must be a valid enum value', 'contactId should not be empty'], error: 'Unprocessable Entity' });

    const error = await failure(
      client.request({ method: 'POST', path: '/conversations/messages', data: {}, version: API_VERSIONS.conversations, auth: LOCATION }),
    );

    expect(error.message).toBe('POST /conversations/messages: type must be a valid enum value; contactId should not be empty');
    expect(error.code).toBe('bad_request');
    expect(scope.isDone()).toBe(true);
  });

  it.each([
    ['error_description', { error: 'invalid_grant', error_description: 'Invalid refresh token' }, 'Invalid refresh token'],
    ['only error', { error: 'invalid_grant' }, 'invalid_grant'],
    ['no message at all', {}, 'HTTP 400'],
    ['an empty message array', { message: [], error: 'Bad Request' }, 'Bad Request'],
  ])('when the body has %s, then the message falls back accordingly', async (_what, body, expected) => {
    const { client } = setup();
    const scope = nock(BASE).post('/oauth/token').reply(400, body);

    const error = await failure(client.request({ method: 'POST', path: '/oauth/token', form: { a: 'b' }, version: API_VERSIONS.oauth, auth: 'none' }));

    expect(error.message).toBe(`POST /oauth/token: ${expected}`);
    expect(scope.isDone()).toBe(true);
  });

  it('when HighLevel answers 404, then the code is not_found', async () => {
    const { client } = setup();
    const scope = nock(BASE).delete('/locations/loc-123/customValues/cv-1').reply(404, { message: 'Custom value not found' });

    const error = await failure(
      client.request({ method: 'DELETE', path: '/locations/loc-123/customValues/cv-1', version: API_VERSIONS.locations, auth: LOCATION }),
    );

    expect(error).toMatchObject({ status: 404, code: 'not_found', method: 'DELETE' });
    expect(scope.isDone()).toBe(true);
  });
});

describe('createHighLevelApiClient: tokens never leak into errors', () => {
  it('when a call fails after a refresh, then neither token appears in the message, JSON, inspect output or stack', async () => {
    const { client } = setup();
    const scope = nock(BASE).get('/users/u1').times(2).reply(401, { message: 'Invalid JWT' });

    const error = await failure(client.request({ method: 'GET', path: '/users/u1', version: API_VERSIONS.users, auth: LOCATION }));

    expect(error.code).toBe('unauthorized');
    expectNoToken(error);
    expect(Object.keys(JSON.parse(JSON.stringify(error))).sort()).toEqual(['code', 'method', 'name', 'path', 'status']);
    expect(scope.isDone()).toBe(true);
  });

  it("when HighLevel's message echoes the token, then it is redacted", async () => {
    const { client } = setup();
    const scope = nock(BASE)
      .get('/users/u1')
      .reply(400, { message: [`token ${TOKEN} is malformed`, `header was "Authorization: Bearer ${TOKEN}"`] });

    const error = await failure(client.request({ method: 'GET', path: '/users/u1', version: API_VERSIONS.users, auth: LOCATION }));

    expect(error.message).toContain('[redacted]');
    expectNoToken(error);
    expect(scope.isDone()).toBe(true);
  });

  it('when a POST fails with a network error, then the token is not carried on the error', async () => {
    const { client } = setup();
    const scope = nock(BASE).post('/conversations/messages').replyWithError(socketError('ECONNRESET', 'socket hang up'));

    const error = await failure(
      client.request({ method: 'POST', path: '/conversations/messages', data: {}, version: API_VERSIONS.conversations, auth: LOCATION }),
    );

    expect(error.cause).toBeUndefined();
    expectNoToken(error);
    expect(scope.isDone()).toBe(true);
  });
});
