/**
 * The agency's catalogue kept by Meterbridge: one-time products (mirrored as a Stripe product with a one-time
 * default price) and the one-time charges made from them per sub-account (each one Stripe invoice). Part of the
 * Drizzle schema (models/schema.ts re-exports every part). Amounts are integers in the currency's smallest unit (cents).
 */
import { sql } from 'drizzle-orm';
import { bigint, bigserial, check, index, integer, pgTable, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core';
import { agencies, subAccounts } from './tenancy';

/** A one-time product. `stripeProductId`/`stripePriceId` are null only while Stripe is being asked (or it refused). */
export const oneTimeProducts = pgTable(
  'one_time_products',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    companyId: text('company_id')
      .notNull()
      .references(() => agencies.companyId),
    name: text('name').notNull(),
    description: text('description'),
    /** Cents. */
    amount: bigint('amount', { mode: 'number' }).notNull(),
    currency: text('currency').notNull(),
    taxBehavior: text('tax_behavior', { enum: ['inclusive', 'exclusive'] }).notNull(),
    stripeProductId: text('stripe_product_id'),
    stripePriceId: text('stripe_price_id'),
    archivedAt: timestamp('archived_at', { withTimezone: true }),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index('one_time_products_company_idx').on(t.companyId), check('one_time_products_amount_positive', sql`${t.amount} > 0`)],
);

/** Where a one-time charge stands (server/catalog/schemas.ts CHARGE_STATUSES says what each means). */
export const ONE_TIME_CHARGE_STATUSES = ['pending', 'open', 'paid', 'payment_failed', 'void', 'uncollectible', 'failed'] as const;

/**
 * One charge of a product to a sub-account: its Stripe invoice, made with idempotency keys derived from this row's
 * id (`meterbridge-charge-<id>-…`), so a retried step never makes a second invoice or payment. Name and amount are
 * copied from the product at the time of the charge.
 */
export const oneTimeCharges = pgTable(
  'one_time_charges',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    companyId: text('company_id')
      .notNull()
      .references(() => agencies.companyId),
    locationId: text('location_id')
      .notNull()
      .references(() => subAccounts.locationId),
    productId: bigint('product_id', { mode: 'number' })
      .notNull()
      .references(() => oneTimeProducts.id),
    productName: text('product_name').notNull(),
    /** Cents. */
    amount: bigint('amount', { mode: 'number' }).notNull(),
    currency: text('currency').notNull(),
    mode: text('mode', { enum: ['charge_now', 'send_invoice'] }).notNull(),
    daysUntilDue: integer('days_until_due'),
    status: text('status', { enum: ONE_TIME_CHARGE_STATUSES }).notNull().default('pending'),
    /** Payment attempts made by Meterbridge (each `invoices.pay` has its own key). */
    payAttempts: integer('pay_attempts').notNull().default(0),
    stripeInvoiceId: text('stripe_invoice_id'),
    hostedInvoiceUrl: text('hosted_invoice_url'),
    dueDate: timestamp('due_date', { withTimezone: true }),
    error: text('error'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    index('one_time_charges_location_idx').on(t.locationId, t.createdAt),
    uniqueIndex('one_time_charges_invoice_key').on(t.stripeInvoiceId),
    check('one_time_charges_amount_positive', sql`${t.amount} > 0`),
  ],
);
