/** The chart's time buckets, the server's way: UTC days, weeks starting on Monday, calendar months. */
import type { Granularity } from '../api';

const DAY = 86_400_000;
const iso = (ms: number) => new Date(ms).toISOString().slice(0, 10);

/** Every bucket's first day from the bucket holding `from` to the one holding `to`. */
export function bucketsFor(from: string, to: string, granularity: Granularity): string[] {
  let t = Date.parse(`${from}T00:00:00Z`);
  const end = Date.parse(`${to}T00:00:00Z`);
  if (granularity === 'week') t -= ((new Date(t).getUTCDay() + 6) % 7) * DAY;
  if (granularity === 'month') t = Date.UTC(new Date(t).getUTCFullYear(), new Date(t).getUTCMonth(), 1);
  const out: string[] = [];
  while (t <= end && out.length < 5000) {
    out.push(iso(t));
    if (granularity === 'month') {
      const d = new Date(t);
      t = Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
    } else {
      t += (granularity === 'week' ? 7 : 1) * DAY;
    }
  }
  return out;
}

/** A short axis label for a bucket: "Nov 3" (days, weeks) or "Nov 2026" (months). */
export function bucketLabel(bucket: string, granularity: Granularity): string {
  const date = new Date(`${bucket}T00:00:00Z`);
  return granularity === 'month'
    ? date.toLocaleDateString('en-US', { month: 'short', year: 'numeric', timeZone: 'UTC' })
    : date.toLocaleDateString('en-US', { month: 'short', day: 'numeric', timeZone: 'UTC' });
}
