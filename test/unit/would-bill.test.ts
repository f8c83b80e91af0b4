import type { ShadowMonth } from '../../server/shadow/shadow-repository';
import { wouldBill, type PricedRuleTerms } from '../../server/shadow/would-bill';

const month = (metric: string, m: string, units: number, reports = units, meterEventName = `meterbridge_${metric}`): ShadowMonth => ({
  metric,
  meterEventName,
  month: m,
  units,
  reports,
  firstCrossedAt: `${m}-01T00:00:00.000Z`,
  lastCrossedAt: `${m}-28T00:00:00.000Z`,
});
const rule = (metric: string, priceTerms: PricedRuleTerms['priceTerms'], threshold = '1000', direction: PricedRuleTerms['direction'] = 'both'): PricedRuleTerms => ({
  metric,
  direction,
  threshold,
  meterEventName: direction === 'both' ? `meterbridge_${metric}` : `meterbridge_${metric}_${direction}`,
  stripePriceId: priceTerms ? 'price_x' : null,
  priceTerms,
});

describe('wouldBill', () => {
  it('when there is no backlog, then the figures are empty and the agency currency is used', () => {
    expect(wouldBill([], [], 'eur')).toEqual({ currency: 'eur', totalCents: '0', firstCrossedAt: null, lastCrossedAt: null, metrics: [] });
  });

  it('when a per-unit price has a fractional amount, then each month is rounded half up on its own before the months are added', () => {
    const result = wouldBill(
      [month('ai_tokens', '2026-09', 1), month('ai_tokens', '2026-10', 3)],
      [rule('ai_tokens', { currency: 'usd', interval: 'month', unitAmountDecimal: '0.5' })],
      'usd',
    );
    // 0.5 → 1 and 1.5 → 2: 3 cents, where rounding the 2 cents of the whole backlog once would say 2.
    expect(result.metrics[0]).toMatchObject({ units: 4, amountCents: '3', threshold: '1000', months: [{ month: '2026-09', units: 1, amountCents: '1' }, { month: '2026-10', units: 3, amountCents: '2' }] });
    expect(result.totalCents).toBe('3');
  });

  it('when a metric has no price or no rule any more, then its units show unpriced and stay out of the total', () => {
    const result = wouldBill(
      [month('email', '2026-10', 4), month('sms', '2026-10', 2), month('whatsapp', '2026-10', 1)],
      [
        rule('sms', { currency: 'usd', interval: 'month', unitAmountDecimal: '3' }, '1'),
        rule('email', null, '1'),
      ],
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
      [
        rule('email', { currency: 'eur', interval: 'month', unitAmountDecimal: '7' }, '1'),
        rule('sms', { currency: 'usd', interval: 'month', unitAmountDecimal: '3' }, '1'),
      ],
      'usd',
    );
    expect(result).toMatchObject({ currency: 'eur', totalCents: '14' });
  });

  it('when graduated tiers are crossed within a month, then each month starts again at the first tier', () => {
    const tiers = { currency: 'usd', interval: 'month' as const, tiers: [{ upTo: 2, unitAmountDecimal: '100' }, { upTo: 'inf' as const, unitAmountDecimal: '10' }] };
    const result = wouldBill([month('call_minutes', '2026-10', 3), month('call_minutes', '2026-11', 3)], [rule('call_minutes', tiers, '1')], 'usd');
    expect(result.metrics[0]!.months.map((m) => m.amountCents)).toEqual(['210', '210']);
    expect(result.totalCents).toBe('420');
  });

  it('when a metric is priced per direction, then each meter is a line priced at its own rule, as Stripe bills two meters', () => {
    const usd = (unitAmountDecimal: string) => ({ currency: 'usd', interval: 'month' as const, unitAmountDecimal });
    const result = wouldBill(
      [month('call_minutes', '2026-10', 4, 4, 'meterbridge_call_minutes_inbound'), month('call_minutes', '2026-10', 2, 2, 'meterbridge_call_minutes_outbound')],
      [rule('call_minutes', usd('5'), '1', 'inbound'), rule('call_minutes', usd('9'), '1', 'outbound')],
      'usd',
    );
    // 4 × 5 ¢ + 2 × 9 ¢ = 38 ¢; one rule for both meters would say 6 × 5 = 30 ¢ or 6 × 9 = 54 ¢.
    expect(result.metrics.map((m) => [m.direction, m.units, m.amountCents])).toEqual([
      ['inbound', 4, '20'],
      ['outbound', 2, '18'],
    ]);
    expect(result.totalCents).toBe('38');
  });

  it('when a metric has one rule for one direction only, then its line names no direction', () => {
    const result = wouldBill([month('sms', '2026-10', 2)], [rule('sms', { currency: 'usd', interval: 'month', unitAmountDecimal: '3' }, '1', 'outbound')], 'usd');
    expect(result.metrics.map((m) => [m.metric, m.direction, m.amountCents])).toEqual([['sms', null, '6']]);
  });
});
