/**
 * One wallet operation at a time per sub-account: every entry point that may charge, grant or refund (Top up now,
 * a check by the job or a crossing's nudge, a Checkout completion, an invoice event, a refund) runs under the
 * sub-account's advisory lock, so two of them never advance the same top-up or refund with different idempotency
 * keys (which Stripe would take as two requests). Internal steps never take it again: a nested lock would wait for
 * itself. Without a lock provider (unit use) the work simply runs.
 */
import { advisoryLockKey, type DatabaseHandle } from '../../models/database';

/** Runs `fn` holding the wallet lock of `locationId`, waiting for another holder (another request, job or replica). */
export type WalletLock = <T>(locationId: string, fn: () => Promise<T>) => Promise<T>;

/** The wallet lock over the database's advisory locks (PostgreSQL session locks; PGlite: an in-process mutex). */
export function walletLock(locks?: Pick<DatabaseHandle, 'withAdvisoryLock'>): WalletLock {
  return (locationId, fn) => (locks ? locks.withAdvisoryLock(advisoryLockKey(`wallet:${locationId}`), fn) : fn());
}
