/**
 * The error taxonomy. Anything thrown that is an `AppError` reaches the client as
 * `{ error: { code, message }, requestId }` with its HTTP status; anything else becomes a 500 whose message
 * never echoes internals.
 */

/** A failure the client should see: `status` is the HTTP status, `code` a stable snake_case identifier. */
export class AppError extends Error {
  /**
   * @param details further fields of the `error` object the client gets (e.g. `{ events: [...] }` per-item errors);
   *   they never replace `code` or `message`.
   */
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'AppError';
  }
}

/** 400: the request is malformed (bad JSON, a payload that does not match its schema). */
export const badRequest = (code: string, message: string) => new AppError(400, code, message);
/** 401: no valid credential or signature. */
export const unauthorized = (code: string, message: string) => new AppError(401, code, message);
/** 403: authenticated, but not allowed to act on this resource. */
export const forbidden = (message = 'You are not allowed to do this.') => new AppError(403, 'forbidden', message);
/** 404: no such resource (or not visible to the caller). */
export const notFound = (message = 'Not found.') => new AppError(404, 'not_found', message);
/** 503: a dependency (the database) is unavailable; the caller should retry. */
export const unavailable = (message: string) => new AppError(503, 'unavailable', message);
