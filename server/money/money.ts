/**
 * The agency's money per UTC month, agency-wide and per sub-account: billed (Stripe's invoices and the upcoming
 * invoice, billed.ts), HighLevel's cost (usage × the grid's base costs, highlevel-cost.ts) and the margin
 * (billed − cost). Every amount is integer cents in the agency's currency. Invoices are read through the payments
 * read cache (server/payments/read-cache.ts), which an invoice webhook clears. Upcoming invoices are Stripe's previews
 * as stored (server/payments/stored-previews.ts): read at once, never one Stripe call per client on the request; the
 * answer says how fresh they are (`previews`). Without Stripe (not connected, or Stripe failing) the cost is still
 * answered and `billing.reason` says why billed is missing.
 */
import { sql } from 'drizzle-orm';
import { selectRows, type Database } from '../../models/database';
import type { StripeForAgency } from '../billing-setup/stripe-for-agency';
import type { Payments } from '../payments/payments';
import { AGENCY_WIDE } from '../payments/read-cache';
import { withFewDueRead } from '../payments/stored-reads';
import { csvField } from '../reporting/usage-csv';
import { findAgency } from '../tenancy/accounts-repository';
import { invoicedByMonth, type Invoiced } from './billed';
import { costLines } from './highlevel-cost';
import { lastMonths, monthOf, MONTH_RULE } from './months';

/** The figures of one month (and sub-account), integer cents. `billedCents` = invoiced + upcoming; margin = billed − cost. */
export interface MoneyFigures {
  invoicedCents: number;
  paidCents: number;
  upcomingCents: number;
  billedCents: number;
  costCents: number;
  marginCents: number;
}

/** Whether billed figures could be read from Stripe, and what is left out of them. */
export interface BillingNote {
  available: boolean;
  reason: string | null;
  otherCurrencyInvoices: number;
  truncated: boolean;
  previewErrors: Array<{ locationId: string; message: string }>;
}

const ZERO = (): MoneyFigures => ({ invoicedCents: 0, paidCents: 0, upcomingCents: 0, billedCents: 0, costCents: 0, marginCents: 0 });
const finish = (f: MoneyFigures): MoneyFigures => ({ ...f, billedCents: f.invoicedCents + f.upcomingCents, marginCents: f.invoicedCents + f.upcomingCents - f.costCents });
const add = (a: MoneyFigures, b: MoneyFigures): MoneyFigures =>
  finish({ ...a, invoicedCents: a.invoicedCents + b.invoicedCents, paidCents: a.paidCents + b.paidCents, upcomingCents: a.upcomingCents + b.upcomingCents, costCents: a.costCents + b.costCents });

/** How fresh the upcoming invoices in the figures are (schemas.ts `previewsNote`). */
export interface PreviewsNote {
  asOf: string | null;
  fetching: number;
  refreshing: number;
}

export function createMoney(deps: { db: Database; payments: Payments; stripeForAgency: StripeForAgency }) {
  const subAccountsOf = (companyId: string) =>
    selectRows<{ locationId: string; name: string | null; customer: string | null }>(
      deps.db,
      sql`select location_id as "locationId", name, stripe_customer_id as customer
          from sub_accounts where company_id = ${companyId} order by name nulls last, location_id`,
    );

  /** The agency's stored previews, after reading the due ones from Stripe if there are few (stored-reads.ts `withFewDueRead`). */
  const currentPreviews = (companyId: string) =>
    withFewDueRead(() => deps.payments.previews.ofAgency(companyId), (r) => deps.payments.nextInvoice(r.locationId), deps.payments.previews.nudge);

  /**
   * Figures per (sub-account, month) over `months` (oldest first), the next invoices' total, and the notes.
   * Stripe errors do not fail the answer: they become `billing.reason`.
   */
  async function figures(companyId: string, months: string[]) {
    const currency = (await findAgency(deps.db, companyId))?.currency ?? 'usd';
    const subs = await subAccountsOf(companyId);
    const inRange = new Set(months);
    const cells = new Map<string, MoneyFigures>();
    const cell = (locationId: string, month: string) => {
      const key = `${locationId}\u0000${month}`;
      if (!cells.has(key)) cells.set(key, ZERO());
      return cells.get(key)!;
    };
    const lines = await costLines(deps.db, companyId, months[0]!, months.at(-1)!);
    for (const line of lines) cell(line.locationId, line.month).costCents += line.costCents;
    const metricsWithoutBaseCost = [...new Set(lines.filter((l) => l.baseCostDecimal === null).map((l) => l.metric))].sort();

    const billing: BillingNote = { available: true, reason: null, otherCurrencyInvoices: 0, truncated: false, previewErrors: [] };
    const next = { totalCents: 0, count: 0, currency };
    const previews: PreviewsNote = { asOf: null, fetching: 0, refreshing: 0 };
    try {
      const stripe = await deps.stripeForAgency(companyId);
      const customers = new Map(subs.filter((s) => s.customer).map((s) => [s.customer!, s.locationId]));
      const invoiced: Invoiced = await deps.payments.cache.get(companyId, AGENCY_WIDE, `money-invoices:${months[0]}:${currency}`, () =>
        invoicedByMonth(stripe, { customers, currency, fromMonth: months[0]! }));
      for (const l of invoiced.lines) {
        if (!inRange.has(l.month)) continue;
        const c = cell(l.locationId, l.month);
        c.invoicedCents += l.invoicedCents;
        c.paidCents += l.paidCents;
      }
      billing.otherCurrencyInvoices = invoiced.otherCurrencyInvoices;
      billing.truncated = invoiced.truncated;
      let asOf: Date | null = null;
      for (const p of await currentPreviews(companyId)) {
        if (p.lastError !== null) billing.previewErrors.push({ locationId: p.locationId, message: p.lastError });
        else if (!p.stored) previews.fetching += 1;
        if (p.lastError !== null || !p.stored) continue;
        if (p.due) previews.refreshing += 1;
        if (p.fetchedAt && (!asOf || p.fetchedAt < asOf)) asOf = p.fetchedAt;
        if (p.totalCents === null || p.currency !== currency) continue;
        next.totalCents += p.totalCents;
        next.count += 1;
        const month = monthOf(p.periodStart!);
        if (inRange.has(month)) cell(p.locationId, month).upcomingCents += p.totalCents - (p.taxCents ?? 0);
      }
      previews.asOf = asOf?.toISOString() ?? null;
    } catch (err) {
      Object.assign(billing, { available: false, reason: (err as Error).message });
    }
    for (const [key, f] of cells) cells.set(key, finish(f));
    return { currency, subs, cells, next, billing, previews, metricsWithoutBaseCost };
  }

  return {
    /**
     * The agency's last `count` months (oldest first, ending with the current one), with the next invoices' total.
     * @param now the clock (tests).
     */
    async agencyMonths(companyId: string, count: number, now = new Date()) {
      const months = lastMonths(count, now);
      const f = await figures(companyId, months);
      const byMonth = new Map(months.map((m) => [m, ZERO()]));
      for (const [key, figure] of f.cells) {
        const month = key.split('\u0000')[1]!;
        byMonth.set(month, add(byMonth.get(month)!, figure));
      }
      return {
        currency: f.currency,
        monthRule: MONTH_RULE,
        months: months.map((month) => ({ month, ...byMonth.get(month)! })),
        nextInvoice: f.next,
        billing: f.billing,
        previews: f.previews,
        metricsWithoutBaseCost: f.metricsWithoutBaseCost,
      };
    },

    /** Per sub-account for one month (sub-accounts with any figure), by name, with the month's totals. */
    async subAccountMonth(companyId: string, month: string) {
      const f = await figures(companyId, [month]);
      const items = f.subs
        .map((s) => ({ locationId: s.locationId, name: s.name, ...(f.cells.get(`${s.locationId}\u0000${month}`) ?? ZERO()) }))
        .filter((i) => i.billedCents !== 0 || i.costCents !== 0 || i.paidCents !== 0);
      const totals = items.reduce<MoneyFigures>((sum, i) => add(sum, i), ZERO());
      return { month, currency: f.currency, monthRule: MONTH_RULE, items, totals, billing: f.billing, previews: f.previews, metricsWithoutBaseCost: f.metricsWithoutBaseCost };
    },

    /**
     * The "agency cost vs rebilled" CSV over the last `count` months: per month, one line per sub-account with any
     * figure, then the month's total (sub_account_id empty, name "All sub-accounts"). Amounts in integer cents.
     */
    async *csv(companyId: string, count: number, now = new Date()): AsyncGenerator<string> {
      const months = lastMonths(count, now);
      const f = await figures(companyId, months);
      yield 'month,sub_account_id,sub_account_name,currency,invoiced_cents,upcoming_cents,billed_cents,highlevel_cost_cents,margin_cents\n';
      for (const month of months) {
        let total = ZERO();
        const rows: string[] = [];
        for (const s of f.subs) {
          const c = f.cells.get(`${s.locationId}\u0000${month}`);
          if (!c || (c.billedCents === 0 && c.costCents === 0)) continue;
          total = add(total, c);
          rows.push(csvLine(month, s.locationId, s.name, f.currency, c));
        }
        rows.push(csvLine(month, '', 'All sub-accounts', f.currency, total));
        yield rows.join('');
      }
    },
  };
}

function csvLine(month: string, locationId: string, name: string | null, currency: string, c: MoneyFigures): string {
  // Text is neutralised against spreadsheet formulas (csvField); integers go as they are, so a negative margin stays a number.
  const text = [month, locationId, name, currency].map(csvField);
  return [...text, c.invoicedCents, c.upcomingCents, c.billedCents, c.costCents, c.marginCents].join(',') + '\n';
}

export type Money = ReturnType<typeof createMoney>;
