/**
 * Exact non-negative decimal quantities with at most 6 fractional digits (the scale of `usage_records.quantity`),
 * carried as strings and summed as integers of millionths (BigInt), so no float ever touches a total.
 */

/** Fractional digits kept: numeric(24, 6). */
export const QUANTITY_SCALE = 6;
const MICROS = 10n ** BigInt(QUANTITY_SCALE);
/** Up to 18 integer digits (numeric(24, 6)) and up to 6 decimals. */
const DECIMAL = /^(\d{1,18})(?:\.(\d{1,6}))?$/;

/** Why a quantity was refused, in words a client can act on. */
export type QuantityProblem = string;

/**
 * Reads a quantity given as a decimal string (`"12.5"`) or a JSON number (`12.5`).
 * A number must be a plain finite non-negative decimal that JSON carried exactly: above 2^53 − 1, or written with
 * an exponent (`1e-7`), it is refused and the client is asked for a string.
 * @returns the canonical decimal string (no leading zeros, no trailing fractional zeros: `"007.500"` → `"7.5"`),
 *   or the problem.
 */
export function canonicalQuantity(value: unknown): { ok: true; quantity: string } | { ok: false; problem: QuantityProblem } {
  let text: string;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) return { ok: false, problem: 'must be a finite number' };
    if (value < 0) return { ok: false, problem: 'must not be negative' };
    if (value > Number.MAX_SAFE_INTEGER) return { ok: false, problem: 'is too large to travel exactly as a JSON number; send it as a decimal string' };
    text = String(value);
  } else if (typeof value === 'string') {
    text = value.trim();
  } else {
    return { ok: false, problem: 'must be a decimal string or a number' };
  }
  if (text.startsWith('-')) return { ok: false, problem: 'must not be negative' };
  const match = DECIMAL.exec(text);
  if (!match) return { ok: false, problem: 'must be a decimal with at most 18 digits before the point and 6 after (e.g. "12.5")' };
  return { ok: true, quantity: formatMicros(toMicros(match[1]!, match[2] ?? '')) };
}

/**
 * Sums canonical decimal strings exactly.
 * @throws Error when an operand is not a decimal of this scale (a programming error: callers pass canonical strings).
 */
export function sumQuantities(quantities: readonly string[]): string {
  let total = 0n;
  for (const q of quantities) {
    const match = DECIMAL.exec(q);
    if (!match) throw new Error(`not a decimal quantity: ${q}`);
    total += toMicros(match[1]!, match[2] ?? '');
  }
  return formatMicros(total);
}

function toMicros(whole: string, fraction: string): bigint {
  return BigInt(whole) * MICROS + BigInt(fraction.padEnd(QUANTITY_SCALE, '0'));
}

function formatMicros(micros: bigint): string {
  const whole = micros / MICROS;
  const fraction = (micros % MICROS).toString().padStart(QUANTITY_SCALE, '0').replace(/0+$/, '');
  return fraction ? `${whole}.${fraction}` : whole.toString();
}
