import type { ErrorRequestHandler, RequestHandler } from 'express';
import type { Logger } from 'pino';
import { AppError } from './errors';
import { isConnectionError } from '../../models/database-errors';

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
