/**
 * One-time products: what an agency may charge a client once (a set-up fee, a report). Each is a row here and, on
 * the agency's Stripe account, a product (docs.stripe.com/api/products/create) with a one-time price
 * (docs.stripe.com/api/prices/create: no `recurring`, `unit_amount` in cents, `tax_behavior` inclusive or exclusive),
 * both made with idempotency keys from the row's id (docs.stripe.com/api/idempotent_requests), so a retried request
 * never makes a second product.
 */
import type { z } from 'zod';
import type { Database } from '../../models/database';
import { AppError } from '../http/errors';
import { stripeCall } from '../billing-setup/pricing';
import type { StripeForAgency } from '../billing-setup/stripe-for-agency';
import { archiveProduct, deleteProduct, insertProduct, listProducts, setProductStripeIds, type OneTimeProductRow } from './catalog-repository';
import type { createOneTimeProductRequest, oneTimeProductSchema } from './schemas';

export type NewOneTimeProduct = z.output<typeof createOneTimeProductRequest>;
export type OneTimeProduct = z.output<typeof oneTimeProductSchema>;

/** A stored product as the API answers it. */
export function productView(row: OneTimeProductRow): OneTimeProduct {
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    amount: row.amount,
    currency: row.currency,
    taxBehavior: row.taxBehavior,
    stripeProductId: row.stripeProductId ?? '',
    stripePriceId: row.stripePriceId ?? '',
    archived: row.archivedAt !== null,
    createdAt: row.createdAt.toISOString(),
  };
}

export function createOneTimeProducts(deps: { db: Database; stripeForAgency: StripeForAgency }) {
  return {
    /**
     * Creates the product here and in Stripe (product + one-time price). When Stripe refuses, nothing is kept.
     * @throws AppError 409 `stripe_not_connected`; 400/502 `stripe_error` with Stripe's message.
     */
    async create(companyId: string, input: NewOneTimeProduct): Promise<OneTimeProduct> {
      const stripe = await deps.stripeForAgency(companyId);
      const row = await insertProduct(deps.db, {
        companyId,
        name: input.name,
        description: input.description || null,
        amount: input.amount,
        currency: input.currency,
        taxBehavior: input.taxBehavior,
      });
      const metadata = { meterbridge_company_id: companyId, meterbridge_product_id: String(row.id) };
      try {
        const ids = await stripeCall(async () => {
          const product = await stripe.products.create(
            { name: input.name, ...(input.description ? { description: input.description } : {}), metadata },
            { idempotencyKey: `meterbridge-product-${row.id}` },
          );
          const price = await stripe.prices.create(
            { product: product.id, currency: input.currency, unit_amount: input.amount, tax_behavior: input.taxBehavior, metadata },
            { idempotencyKey: `meterbridge-product-${row.id}-price` },
          );
          return { stripeProductId: product.id, stripePriceId: price.id };
        });
        return productView(await setProductStripeIds(deps.db, row.id, ids));
      } catch (err) {
        await deleteProduct(deps.db, row.id);
        throw err;
      }
    },

    /** The agency's products, active first, newest first. */
    async list(companyId: string): Promise<{ products: OneTimeProduct[] }> {
      return { products: (await listProducts(deps.db, companyId)).map(productView) };
    },

    /**
     * Archives a product: no new charge can use it; charges made stay. Its Stripe price and product are set inactive
     * (docs.stripe.com/api/prices/update, docs.stripe.com/api/products/update `active: false`).
     * @throws AppError 404 `product_not_found`; 409 `stripe_not_connected`; Stripe errors with Stripe's message.
     */
    async archive(companyId: string, id: number): Promise<OneTimeProduct> {
      const row = await archiveProduct(deps.db, companyId, id);
      if (!row?.stripePriceId || !row.stripeProductId) throw new AppError(404, 'product_not_found', `No one-time product ${id}.`);
      const stripe = await deps.stripeForAgency(companyId);
      await stripeCall(async () => {
        await stripe.prices.update(row.stripePriceId!, { active: false });
        await stripe.products.update(row.stripeProductId!, { active: false });
      });
      return productView(row);
    },
  };
}

export type OneTimeProducts = ReturnType<typeof createOneTimeProducts>;
