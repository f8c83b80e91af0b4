/**
 * A fresh database per benchmark: a new database on the PostgreSQL server the environment names (dropped after),
 * or, with none, a fresh PGlite data directory on disk (removed after), which is what `npm start` uses.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';

/** Where the benchmark looks for a PostgreSQL server, in order. */
export const SERVER_URL_VARIABLES = ['BENCH_DATABASE_URL', 'TEST_DATABASE_URL', 'DATABASE_URL'] as const;

/** The server the benchmark uses, if any, and the variable that named it. */
export function serverUrl(): { url: string; variable: string } | undefined {
  for (const variable of SERVER_URL_VARIABLES) {
    const url = process.env[variable];
    if (url) return { url, variable };
  }
  return undefined;
}

export interface BenchDatabase {
  /** Environment for the app process: DATABASE_URL, or DATA_DIR for PGlite. */
  env: Record<string, string>;
  label: string;
  drop(): Promise<void>;
}

export async function createBenchDatabase(adminUrl: string | undefined): Promise<BenchDatabase> {
  if (!adminUrl) {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'meterbridge-bench-'));
    return { env: { DATA_DIR: dir }, label: `PGlite in ${dir}`, drop: async () => rmSync(dir, { recursive: true, force: true }) };
  }
  const name = `meterbridge_bench_${randomBytes(6).toString('hex')}`;
  await adminQuery(adminUrl, `create database ${name}`);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    env: { DATABASE_URL: url.toString() },
    label: name,
    drop: () => adminQuery(adminUrl, `drop database if exists ${name} with (force)`).then(() => undefined),
  };
}

/** The server's version and the settings that decide whether a commit is durable when it returns. */
export async function serverFacts(adminUrl: string): Promise<Record<string, string>> {
  const rows = (await adminQuery(
    adminUrl,
    `select name, setting from pg_settings
     where name in ('server_version', 'fsync', 'synchronous_commit', 'autovacuum', 'max_connections', 'shared_buffers', 'wal_sync_method', 'commit_delay')`,
  )) as Array<{ name: string; setting: string }>;
  return Object.fromEntries(rows.map((r) => [r.name, r.setting]));
}

async function adminQuery(url: string, text: string): Promise<unknown[]> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(text)).rows;
  } finally {
    await client.end();
  }
}
