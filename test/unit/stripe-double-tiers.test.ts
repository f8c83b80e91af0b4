import { meteredAmount } from '../support/stripe/invoice-preview';

/**
 * The Stripe double's metered arithmetic against Stripe's own documented examples: graduated tiers price the units
 * in each tier (docs.stripe.com/products-prices/pricing-models#graduated-pricing), volume tiers price every unit at
 * the tier reached, and a line is rounded to the nearest cent (docs.stripe.com/billing/subscriptions/decimal-amounts#rounding).
 */
const tiered = (mode: 'graduated' | 'volume', tiers: Array<[number | null, string, number?]>) => ({
  id: 'price_tiers',
  object: 'price',
  billing_scheme: 'tiered',
  tiers_mode: mode,
  tiers: tiers.map(([up_to, unit, flat]) => ({ up_to, unit_amount_decimal: unit, flat_amount: flat ?? null })),
});
// Stripe's tiered-pricing example (docs.stripe.com/subscriptions/pricing-models/tiered-pricing): 1–5 fonts at 7 USD,
// 6–10 at 6.50 USD, 11+ at 6 USD.
const fonts = (mode: 'graduated' | 'volume') => tiered(mode, [[5, '700'], [10, '650'], [null, '600']]);

describe('the double’s metered amounts', () => {
  it('when usage is graduated, then each tier prices its own units (Stripe’s font example)', () => {
    expect(meteredAmount(fonts('graduated'), 5)).toBe(3500);
    expect(meteredAmount(fonts('graduated'), 6)).toBe(3500 + 650);
    expect(meteredAmount(fonts('graduated'), 20)).toBe(3500 + 5 * 650 + 10 * 600);
  });

  it('when usage is by volume, then every unit is priced at the tier the quantity reaches (Stripe’s font example)', () => {
    expect(meteredAmount(fonts('volume'), 6)).toBe(3900);
    expect(meteredAmount(fonts('volume'), 25)).toBe(15000);
  });

  it('when a free allowance precedes the overage, then usage up to it costs nothing and each further unit its price', () => {
    const plan = tiered('graduated', [[1000, '0'], [null, '1.5']]);
    expect([0, 999, 1000, 1001, 1500].map((q) => meteredAmount(plan, q))).toEqual([0, 0, 0, 2, 750]);
  });

  it('when a tier has a flat amount, then it is added once when usage reaches the tier', () => {
    const plan = tiered('graduated', [[10, '0', 500], [null, '2', 1000]]);
    expect([1, 10, 11, 12].map((q) => meteredAmount(plan, q))).toEqual([500, 500, 1502, 1504]);
  });

  it('when a sub-cent unit price makes a fraction of a cent, then the line is rounded to the nearest cent (Stripe’s 0.05 × 30 = 1.5 → 2)', () => {
    expect(meteredAmount({ id: 'price_unit', object: 'price', billing_scheme: 'per_unit', unit_amount_decimal: '0.05' }, 30)).toBe(2);
    expect(meteredAmount({ id: 'price_unit', object: 'price', billing_scheme: 'per_unit', unit_amount_decimal: '0.05' }, 29)).toBe(1);
  });
});
