/**
 * The database connection: embedded PGlite (a data directory, or in memory) or a PostgreSQL server through a
 * `pg` pool. Both are migrated at open with the SQL in `models/migrations`, and both are used through the same
 * Drizzle type, so nothing above this file knows which one it has.
 */
import path from 'node:path';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import { sql, type SQL } from 'drizzle-orm';
import type { PgDatabase, PgQueryResultHKT, PgTransaction } from 'drizzle-orm/pg-core';
import type { ExtractTablesWithRelations } from 'drizzle-orm';
import * as schema from './schema';

/** Where the generated SQL migrations live (committed; applied at boot). */
export const MIGRATIONS_FOLDER = path.join(__dirname, 'migrations');

type Schema = typeof schema;
/** A Drizzle database over either driver. */
export type Database = PgDatabase<PgQueryResultHKT, Schema>;
/** An open transaction; repositories take `Executor` so a use case can compose them in one transaction. */
export type Transaction = PgTransaction<PgQueryResultHKT, Schema, ExtractTablesWithRelations<Schema>>;
/** Anything a query can run on: the database itself or a transaction. */
export type Executor = Database | Transaction;

/** An open, migrated database. `close()` releases the pool or the PGlite instance; it is safe to call twice. */
export interface DatabaseHandle {
  db: Database;
  driver: 'pglite' | 'pg';
  /** Resolves when a trivial query succeeds; rejects with the driver's error otherwise. */
  ping(): Promise<void>;
  /** True when every migration in MIGRATIONS_FOLDER has been applied. */
  migrationsApplied(): Promise<boolean>;
  /**
   * Runs `fn` while holding the session advisory lock `key` on a dedicated connection, or returns
   * `{ acquired: false }` at once when another session holds it. On PGlite (one process, one connection) the lock
   * is always granted; callers still guard against overlapping runs in-process.
   */
  tryWithAdvisoryLock<T>(key: number, fn: () => Promise<T>): Promise<{ acquired: true; value: T } | { acquired: false }>;
  /**
   * Runs `fn` while holding the session advisory lock `key`, waiting for it if another session (another replica)
   * holds it. No transaction stays open while `fn` runs, so `fn` may call out over the network.
   */
  withAdvisoryLock<T>(key: number, fn: () => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/** How to reach the database: a server URL, or an embedded data directory (`memory://` keeps it in memory). */
export type DatabaseTarget = { url: string } | { dataDir: string };

/** A 32-bit advisory lock key for a name, stable across processes and releases (pg advisory locks take an int). */
export function advisoryLockKey(name: string): number {
  return createHash('sha256').update(`meterbridge:${name}`).digest().readInt32BE(0);
}

/** Size of the `pg` pool per process; PostgreSQL's default 100 connections allow a few replicas. */
const POOL_SIZE = 10;
/** How long a new connection may take to be ready (milliseconds); past it the request is answered 503. */
const CONNECT_TIMEOUT_MS = 5_000;

/**
 * Makes a `pg` Pool's checked-out clients unable to leak when their connection drops.
 *
 * Why not plain pg: drizzle-orm 0.45 sends `BEGIN` outside its try/finally (node-postgres/session.cjs,
 * `transaction()`), so a connection that dies before or during `BEGIN` is never released and the pool shrinks
 * by one client each time until every request waits forever (drizzle-team/drizzle-orm#6241, #6023, #6114).
 * Here a checked-out client is handed back — and, with an error, removed — the moment its connection ends, and
 * a second `release()` (drizzle's `finally` after that) is a no-op instead of pg-pool's "release called twice"
 * error. Only the promise form of `connect()` (drizzle's, and ours) is guarded; pg-pool's own callback form
 * (`pool.query`) already releases on error.
 */
function guardCheckouts(pool: import('pg').Pool): void {
  const connect = pool.connect.bind(pool) as (callback?: (...args: never[]) => void) => Promise<import('pg').PoolClient> | void;
  const guarded = (callback?: (...args: never[]) => void) => {
    if (callback) return connect(callback);
    return (connect() as Promise<import('pg').PoolClient>).then((client) => {
      const release = client.release.bind(client);
      let released = false;
      const releaseOnce = (err?: Error | boolean) => {
        if (released) return;
        released = true;
        client.removeListener('end', onEnd);
        release(err);
      };
      const onEnd = () => releaseOnce(new Error('Connection ended while checked out'));
      client.once('end', onEnd);
      client.release = releaseOnce;
      return client;
    });
  };
  pool.connect = guarded as import('pg').Pool['connect'];
}

/**
 * Opens and migrates the database.
 * @throws the driver's error when the server is unreachable or a migration fails.
 */
export async function openDatabase(target: DatabaseTarget): Promise<DatabaseHandle> {
  const handle = 'url' in target ? await openServer(target.url) : await openEmbedded(target.dataDir);
  const journal = JSON.parse(readFileSync(path.join(MIGRATIONS_FOLDER, 'meta/_journal.json'), 'utf8')) as { entries: unknown[] };
  const migrationsApplied = async () => {
    const rows = await selectRows<{ n: number }>(handle.db, sql`select count(*)::int as n from drizzle.__drizzle_migrations`);
    return (rows[0]?.n ?? 0) >= journal.entries.length;
  };
  return { ...handle, migrationsApplied };
}

/**
 * Runs raw SQL and returns its rows: both drivers answer `execute` with an object carrying `rows`.
 * @throws the driver's error.
 */
export async function selectRows<T>(db: Executor, query: SQL): Promise<T[]> {
  const result = (await db.execute(query)) as unknown as { rows: T[] };
  return result.rows;
}

async function openServer(url: string): Promise<Omit<DatabaseHandle, 'migrationsApplied'>> {
  const { Pool } = await import('pg');
  const { drizzle } = await import('drizzle-orm/node-postgres');
  const { migrate } = await import('drizzle-orm/node-postgres/migrator');
  // connectionTimeoutMillis: a database that accepts but never answers must not hold requests forever.
  const pool = new Pool({ connectionString: url, max: POOL_SIZE, connectionTimeoutMillis: CONNECT_TIMEOUT_MS });
  guardCheckouts(pool);
  // A checked-out client whose socket drops emits 'error' too; unheard, that would crash the process. The query in
  // flight fails on its own and the request answers 503 (server/http/error-middleware.ts).
  pool.on('connect', (client) => client.on('error', () => undefined));
  // An idle client that loses its connection emits 'error'; without a listener that would crash the process.
  pool.on('error', () => undefined);
  const db = drizzle(pool, { schema });
  await migrateOnce(pool, () => migrate(db, { migrationsFolder: MIGRATIONS_FOLDER }));
  let closed = false;
  return {
    db: db as unknown as Database,
    driver: 'pg',
    ping: async () => void (await pool.query('select 1')),
    withAdvisoryLock: async (key, fn) => {
      const client = await pool.connect();
      try {
        await client.query('select pg_advisory_lock($1)', [key]);
        try {
          return await fn();
        } finally {
          await client.query('select pg_advisory_unlock($1)', [key]);
        }
      } finally {
        client.release();
      }
    },
    tryWithAdvisoryLock: async (key, fn) => {
      const client = await pool.connect();
      try {
        const { rows } = await client.query<{ locked: boolean }>('select pg_try_advisory_lock($1) as locked', [key]);
        if (!rows[0]?.locked) return { acquired: false };
        try {
          return { acquired: true, value: await fn() };
        } finally {
          await client.query('select pg_advisory_unlock($1)', [key]);
        }
      } finally {
        client.release();
      }
    },
    close: async () => {
      if (closed) return;
      closed = true;
      await pool.end();
    },
  };
}

async function openEmbedded(dataDir: string): Promise<Omit<DatabaseHandle, 'migrationsApplied'>> {
  const { PGlite } = await import('@electric-sql/pglite');
  const { drizzle } = await import('drizzle-orm/pglite');
  const { migrate } = await import('drizzle-orm/pglite/migrator');
  if (!dataDir.startsWith('memory://')) mkdirSync(dataDir, { recursive: true });
  // 16 MB of shared buffers instead of PostgreSQL's 128 MB default: the embedded database holds one agency's data,
  // and its WebAssembly memory counts in the app's RSS (npm run bench: memory).
  const client = await PGlite.create(dataDir, { postgresqlconf: ['shared_buffers = 16MB'] });
  // One process owns an embedded database, so an in-process lock per key is the whole of an advisory lock here.
  const locks = keyedMutex();
  const db = drizzle(client, { schema });
  await migrate(db, { migrationsFolder: MIGRATIONS_FOLDER });
  return {
    db: db as unknown as Database,
    driver: 'pglite',
    ping: async () => void (await client.query('select 1')),
    tryWithAdvisoryLock: async (_key, fn) => ({ acquired: true, value: await fn() }),
    withAdvisoryLock: (key, fn) => locks.run(key, fn),
    close: async () => {
      if (!client.closed) await client.close();
    },
  };
}

/**
 * Replicas booting together on one server would race to apply the same migration; a session advisory lock,
 * held on one dedicated connection, makes the second wait and then find nothing to do.
 */
async function migrateOnce(pool: import('pg').Pool, run: () => Promise<void>): Promise<void> {
  const MIGRATION_LOCK = 4_242_001;
  const client = await pool.connect();
  try {
    await client.query('select pg_advisory_lock($1)', [MIGRATION_LOCK]);
    await run();
  } finally {
    await client.query('select pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch(() => undefined);
    client.release();
  }
}

/** Serialises async work per key within this process. */
function keyedMutex() {
  const tails = new Map<number, Promise<unknown>>();
  return {
    run<T>(key: number, fn: () => Promise<T>): Promise<T> {
      const previous = tails.get(key) ?? Promise.resolve();
      const result = previous.then(fn, fn);
      const tail = result.catch(() => undefined);
      tails.set(key, tail);
      void tail.then(() => {
        if (tails.get(key) === tail) tails.delete(key);
      });
      return result;
    },
  };
}
