/**
 * The agency's catalogue kept by Meterbridge: one-time products (mirrored as a Stripe product with a one-time
 * default price) and the one-time charges made from them per sub-account (each one Stripe invoice). Part of the
 * Drizzle schema (models/schema.ts re-exports every part). Amounts are integers in the currency's smallest unit (cents).
 * Plans (base fee + per-metric allowance) and the plan each sub-account is on live here too.
 */
import { sql } from 'drizzle-orm';
import { bigint, bigserial, boolean, check, index, integer, numeric, pgTable, primaryKey, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core';
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
 * id and run (`meterbridge-charge-<id>-<attempt>-…`), so a retried step never makes a second invoice or payment. Name
 * and amount are copied from the product at the time of the charge.
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
    /** Runs of the Stripe steps so far; each run's idempotency keys carry its number (server/catalog/one-time-charges.ts). */
    attempts: integer('attempts').notNull().default(0),
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

/**
 * A plan: a base fee (a licensed recurring price, null when the fee is 0) and, per metric, an included allowance
 * billed by a graduated metered price whose first tier (the allowance) is free. The agency's default plan (`isDefault`)
 * applies to sub-accounts with no plan of their own; its base fee is the agency's flat fee (`agencies.flat_fee_*`),
 * which the catalog migration copied into it.
 */
export const plans = pgTable(
  'plans',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    companyId: text('company_id')
      .notNull()
      .references(() => agencies.companyId),
    name: text('name').notNull(),
    currency: text('currency').notNull(),
    interval: text('interval', { enum: ['day', 'week', 'month', 'year'] }).notNull(),
    /** Cents per interval; 0 = no base fee. */
    baseFeeAmount: bigint('base_fee_amount', { mode: 'number' }).notNull(),
    stripeBasePriceId: text('stripe_base_price_id'),
    /** Free days before the first invoice of a subscription that starts on the plan (Stripe `trial_period_days`); null = none. */
    trialDays: integer('trial_days'),
    isDefault: boolean('is_default').notNull().default(false),
    archivedAt: timestamp('archived_at', { withTimezone: true }),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    index('plans_company_idx').on(t.companyId),
    uniqueIndex('plans_one_default_key').on(t.companyId).where(sql`${t.isDefault}`),
    check('plans_base_fee_not_negative', sql`${t.baseFeeAmount} >= 0`),
  ],
);

/** Per plan and metric: units included each period, then the overage price (cents per unit, decimal string). */
export const planMetricPrices = pgTable(
  'plan_metric_prices',
  {
    planId: bigint('plan_id', { mode: 'number' })
      .notNull()
      .references(() => plans.id),
    metric: text('metric').notNull(),
    includedUnits: bigint('included_units', { mode: 'number' }).notNull(),
    overageUnitAmountDecimal: numeric('overage_unit_amount_decimal', { precision: 24, scale: 12 }).notNull(),
    stripeMeterId: text('stripe_meter_id').notNull(),
    stripePriceId: text('stripe_price_id').notNull(),
  },
  (t) => [primaryKey({ columns: [t.planId, t.metric] }), check('plan_metric_included_not_negative', sql`${t.includedUnits} >= 0`)],
);

/** The plan a sub-account is on (none: the agency's default plan). */
export const subAccountPlans = pgTable('sub_account_plans', {
  locationId: text('location_id')
    .primaryKey()
    .references(() => subAccounts.locationId),
  planId: bigint('plan_id', { mode: 'number' })
    .notNull()
    .references(() => plans.id),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
});
