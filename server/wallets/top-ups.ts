/**
 * Charging a wallet top-up and turning it into Stripe credit. Stripe's prepaid billing credits guide
 * (docs.stripe.com/billing/subscriptions/usage-based/billing-credits/implementation-guide, "Sell prepaid credits")
 * collects the money first and grants credit once it is paid. Meterbridge collects with an INVOICE rather than a bare
 * PaymentIntent because an invoice charges the customer's default payment method for invoices (the card on file the
 * payments pages already manage), the client gets a numbered document and receipt for what it prepaid, and a decline
 * arrives through the invoice events and `payment-problem.ts` that already drive the dunning path — a PaymentIntent
 * would need its own payment-method choice, receipts and failure handling. The steps:
 * 1. a draft invoice (docs.stripe.com/api/invoices/create) for "Wallet top-up", `charge_automatically`,
 *    `auto_advance: false`, `pending_invoice_items_behavior: 'exclude'`, metadata `meterbridge_top_up_id`;
 * 2. one invoice item of the amount (docs.stripe.com/api/invoiceitems/create, `amount` + `currency`), only while the
 *    draft has no line; 3. finalized, then paid with the card on file (docs.stripe.com/api/invoices/pay);
 * 4. once paid, a monetary credit grant (docs.stripe.com/api/billing/credit-grant/create) of the same amount,
 *    `category: 'paid'`, `applicability_config.scope.price_type: 'metered'`, metadata `meterbridge_top_up_id`.
 * Never charged twice: every call carries an idempotency key from the top-up's row id and run
 * (`meterbridge-topup-<id>-<run>-invoice|item|finalize|pay|grant`, docs.stripe.com/api/idempotent_requests); each run
 * first re-reads Stripe — the invoice (found by its metadata when its creation answer was lost), its lines and status,
 * the customer's grants — so a resumed run never adds a second item, pays a paid invoice or grants twice. A new run
 * uses new keys because Stripe stores failed answers under a key too and would replay them.
 */
import type { Logger } from 'pino';
import type Stripe from 'stripe';
import type { Database } from '../../models/database';
import { INVOICE_PAYMENT_EXPAND, invoicePaymentState, statusFor } from '../stripe/payment-problem';
import { stripeErrorFields } from '../stripe/stripe-errors';
import { setSubAccountBilling } from '../tenancy/accounts-repository';
import type { z } from 'zod';
import type { topUpSchema } from './schemas';
import { updateTopUp, type TopUpRow } from './wallet-repository';
import { recordAuditStep } from '../audit/ambient-transaction';

/** A ledger row as the API answers it. */
export const topUpView = (row: TopUpRow): z.infer<typeof topUpSchema> => ({
  id: row.id,
  trigger: row.trigger,
  amountCents: row.amountCents,
  currency: row.currency,
  status: row.status,
  balanceBeforeCents: row.balanceBeforeCents,
  stripeInvoiceId: row.stripeInvoiceId,
  stripeCreditGrantId: row.stripeCreditGrantId,
  error: row.error,
  createdAt: row.createdAt.toISOString(),
});

/** Runs after which a top-up whose invoice is still unpaid (and not declined) is given up as `failed`. */
export const MAX_TOP_UP_RUNS = 5;
/** What the invoice and its item say to the client. */
export const TOP_UP_DESCRIPTION = 'Wallet top-up';

/** Finds one of our objects by its `meterbridge_top_up_id` metadata in a Stripe list (newest 100). */
const byTopUp = <T extends { metadata?: Stripe.Metadata | null }>(items: T[], id: number) => items.find((o) => o.metadata?.meterbridge_top_up_id === String(id));

/**
 * Takes a top-up as far as Stripe lets it, from wherever it stands (also a `payment_failed` one: its open invoice is
 * paid again, or granted when the client paid it meanwhile): `granted`; `payment_failed` on a card decline (402; the
 * sub-account gets Stripe's payment problem, as for any unpaid invoice); `failed` when the invoice was voided or marked
 * uncollectible, or after MAX_TOP_UP_RUNS. The caller makes sure no other top-up of the sub-account is in flight
 * (the unique index refuses a second one: a database error, before any Stripe call).
 * Any other Stripe failure leaves it in flight with the message in `error`, for the next run (the auto top-up job).
 * @returns the row as stored. Never throws for a Stripe failure; database errors propagate.
 */
export async function advanceTopUp(deps: { db: Database; logger: Logger }, stripe: Stripe, start: TopUpRow, customer: string): Promise<TopUpRow> {
  const db = deps.db;
  // A declined top-up is resumed on its own open invoice (paid again, or found paid by the client): never a new invoice.
  // "Top up now" resuming this top-up: its audit entry commits with the run it starts (server/audit/audited.ts).
  let row = await db.transaction(async (tx) => {
    const run = await updateTopUp(tx, start.id, { attempts: start.attempts + 1, status: start.status === 'payment_failed' ? 'pending' : start.status });
    await recordAuditStep(tx, run);
    return run;
  });
  const key = (step: string) => ({ idempotencyKey: `meterbridge-topup-${row.id}-${row.attempts}-${step}` });
  const metadata = { meterbridge_top_up_id: String(row.id), meterbridge_location_id: row.locationId, meterbridge_company_id: row.companyId };
  try {
    if (row.status === 'pending') {
      if (!row.stripeInvoiceId) {
        // A run whose creation answer was lost: the invoice may exist already.
        const found = row.attempts > 1 ? byTopUp((await stripe.invoices.list({ customer, limit: 100 })).data, row.id) : undefined;
        const invoice =
          found ??
          (await stripe.invoices.create(
            { customer, collection_method: 'charge_automatically', auto_advance: false, pending_invoice_items_behavior: 'exclude', currency: row.currency, description: TOP_UP_DESCRIPTION, metadata },
            key('invoice'),
          ));
        row = await updateTopUp(db, row.id, { stripeInvoiceId: invoice.id! });
      }
      const invoiceId = row.stripeInvoiceId!;
      let invoice = await stripe.invoices.retrieve(invoiceId);
      if (invoice.status === 'draft') {
        if ((invoice.lines?.data.length ?? 0) === 0) {
          await stripe.invoiceItems.create({ customer, invoice: invoiceId, amount: row.amountCents, currency: row.currency, description: TOP_UP_DESCRIPTION, metadata }, key('item'));
        }
        invoice = await stripe.invoices.finalizeInvoice(invoiceId, { auto_advance: false }, key('finalize'));
      }
      if (invoice.status === 'open') {
        try {
          invoice = await stripe.invoices.pay(invoiceId, {}, key('pay'));
        } catch (err) {
          const e = stripeErrorFields(err);
          if (e.statusCode !== 402) throw err;
          return declined(deps, stripe, row, invoiceId, e.message ?? 'the card was declined');
        }
      }
      if (invoice.status === 'void' || invoice.status === 'uncollectible') {
        return updateTopUp(db, row.id, { status: 'failed', error: `Stripe: the top-up invoice was marked ${invoice.status}.` });
      }
      if (invoice.status !== 'paid') {
        const status = row.attempts >= MAX_TOP_UP_RUNS ? 'failed' : 'pending';
        return updateTopUp(db, row.id, { status, error: `Stripe: the top-up invoice is ${invoice.status}.` });
      }
      row = await updateTopUp(db, row.id, { status: 'paid', error: null });
    }
    if (row.status === 'paid' && !row.stripeCreditGrantId) {
      const found = row.attempts > 1 ? byTopUp((await stripe.billing.creditGrants.list({ customer, limit: 100 })).data, row.id) : undefined;
      const grant =
        found ??
        (await stripe.billing.creditGrants.create(
          {
            customer,
            amount: { type: 'monetary', monetary: { currency: row.currency, value: row.amountCents } },
            applicability_config: { scope: { price_type: 'metered' } },
            category: 'paid',
            name: TOP_UP_DESCRIPTION,
            metadata,
          },
          key('grant'),
        ));
      row = await updateTopUp(db, row.id, { stripeCreditGrantId: grant.id });
    }
    return row.stripeCreditGrantId ? updateTopUp(db, row.id, { status: 'granted', error: null }) : row;
  } catch (err) {
    const message = `Stripe: ${stripeErrorFields(err).message ?? (err as Error).message ?? 'the request failed'}`;
    deps.logger.warn({ topUpId: row.id, locationId: row.locationId, err: message }, 'wallet top-up: Stripe call failed; left in flight');
    // Paid money is never given up: a paid top-up stays in flight until its grant exists.
    const giveUp = row.status === 'pending' && row.attempts >= MAX_TOP_UP_RUNS;
    return updateTopUp(db, row.id, { status: giveUp ? 'failed' : row.status, error: message });
  }
}

/**
 * A declined top-up: `payment_failed` with Stripe's message, and the sub-account's billing status from the invoice
 * as payment-problem.ts reads it (the same dunning path as an unpaid subscription invoice).
 */
async function declined(deps: { db: Database; logger: Logger }, stripe: Stripe, row: TopUpRow, invoiceId: string, message: string): Promise<TopUpRow> {
  try {
    const invoice = await stripe.invoices.retrieve(invoiceId, { expand: INVOICE_PAYMENT_EXPAND });
    const next = statusFor(invoicePaymentState(invoice));
    if (next) await setSubAccountBilling(deps.db, row.locationId, { billingStatus: next.billingStatus, billingStatusReason: next.reason, paymentProblem: next.problem });
  } catch (err) {
    deps.logger.warn({ topUpId: row.id, err: stripeErrorFields(err).message }, 'wallet top-up: could not read the declined invoice');
  }
  return updateTopUp(deps.db, row.id, { status: 'payment_failed', error: `Stripe: ${message}` });
}
