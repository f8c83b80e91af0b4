import { excludingTax } from '../../server/money/billed';
import { lineCostCents } from '../../server/money/highlevel-cost';
import { lastMonths, monthBounds, monthOfSeconds } from '../../server/money/months';

describe('HighLevel cost of one line', () => {
  it('when quantity × base cost has a fraction of a cent, then it is rounded to a whole cent, halves up (Stripe’s line rule)', () => {
    expect(lineCostCents('3', '0.5')).toBe(2); // 1.5 → 2, Stripe's own example (docs.stripe.com/billing/subscriptions/decimal-amounts)
    expect(lineCostCents('5', '0.5')).toBe(3); // 2.5 → 3 (banker's rounding would give 2)
    expect(lineCostCents('7', '0.79')).toBe(6); // 5.53 → 6
    expect(lineCostCents('2.25', '1.4')).toBe(3); // 3.15 → 3: decimal quantities (minutes) stay exact
    expect(lineCostCents('1000000', '0.0079')).toBe(7900); // no float error on large counts
  });
});

describe('billed amount of an invoice', () => {
  it('when Stripe gives total_excluding_tax, then that; else the total less its taxes', () => {
    expect(excludingTax({ total: 1100, total_excluding_tax: 1000, total_taxes: [{ amount: 100 }] } as never)).toBe(1000);
    expect(excludingTax({ total: 1100, total_excluding_tax: null, total_taxes: [{ amount: 60 }, { amount: 40 }] } as never)).toBe(1000);
    expect(excludingTax({ total: 900, total_excluding_tax: null, total_taxes: null } as never)).toBe(900);
  });
});

describe('UTC calendar months', () => {
  it('when months are counted back over a new year, then they run oldest first and bound at midnight UTC', () => {
    expect(lastMonths(3, new Date('2027-01-15T23:30:00-05:00'))).toEqual(['2026-11', '2026-12', '2027-01']);
    expect(monthBounds('2026-12')).toEqual({ start: new Date('2026-12-01T00:00:00Z'), end: new Date('2027-01-01T00:00:00Z') });
    expect(monthOfSeconds(Date.parse('2026-11-30T23:59:59Z') / 1000)).toBe('2026-11');
  });
});
