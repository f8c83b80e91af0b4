/**
 * One-time charges: a one-time product billed to a sub-account's Stripe customer as its own invoice
 * (docs.stripe.com/invoicing/integration):
 * 1. a draft invoice (docs.stripe.com/api/invoices/create) with `pending_invoice_items_behavior: 'exclude'` (it takes no
 *    other pending item of the customer) and `auto_advance: false` (Meterbridge drives it);
 * 2. the product's one-time price as an invoice item on that invoice (docs.stripe.com/api/invoiceitems/create,
 *    `pricing[price]`);
 * 3. finalized (docs.stripe.com/api/invoices/finalize); then
 *    - "charge now" (`collection_method: 'charge_automatically'`): paid at once with the customer's default payment
 *      method (docs.stripe.com/api/invoices/pay); a decline leaves the invoice open, the charge `payment_failed`;
 *    - "send invoice" (`collection_method: 'send_invoice'`, `days_until_due`): Stripe emails it
 *      (docs.stripe.com/api/invoices/send), which needs the customer's email.
 * Money safety (DESIGN.md invariant 7) rests on Stripe's own objects, read before each step: the item goes on one
 * given invoice and only while that invoice has no line; an invoice is finalized only as a draft and paid only while
 * open (Stripe refuses to pay a paid invoice). Every call carries an idempotency key from the charge's row id and run
 * (`meterbridge-charge-<id>-<attempt>-invoice|item|finalize|pay|send`, docs.stripe.com/api/idempotent_requests), so
 * stripe-node's network retries within a run are deduplicated by Stripe. Each retry of the charge is a new run with new
 * keys, because Stripe stores a failed answer under its key too ("including 500 errors") and would replay it: an
 * invoice whose creation answer was lost is an empty draft that is never charged. Invoice webhooks update the status
 * afterwards (`syncFromInvoice`).
 */
import type Stripe from 'stripe';
import type { z } from 'zod';
import type { Database } from '../../models/database';
import { AppError, notFound } from '../http/errors';
import { stripeCall } from '../billing-setup/pricing';
import type { StripeForAgency } from '../billing-setup/stripe-for-agency';
import type { CustomerChanged } from './catalog';
import { stripeErrorFields } from '../stripe/stripe-errors';
import { recordAuditStep } from '../audit/ambient-transaction';
import { findSubAccount } from '../tenancy/accounts-repository';
import {
  findCharge,
  findChargeByInvoice,
  findProduct,
  insertCharge,
  listCharges,
  updateCharge,
  type ChargeStatus,
  type OneTimeChargeRow,
} from './catalog-repository';
import type { chargeSchema, createChargeRequest } from './schemas';

export type NewCharge = z.output<typeof createChargeRequest>;
export type OneTimeCharge = z.output<typeof chargeSchema>;

/** A stored charge as the API answers it. */
export function chargeView(row: OneTimeChargeRow): OneTimeCharge {
  return {
    id: row.id,
    locationId: row.locationId,
    productId: row.productId,
    productName: row.productName,
    amount: row.amount,
    currency: row.currency,
    mode: row.mode,
    status: row.status,
    stripeInvoiceId: row.stripeInvoiceId,
    hostedInvoiceUrl: row.hostedInvoiceUrl,
    dueDate: row.dueDate?.toISOString() ?? null,
    error: row.error,
    createdAt: row.createdAt.toISOString(),
  };
}

/** What Stripe's invoice says about the charge (docs.stripe.com/api/invoices/object#invoice_object-status). */
function fromInvoice(charge: OneTimeChargeRow, invoice: Stripe.Invoice) {
  const status: ChargeStatus =
    invoice.status === 'paid' ? 'paid'
    : invoice.status === 'void' ? 'void'
    : invoice.status === 'uncollectible' ? 'uncollectible'
    : invoice.status === 'draft' ? 'pending'
    : charge.mode === 'charge_now' && invoice.attempt_count > 0 ? 'payment_failed'
    : 'open';
  return {
    status,
    hostedInvoiceUrl: invoice.hosted_invoice_url ?? null,
    dueDate: invoice.due_date ? new Date(invoice.due_date * 1000) : null,
  };
}

const RETRYABLE = new Set<ChargeStatus>(['pending', 'failed', 'payment_failed']);

/** `onCustomerChanged`: called after Stripe was asked to invoice the customer (the cached reads of its invoices go stale). */
export function createOneTimeCharges(deps: { db: Database; stripeForAgency: StripeForAgency; onCustomerChanged?: CustomerChanged }) {
  async function subAccountWithCustomer(locationId: string) {
    const sub = await findSubAccount(deps.db, locationId);
    if (!sub) throw notFound(`No sub-account ${locationId}.`);
    if (!sub.stripeCustomerId) throw new AppError(409, 'no_customer', 'Map the sub-account to a Stripe customer before charging it.');
    return { ...sub, stripeCustomerId: sub.stripeCustomerId };
  }

  /** Takes the charge as far as Stripe lets it, from wherever it stands. Stripe refusals are kept on the row. */
  async function advance(stripe: Stripe, start: OneTimeChargeRow, customer: string, priceId: string, automaticTax: boolean): Promise<OneTimeChargeRow> {
    // A retry's audit entry commits with the run it starts (server/audit/audited.ts); a new charge's with its row.
    let charge = await deps.db.transaction(async (tx) => {
      const run = await updateCharge(tx, start.id, { attempts: start.attempts + 1 });
      await recordAuditStep(tx, chargeView(run));
      return run;
    });
    const key = (step: string) => ({ idempotencyKey: `meterbridge-charge-${charge.id}-${charge.attempts}-${step}` });
    const metadata = { meterbridge_charge_id: String(charge.id), meterbridge_location_id: charge.locationId, meterbridge_company_id: charge.companyId };
    try {
      if (!charge.stripeInvoiceId) {
        const created = await stripe.invoices.create(
          {
            customer,
            collection_method: charge.mode === 'charge_now' ? 'charge_automatically' : 'send_invoice',
            ...(charge.mode === 'send_invoice' ? { days_until_due: charge.daysUntilDue ?? 30 } : {}),
            auto_advance: false,
            pending_invoice_items_behavior: 'exclude',
            description: charge.productName,
            metadata,
            ...(automaticTax ? { automatic_tax: { enabled: true } } : {}),
          },
          key('invoice'),
        );
        charge = await updateCharge(deps.db, charge.id, { stripeInvoiceId: created.id! });
      }
      const invoiceId = charge.stripeInvoiceId!;
      let invoice = await stripe.invoices.retrieve(invoiceId);
      if (invoice.status === 'draft') {
        if ((invoice.lines?.data.length ?? 0) === 0) {
          await stripe.invoiceItems.create({ customer, invoice: invoiceId, pricing: { price: priceId }, metadata }, key('item'));
        }
        invoice = await stripe.invoices.finalizeInvoice(invoiceId, { auto_advance: false }, key('finalize'));
      }
      if (charge.mode === 'charge_now' && invoice.status === 'open') {
        try {
          invoice = await stripe.invoices.pay(invoiceId, {}, key('pay'));
        } catch (err) {
          const e = stripeErrorFields(err);
          if (e.statusCode !== 402) throw err;
          // A decline: the invoice stays open in Stripe; the agency can send its link or retry.
          const current = await stripe.invoices.retrieve(invoiceId);
          return updateCharge(deps.db, charge.id, { ...fromInvoice(charge, current), status: 'payment_failed', error: `Stripe: ${e.message}` });
        }
      }
      if (charge.mode === 'send_invoice' && invoice.status === 'open') {
        invoice = await stripe.invoices.sendInvoice(invoiceId, {}, key('send'));
      }
      return updateCharge(deps.db, charge.id, { ...fromInvoice(charge, invoice), error: null });
    } catch (err) {
      await updateCharge(deps.db, charge.id, { status: 'failed', error: `Stripe: ${stripeErrorFields(err).message ?? 'the request failed'}` });
      return stripeCall(() => Promise.reject(err));
    }
  }

  async function productFor(companyId: string, productId: number) {
    const product = await findProduct(deps.db, companyId, productId);
    if (!product) throw new AppError(404, 'product_not_found', `No one-time product ${productId}.`);
    return product;
  }

  return {
    /**
     * Charges a product to the sub-account now (card on file) or by emailed invoice.
     * @returns the charge: `paid`, `open` (sent), or `payment_failed` with Stripe's decline message.
     * @throws AppError 404 unknown sub-account / 404 `product_not_found`; 409 `no_customer`, 409 `product_archived`,
     *   422 `customer_email_required` (send_invoice, customer without email), 409 `stripe_not_connected` — all before
     *   anything is stored; 400/502 `stripe_error` with Stripe's message (the charge is kept as `failed`, retryable).
     */
    async charge(locationId: string, input: NewCharge): Promise<OneTimeCharge> {
      const sub = await subAccountWithCustomer(locationId);
      const product = await productFor(sub.companyId, input.productId);
      if (product.archivedAt) throw new AppError(409, 'product_archived', `The product “${product.name}” is archived.`);
      const stripe = await deps.stripeForAgency(sub.companyId);
      if (input.mode === 'send_invoice') {
        const customer = await stripeCall(() => stripe.customers.retrieve(sub.stripeCustomerId));
        if (customer.deleted || !customer.email) {
          throw new AppError(422, 'customer_email_required', `Stripe customer ${sub.stripeCustomerId} has no email: Stripe cannot send it an invoice. Add a billing email in Stripe, or charge the card on file.`);
        }
      }
      const row = await deps.db.transaction(async (tx) => {
        const inserted = await insertCharge(tx, {
          companyId: sub.companyId,
          locationId,
          productId: product.id,
          productName: product.name,
          amount: product.amount,
          currency: product.currency,
          mode: input.mode,
          daysUntilDue: input.mode === 'send_invoice' ? input.daysUntilDue : null,
        });
        await recordAuditStep(tx, chargeView(inserted));
        return inserted;
      });
      try {
        return chargeView(await advance(stripe, row, sub.stripeCustomerId, product.stripePriceId!, sub.automaticTax));
      } finally {
        await deps.onCustomerChanged?.(sub.companyId, sub.stripeCustomerId);
      }
    },

    /**
     * Retries a charge that is pending, failed or declined: a new run from where Stripe's invoice stands (never a
     * second invoice item or payment).
     * @throws AppError 404 `charge_not_found`; 409 `charge_not_retryable` (open, paid, void, uncollectible); as `charge`.
     */
    async retry(locationId: string, chargeId: number): Promise<OneTimeCharge> {
      const charge = await findCharge(deps.db, locationId, chargeId);
      if (!charge) throw new AppError(404, 'charge_not_found', `No one-time charge ${chargeId} on this sub-account.`);
      if (!RETRYABLE.has(charge.status)) throw new AppError(409, 'charge_not_retryable', `The charge is ${charge.status}: there is nothing to retry.`);
      const sub = await subAccountWithCustomer(locationId);
      const product = await productFor(sub.companyId, charge.productId);
      const stripe = await deps.stripeForAgency(sub.companyId);
      try {
        return chargeView(await advance(stripe, charge, sub.stripeCustomerId, product.stripePriceId!, sub.automaticTax));
      } finally {
        await deps.onCustomerChanged?.(sub.companyId, sub.stripeCustomerId);
      }
    },

    /** The sub-account's one-time charges, newest first. */
    async list(locationId: string): Promise<{ charges: OneTimeCharge[] }> {
      return { charges: (await listCharges(deps.db, locationId)).map(chargeView) };
    },

    /**
     * An invoice webhook's hint for one of our charges: the invoice is re-read (docs.stripe.com/api/invoices/retrieve)
     * and the charge's status set from it. Invoices that are no charge of ours are ignored.
     * @returns whether the invoice was one of ours. @throws Stripe read errors (the webhook answers 5xx, Stripe retries).
     */
    async syncFromInvoice(companyId: string, stripe: Stripe, invoiceId: string): Promise<boolean> {
      const charge = await findChargeByInvoice(deps.db, companyId, invoiceId);
      if (!charge) return false;
      const invoice = await stripe.invoices.retrieve(invoiceId);
      await updateCharge(deps.db, charge.id, fromInvoice(charge, invoice));
      return true;
    },
  };
}

export type OneTimeCharges = ReturnType<typeof createOneTimeCharges>;
