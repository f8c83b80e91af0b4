/**
 * The benchmark's processes talk over Node's IPC channel: the orchestrator forks each server (app, bare Express,
 * Stripe stub) as its own Node process under tsx, so the load generator never shares their event loop, and asks
 * them for what only they can see (RSS, the database, the stub's arrival times) with request/answer messages.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import path from 'node:path';

/** The first message a child sends: where it listens. */
export interface ReadyMessage {
  type: 'ready';
  port: number;
  pid: number;
  [key: string]: unknown;
}

type Handler = (args: any) => unknown | Promise<unknown>;

/** A forked child: its pid, its ready message, a request/answer call, and a graceful stop. */
export interface Child {
  name: string;
  pid: number;
  ready: ReadyMessage;
  call<T = unknown>(cmd: string, args?: unknown): Promise<T>;
  /** Asks the child to close itself, then waits for it to exit (SIGKILL after `graceMs`). */
  stop(graceMs?: number): Promise<void>;
  process: ChildProcess;
}

/**
 * Forks `file` (a .ts entry) as `node --import tsx --expose-gc [execArgv] file` with `env`; its stdout and stderr
 * go to `logFile`. Resolves once the child sends its ready message.
 * @throws when the child exits or errs before it is ready, or is not ready within `timeoutMs`.
 */
export async function forkChild(
  name: string,
  file: string,
  env: NodeJS.ProcessEnv,
  logFile: string,
  options: { execArgv?: string[]; timeoutMs?: number } = {},
): Promise<Child> {
  const timeoutMs = options.timeoutMs ?? 60_000;
  const log = createWriteStream(logFile, { flags: 'a' });
  const child = fork(path.resolve(file), [], {
    execArgv: ['--import', 'tsx', '--expose-gc', ...(options.execArgv ?? [])],
    env,
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  child.stdout!.pipe(log);
  child.stderr!.pipe(log);
  let nextId = 1;
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  let exited = false;
  const exit = new Promise<void>((resolve) => child.once('exit', () => ((exited = true), resolve())));
  child.once('exit', (code, signal) => {
    for (const p of pending.values()) p.reject(new Error(`${name} exited (${code ?? signal}) before answering; see ${logFile}`));
    pending.clear();
  });
  child.on('message', (msg: any) => {
    if (msg?.type !== 'answer') return;
    const p = pending.get(msg.id);
    if (!p) return;
    pending.delete(msg.id);
    if (msg.ok) p.resolve(msg.result);
    else p.reject(new Error(`${name}: ${msg.error}`));
  });
  const ready = await new Promise<ReadyMessage>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} not ready after ${timeoutMs} ms; see ${logFile}`)), timeoutMs);
    child.on('message', (msg: any) => {
      if (msg?.type === 'ready') {
        clearTimeout(timer);
        resolve(msg as ReadyMessage);
      } else if (msg?.type === 'failed') {
        clearTimeout(timer);
        reject(new Error(`${name} failed to start: ${msg.error}`));
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited with ${code} before it was ready; see ${logFile}`));
    });
  });
  const call = <T>(cmd: string, args?: unknown) =>
    new Promise<T>((resolve, reject) => {
      if (exited) return reject(new Error(`${name} has exited`));
      const id = nextId++;
      pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      child.send({ type: 'call', id, cmd, args });
    });
  return {
    name,
    pid: child.pid!,
    ready,
    call,
    process: child,
    async stop(graceMs = 15_000) {
      if (exited) return;
      await call('close').catch(() => undefined);
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exit;
      clearTimeout(timer);
      log.end();
    },
  };
}

/**
 * Child side: answers the orchestrator's calls with `handlers`; `close` is expected among them and should end
 * the process once it has answered.
 */
export function serveCalls(handlers: Record<string, Handler>): void {
  process.on('message', async (msg: any) => {
    if (msg?.type !== 'call') return;
    const handler = handlers[msg.cmd];
    try {
      if (!handler) throw new Error(`unknown command ${msg.cmd}`);
      const result = await handler(msg.args);
      process.send!({ type: 'answer', id: msg.id, ok: true, result });
    } catch (err) {
      process.send!({ type: 'answer', id: msg.id, ok: false, error: (err as Error).stack ?? String(err) });
    }
  });
  // The orchestrator going away (crash, Ctrl-C) must not leave a server behind.
  process.on('disconnect', () => process.exit(0));
}

/** Memory figures a child reports, in bytes. */
export interface MemoryFigures {
  rss: number;
  heapUsed: number;
  heapTotal: number;
  /** Memory outside the JS heap: buffers and WebAssembly memories (PGlite's whole database engine lives there). */
  external: number;
  arrayBuffers: number;
}

export function memoryFigures(): MemoryFigures {
  const m = process.memoryUsage();
  return { rss: m.rss, heapUsed: m.heapUsed, heapTotal: m.heapTotal, external: m.external, arrayBuffers: m.arrayBuffers };
}

/**
 * Samples this process's RSS every `intervalMs` between `start()` and `stop()`, keeping the peak, so a short spike
 * between two orchestrator calls is not missed.
 */
export function rssSampler(intervalMs = 100) {
  let timer: NodeJS.Timeout | undefined;
  let peak = 0;
  /** The JS heap's committed size when RSS peaked: how much of the peak is heap not yet collected. */
  let heapAtPeak = 0;
  let samples: Array<[number, number]> = [];
  const sample = () => {
    const m = process.memoryUsage();
    if (m.rss > peak) [peak, heapAtPeak] = [m.rss, m.heapTotal];
    samples.push([Date.now(), m.rss]);
  };
  return {
    start() {
      peak = heapAtPeak = 0;
      samples = [];
      sample();
      timer = setInterval(sample, intervalMs);
    },
    stop() {
      if (timer) clearInterval(timer);
      sample();
      // One sample per second is plenty for the JSON.
      const perSecond = samples.filter((_, i) => i % Math.max(1, Math.round(1000 / intervalMs)) === 0);
      return { peakRss: peak, heapTotalAtPeak: heapAtPeak, samples: perSecond };
    },
  };
}

/** Runs a full garbage collection when the process was started with --expose-gc. */
export function collectGarbage(): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc) {
    gc();
    gc();
  }
}
