/**
 * Months as the money figures count them: UTC calendar months, named `YYYY-MM`. A month runs from its first day
 * 00:00:00 UTC (included) to the next month's first day (excluded).
 */

/** `YYYY-MM` of an instant, in UTC. */
export const monthOf = (date: Date): string => date.toISOString().slice(0, 7);

/** `YYYY-MM` of Unix seconds (Stripe's timestamps), in UTC. */
export const monthOfSeconds = (seconds: number): string => monthOf(new Date(seconds * 1000));

/** The instants bounding a month: [first day 00:00 UTC, next month's first day 00:00 UTC). */
export function monthBounds(month: string): { start: Date; end: Date } {
  const [year, m] = month.split('-').map(Number) as [number, number];
  return { start: new Date(Date.UTC(year, m - 1, 1)), end: new Date(Date.UTC(year, m, 1)) };
}

/** The `count` months ending with the one holding `now`, oldest first. */
export function lastMonths(count: number, now = new Date()): string[] {
  const months: string[] = [];
  for (let back = count - 1; back >= 0; back--) months.push(monthOf(new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - back, 1))));
  return months;
}

/** The rule, in words, for API answers and the CSV: what a month holds. */
export const MONTH_RULE =
  'Months are UTC calendar months. HighLevel cost counts usage that occurred in the month; billed counts Stripe invoices ' +
  '(draft, open, paid, uncollectible; void left out) and the upcoming invoice by the month their billing period starts ' +
  '(Stripe’s period_start), excluding tax.';
