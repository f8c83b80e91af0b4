/**
 * Waits until `done()` holds, polling every 5 ms, for positive checks that must not race the clock on a busy
 * machine (timers run late there).
 * @param timeoutMs how long to wait, milliseconds.
 * @throws Error when `done()` still fails after `timeoutMs`.
 */
export async function until(done: () => boolean, timeoutMs = 10_000): Promise<void> {
  for (const started = Date.now(); !done(); await new Promise((resolve) => setTimeout(resolve, 5))) {
    if (Date.now() - started > timeoutMs) throw new Error(`condition not reached in ${timeoutMs} ms`);
  }
}
