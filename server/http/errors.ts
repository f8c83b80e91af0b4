/**
 * The error taxonomy. Anything thrown that is an `AppError` reaches the client as
 * `{ error: { code, message }, requestId }` with the status the catalogue (server/http/error-codes.ts) gives its
 * code; anything else becomes a 500 whose message never echoes internals.
 */
import { type CodeWithStatus, type ErrorCode, type ErrorStatus, type StatusOf, statusOf } from './error-codes';

/** A code of the catalogue (server/http/error-codes.ts). */
export type { ErrorCode } from './error-codes';

/** Further fields of the `error` object the client gets (e.g. `{ events: [...] }`); never `code` or `message`. */
export type ErrorDetails = Record<string, unknown>;

/** A failure the client should see: `code` is a catalogue code, `status` the HTTP status the catalogue gives it. */
class ApplicationError extends Error {
  readonly code: ErrorCode;
  /** The HTTP status, from the catalogue (never from the throw site). */
  readonly status: ErrorStatus;
  readonly details?: ErrorDetails;

  constructor(...args: [ErrorCode, string, ErrorDetails?] | [number, ErrorCode, string, ErrorDetails?]) {
    const [code, message, details] = typeof args[0] === 'number' ? (args.slice(1) as [ErrorCode, string, ErrorDetails?]) : (args as [ErrorCode, string, ErrorDetails?]);
    super(message);
    this.name = 'AppError';
    this.code = code;
    this.status = statusOf(code);
    if (details) this.details = details;
  }
}

/**
 * How an `AppError` is made: `new AppError(code, message, details?)`. The older form with the status first,
 * `new AppError(status, code, message, details?)`, still compiles only when `status` is the catalogue's own status
 * for `code` (so it can never disagree with what the client gets).
 */
export interface AppErrorConstructor {
  new (code: ErrorCode, message: string, details?: ErrorDetails): ApplicationError;
  new <C extends ErrorCode>(status: StatusOf<C>, code: C, message: string, details?: ErrorDetails): ApplicationError;
  readonly prototype: ApplicationError;
}

/** A failure the client should see (see `ApplicationError`); `instanceof AppError` recognises it. */
export const AppError: AppErrorConstructor = ApplicationError;
/** An error made by `new AppError(…)`. */
export type AppError = ApplicationError;

/** An `AppError` with `code`'s status from the catalogue. */
export const appError = (code: ErrorCode, message: string, details?: ErrorDetails): AppError => new AppError(code, message, details);
/** 400: the request is malformed (bad JSON, a payload that does not match its schema); only 400 codes compile. */
export const badRequest = (code: CodeWithStatus<400>, message: string): AppError => new AppError(code, message);
/** 401: no valid credential or signature; only 401 codes compile. */
export const unauthorized = (code: CodeWithStatus<401>, message: string): AppError => new AppError(code, message);
/** 403 `forbidden`: authenticated, but not allowed to act on this resource. */
export const forbidden = (message = 'You are not allowed to do this.'): AppError => new AppError('forbidden', message);
/** 404 `not_found`: no such resource (or not visible to the caller). */
export const notFound = (message = 'Not found.'): AppError => new AppError('not_found', message);
/** 503 `unavailable`: a dependency (the database) is unavailable; the caller should retry. */
export const unavailable = (message: string): AppError => new AppError('unavailable', message);
