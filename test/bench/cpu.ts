/**
 * Where the machine's CPU went during a phase, from /proc (Linux; elsewhere every figure is null): each benchmark
 * process, every `postgres` process together, and the whole machine (so a noisy neighbour shows as "other").
 * Percent of one core: 200 % is both cores of a 2-core machine.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

let clockTicks: number | undefined;
function ticksPerSecond(): number {
  if (clockTicks === undefined) {
    try {
      clockTicks = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
    } catch {
      clockTicks = 100;
    }
  }
  return clockTicks;
}

/** utime + stime of a process in ticks, and its command name; null when it is gone. */
function processTicks(pid: number): { ticks: number; comm: string } | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const close = stat.lastIndexOf(')');
    const comm = stat.slice(stat.indexOf('(') + 1, close);
    const fields = stat.slice(close + 2).split(' ');
    // fields[0] is field 3 (state); utime is field 14, stime field 15.
    return { ticks: Number(fields[11]) + Number(fields[12]), comm };
  } catch {
    return null;
  }
}

/** Command line of a process (PostgreSQL shows the database of each backend there). */
function commandLine(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ').trim();
  } catch {
    return '';
  }
}

/**
 * Ticks of the PostgreSQL processes that work for the benchmark, by pid: the postmaster and its auxiliary
 * processes (WAL writer, checkpointer, ...) and the backends of the benchmark's databases — not the backends of
 * other databases on a shared server.
 */
function postgresTicks(databases: readonly string[]): Map<number, number> {
  const ticks = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    const p = processTicks(pid);
    if (!p || !p.comm.startsWith('postgres')) continue;
    const backend = commandLine(pid).match(/^postgres: [^:]+: \S+ (\S+) /);
    if (backend && !databases.includes(backend[1]!)) continue;
    ticks.set(pid, p.ticks);
  }
  return ticks;
}

/** Busy and total ticks of the whole machine. */
function machineTicks(): { busy: number; total: number } {
  const cpu = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const total = cpu.reduce((a, b) => a + b, 0);
  const idle = (cpu[3] ?? 0) + (cpu[4] ?? 0);
  return { busy: total - idle, total };
}

export type CpuShares = Record<string, number | null>;

/**
 * Starts measuring; `stop()` returns each named process's CPU as % of one core over the interval, plus
 * `postgres` (serving `databases`), `machine` (all cores busy) and `other` (machine minus everything named).
 */
export function measureCpu(pids: Record<string, number>, databases: readonly string[] = []) {
  const linux = process.platform === 'linux';
  const snap = () =>
    linux
      ? {
          at: performance.now(),
          procs: Object.fromEntries(Object.entries(pids).map(([name, pid]) => [name, processTicks(pid)?.ticks ?? 0])),
          postgres: postgresTicks(databases),
          machine: machineTicks(),
        }
      : null;
  const first = snap();
  return {
    stop(): CpuShares {
      const last = snap();
      if (!first || !last) return Object.fromEntries([...Object.keys(pids), 'postgres', 'machine', 'other'].map((k) => [k, null]));
      const seconds = (last.at - first.at) / 1000;
      const hz = ticksPerSecond();
      const pct = (ticks: number) => Math.round((ticks / hz / seconds) * 100);
      const shares: CpuShares = {};
      let named = 0;
      for (const name of Object.keys(pids)) {
        const t = last.procs[name]! - first.procs[name]!;
        named += t;
        shares[name] = pct(t);
      }
      // A backend that started during the interval counts from zero; one that ended is lost (never negative).
      let pg = 0;
      for (const [pid, t] of last.postgres) pg += t - (first.postgres.get(pid) ?? 0);
      named += pg;
      shares.postgres = pct(pg);
      const busy = last.machine.busy - first.machine.busy;
      shares.machine = pct(busy);
      shares.other = Math.max(0, pct(busy - named));
      return shares;
    },
  };
}
