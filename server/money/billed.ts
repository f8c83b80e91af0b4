/**
 * What the agency billed, read from Stripe: its invoices (docs.stripe.com/api/invoices/list, `created[gte]`) and the
 * upcoming invoice of each subscription (docs.stripe.com/api/invoices/create_preview), per sub-account and month.
 *
 * - An invoice counts in the UTC month its billing period starts (`period_start`): a subscription's renewal invoice
 *   bills the period that just ended, so its usage and its HighLevel cost fall in the same month when the period
 *   follows the calendar. Since `period_start` ≤ `created`, listing from the first month's start finds them all.
 * - Counted: `draft` (a renewal is a draft for about an hour before Stripe finalizes it), `open`, `paid`,
 *   `uncollectible` (billed, not collected); `void` is not.
 * - Billed amount: `total_excluding_tax` (after discounts, before tax; docs.stripe.com/api/invoices/object), else
 *   `total` minus `total_taxes`. Tax is not the agency's revenue. Paid: `amount_paid`.
 * - Only the agency's mapped customers, and only invoices in the agency's currency (others are counted apart).
 * Amounts are integer cents as Stripe gives them.
 */
import type Stripe from 'stripe';
import { stripeCall } from '../billing-setup/pricing';
import { monthBounds, monthOfSeconds } from './months';

/** Most invoice pages (100 each) read per answer; more is reported as `truncated`. */
const MAX_PAGES = 50;
const COUNTED = new Set(['draft', 'open', 'paid', 'uncollectible']);

/** Invoiced cents of one sub-account in one month. */
export interface InvoicedLine {
  locationId: string;
  month: string;
  invoicedCents: number;
  paidCents: number;
}

/** Stripe's invoices grouped per (sub-account, month), from the first day of `fromMonth` (UTC). */
export interface Invoiced {
  lines: InvoicedLine[];
  /** Invoices in another currency than the agency's: left out of the figures. */
  otherCurrencyInvoices: number;
  /** True when more than MAX_PAGES pages of invoices exist: older invoices are missing. */
  truncated: boolean;
}

/** An invoice's amount excluding tax, in cents. */
export function excludingTax(invoice: Pick<Stripe.Invoice, 'total' | 'total_excluding_tax' | 'total_taxes'>): number {
  if (typeof invoice.total_excluding_tax === 'number') return invoice.total_excluding_tax;
  return invoice.total - (invoice.total_taxes ?? []).reduce((sum, t) => sum + t.amount, 0);
}

/**
 * Reads the account's invoices created since the start of `fromMonth` and keeps those of `customers` (Stripe
 * customer id → location id) in `currency`.
 * @throws AppError 400/502 with Stripe's message.
 */
export async function invoicedByMonth(stripe: Stripe, input: { customers: Map<string, string>; currency: string; fromMonth: string }): Promise<Invoiced> {
  const since = Math.floor(monthBounds(input.fromMonth).start.getTime() / 1000);
  const by = new Map<string, InvoicedLine>();
  let otherCurrencyInvoices = 0;
  let truncated = false;
  await stripeCall(async () => {
    let cursor: string | undefined;
    for (let page = 0; page < MAX_PAGES; page++) {
      const res = await stripe.invoices.list({ limit: 100, created: { gte: since }, ...(cursor ? { starting_after: cursor } : {}) });
      for (const invoice of res.data) {
        cursor = invoice.id;
        const customer = typeof invoice.customer === 'string' ? invoice.customer : invoice.customer?.id;
        const locationId = customer ? input.customers.get(customer) : undefined;
        if (!locationId || !COUNTED.has(invoice.status ?? '') || invoice.period_start < since) continue;
        if (invoice.currency !== input.currency) {
          otherCurrencyInvoices += 1;
          continue;
        }
        const month = monthOfSeconds(invoice.period_start);
        const key = `${locationId}\u0000${month}`;
        const line = by.get(key) ?? { locationId, month, invoicedCents: 0, paidCents: 0 };
        line.invoicedCents += excludingTax(invoice);
        line.paidCents += invoice.amount_paid;
        by.set(key, line);
      }
      if (!res.has_more) return;
      truncated = page === MAX_PAGES - 1;
    }
  });
  return { lines: [...by.values()], otherCurrencyInvoices, truncated };
}
