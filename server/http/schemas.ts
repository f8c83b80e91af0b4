/**
 * The error body every route answers with, as a zod schema (zod-only, like every `schemas.ts`: the page's type
 * check reads it). `code` is one of the catalogue's codes (server/http/error-codes.ts).
 */
import { z } from 'zod';
import { ERROR_CODES, type ErrorCode } from './error-codes';

/** Any code of the catalogue. */
export const errorCodeSchema = z.enum(Object.keys(ERROR_CODES) as [ErrorCode, ...ErrorCode[]]);

/** `{ error: { code, message }, requestId }`: the standard error body (some codes add fields beside `code`). */
export const errorResponseSchema = z.object({
  error: z.object({ code: errorCodeSchema, message: z.string() }),
  requestId: z.string().optional(),
});
