import type { ShadowMonth } from '../../server/shadow/shadow-repository';
import { wouldBill, type PricedRuleTerms } from '../../server/shadow/would-bill';

const month = (metric: string, m: string, units: number, reports = units): ShadowMonth => ({
  metric,
  month: m,
  units,
  reports,
  firstCrossedAt: `${m}-01T00:00:00.000Z`,
  lastCrossedAt: `${m}-28T00:00:00.000Z`,
});
const rule = (priceTerms: PricedRuleTerms['priceTerms'], threshold = '1000'): PricedRuleTerms => ({
  threshold,
  meterEventName: 'meterbridge_x',
  stripePriceId: priceTerms ? 'price_x' : null,
  priceTerms,
});

describe('wouldBill', () => {
  it('when there is no backlog, then the figures are empty and the agency currency is used', () => {
    expect(wouldBill([], new Map(), 'eur')).toEqual({ currency: 'eur', totalCents: '0', firstCrossedAt: null, lastCrossedAt: null, metrics: [] });
  });

  it('when a per-unit price has a fractional amount, then each month is rounded half up on its own before the months are added', () => {
    const result = wouldBill(
      [month('ai_tokens', '2026-09', 1), month('ai_tokens', '2026-10', 3)],
      new Map([['ai_tokens', rule({ currency: 'usd', interval: 'month', unitAmountDecimal: '0.5' })]]),
      'usd',
    );
    // 0.5 → 1 and 1.5 → 2: 3 cents, where rounding the 2 cents of the whole backlog once would say 2.
    expect(result.metrics[0]).toMatchObject({ units: 4, amountCents: '3', threshold: '1000', months: [{ month: '2026-09', units: 1, amountCents: '1' }, { month: '2026-10', units: 3, amountCents: '2' }] });
    expect(result.totalCents).toBe('3');
  });

  it('when a metric has no price or no rule any more, then its units show unpriced and stay out of the total', () => {
    const result = wouldBill(
      [month('email', '2026-10', 4), month('sms', '2026-10', 2), month('whatsapp', '2026-10', 1)],
      new Map([
        ['sms', rule({ currency: 'usd', interval: 'month', unitAmountDecimal: '3' }, '1')],
        ['email', rule(null, '1')],
      ]),
      'usd',
    );
    expect(result.metrics.map((m) => [m.metric, m.units, m.priced, m.amountCents, m.threshold])).toEqual([
      ['email', 4, false, null, '1'],
      ['sms', 2, true, '6', '1'],
      ['whatsapp', 1, false, null, null],
    ]);
    expect(result.totalCents).toBe('6');
  });

  it('when metrics are priced in different currencies, then the total holds only the first priced currency', () => {
    const result = wouldBill(
      [month('email', '2026-10', 2), month('sms', '2026-10', 2)],
      new Map([
        ['email', rule({ currency: 'eur', interval: 'month', unitAmountDecimal: '7' }, '1')],
        ['sms', rule({ currency: 'usd', interval: 'month', unitAmountDecimal: '3' }, '1')],
      ]),
      'usd',
    );
    expect(result).toMatchObject({ currency: 'eur', totalCents: '14' });
  });

  it('when graduated tiers are crossed within a month, then each month starts again at the first tier', () => {
    const tiers = { currency: 'usd', interval: 'month' as const, tiers: [{ upTo: 2, unitAmountDecimal: '100' }, { upTo: 'inf' as const, unitAmountDecimal: '10' }] };
    const result = wouldBill([month('call_minutes', '2026-10', 3), month('call_minutes', '2026-11', 3)], new Map([['call_minutes', rule(tiers, '1')]]), 'usd');
    expect(result.metrics[0]!.months.map((m) => m.amountCents)).toEqual(['210', '210']);
    expect(result.totalCents).toBe('420');
  });
});
