/**
 * Request and response schemas of the money routes (routes.ts). Every amount is integer cents in `currency` (the
 * agency's); months are UTC calendar months `YYYY-MM` (months.ts says what a month holds).
 */
import { z } from 'zod';
import { cardCheckNote } from '../payments/schemas';
import { seriesQuery } from '../reporting/schemas';

const cents = z.number().int();
/** A UTC calendar month, `YYYY-MM`. */
export const month = z.string().regex(/^\d{4}-(0[1-9]|1[0-2])$/, 'a month as YYYY-MM');

/** `?months`: how many months, ending with the current one (1–24, default 6). */
export const monthsQuery = z.object({ months: z.coerce.number().int().min(1).max(24).default(6) });
/** `?month`: one month (default: the current one). */
export const monthQuery = z.object({ month: month.optional() });

/** Billed (invoiced + upcoming, excluding tax), paid, HighLevel's cost and the margin (billed − cost), in cents. */
export const moneyFigures = z.object({
  invoicedCents: cents,
  paidCents: cents,
  upcomingCents: cents,
  billedCents: cents,
  costCents: cents,
  marginCents: cents,
});

/** Whether Stripe could be read for billed figures, and what is left out of them. */
export const billingNote = z.object({
  available: z.boolean(),
  reason: z.string().nullable().describe('Why billed figures are missing: Stripe not connected, or Stripe’s error message'),
  otherCurrencyInvoices: z.number().int().describe('Invoices in another currency than the agency’s: not in the figures'),
  truncated: z.boolean().describe('More invoices than one answer reads: the oldest are missing'),
  previewErrors: z.array(z.object({ locationId: z.string(), message: z.string() })),
});

/**
 * How fresh the upcoming invoices in the figures are: Stripe's previews are stored and refreshed in the background
 * (server/payments/preview-refresh.ts), so the figures answer at once. Failed reads are `billing.previewErrors`.
 */
export const previewsNote = z.object({
  asOf: z.string().nullable().describe('When Stripe was read for the oldest preview in the figures (ISO 8601); null when none is'),
  fetching: z.number().int().describe('Subscriptions whose next invoice has not been read from Stripe yet: not in the figures until it is'),
  refreshing: z.number().int().describe('Subscriptions whose stored preview is being read again (a webhook said it changed, or it is older than 5 minutes, PREVIEW_MAX_AGE_SECONDS in server/payments/stored-previews.ts): the figures hold the stored one'),
});

const common = {
  currency: z.string(),
  monthRule: z.string(),
  billing: billingNote,
  previews: previewsNote,
  metricsWithoutBaseCost: z.array(z.string()).describe('Metrics used in the range with no base cost in the pricing grid: their HighLevel cost counts as 0'),
};

/** `GET /api/money`: the agency's months, oldest first, and the next invoices across clients. */
export const agencyMoneyResponse = z.object({
  ...common,
  months: z.array(moneyFigures.extend({ month })),
  nextInvoice: z.object({ totalCents: cents, count: z.number().int(), currency: z.string() }).describe('Sum of every subscription’s upcoming invoice, tax included'),
});

/** `GET /api/money/sub-accounts`: one month per sub-account (those with any figure), and the month's totals. */
export const subAccountMoneyResponse = z.object({
  ...common,
  month,
  items: z.array(moneyFigures.extend({ locationId: z.string(), name: z.string().nullable() })),
  totals: moneyFigures,
});

/** `GET /api/overview/attention`: per kind, the sub-accounts needing attention and the list filtered to them. */
export const attentionResponse = z.object({
  items: z.array(z.object({ kind: z.string(), label: z.string(), count: z.number().int(), to: z.string() })),
  cards: cardCheckNote.describe('How fresh the `no_card` count is: the cards are stored and read from Stripe in the background'),
  cardCheckError: z.string().nullable().describe('`cards.error`: why some cards could not be checked with Stripe'),
});

/** `GET /api/usage/amounts`: the same range and buckets as `GET /api/usage`. */
export const usageAmountsQuery = seriesQuery.extend({ locationId: z.string().min(1).max(200).optional() });
/** Usage in money: per metric the billed amount and HighLevel's cost, per (bucket, metric) the amount; totals across metrics (money adds up). */
export const usageAmountsResponse = z.object({
  from: z.string(),
  to: z.string(),
  granularity: z.enum(['day', 'week', 'month']),
  currency: z.string(),
  totals: z.array(z.object({
    metric: z.string(),
    amountCents: cents,
    costCents: cents,
    priced: z.boolean().describe('False when some billed units have no price in force'),
    costed: z.boolean().describe('False when some usage has no base cost in the pricing grid'),
  })),
  series: z.array(z.object({ bucket: z.string(), metric: z.string(), amountCents: cents })),
  totalAmountCents: cents,
  totalCostCents: cents,
});
