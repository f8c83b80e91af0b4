import type { ErrorRequestHandler, RequestHandler, Response } from 'express';
import type { Logger } from 'pino';
import { type ErrorCode, statusOf } from './error-codes';
import { AppError } from './errors';
import { isConnectionError } from '../../models/database-errors';

/** Body-parser errors carry `type` and `status`; these are the ones a client caused. */
const PARSER_ERRORS: Record<string, { code: ErrorCode; message: string }> = {
  'entity.too.large': { code: 'payload_too_large', message: 'The request body is larger than allowed.' },
  'entity.parse.failed': { code: 'invalid_json', message: 'The request body is not valid JSON.' },
  'encoding.unsupported': { code: 'unsupported_encoding', message: 'The request body encoding is not supported.' },
  'request.aborted': { code: 'request_aborted', message: 'The request was aborted by the client.' },
};

/**
 * Sends the standard error body `{ error: { code, message, ...details }, requestId }` with the status the catalogue
 * (server/http/error-codes.ts) gives `code`: the one place an error's status is chosen.
 */
export function sendError(res: Response, code: ErrorCode, message: string, requestId: unknown, details?: Record<string, unknown>): void {
  res.status(statusOf(code)).json({ error: { ...details, code, message }, requestId });
}

/** Answers unmatched routes with a JSON 404 in the standard error shape. */
export const notFoundHandler: RequestHandler = (req, res) => {
  sendError(res, 'not_found', `No route for ${req.method} ${req.path}.`, req.id);
};

/**
 * The one error middleware: maps `AppError` and body-parser errors to their code's status in the catalogue; logs and hides the rest
 * behind a 500 (or a 503 when the database is unreachable, so webhook senders retry).
 */
export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (err, req, res, _next) => {
    const requestId = req.id;
    if (err instanceof AppError) {
      sendError(res, err.code, err.message, requestId, err.details);
      return;
    }
    const parser = typeof err?.type === 'string' ? PARSER_ERRORS[err.type] : undefined;
    if (parser) {
      sendError(res, parser.code, parser.message, requestId);
      return;
    }
    if (isConnectionError(err)) {
      logger.error({ err, requestId }, 'database unavailable');
      sendError(res, 'unavailable', 'The service is temporarily unavailable; retry later.', requestId);
      return;
    }
    logger.error({ err, requestId }, 'unhandled error');
    sendError(res, 'internal', 'Something went wrong on our side.', requestId);
  };
}
