/**
 * The command line `npm start` runs the service with, for tests that start it as a process of its own:
 * `node --import tsx server/main.ts` — one process, so a signal reaches the service itself.
 *
 * Not `tsx server/main.ts`: tsx's CLI is a parent process that relays SIGTERM to the real one and, when the child does
 * not confirm over IPC within 30 ms (twice), SIGKILLs it and exits 143 — on a loaded machine that cut a graceful
 * shutdown short (tsx 4, dist/cli.mjs `relaySignalToChild`).
 *
 * @returns the executable (this Node) and its arguments, relative to the project's root (spawn with `cwd` there).
 */
export function appCommand(): { command: string; args: string[] } {
  return { command: process.execPath, args: ['--import', 'tsx', 'server/main.ts'] };
}
