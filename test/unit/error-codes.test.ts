/**
 * The error catalogue (server/http/error-codes.ts): its shape, the status mapping at the boundary, and that every
 * code thrown anywhere in server/ is in it. The compiler already refuses an unknown code in `AppError` and its
 * helpers; this test also reads the source, so a code built some other way (a literal in a response, a table of
 * codes) is caught too.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import express from 'express';
import pino from 'pino';
import request from 'supertest';
import { ERROR_CODES, type ErrorCode, isErrorCode, statusOf } from '../../server/http/error-codes';
import { errorHandler } from '../../server/http/error-middleware';
import { AppError, appError, badRequest, forbidden, notFound, unauthorized, unavailable } from '../../server/http/errors';
import { errorCodeSchema } from '../../server/http/schemas';
import { USAGE_EVENT_PROBLEM_CODES } from '../../server/usage-api/schemas';

const SERVER = path.join(__dirname, '../../server');
const sources = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? sources(path.join(dir, e.name)) : e.name.endsWith('.ts') ? [path.join(dir, e.name)] : []));

/** Every `[file, code, status?]` the source throws or answers with, by the ways the code base makes an error. */
function thrownCodes(): Array<{ file: string; code: string; status?: number }> {
  const patterns = [
    /\b(?:badRequest|unauthorized|appError)\(\s*'([a-z_]+)'/g,
    /\bsendError\(\s*\w+,\s*'([a-z_]+)'/g,
    /\bnew AppError\(\s*(?:(\d{3}),\s*)?'([a-z_]+)'/g,
    /\bnew AppError\(\s*[^,]*\?\s*'([a-z_]+)'\s*:\s*'([a-z_]+)'/g,
    /\bsuper\(\s*'([a-z_]+)'/g,
    /\{ code: '([a-z_]+)', message/g, // a table of parser errors (server/http/error-middleware.ts)
    /\[\s*'([a-z_]+)',\s*'[A-Z]/g, // a table of [code, message] pairs (server/access/gatekeeper.ts)
  ];
  const found: Array<{ file: string; code: string; status?: number }> = [];
  for (const file of sources(SERVER)) {
    const text = readFileSync(file, 'utf8');
    const name = path.relative(SERVER, file);
    for (const pattern of patterns) {
      for (const match of withoutEventProblems(text).matchAll(pattern)) {
        const groups = match.slice(1).filter((g): g is string => g !== undefined);
        const status = groups.length === 2 && /^\d{3}$/.test(groups[0]!) ? Number(groups.shift()) : undefined;
        for (const code of groups) found.push({ file: name, code, status });
      }
    }
  }
  return found;
}

/** The source without the lines that name one usage event's problem (their own list) or a zod issue. */
const withoutEventProblems = (text: string) =>
  text
    .split('\n')
    .filter((line) => !/problems\.push|addIssue/.test(line))
    .join('\n');

/** The codes of usage events' problems (`problems.push({ …, code: '…' })`), listed in server/usage-api/schemas.ts. */
function eventProblemCodes(): string[] {
  return sources(SERVER).flatMap((file) => [...readFileSync(file, 'utf8').matchAll(/problems\.push\(\{[^}]*\bcode: '([a-z_]+)'/g)].map((m) => m[1]!));
}

describe('the error catalogue', () => {
  it('when read, then every code is snake_case with a known status and a meaning that is a sentence', () => {
    for (const [code, entry] of Object.entries(ERROR_CODES)) {
      expect(code).toMatch(/^[a-z]+(_[a-z]+)*$/);
      expect([400, 401, 403, 404, 409, 413, 415, 422, 429, 500, 502, 503]).toContain(entry.status);
      expect(entry.meaning).toMatch(/^[A-Z].*\.$/);
    }
    expect(errorCodeSchema.options.sort()).toEqual(Object.keys(ERROR_CODES).sort());
    expect(isErrorCode('not_found')).toBe(true);
    expect(isErrorCode('toString')).toBe(false);
  });

  it('when the server source is read, then every code it throws or answers with is in the catalogue, with its status', () => {
    const found = thrownCodes();
    expect(found.length).toBeGreaterThan(80);
    expect(found.filter((f) => !isErrorCode(f.code))).toEqual([]);
    // The older form `new AppError(status, code, …)` (kept for files being rewritten elsewhere) must agree with it.
    expect(found.filter((f) => f.status !== undefined && f.status !== statusOf(f.code as ErrorCode))).toEqual([]);
  });

  it('when the usage API refuses events, then each event problem code is one its schema lists', () => {
    const codes = eventProblemCodes();
    expect(codes.length).toBeGreaterThanOrEqual(5);
    expect(codes.filter((code) => !(USAGE_EVENT_PROBLEM_CODES as readonly string[]).includes(code))).toEqual([]);
  });

  it('when an error is made by either constructor or a helper, then its status is the catalogue’s', () => {
    expect(new AppError('not_retryable', 'x')).toMatchObject({ status: 409, code: 'not_retryable', message: 'x' });
    expect(new AppError(422, 'invalid_events', 'x', { events: [] })).toMatchObject({ status: 422, code: 'invalid_events', details: { events: [] } });
    expect(appError('stripe_error', 'x').status).toBe(502);
    expect(badRequest('invalid_range', 'x').status).toBe(400);
    expect(unauthorized('session_expired', 'x').status).toBe(401);
    expect([forbidden().code, notFound().code, unavailable('x').code]).toEqual(['forbidden', 'not_found', 'unavailable']);
    expect(new AppError('forbidden', 'x')).toBeInstanceOf(AppError);
  });

  it('when a route throws, then the error middleware answers the catalogue status with code, message and details', async () => {
    const app = express();
    app.get('/conflict', () => {
      throw new AppError('reconciliation_running', 'Busy.');
    });
    app.get('/details', () => {
      throw new AppError(422, 'invalid_events', 'Bad.', { events: [{ index: 0 }] });
    });
    app.use(errorHandler(pino({ level: 'silent' })));
    const conflict = await request(app).get('/conflict');
    expect([conflict.status, conflict.body.error]).toEqual([409, { code: 'reconciliation_running', message: 'Busy.' }]);
    const details = await request(app).get('/details');
    expect([details.status, details.body.error]).toEqual([422, { code: 'invalid_events', message: 'Bad.', events: [{ index: 0 }] }]);
  });
});
