/**
 * What a database error means for the caller: the database could not be reached (retry later, answer 503), or the
 * transaction lost a race (run it again), as opposed to "this query or this row is wrong".
 */

/**
 * Errors that mean "the database could not be reached", not "the query was wrong": Node socket errors, PostgreSQL
 * SQLSTATE class 08 (connection exception) and 57P01–03 (shutdown), and pg's code-less "Connection terminated".
 * Drizzle wraps driver errors (DrizzleQueryError) and keeps the original as `cause`, which is looked at too.
 */
export function isConnectionError(err: unknown): boolean {
  const cause = (err as { cause?: unknown } | null)?.cause;
  if (cause && cause !== err && isConnectionError(cause)) return true;
  const message = (err as { message?: unknown } | null)?.message;
  if (typeof message === 'string' && /Connection terminated|not queryable|timeout exceeded when trying to connect/i.test(message)) return true;
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code !== 'string') return false;
  return ['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT'].includes(code) || code.startsWith('08') || /^57P0[123]$/.test(code);
}

/** Deadlock (40P01) or serialization failure (40001): the transaction rolled back and may simply be run again. */
export function isTransient(err: unknown): boolean {
  for (let e: unknown = err; e; e = (e as { cause?: unknown }).cause) {
    const code = (e as { code?: unknown }).code;
    if (code === '40P01' || code === '40001') return true;
    if ((e as { cause?: unknown }).cause === e) break;
  }
  return false;
}
