/**
 * JSON API routes declared as data: method, path, access, zod schemas for params/query/body and for the response.
 * One declaration drives the Express handler (validation in, field allow-list out), the authorization check
 * and the OpenAPI 3.1 document (server/http/openapi.ts), so a route cannot skip any of them.
 */
import { once } from 'node:events';
import express, { Router, type Request, type Response } from 'express';
import type { ZodType } from 'zod';
import type { ErrorCode } from './error-codes';
import { AppError, badRequest } from './errors';

/**
 * Who may call a route.
 * - `public`: anyone (the session exchange itself).
 * - `agency`: an agency user; acts on the agency in their session.
 * - `sub-account:read`: an agency user of the sub-account's agency, or a location user of that very sub-account.
 * - `sub-account:write`: an agency user of the sub-account's agency.
 * - `sub-account:client`: as `sub-account:read`, and a location user of that very sub-account whose HighLevel role
 *   is admin may also write — the client's own billing pages (opening Stripe's card and portal pages).
 * - `api-key`: an agency API key (`Authorization: Bearer mbk_…`, server/usage-api/api-keys.ts); acts on the key's
 *   agency. A session token does not open these routes, and an API key opens no other.
 * Routes with a sub-account access level take the sub-account from the `locationId` path parameter.
 */
export type Access = 'public' | 'agency' | 'sub-account:read' | 'sub-account:write' | 'sub-account:client' | 'api-key';

/** What the authorization step hands to the handler: the caller's claims (null only on public routes). */
export interface Caller {
  userId: string;
  companyId: string;
  type: 'agency' | 'location' | 'api-key';
  role: string;
  activeLocation: string | null;
  /** The HighLevel user's name from the SSO payload, when it carries one (the audit log shows it). */
  userName?: string;
  /** The API key's id, for `api-key` callers. */
  apiKeyId?: number;
}

/** A route declaration. Handlers return plain data; the response schema strips every field it does not list. */
export interface ApiRoute<P = unknown, Q = unknown, B = unknown, R = unknown> {
  method: 'get' | 'post' | 'put' | 'delete';
  /** Express path, e.g. `/api/sub-accounts/:locationId`. */
  path: string;
  summary: string;
  tag: string;
  access: Access;
  params?: ZodType<P>;
  query?: ZodType<Q>;
  body?: ZodType<B>;
  /**
   * Instead of `body`: the route reads the body itself (`read` throws AppError to refuse it), e.g. to answer
   * per-item errors; `documented` is the wire format, for the OpenAPI document.
   */
  bodyReader?: { documented: ZodType; read: (raw: unknown) => B };
  /** Largest JSON body accepted (default 100kb). */
  bodyLimit?: string;
  /**
   * The error codes the route's own use case may answer with (server/http/error-codes.ts); those of its access level,
   * validation and body parsing are added by the OpenAPI document (server/http/route-errors.ts).
   */
  errors?: readonly ErrorCode[];
  /** Further answers to document (status → description and schema), e.g. a 422 whose body has more fields. */
  responses?: Record<string, { description: string; schema?: ZodType }>;
  response: ZodType<R>;
  /** Success status (default 200). */
  status?: number;
  /**
   * Media type of the success body; default `application/json`. Any other type (see `defineStreamRoute`) means the
   * handler returns a `StreamedBody` that is written as it is produced, and `response` only documents the body.
   */
  contentType?: string;
  handler: (input: { params: P; query: Q; body: B; caller: Caller | null; requestId: string }) => Promise<R>;
}

/** Typed identity for declarations (keeps inference for params/query/body in the handler). */
export function defineRoute<P, Q, B, R>(route: ApiRoute<P, Q, B, R>): ApiRoute<P, Q, B, R> {
  return route;
}

/**
 * A non-JSON body produced piece by piece (a CSV export): written with backpressure, so a large export never sits
 * in memory. `filename` makes it an attachment.
 */
export interface StreamedBody {
  filename?: string;
  chunks: AsyncIterable<string>;
}

/**
 * Declares a route whose success body is not JSON (e.g. `text/csv`): same access, validation and OpenAPI entry as
 * any route; `response` documents the body (e.g. `z.string()`), and the handler returns a `StreamedBody`.
 */
export function defineStreamRoute<P, Q, B>(
  route: Omit<ApiRoute<P, Q, B, string>, 'handler' | 'contentType'> & {
    contentType: string;
    handler: (input: { params: P; query: Q; body: B; caller: Caller | null; requestId: string }) => Promise<StreamedBody>;
  },
): ApiRoute<P, Q, B, any> {
  return route;
}

/** Resolves the caller from the request (bearer token) and checks the route's access; throws AppError 401/403/404. */
export type Gatekeeper = (req: Request, access: Exclude<Access, 'public'>, params: Record<string, unknown>) => Promise<Caller>;

/** Largest JSON body the settings API accepts. */
const JSON_LIMIT = '100kb';

/**
 * Mounts the routes on a router with authorization, JSON parsing, validation and response filtering.
 * Validation failures answer 400 `invalid_request` naming the fields.
 */
export function mountApiRoutes(routes: ApiRoute<any, any, any, any>[], gatekeeper: Gatekeeper): Router {
  const router = Router();
  for (const route of routes) {
    // Who is asking comes before what they sent: an unauthenticated caller learns nothing about the body's rules,
    // and its body is not even parsed.
    const authorize = async (req: Request, res: Response, next: (err?: unknown) => void) => {
      const params = parse('path parameter', route.params, req.params);
      res.locals.apiParams = params;
      res.locals.caller = route.access === 'public' ? null : await gatekeeper(req, route.access, (params ?? {}) as Record<string, unknown>);
      next();
    };
    router[route.method](route.path, authorize, express.json({ limit: route.bodyLimit ?? JSON_LIMIT }), async (req, res) => {
      const { apiParams: params, caller } = res.locals as { apiParams: unknown; caller: Caller | null };
      const query = parse('query', route.query, req.query);
      const body = route.bodyReader ? route.bodyReader.read(req.body) : parse('body', route.body, route.body ? (req.body ?? {}) : undefined);
      const result = await route.handler({ params, query, body, caller, requestId: String(req.id) });
      if (route.contentType && route.contentType !== 'application/json') {
        await writeStreamed(res, route.status ?? 200, route.contentType, result as StreamedBody);
        return;
      }
      res.status(route.status ?? 200).json(route.response.parse(result));
    });
  }
  return router;
}

/**
 * Writes a streamed body. The first chunk is produced before any header is sent, so an early failure still reaches
 * the error middleware as a JSON error; a failure later can only cut the response short (the client sees it
 * truncated). Stops producing when the client goes away.
 */
async function writeStreamed(res: Response, status: number, contentType: string, body: StreamedBody): Promise<void> {
  const iterator = body.chunks[Symbol.asyncIterator]();
  let next = await iterator.next();
  if (body.filename) res.attachment(body.filename);
  res.status(status).type(contentType); // after attachment(), which would set a type from the file's extension
  res.setHeader('cache-control', 'no-store');
  try {
    while (!next.done) {
      if (res.destroyed) break;
      if (!res.write(next.value)) await drainedOrClosed(res);
      next = await iterator.next();
    }
    res.end();
  } catch (err) {
    res.destroy(err as Error);
  } finally {
    if (!next.done) await iterator.return?.();
  }
}

/** Waits until the socket takes more, or the client is gone; the listener that did not fire is removed. */
async function drainedOrClosed(res: Response): Promise<void> {
  const done = new AbortController();
  try {
    await Promise.race([once(res, 'drain', { signal: done.signal }), once(res, 'close', { signal: done.signal })]);
  } finally {
    done.abort();
  }
}

function parse<T>(where: string, schema: ZodType<T> | undefined, value: unknown): T {
  if (!schema) return undefined as T;
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const detail = result.error.issues
    .slice(0, 8)
    .map((issue) => `${issue.path.join('.') || where}: ${issue.message}`)
    .join('; ');
  throw badRequest('invalid_request', `Invalid ${where}: ${detail}`);
}

export { AppError };
