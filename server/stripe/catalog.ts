/**
 * Meterbridge's catalog on the agency's own Stripe account: one billing meter per event name, and prices found by
 * a lookup key derived from their terms — so running any of these again with the same input finds what exists and
 * creates nothing (docs.stripe.com/products-prices/manage-prices#lookup-keys). Creates carry an idempotency key
 * derived from the same terms, so a create retried after a lost answer is not made twice
 * (docs.stripe.com/api/idempotent_requests; keys are kept by Stripe for at least 24 hours).
 *
 * Amounts are in the currency's smallest unit (cents for USD): `unitAmount` an integer, `unitAmountDecimal` a
 * decimal string that may be fractional ('0.75' = ¾ of a cent per unit).
 */
import { createHash } from 'node:crypto';
import Stripe from 'stripe';
import { AppError, badRequest } from '../http/errors';
import { commonTerms, meteredTerms } from './price-terms';

/** Which meter: `eventName` is what meter events carry (≤ 100 chars); `displayName` is shown in Stripe (≤ 250). */
export interface MeterInput {
  metric: string;
  eventName: string;
  displayName: string;
}

/** A meter Meterbridge can report to: `id` `mtr_…`, and the event name it aggregates. */
export interface EnsuredMeter {
  id: string;
  eventName: string;
}

/** What Meterbridge's meter events look like (server/stripe/meter-reporter.ts), hence what a meter must read. */
const METER_SHAPE = { formula: 'sum', customerKey: 'stripe_customer_id', valueKey: 'value' } as const;

/**
 * Finds the active billing meter for `eventName`, or creates it: sum aggregation, customer mapped `by_id` from the
 * payload key `stripe_customer_id`, value from `value` (docs.stripe.com/api/billing/meter/create). Active meters are
 * listed with auto-pagination (docs.stripe.com/api/billing/meter/list, docs.stripe.com/api/pagination/auto); Stripe
 * allows one active meter per event name.
 *
 * @throws AppError 400 `invalid_meter` for an empty or over-long event or display name.
 * @throws AppError 409 `stripe_meter_incompatible` when the active meter for `eventName` aggregates or reads its
 *   payload differently from what Meterbridge sends (it would bill wrong amounts); nothing is changed then.
 * @throws the stripe-node error (Stripe's message) when a Stripe call fails.
 */
export async function ensureMeter(stripe: Stripe, input: MeterInput): Promise<EnsuredMeter> {
  const eventName = input.eventName.trim();
  const displayName = input.displayName.trim();
  if (!eventName || eventName.length > 100) throw badRequest('invalid_meter', 'A meter event name has 1 to 100 characters.');
  if (!displayName || displayName.length > 250) throw badRequest('invalid_meter', 'A meter display name has 1 to 250 characters.');

  for await (const meter of stripe.billing.meters.list({ status: 'active', limit: 100 })) {
    if (meter.event_name !== eventName) continue;
    const problems = [
      meter.default_aggregation.formula !== METER_SHAPE.formula && `aggregates with "${meter.default_aggregation.formula}"`,
      meter.customer_mapping.event_payload_key !== METER_SHAPE.customerKey && `maps customers from "${meter.customer_mapping.event_payload_key}"`,
      meter.value_settings.event_payload_key !== METER_SHAPE.valueKey && `reads its value from "${meter.value_settings.event_payload_key}"`,
    ].filter(Boolean);
    if (problems.length > 0) {
      throw new AppError(
        'stripe_meter_incompatible',
        `The active Stripe meter ${meter.id} for "${eventName}" (${input.metric}) ${problems.join(', ')}; Meterbridge sends a sum of ` +
          `"${METER_SHAPE.valueKey}" per "${METER_SHAPE.customerKey}". Deactivate that meter in Stripe or use another event name.`,
      );
    }
    return { id: meter.id, eventName: meter.event_name };
  }

  const params: Stripe.Billing.MeterCreateParams = {
    display_name: displayName,
    event_name: eventName,
    default_aggregation: { formula: METER_SHAPE.formula },
    customer_mapping: { type: 'by_id', event_payload_key: METER_SHAPE.customerKey },
    value_settings: { event_payload_key: METER_SHAPE.valueKey },
  };
  // A meter deactivated since an earlier create under this key is replaced (see createOnce).
  const meter = await createOnce(
    `meterbridge-meter-${digest(params, 40)}`,
    (idempotencyKey) => stripe.billing.meters.create(params, { idempotencyKey }),
    async (id) => (await stripe.billing.meters.retrieve(id)).status === 'active', // docs.stripe.com/api/billing/meter/retrieve
  );
  return { id: meter.id, eventName: meter.event_name };
}

/**
 * Whether a price's amount includes tax (`inclusive`) or tax is added on top (`exclusive`): Stripe's `tax_behavior`
 * (docs.stripe.com/tax/products-prices-tax-categories-tax-behavior). Once set to either, Stripe never lets it change
 * (docs.stripe.com/api/prices/update `tax_behavior`), so it is part of every price's terms and lookup key: another
 * tax behavior is another price.
 */
export type TaxBehavior = 'inclusive' | 'exclusive';

/** A billing interval of a recurring price (docs.stripe.com/api/prices/create `recurring.interval`). */
export type PriceInterval = 'day' | 'week' | 'month' | 'year';

/**
 * One graduated tier: units up to `upTo` (inclusive; `'inf'` for the last, open-ended tier) cost `unitAmountDecimal`
 * cents each, plus `flatAmount` cents once when usage reaches the tier (docs.stripe.com/products-prices/pricing-models#graduated-pricing).
 */
export interface PriceTier {
  upTo: number | 'inf';
  /** Cents per unit, decimal string, at most 12 decimal places, e.g. '0.75'. */
  unitAmountDecimal: string;
  /** Integer cents, once per period when the tier is reached. */
  flatAmount?: number;
}

/**
 * A metered price's terms. Exactly one of `unitAmountDecimal` (per-unit price) and `tiers` (graduated). Same shape
 * as the stored `PriceTerms` (models/schema.ts) plus where the price belongs.
 */
export interface MeteredPriceInput {
  metric: string;
  /** The billing meter the price reads usage from (`mtr_…`, see ensureMeter). */
  meterId: string;
  /** Name of the product Stripe creates with the price; shown on invoices. */
  productName: string;
  /** Three-letter ISO code in lowercase, e.g. 'usd'. */
  currency: string;
  interval: PriceInterval;
  /** Cents per unit, decimal string, at most 12 decimal places; may be fractional like '0.75'. */
  unitAmountDecimal?: string;
  tiers?: PriceTier[];
  /** Stripe's `tax_behavior` of the price; part of its terms. */
  taxBehavior: TaxBehavior;
}

/** A price Meterbridge uses: `id` `price_…` and the lookup key it is found by. */
export interface EnsuredPrice {
  id: string;
  lookupKey: string;
}

/**
 * Finds the active metered price with these terms, or creates it (docs.stripe.com/api/prices/create): recurring,
 * `usage_type=metered` on `meterId`; per-unit with `unit_amount_decimal`, or `billing_scheme=tiered`,
 * `tiers_mode=graduated` when `tiers` are given; its product made inline from `productName` (`product_data`); its
 * `tax_behavior` from `taxBehavior`.
 * The lookup key is `meterbridge:<metric>:<hash of the terms>` (≤ 200 characters, docs.stripe.com/api/prices/create
 * `lookup_key`); it is looked up with `lookup_keys[]` and `active=true` (docs.stripe.com/api/prices/list), and a new
 * price takes it over from an archived one (`transfer_lookup_key`). Equal amounts written differently ('0.750' and
 * '0.75') are the same terms.
 *
 * @throws AppError 400 `invalid_price_terms` when the terms are not a valid price (currency, interval, amounts, tiers).
 * @throws the stripe-node error (Stripe's message) when a Stripe call fails.
 */
export async function ensureMeteredPrice(stripe: Stripe, input: MeteredPriceInput): Promise<EnsuredPrice> {
  const terms = meteredTerms(input);
  const lookupKey = `meterbridge:${input.metric.slice(0, 120)}:${digest(terms, 24)}`;
  const existing = await findPrice(
    stripe,
    lookupKey,
    (p) => p.recurring?.usage_type === 'metered' && p.recurring.meter === input.meterId && p.tax_behavior === terms.taxBehavior,
  );
  if (existing) return { id: existing, lookupKey };

  const pricing: Pick<Stripe.PriceCreateParams, 'billing_scheme' | 'unit_amount_decimal' | 'tiers_mode' | 'tiers'> =
    terms.tiers === null
      ? { billing_scheme: 'per_unit', unit_amount_decimal: Stripe.Decimal.from(terms.unitAmountDecimal!) }
      : {
          billing_scheme: 'tiered',
          tiers_mode: 'graduated',
          tiers: terms.tiers.map((t) => ({
            up_to: t.upTo,
            unit_amount_decimal: Stripe.Decimal.from(t.unitAmountDecimal),
            ...(t.flatAmount > 0 ? { flat_amount: t.flatAmount } : {}),
          })),
        };
  const price = await createOnce(
    `meterbridge-price-${digest(lookupKey, 40)}`,
    (idempotencyKey) =>
      stripe.prices.create(
        {
          currency: terms.currency,
          product_data: { name: terms.productName, metadata: { meterbridge_metric: input.metric } },
          recurring: { interval: terms.interval, usage_type: 'metered', meter: terms.meterId },
          ...pricing,
          tax_behavior: terms.taxBehavior,
          lookup_key: lookupKey,
          transfer_lookup_key: true,
          metadata: { meterbridge_metric: input.metric },
        },
        { idempotencyKey },
      ),
    priceIsActive(stripe),
  );
  return { id: price.id, lookupKey };
}

/** A flat recurring fee: `unitAmount` integer cents per `interval`, e.g. 4900 = $49.00 a month. */
export interface FlatFeePriceInput {
  productName: string;
  currency: string;
  unitAmount: number;
  interval: PriceInterval;
  /** Stripe's `tax_behavior` of the price; part of its terms. */
  taxBehavior: TaxBehavior;
}

/**
 * Finds the active flat-fee price with these terms, or creates it: a licensed recurring price (quantity 1 on a
 * subscription) of `unit_amount` cents (docs.stripe.com/api/prices/create), lookup key
 * `meterbridge:flat_fee:<hash of the terms>`, found as ensureMeteredPrice does.
 *
 * @throws AppError 400 `invalid_price_terms` for an invalid currency, interval or amount (an integer 0–99,999,999).
 * @throws the stripe-node error (Stripe's message) when a Stripe call fails.
 */
export async function ensureFlatFeePrice(stripe: Stripe, input: FlatFeePriceInput): Promise<EnsuredPrice> {
  const { currency, interval, productName, taxBehavior } = commonTerms(input);
  if (!Number.isSafeInteger(input.unitAmount) || input.unitAmount < 0 || input.unitAmount > 99_999_999) {
    throw badRequest('invalid_price_terms', 'The flat fee is a whole number of cents from 0 to 99,999,999.');
  }
  const terms = { v: 1, kind: 'flat_fee', productName, currency, interval, unitAmount: input.unitAmount, taxBehavior };
  const lookupKey = `meterbridge:flat_fee:${digest(terms, 24)}`;
  const existing = await findPrice(
    stripe,
    lookupKey,
    (p) => p.recurring?.usage_type === 'licensed' && p.unit_amount === input.unitAmount && p.tax_behavior === taxBehavior,
  );
  if (existing) return { id: existing, lookupKey };
  const price = await createOnce(
    `meterbridge-price-${digest(lookupKey, 40)}`,
    (idempotencyKey) =>
      stripe.prices.create(
        {
          currency,
          product_data: { name: productName, metadata: { meterbridge_flat_fee: 'true' } },
          recurring: { interval, usage_type: 'licensed' },
          unit_amount: input.unitAmount,
          tax_behavior: taxBehavior,
          lookup_key: lookupKey,
          transfer_lookup_key: true,
          metadata: { meterbridge_flat_fee: 'true' },
        },
        { idempotencyKey },
      ),
    priceIsActive(stripe),
  );
  return { id: price.id, lookupKey };
}

/** The id of the active price holding `lookupKey` when it is the expected kind; otherwise null (one is created). */
async function findPrice(stripe: Stripe, lookupKey: string, matches: (price: Stripe.Price) => boolean): Promise<string | null> {
  const found = await stripe.prices.list({ lookup_keys: [lookupKey], active: true, limit: 1 });
  const price = found.data[0];
  return price && matches(price) ? price.id : null;
}

/** docs.stripe.com/api/prices/retrieve: an archived price has `active: false` and cannot go on a subscription. */
const priceIsActive = (stripe: Stripe) => async (id: string) => (await stripe.prices.retrieve(id)).active;

/**
 * Creates with an idempotency key derived from the terms. Stripe answers a key it remembers with the stored first
 * answer (header `Idempotent-Replayed: true`) — which may name an object deactivated or archived since. Then the
 * object is checked and, if no longer `usable`, made again under a key that names it: still deterministic, so a
 * retry of that create is still deduplicated.
 */
async function createOnce<T extends { id: string }>(
  key: string,
  create: (idempotencyKey: string) => Promise<Stripe.Response<T>>,
  usable: (id: string) => Promise<boolean>,
): Promise<T> {
  let created = await create(key);
  for (let attempt = 0; attempt < 3; attempt++) {
    if (created.lastResponse?.headers?.['idempotent-replayed'] !== 'true' || (await usable(created.id))) break;
    key = `${key}~${created.id}`.slice(-255);
    created = await create(key);
  }
  return created;
}

/** Hex SHA-256 of a value's JSON (object keys in insertion order, which the callers fix), cut to `length`. */
function digest(value: unknown, length: number): string {
  return createHash('sha256').update(JSON.stringify(value)).digest('hex').slice(0, length);
}
