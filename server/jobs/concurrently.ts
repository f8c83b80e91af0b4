/**
 * Bounded concurrency and pacing for jobs that call Stripe once per item (the meter reporter, the invoice-preview and
 * card refreshes): at most `limit` calls in flight, the next item starting as soon as one ends; and at most so many
 * started per second.
 */

/**
 * Runs `fn` over `items` with at most `limit` in flight. Written here because p-limit and p-map are ESM-only and
 * this is the whole of what is needed.
 * @throws the first error `fn` throws (the other workers still go on through the remaining items).
 */
export async function forEachConcurrently<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/**
 * Starts calls at most `perSecond` per second (evenly spaced, so no rolling second holds more), waiting as needed.
 * @returns a function to await before each call.
 */
export function pacer(perSecond: number): () => Promise<void> {
  const gapMs = 1000 / perSecond;
  let nextAt = 0;
  return async () => {
    const now = Date.now();
    const at = Math.max(now, nextAt);
    nextAt = at + gapMs;
    if (at > now) await new Promise((resolve) => setTimeout(resolve, at - now));
  };
}
