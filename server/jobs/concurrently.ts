/**
 * Bounded concurrency for jobs that call Stripe once per item (the meter reporter, the invoice-preview refresh): at
 * most `limit` calls in flight, the next item starting as soon as one ends.
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
