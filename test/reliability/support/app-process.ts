/**
 * The service as a real child process (`tsx server/main.ts`), for tests that kill it. tsx runs the app in a
 * grandchild process, so the child is started as the leader of its own process group and SIGKILL goes to the
 * whole group: killing only tsx would leave the app running, still holding its port and its data directory.
 * SIGTERM goes to tsx alone, which relays it once to the app (a second SIGTERM would skip the graceful shutdown).
 */
import { appCommand } from '../../support/app-command';
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { sleep } from './scale';

const ROOT = path.join(__dirname, '..', '..', '..');
const MAX_OUTPUT = 256 * 1024;

export interface AppExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface AppProcess {
  /** The tsx process id, also the process group id. */
  pid: number;
  port: number;
  /** `http://127.0.0.1:<port>` */
  url: string;
  /** Milliseconds from spawn to "listening". */
  startupMs: number;
  /** The last 256 KB of stdout and stderr. */
  output(): string;
  /** Resolves when the process has exited, however. */
  exited: Promise<AppExit>;
  /** SIGKILL to the process group; resolves once no process of the group is left. */
  kill(): Promise<AppExit>;
  /** SIGTERM (graceful shutdown); SIGKILL to the group if it has not exited after `graceMs`. */
  stop(graceMs?: number): Promise<AppExit>;
}

export interface StartOptions {
  /** Variables for the app on top of PATH/HOME/TMPDIR; nothing else is inherited (no stray DATABASE_URL). */
  env: Record<string, string>;
  /** How long to wait for "listening on …" (default 60 s: tsx compiles on a cold cache, PGlite may run initdb). */
  readyTimeoutMs?: number;
  /** Receives every complete line the app writes (stdout and stderr), e.g. to follow its JSON logs. */
  onLine?: (line: string) => void;
}

const live = new Set<ChildProcess>();

/** Starts the app and resolves when it logs the port it listens on; rejects (and kills it) otherwise. */
export async function startApp(options: StartOptions): Promise<AppProcess> {
  const started = Date.now();
  const inherited: Record<string, string> = {};
  for (const name of ['PATH', 'HOME', 'TMPDIR', 'LANG']) if (process.env[name]) inherited[name] = process.env[name]!;
  const child = spawn(appCommand().command, appCommand().args, {
    cwd: ROOT,
    env: { ...inherited, NODE_ENV: 'test', ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  live.add(child);
  let output = '';
  const partial = { stdout: '', stderr: '' };
  const append = (stream: 'stdout' | 'stderr') => (chunk: Buffer) => {
    const text = chunk.toString('utf8');
    output += text;
    if (output.length > MAX_OUTPUT) output = output.slice(-MAX_OUTPUT);
    if (!options.onLine) return;
    const lines = (partial[stream] + text).split('\n');
    partial[stream] = lines.pop()!;
    for (const line of lines) options.onLine(line);
  };
  child.stdout!.on('data', append('stdout'));
  child.stderr!.on('data', append('stderr'));
  const exited = new Promise<AppExit>((resolve) =>
    child.once('exit', (code, signal) => {
      live.delete(child);
      resolve({ code, signal });
    }),
  );
  const pid = child.pid!;
  const groupGone = async () => {
    for (let i = 0; i < 500; i++) {
      try {
        process.kill(-pid, 0);
      } catch {
        return;
      }
      await sleep(10);
    }
    throw new Error(`process group ${pid} still alive 5 s after SIGKILL`);
  };
  const kill = async (): Promise<AppExit> => {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // already gone
    }
    const exit = await exited;
    await groupGone();
    return exit;
  };

  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`the app did not start in ${options.readyTimeoutMs ?? 60_000} ms:\n${output.slice(-4000)}`));
    }, options.readyTimeoutMs ?? 60_000);
    const onData = () => {
      const match = /listening on http:\/\/localhost:(\d+)/.exec(output);
      if (match) {
        cleanup();
        resolve(Number(match[1]));
      }
    };
    const onExit = (code: number | null, signal: string | null) => {
      cleanup();
      reject(new Error(`the app exited (${code ?? signal}) before listening:\n${output.slice(-4000)}`));
    };
    const cleanup = () => {
      clearTimeout(timer);
      child.stdout!.off('data', onData);
      child.off('exit', onExit);
    };
    child.stdout!.on('data', onData);
    child.once('exit', onExit);
  }).catch(async (err) => {
    await kill();
    throw err;
  });

  return {
    pid,
    port,
    url: `http://127.0.0.1:${port}`,
    startupMs: Date.now() - started,
    output: () => output,
    exited,
    kill,
    stop: async (graceMs = 20_000) => {
      child.kill('SIGTERM');
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), graceMs)));
      const outcome = await Promise.race([exited, timeout]);
      clearTimeout(timer);
      if (outcome === 'timeout') {
        await kill();
        throw new Error(`the app did not exit within ${graceMs} ms of SIGTERM:\n${output.slice(-4000)}`);
      }
      await groupGone();
      return outcome;
    },
  };
}

/** SIGKILLs every app process group this module started that is still running (for afterAll). */
export async function killAllApps(): Promise<void> {
  for (const child of [...live]) {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      // gone
    }
  }
  await sleep(50);
}
