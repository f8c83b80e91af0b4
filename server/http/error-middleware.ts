import type { ErrorRequestHandler, RequestHandler } from 'express';
import type { Logger } from 'pino';
import { AppError } from './errors';

/** Body-parser errors carry `type` and `status`; these are the ones a client caused. */
const PARSER_ERRORS: Record<string, { status: number; code: string; message: string }> = {
  'entity.too.large': { status: 413, code: 'payload_too_large', message: 'The request body is larger than allowed.' },
  'entity.parse.failed': { status: 400, code: 'invalid_json', message: 'The request body is not valid JSON.' },
  'encoding.unsupported': { status: 415, code: 'unsupported_encoding', message: 'The request body encoding is not supported.' },
  'request.aborted': { status: 400, code: 'request_aborted', message: 'The request was aborted by the client.' },
};

/** Answers unmatched routes with a JSON 404 in the standard error shape. */
export const notFoundHandler: RequestHandler = (req, res) => {
  res.status(404).json({ error: { code: 'not_found', message: `No route for ${req.method} ${req.path}.` }, requestId: req.id });
};

/**
 * The one error middleware: maps `AppError` and body-parser errors to their status; logs and hides the rest
 * behind a 500 (or a 503 when the database is unreachable, so webhook senders retry).
 */
export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (err, req, res, _next) => {
    const requestId = req.id;
    if (err instanceof AppError) {
      res.status(err.status).json({ error: { ...err.details, code: err.code, message: err.message }, requestId });
      return;
    }
    const parser = typeof err?.type === 'string' ? PARSER_ERRORS[err.type] : undefined;
    if (parser) {
      res.status(parser.status).json({ error: { code: parser.code, message: parser.message }, requestId });
      return;
    }
    if (isConnectionError(err)) {
      logger.error({ err, requestId }, 'database unavailable');
      res.status(503).json({ error: { code: 'unavailable', message: 'The service is temporarily unavailable; retry later.' }, requestId });
      return;
    }
    logger.error({ err, requestId }, 'unhandled error');
    res.status(500).json({ error: { code: 'internal', message: 'Something went wrong on our side.' }, requestId });
  };
}

/** Errors that mean "the database could not be reached", not "the query was wrong". */
function isConnectionError(err: unknown): boolean {
  // Drizzle wraps driver errors (DrizzleQueryError) and keeps the original as `cause`.
  const cause = (err as { cause?: unknown } | null)?.cause;
  if (cause && cause !== err && isConnectionError(cause)) return true;
  // pg reports a dropped or unusable connection without a code, by message only.
  const message = (err as { message?: unknown } | null)?.message;
  if (typeof message === 'string' && /Connection terminated|not queryable|timeout exceeded when trying to connect/i.test(message)) return true;
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code !== 'string') return false;
  // Node socket errors, and PostgreSQL SQLSTATE class 08 (connection exception) and 57P01-03 (shutdown).
  return ['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT'].includes(code) || code.startsWith('08') || /^57P0[123]$/.test(code);
}
