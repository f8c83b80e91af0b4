/**
 * Builds the settings page (ui/ → ui/dist, with Vite) when it is missing or older than its sources, so that
 * `npm install && npm start` on a fresh clone serves /app with no extra step. `npm run build` builds it too.
 *
 * Several processes may ask at once (jest workers, replicas sharing a checkout): a lock directory in the OS temp
 * folder, holding its owner's pid, lets one build while the others wait and then find it done; a lock whose owner
 * died (killed mid-build) is taken over at once. Vite writes into a temporary folder that replaces ui/dist once
 * complete, so a running server never serves half a build.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Logger } from 'pino';

/** The folder holding package.json: found by walking up, so it works from server/ui and from a compiled dist/. */
export function findProjectRoot(start = __dirname): string {
  for (let dir = start; ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'package.json')) && existsSync(path.join(dir, 'ui'))) return dir;
    if (path.dirname(dir) === dir) return path.resolve(__dirname, '../..');
  }
}

/** Where the page's sources and build live. */
export interface UiPaths {
  root: string;
  sourceDir: string;
  distDir: string;
}

/** The paths under a project root (default: this checkout). */
export function uiPaths(root = findProjectRoot()): UiPaths {
  return { root, sourceDir: path.join(root, 'ui'), distDir: path.join(root, 'ui', 'dist') };
}

/**
 * Why a build is needed: `missing` (no ui/dist/index.html), `stale` (a source or the Vite config is newer than it),
 * or null. Without sources (a deployment that ships only ui/dist) the build is never stale.
 */
export function uiBuildNeeded(paths: UiPaths): 'missing' | 'stale' | null {
  const index = path.join(paths.distDir, 'index.html');
  if (!existsSync(index)) return existsSync(path.join(paths.sourceDir, 'index.html')) ? 'missing' : null;
  const built = statSync(index).mtimeMs;
  const sources = [path.join(paths.root, 'vite.config.mts'), ...listFiles(paths.sourceDir, new Set([paths.distDir]))];
  return sources.some((file) => existsSync(file) && statSync(file).mtimeMs > built) ? 'stale' : null;
}

function listFiles(dir: string, skip: Set<string>): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (skip.has(full) || entry.name.startsWith('dist.') || entry.name === 'node_modules') return [];
    return entry.isDirectory() ? listFiles(full, skip) : [full];
  });
}

/** What `ensureUiBuilt` did. */
export interface UiBuildResult {
  built: boolean;
  reason: 'missing' | 'stale' | null;
  ms: number;
}

/**
 * Builds ui/dist if it is missing (or stale, unless `onlyIfMissing`).
 * @throws Error with Vite's exit code when the build fails (ui/dist is then left as it was).
 */
export async function ensureUiBuilt(options: { paths?: UiPaths; logger?: Pick<Logger, 'info'>; onlyIfMissing?: boolean } = {}): Promise<UiBuildResult> {
  const paths = options.paths ?? uiPaths();
  const started = Date.now();
  const needed = () => {
    const reason = uiBuildNeeded(paths);
    return reason === 'stale' && options.onlyIfMissing ? null : reason;
  };
  if (!needed()) return { built: false, reason: null, ms: 0 };
  return withBuildLock(paths.root, async () => {
    const reason = needed(); // another process may have built it while this one waited
    if (!reason) return { built: false, reason: null, ms: Date.now() - started };
    options.logger?.info({ reason }, 'building the settings page (ui/dist)');
    removeLeftovers(paths.sourceDir); // of builds killed midway; no other build runs while the lock is held
    const temporary = path.join(paths.sourceDir, `dist.${process.pid}.tmp`);
    try {
      await runVite(paths.root, temporary);
      rmSync(paths.distDir, { recursive: true, force: true });
      renameSync(temporary, paths.distDir);
    } finally {
      rmSync(temporary, { recursive: true, force: true });
    }
    return { built: true, reason, ms: Date.now() - started };
  });
}

function runVite(root: string, outDir: string): Promise<void> {
  const vite = path.join(path.dirname(require.resolve('vite/package.json', { paths: [root] })), 'bin', 'vite.js');
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [vite, 'build', '--outDir', outDir, '--emptyOutDir', '--logLevel', 'warn'], {
      cwd: root,
      // A production bundle whatever this process runs as (under jest NODE_ENV is "test", which would make Vite
      // bundle React's development build).
      env: { ...process.env, NODE_ENV: 'production' },
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`vite build exited with code ${code}`))));
  });
}

/** Longer than any build: a lock this old is abandoned even if its pid was reused by another process. */
const LOCK_STALE_MS = 5 * 60_000;

function removeLeftovers(sourceDir: string): void {
  for (const name of existsSync(sourceDir) ? readdirSync(sourceDir) : []) {
    if (/^dist\.\d+\.tmp$/.test(name)) rmSync(path.join(sourceDir, name), { recursive: true, force: true });
  }
}

/** True when the lock's owner is gone: its process no longer exists, or the lock is older than any build. */
function abandoned(lock: string): boolean {
  const held = statSync(lock, { throwIfNoEntry: false });
  if (!held) return false;
  if (Date.now() - held.mtimeMs > LOCK_STALE_MS) return true;
  let owner: number;
  try {
    owner = Number(readFileSync(path.join(lock, 'pid'), 'utf8'));
  } catch {
    return false; // just created; its owner is writing the pid
  }
  try {
    process.kill(owner, 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

async function withBuildLock<T>(root: string, fn: () => Promise<T>): Promise<T> {
  const lock = path.join(tmpdir(), `meterbridge-ui-build-${createHash('sha256').update(root).digest('hex').slice(0, 12)}`);
  for (;;) {
    try {
      mkdirSync(lock);
      writeFileSync(path.join(lock, 'pid'), String(process.pid));
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      if (abandoned(lock)) rmSync(lock, { recursive: true, force: true });
      else await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}
