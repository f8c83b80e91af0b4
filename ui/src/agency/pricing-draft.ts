/**
 * The pricing grid's rows as the agency edits them (major-unit strings as typed), and the arithmetic shown beside
 * them: the price per item (price per unit ÷ N), HighLevel's base cost per item, the margin per item, margin % and
 * markup × — all on the same per-item basis. A metric without a saved base cost starts from HighLevel's list price
 * (server/billing-setup/highlevel-list-prices.ts), marked as such. Money as decimal.js Decimals in cents, never floats.
 */
import Decimal from 'decimal.js';
import { HIGHLEVEL_LIST_PRICES, type HighLevelListPrice } from '../../../server/billing-setup/highlevel-list-prices';
import type { MetricPricingInput, PricingRow } from '../api';
import { centsToMajor, majorToCents, metricLabel } from '../format';

/** One graduated tier as typed: "up to" (empty on the last tier: and above) and the price per unit. */
export interface TierDraft {
  upTo: string;
  price: string;
  /** Stripe's flat amount of the tier (cents), kept as it is. */
  flatAmount?: number;
}

/** A row as the agency is editing it. */
export interface Draft {
  enabled: boolean;
  threshold: string;
  direction: PricingRow['direction'];
  /** The flat price per unit (unused while `tiers` is set). */
  price: string;
  cost: string;
  /** The graduated tiers, editable; null for a flat price. */
  tiers: TierDraft[] | null;
}

/** HighLevel's list price for the metric when the grid's currency is USD (the prices are in US dollars). */
export function listPriceOf(metric: string, currency: string): HighLevelListPrice | null {
  return currency.toLowerCase() === 'usd' ? (HIGHLEVEL_LIST_PRICES[metric] ?? null) : null;
}

/** The row as saved (a missing base cost prefilled with HighLevel's list price). */
export function draftOf(row: PricingRow, currency: string): Draft {
  const tiers = row.priceTerms?.tiers ?? null;
  const list = listPriceOf(row.metric, currency);
  return {
    enabled: row.enabled,
    threshold: row.threshold,
    direction: row.direction,
    price: tiers ? '' : centsToMajor(row.priceTerms?.unitAmountDecimal ?? null),
    cost: centsToMajor(row.baseCostDecimal ?? list?.costCents ?? null),
    tiers: tiers ? tiers.map((t) => ({ upTo: t.upTo === 'inf' ? '' : String(t.upTo), price: centsToMajor(t.unitAmountDecimal), flatAmount: t.flatAmount })) : null,
  };
}

const sameTiers = (a: TierDraft[] | null, b: TierDraft[] | null) =>
  a === b || (a !== null && b !== null && a.length === b.length && a.every((t, i) => t.upTo.trim() === b[i]!.upTo.trim() && t.price.trim() === b[i]!.price.trim()));

/** True when nothing the agency typed differs from what is saved. */
export const sameDraft = (a: Draft, b: Draft) =>
  a.enabled === b.enabled &&
  a.threshold.trim() === b.threshold.trim() &&
  a.direction === b.direction &&
  a.price.trim() === b.price.trim() &&
  a.cost.trim() === b.cost.trim() &&
  sameTiers(a.tiers, b.tiers);

/** "every 10 emails": the item a base cost is per ("email" for "Emails"). */
export const itemOf = (label: string) => label.toLowerCase().replace(/ \(.*\)$/, '').replace(/s$/, '');

const cents = (text: string) => {
  const value = majorToCents(text);
  return value === null ? null : new Decimal(value);
};

/**
 * Price per item, base cost per item, margin per item, margin % and markup × from a draft (null where not
 * computable). A graduated price is compared at its last tier's price (the rate of high volumes).
 */
export function economics(d: Draft) {
  const threshold = /^\d+(\.\d+)?$/.test(d.threshold.trim()) && Number(d.threshold) > 0 ? new Decimal(d.threshold.trim()) : null;
  const unit = d.tiers ? (d.tiers.length ? cents(d.tiers.at(-1)!.price) : null) : cents(d.price);
  const perItem = unit !== null && threshold !== null ? unit.div(threshold) : null;
  const cost = d.cost.trim() === '' ? null : cents(d.cost);
  const margin = perItem !== null && cost !== null ? perItem.minus(cost) : null;
  return {
    perItem,
    margin,
    percent: margin !== null && perItem !== null && !perItem.isZero() ? margin.div(perItem).times(100) : null,
    markup: perItem !== null && cost !== null && !cost.isZero() ? perItem.div(cost) : null,
  };
}

/**
 * The PUT /api/pricing/:metric body for a draft.
 * @throws Error with a sentence naming the metric and the field to fix.
 */
export function pricingInput(row: PricingRow, d: Draft, currency: string): MetricPricingInput {
  const label = metricLabel(row.metric);
  const baseCostDecimal = d.cost.trim() === '' ? null : majorToCents(d.cost);
  if (d.cost.trim() !== '' && baseCostDecimal === null) throw new Error(`${label}: the base cost must be an amount, e.g. 0.0079.`);
  if (!(Number(d.threshold) > 0)) throw new Error(`${label}: “every N” must be a positive number.`);
  const common = { enabled: d.enabled, threshold: d.threshold.trim(), direction: d.direction, baseCostDecimal };
  const interval = 'month' as const;
  const cur = row.priceTerms?.currency ?? currency;
  if (!d.tiers) {
    const unitAmountDecimal = majorToCents(d.price);
    if (unitAmountDecimal === null) throw new Error(`${label}: enter a price per unit, e.g. 0.02.`);
    return { ...common, price: { currency: cur, interval, unitAmountDecimal } };
  }
  let previous = 0;
  const tiers = d.tiers.map((t, i) => {
    const last = i === d.tiers!.length - 1;
    const unitAmountDecimal = majorToCents(t.price);
    if (unitAmountDecimal === null) throw new Error(`${label}: tier ${i + 1} needs a price per unit, e.g. 0.01.`);
    if (last) return { upTo: 'inf' as const, unitAmountDecimal, ...(t.flatAmount !== undefined ? { flatAmount: t.flatAmount } : {}) };
    const upTo = Number(t.upTo);
    if (!Number.isInteger(upTo) || upTo <= previous) throw new Error(`${label}: tier ${i + 1} must end at a whole number of units above ${previous}.`);
    previous = upTo;
    return { upTo, unitAmountDecimal, ...(t.flatAmount !== undefined ? { flatAmount: t.flatAmount } : {}) };
  });
  return { ...common, price: { currency: cur, interval, tiers } };
}
