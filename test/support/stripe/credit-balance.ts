/**
 * What remains of a customer's billing credits and how an invoice uses them:
 * - `GET /v1/billing/credit_balance_summary` (docs.stripe.com/api/billing/credit-balance-summary/retrieve): `customer`
 *   and `filter` are required; `filter[type]` is `applicability_scope` (with `filter[applicability_scope]` —
 *   `price_type: 'metered'` or `prices[]`) or `credit_grant` (with `filter[credit_grant]`). The answer
 *   (docs.stripe.com/api/billing/credit-balance-summary/object) has one `balances[]` entry per currency with
 *   `available_balance` and `ledger_balance`, each `{type: 'monetary', monetary: {currency, value}}` in the smallest
 *   currency unit. In the double both are the same: each grant's amount less the credit applied from it, counting only
 *   grants in effect (effective, not expired, not voided).
 * - Credits applied to an invoice (docs.stripe.com/billing/subscriptions/usage-based/billing-credits, "Apply billing
 *   credits"): before tax, on the lines of metered prices the grant's scope covers, in the invoice's currency. Order
 *   (approximate; Stripe documents priority first, then the soonest expiry): `priority` ascending, then the soonest
 *   `expires_at` (none last), then the oldest. The invoice shows them in `total_pretax_credit_amounts[]`
 *   (`{amount, credit_balance_transaction, discount: null, type: 'credit_balance_transaction'}`) and each line's
 *   `pretax_credit_amounts[]`; a finalized invoice's application is a debit credit balance transaction
 *   (docs.stripe.com/api/billing/credit-balance-transaction/object, `debit.type` `credits_applied`).
 */
import { liveCustomer } from './customers';
import type { Fake, Route, StripeFakeState, StripeJson } from './types';
import { arr, invalid, missingParam, newId, now, obj, requireString, str } from './wire';

/** One entry of an invoice's `total_pretax_credit_amounts` (docs.stripe.com/api/invoices/object); `amount` in cents. */
export interface PretaxCreditAmount {
  amount: number;
  credit_balance_transaction: string;
  discount: null;
  type: 'credit_balance_transaction';
}

/** True when `grant` can be drawn on at `at` (Unix seconds). */
const inEffect = (grant: StripeJson, at: number) =>
  !grant.voided_at && grant.effective_at <= at && (grant.expires_at === null || grant.expires_at > at);

/** Cents already applied from `grantId` (its debit transactions). */
function appliedFrom(state: StripeFakeState, grantId: string): number {
  let sum = 0;
  for (const t of state.creditBalanceTransactions.values()) if (t.credit_grant === grantId && t.type === 'debit') sum += t.debit.amount.monetary.value;
  return sum;
}

/** What remains of a grant now, in cents (0 when not in effect). */
export function remainingOf(state: StripeFakeState, grant: StripeJson, at = now()): number {
  return inEffect(grant, at) ? Math.max(0, grant.amount.monetary.value - appliedFrom(state, grant.id)) : 0;
}

/** True when the grant's scope covers `priceId` (a metered price). */
function covers(grant: StripeJson, price: StripeJson): boolean {
  if (price.recurring?.usage_type !== 'metered') return false;
  const scope = grant.applicability_config.scope;
  return scope.price_type === 'metered' || (scope.prices as Array<{ id: string }> | undefined)?.some((p) => p.id === price.id) === true;
}

/**
 * Applies `customer`'s credits to invoice lines (each `{amount, pricing.price_details.price}`, cents), mutating each
 * line's `pretax_credit_amounts`. With `invoiceId`, records debit transactions (the credit is used up); without, a
 * preview: nothing is consumed. @returns the invoice's `total_pretax_credit_amounts` entries.
 */
export function applyCredits(state: StripeFakeState, customer: string, currency: string, lines: StripeJson[], invoiceId?: string): PretaxCreditAmount[] {
  const grants = [...state.creditGrants.values()]
    .filter((g) => g.customer === customer && g.amount.monetary.currency === currency)
    .map((g) => ({ grant: g, left: remainingOf(state, g) }))
    .filter((g) => g.left > 0)
    .sort((a, b) => a.grant.priority - b.grant.priority || (a.grant.expires_at ?? Infinity) - (b.grant.expires_at ?? Infinity) || a.grant.created - b.grant.created);
  const totals: PretaxCreditAmount[] = [];
  for (const line of lines) {
    line.pretax_credit_amounts = [];
    const price = state.prices.get(line.pricing?.price_details?.price);
    let due = line.amount as number;
    for (const g of grants) {
      if (due <= 0) break;
      if (!price || g.left <= 0 || !covers(g.grant, price)) continue;
      const amount = Math.min(due, g.left);
      g.left -= amount;
      due -= amount;
      const transaction = invoiceId ? recordDebit(state, g.grant, amount, invoiceId, line.id) : `cbtxn_preview_${g.grant.id}`;
      const entry: PretaxCreditAmount = { amount, credit_balance_transaction: transaction, discount: null, type: 'credit_balance_transaction' };
      line.pretax_credit_amounts.push(entry);
      totals.push(entry);
    }
  }
  return totals;
}

function recordDebit(state: StripeFakeState, grant: StripeJson, value: number, invoice: string, line: string): string {
  const t: StripeJson = {
    id: newId('cbtxn'),
    object: 'billing.credit_balance_transaction',
    created: now(),
    credit: null,
    credit_grant: grant.id,
    debit: { amount: { monetary: { currency: grant.amount.monetary.currency, value }, type: 'monetary' }, credits_applied: { invoice, invoice_line_item: line }, type: 'credits_applied' },
    effective_at: now(),
    livemode: false,
    test_clock: null,
    type: 'debit',
  };
  state.creditBalanceTransactions.set(t.id, t);
  return t.id;
}

/** The credit balance summary route. */
export function creditBalanceRoutes({ state }: Fake): Route[] {
  return [
    {
      method: 'GET',
      pattern: /^\/v1\/billing\/credit_balance_summary$/,
      resource: 'billing_credits',
      access: 'read',
      accepts: ['customer', 'filter'],
      handle: ({ params }) => {
        const customer = liveCustomer(state, requireString(params, 'customer'));
        const filter = obj(params.filter);
        if (!filter) throw missingParam('filter');
        const type = str(filter.type);
        if (!type) throw missingParam('filter[type]');
        let selected: StripeJson[];
        const mine = [...state.creditGrants.values()].filter((g) => g.customer === customer.id);
        if (type === 'credit_grant') {
          const id = str(filter.credit_grant);
          if (!id) throw missingParam('filter[credit_grant]');
          selected = mine.filter((g) => g.id === id);
          if (!selected.length) throw invalid(`No such credit grant: '${id}'`, 'filter[credit_grant]', 'resource_missing');
        } else if (type === 'applicability_scope') {
          const scope = obj(filter.applicability_scope);
          if (!scope) throw missingParam('filter[applicability_scope]');
          const priceType = str(scope.price_type);
          const prices = (arr(scope.prices) ?? []).map((p) => str(obj(p)?.id));
          if (priceType !== undefined && priceType !== 'metered') throw invalid('Invalid filter[applicability_scope][price_type]: must be metered', 'filter[applicability_scope][price_type]');
          if (priceType === undefined && !prices.length) throw missingParam('filter[applicability_scope][price_type]');
          selected = mine.filter((g) => {
            const s = g.applicability_config.scope;
            return priceType === 'metered' ? true : s.price_type === 'metered' || (s.prices as Array<{ id: string }>).some((p) => prices.includes(p.id));
          });
        } else {
          throw invalid(`Invalid filter[type]: must be one of applicability_scope or credit_grant`, 'filter[type]');
        }
        const byCurrency = new Map<string, number>();
        for (const g of selected) {
          const c = g.amount.monetary.currency as string;
          byCurrency.set(c, (byCurrency.get(c) ?? 0) + remainingOf(state, g));
        }
        const money = (currency: string, value: number) => ({ monetary: { currency, value }, type: 'monetary' });
        return {
          body: {
            object: 'billing.credit_balance_summary',
            balances: [...byCurrency].map(([c, v]) => ({ available_balance: money(c, v), ledger_balance: money(c, v) })),
            customer: customer.id,
            livemode: false,
          },
        };
      },
    },
  ];
}
