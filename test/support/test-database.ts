/**
 * A fresh, migrated database for one test file: a new database on the PostgreSQL server named by
 * TEST_DATABASE_URL (dropped on close), or an in-memory PGlite when no server is given.
 */
import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { openDatabase, type DatabaseHandle } from '../../models/database';

/** The server URL for a new database `name` on the TEST_DATABASE_URL server. */
function withDatabase(url: string, name: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${name}`;
  return parsed.toString();
}

/** True when tests run against a PostgreSQL server rather than PGlite. */
export const usingServer = Boolean(process.env.TEST_DATABASE_URL);

/** A database handle plus, on a server, its URL (for tests that start more processes on it). */
export interface TestDatabase extends DatabaseHandle {
  url?: string;
}

/** Opens a fresh database; `close()` drops it again on a server. */
export async function openTestDatabase(): Promise<TestDatabase> {
  const adminUrl = process.env.TEST_DATABASE_URL;
  if (!adminUrl) return openDatabase({ dataDir: 'memory://' });
  const name = `meterbridge_test_${randomBytes(6).toString('hex')}`;
  await adminQuery(adminUrl, `create database ${name}`);
  const url = withDatabase(adminUrl, name);
  const handle = await openDatabase({ url });
  return {
    ...handle,
    url,
    close: async () => {
      await handle.close();
      await adminQuery(adminUrl, `drop database if exists ${name} with (force)`);
    },
  };
}

/** Runs one statement on the server at `url` on a connection of its own (create or drop a database). */
export async function adminQuery(url: string, text: string): Promise<void> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(text);
  } finally {
    await client.end();
  }
}
