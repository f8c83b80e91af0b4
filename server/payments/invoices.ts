/**
 * Invoices as Stripe has them (docs.stripe.com/api/invoices/object, /list) and the next one as Stripe previews it
 * (docs.stripe.com/api/invoices/create_preview: the subscription's metered usage so far, the flat fee of the next
 * period, discounts and tax; a customer with nothing upcoming is Stripe's `invoice_upcoming_none`). Amounts are
 * integer cents as Stripe gives them; times become ISO 8601 UTC.
 *
 * "Past due": an `open` invoice whose `due_date` has passed (sent invoices), or — charged automatically, without a
 * due date — one Stripe has tried to collect at least once (`attempt_count` > 0) and that is still open.
 */
import type Stripe from 'stripe';
import type { z } from 'zod';
import { stripeCall } from '../billing-setup/pricing';
import { isResourceMissing, stripeErrorFields } from '../stripe/stripe-errors';
import type { invoiceListQuery, invoiceListResponse, invoiceSchema, nextInvoiceResponse } from './schemas';

export type InvoiceView = z.infer<typeof invoiceSchema>;
export type InvoiceList = z.infer<typeof invoiceListResponse>;
export type InvoiceQuery = z.infer<typeof invoiceListQuery>;
export type NextInvoice = z.infer<typeof nextInvoiceResponse>;

/** Most Stripe pages read for one filtered page (past due, or an agency-wide page among other customers' invoices). */
const MAX_PAGES = 10;

const iso = (seconds: number) => new Date(seconds * 1000).toISOString();
const customerOf = (c: Stripe.Invoice['customer']) => (typeof c === 'string' ? c : (c?.id ?? null));

/** Whether an invoice is past due (see the module comment). */
export function isPastDue(invoice: Stripe.Invoice, nowSeconds = Math.floor(Date.now() / 1000)): boolean {
  if (invoice.status !== 'open') return false;
  return invoice.due_date ? invoice.due_date < nowSeconds : (invoice.attempt_count ?? 0) > 0;
}

/** The sub-account a mapped customer bills. */
export interface MappedCustomer {
  locationId: string;
  name: string | null;
}

/** One invoice as the API shows it; the sub-account from the agency's customer map. */
export function invoiceView(invoice: Stripe.Invoice, customers: Map<string, MappedCustomer>): InvoiceView {
  const customer = customerOf(invoice.customer);
  const mapped = customer ? customers.get(customer) : undefined;
  return {
    id: invoice.id!,
    number: invoice.number ?? null,
    customer,
    locationId: mapped?.locationId ?? null,
    subAccountName: mapped?.name ?? null,
    status: invoice.status ?? null,
    pastDue: isPastDue(invoice),
    currency: invoice.currency,
    periodStart: iso(invoice.period_start),
    periodEnd: iso(invoice.period_end),
    created: iso(invoice.created),
    dueDate: invoice.due_date ? iso(invoice.due_date) : null,
    totalCents: invoice.total,
    amountPaidCents: invoice.amount_paid,
    amountDueCents: invoice.amount_due,
    hostedInvoiceUrl: invoice.hosted_invoice_url ?? null,
    invoicePdf: invoice.invoice_pdf ?? null,
  };
}

/** Sums per currency, in integer cents. */
export function totalsOf(invoices: InvoiceView[]): InvoiceList['totals'] {
  const by = new Map<string, InvoiceList['totals'][number]>();
  for (const i of invoices) {
    const t = by.get(i.currency) ?? { currency: i.currency, totalCents: 0, amountPaidCents: 0, amountDueCents: 0, count: 0 };
    t.totalCents += i.totalCents;
    t.amountPaidCents += i.amountPaidCents;
    t.amountDueCents += i.amountDueCents;
    t.count += 1;
    by.set(i.currency, t);
  }
  return [...by.values()];
}

/**
 * A page of invoices, newest first: one customer's (`customerId`), or the account's restricted to `customers` (the
 * agency's mapped customers, customer id → sub-account). Stripe's `status` filter is used where Stripe has it;
 * `past_due` reads open invoices and keeps the past-due ones. Reads at most MAX_PAGES Stripe pages per call; the
 * cursor is the last invoice looked at, so the next call goes on from there.
 * @throws AppError 400/502 `stripe_error` with Stripe's message.
 */
export async function listInvoices(
  stripe: Stripe,
  scope: { customerId?: string; customers: Map<string, MappedCustomer> },
  query: InvoiceQuery,
): Promise<InvoiceList> {
  const status = query.status === 'past_due' ? 'open' : query.status;
  const keep = (i: Stripe.Invoice) =>
    (query.status !== 'past_due' || isPastDue(i)) && (scope.customerId !== undefined || scope.customers.has(customerOf(i.customer) ?? ''));
  const found: Stripe.Invoice[] = [];
  let cursor = query.startingAfter;
  let hasMore = false;
  await stripeCall(async () => {
    for (let page = 0; page < MAX_PAGES; page++) {
      const res = await stripe.invoices.list({
        limit: Math.min(100, query.limit),
        ...(scope.customerId ? { customer: scope.customerId } : {}),
        ...(status ? { status } : {}),
        ...(cursor ? { starting_after: cursor } : {}),
      });
      for (const [at, invoice] of res.data.entries()) {
        cursor = invoice.id;
        if (keep(invoice)) found.push(invoice);
        if (found.length === query.limit) {
          hasMore = at < res.data.length - 1 || res.has_more;
          return;
        }
      }
      hasMore = res.has_more;
      if (!res.has_more) return;
    }
  });
  const invoices = found.map((i) => invoiceView(i, scope.customers));
  return { invoices, hasMore, nextCursor: hasMore ? (cursor ?? null) : null, totals: totalsOf(invoices) };
}

/**
 * The next invoice of a customer's subscription, as Stripe previews it.
 * @param stripe the agency's client; may be null when there is no customer or subscription (nothing is read then).
 * @param flatFeePriceId the agency's flat-fee price: its line is not metered usage.
 * @throws AppError 400/502 `stripe_error` with Stripe's message, except `invoice_upcoming_none` and a subscription
 *   or customer Stripe no longer has (`resource_missing`), answered as not available with Stripe's message.
 */
export async function nextInvoice(
  stripe: Stripe | null,
  input: { customerId: string | null; subscriptionId: string | null; flatFeePriceId: string | null },
): Promise<NextInvoice> {
  if (!input.customerId) return { available: false, reason: 'No Stripe customer is mapped to this sub-account yet.', invoice: null };
  if (!input.subscriptionId) return { available: false, reason: 'No subscription yet: nothing is invoiced until one starts.', invoice: null };
  let preview: Stripe.Invoice;
  try {
    preview = await stripe!.invoices.createPreview({ customer: input.customerId, subscription: input.subscriptionId });
  } catch (err) {
    const e = stripeErrorFields(err);
    if (e.code === 'invoice_upcoming_none') return { available: false, reason: `Stripe has no upcoming invoice: ${e.message ?? ''}`, invoice: null };
    // The subscription (or customer) Meterbridge has on record is gone from Stripe: nothing is upcoming, say why.
    if (isResourceMissing(err)) return { available: false, reason: `Stripe: ${e.message ?? 'the subscription no longer exists'}`, invoice: null };
    return stripeCall(() => Promise.reject(err)); // Stripe's message as a 400/502 `stripe_error`
  }
  const priceOf = (line: Stripe.InvoiceLineItem) => {
    const price = line.pricing?.price_details?.price;
    return typeof price === 'string' ? price : (price?.id ?? null);
  };
  const sum = (items: Array<{ amount: number }> | null | undefined) => (items ?? []).reduce((s, i) => s + i.amount, 0);
  return {
    available: true,
    reason: null,
    invoice: {
      currency: preview.currency,
      periodStart: iso(preview.period_start),
      periodEnd: iso(preview.period_end),
      nextPaymentAttempt: preview.next_payment_attempt ? iso(preview.next_payment_attempt) : null,
      lines: preview.lines.data.map((line) => ({
        description: line.description ?? null,
        amountCents: line.amount,
        quantity: line.quantity ?? null,
        metered: priceOf(line) !== input.flatFeePriceId,
        periodStart: iso(line.period.start),
        periodEnd: iso(line.period.end),
      })),
      subtotalCents: preview.subtotal,
      discountCents: sum(preview.total_discount_amounts),
      taxCents: sum(preview.total_taxes),
      totalCents: preview.total,
      amountDueCents: preview.amount_due,
    },
  };
}
