/** Display helpers: metric names, quantities, money (cents as decimal strings) and dates. */

import { isBuiltIn, metricLabel as builtInLabelOrKey } from '../../server/metric-labels';

/** The agency's custom metrics' labels by key (the agency view loads them: setCustomMetricLabels). */
const customLabels = new Map<string, string>();

/** Remembers the agency's custom metrics' labels, so every screen names them as the agency does. */
export function setCustomMetricLabels(metrics: ReadonlyArray<{ key: string; label: string }>): void {
  customLabels.clear();
  for (const m of metrics) customLabels.set(m.key, m.label);
}

/**
 * "SMS messages" for `sms` (the server's labels, server/metric-labels.ts); a custom metric's label as the agency
 * defined it, or its key while the labels are not loaded (or for a sub-account user, who cannot list them).
 */
export const metricLabel = (metric: string): string => (isBuiltIn(metric) ? builtInLabelOrKey(metric) : (customLabels.get(metric) ?? metric));

const numberFormat = new Intl.NumberFormat('en-US', { maximumFractionDigits: 6 });

/** A decimal string or number for reading: thousands separators, no trailing zeros. */
export const formatNumber = (value: string | number): string => numberFormat.format(Number(value));

/**
 * Money from cents (a decimal string or number), e.g. "2" cents → "$0.02", "0.79" → "$0.0079".
 * Sub-cent prices keep their digits (a per-message price is often a fraction of a cent).
 */
export function formatCents(cents: string | number | null | undefined, currency = 'usd'): string {
  if (cents === null || cents === undefined || cents === '') return '—';
  const major = Number(cents) / 100;
  try {
    return new Intl.NumberFormat('en-US', { style: 'currency', currency: currency.toUpperCase(), minimumFractionDigits: 2, maximumFractionDigits: 6 }).format(major);
  } catch {
    return `${major} ${currency.toUpperCase()}`;
  }
}

/** A price typed in major units ("0.02") as cents ("2"), by moving the decimal point: no float involved. Null if not a number. */
export function majorToCents(input: string): string | null {
  const text = input.trim();
  if (!/^\d+(\.\d+)?$/.test(text)) return null;
  const [whole = '0', fraction = ''] = text.split('.');
  const padded = fraction.padEnd(2, '0');
  const cents = `${whole}${padded.slice(0, 2)}`.replace(/^0+(?=\d)/, '');
  const rest = padded.slice(2).replace(/0+$/, '');
  return rest ? `${cents}.${rest}` : cents;
}

/** Cents ("2", "0.79") as a major-unit string for an input ("0.02", "0.0079"). */
export function centsToMajor(cents: string | null | undefined): string {
  if (!cents) return '';
  const [whole = '0', fraction = ''] = cents.split('.');
  const padded = whole.padStart(3, '0');
  const major = `${padded.slice(0, -2).replace(/^0+(?=\d)/, '')}.${padded.slice(-2)}${fraction}`;
  return major.replace(/\.?0+$/, '') || '0';
}

/** "Nov 21, 2026" for an ISO date or instant (UTC). */
export const formatDay = (iso: string): string =>
  new Date(iso.length === 10 ? `${iso}T00:00:00Z` : iso).toLocaleDateString('en-US', { year: 'numeric', month: 'short', day: 'numeric', timeZone: 'UTC' });

/** "Nov 21, 2026, 14:03 UTC". */
export const formatInstant = (iso: string): string =>
  `${new Date(iso).toLocaleString('en-US', { year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', hour12: false, timeZone: 'UTC' })} UTC`;

/** Today's date, YYYY-MM-DD (UTC, as the server counts days). */
export const today = (): string => new Date().toISOString().slice(0, 10);

/** The day `days` after `day` (negative for before). */
export const addDays = (day: string, days: number): string => new Date(Date.parse(`${day}T00:00:00Z`) + days * 86_400_000).toISOString().slice(0, 10);
