/**
 * Where the app's database sessions spend their time, by sampling pg_stat_activity (PostgreSQL server only): each
 * sample counts every session of the benchmark database by what it is doing — running, waiting on a lock, on WAL
 * I/O, or idle inside a transaction waiting for the app's next statement ("ClientRead"). The shares say whether
 * intake is bound by PostgreSQL, by row locks, by the disk or by the round trips to the app.
 */
import { Client } from 'pg';

export interface WaitProfile {
  samples: number;
  /** Mean sessions per sample in each state ("active: CPU", "active: Lock/transactionid", "idle in transaction: ClientRead", ...). */
  meanSessions: Record<string, number>;
  /** The statements most often seen running or waiting (first 80 characters), share of active samples. */
  topStatements: Array<{ statement: string; share: number }>;
}

export async function sampleWaits(url: string, database: string, intervalMs = 20) {
  const client = new Client({ connectionString: url });
  await client.connect();
  const states = new Map<string, number>();
  const statements = new Map<string, number>();
  let samples = 0;
  let activeSeen = 0;
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      const { rows } = await client.query<{ state: string; wtype: string | null; wevent: string | null; query: string }>(
        `select state, wait_event_type as wtype, wait_event as wevent, left(regexp_replace(query, '\\s+', ' ', 'g'), 80) as query
         from pg_stat_activity where datname = $1 and pid <> pg_backend_pid() and backend_type = 'client backend'`,
        [database],
      );
      samples += 1;
      for (const r of rows) {
        if (r.state === 'idle') continue;
        const key = `${r.state}: ${r.wtype ? `${r.wtype}/${r.wevent}` : 'CPU'}`;
        states.set(key, (states.get(key) ?? 0) + 1);
        if (r.state === 'active') {
          activeSeen += 1;
          statements.set(r.query, (statements.get(r.query) ?? 0) + 1);
        }
      }
      await new Promise((resolve) => setTimeout(resolve, intervalMs));
    }
  })();
  return {
    async stop(): Promise<WaitProfile> {
      stopped = true;
      await loop.catch(() => undefined);
      await client.end();
      const round = (n: number) => Math.round(n * 100) / 100;
      return {
        samples,
        meanSessions: Object.fromEntries([...states].sort((a, b) => b[1] - a[1]).map(([k, v]) => [k, round(v / Math.max(1, samples))])),
        topStatements: [...statements]
          .sort((a, b) => b[1] - a[1])
          .slice(0, 8)
          .map(([statement, n]) => ({ statement, share: round(n / Math.max(1, activeSeen)) })),
      };
    },
  };
}
