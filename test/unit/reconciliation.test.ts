import { loadConfig } from '../../server/config';
import { decideWindow, type BatchRef } from '../../server/reconciliation/decide';
import { comparisonRange, DAY_SECONDS, windowsOf } from '../../server/reconciliation/windows';

const batch = (batchId: number, value: number): BatchRef => ({ batchId, identifier: `mb_${batchId}`, value });

describe('decideWindow', () => {
  it('when Stripe has what was sent, then nothing is done', () => {
    expect(decideWindow({ ours: 7, stripe: 7, unconfirmed: [], cancellable: [batch(1, 7)] })).toEqual({ missing: 0, excess: 0, actions: [] });
  });

  it('when Stripe lacks units, then one corrective event carries the shortfall', () => {
    expect(decideWindow({ ours: 7, stripe: 4, unconfirmed: [], cancellable: [] })).toEqual({ missing: 3, excess: 0, actions: [{ kind: 'correct', units: 3 }] });
  });

  it('when unconfirmed batches are covered in turn by Stripe’s surplus, then those covered are confirmed and the rest resent', () => {
    const decision = decideWindow({ ours: 5, stripe: 8, unconfirmed: [batch(1, 3), batch(2, 4)], cancellable: [] });
    expect(decision).toEqual({ missing: 4, excess: 0, actions: [{ kind: 'confirm', batch: batch(1, 3) }, { kind: 'resend', batch: batch(2, 4) }] });
  });

  it('when Stripe has more than was sent, then the known doubles adding up to the excess are cancelled', () => {
    const decision = decideWindow({ ours: 10, stripe: 19, unconfirmed: [], cancellable: [batch(1, 5), batch(2, 6), batch(3, 3)] });
    expect(decision).toEqual({ missing: 0, excess: 9, actions: [{ kind: 'cancel', batch: batch(2, 6) }, { kind: 'cancel', batch: batch(3, 3) }] });
  });

  it('when no known doubles add up to the excess, then those that fit are cancelled and the remainder is flagged for a person', () => {
    const decision = decideWindow({ ours: 10, stripe: 18, unconfirmed: [], cancellable: [batch(1, 5), batch(2, 6)] });
    expect(decision).toEqual({ missing: 0, excess: 8, actions: [{ kind: 'cancel', batch: batch(1, 5) }, { kind: 'flag', units: 3 }] });
  });

  it('when Stripe has more than was sent and no event of ours explains it, then all of it is flagged', () => {
    expect(decideWindow({ ours: 4, stripe: 6, unconfirmed: [], cancellable: [] })).toEqual({ missing: 0, excess: 2, actions: [{ kind: 'flag', units: 2 }] });
  });

  it('when a lost unconfirmed batch comes before a counted one, then the exact sum confirms the counted one and resends the lost one', () => {
    const decision = decideWindow({ ours: 0, stripe: 5, unconfirmed: [batch(1, 2), batch(2, 5)], cancellable: [] });
    expect(decision).toEqual({ missing: 2, excess: 0, actions: [{ kind: 'resend', batch: batch(1, 2) }, { kind: 'confirm', batch: batch(2, 5) }] });
  });

  it('when Stripe has less than what was sent and an unconfirmed batch is missing too, then both are repaired', () => {
    expect(decideWindow({ ours: 5, stripe: 3, unconfirmed: [batch(1, 2)], cancellable: [] })).toEqual({
      missing: 4,
      excess: 0,
      actions: [{ kind: 'resend', batch: batch(1, 2) }, { kind: 'correct', units: 2 }],
    });
  });
});

describe('comparisonRange', () => {
  it('when a run happens mid-day, then it compares whole UTC days and the settled, minute-aligned part of today', () => {
    const now = new Date('2026-12-06T10:17:42Z');
    const range = comparisonRange(now, 7200, 3);
    expect(new Date(range.settledBefore * 1000).toISOString()).toBe('2026-12-06T08:17:00.000Z');
    expect(new Date(range.fullDaysEnd * 1000).toISOString()).toBe('2026-12-06T00:00:00.000Z');
    expect(new Date(range.from * 1000).toISOString()).toBe('2026-12-03T00:00:00.000Z');
    const windows = windowsOf(range);
    expect(windows).toHaveLength(4);
    expect(windows.slice(0, 3).every((w) => w.start % DAY_SECONDS === 0 && w.end - w.start === DAY_SECONDS)).toBe(true);
    expect(windows[3]).toEqual({ start: range.fullDaysEnd, end: range.settledBefore });
  });

  it('when the settle time reaches back over midnight, then yesterday is the partial window', () => {
    const range = comparisonRange(new Date('2026-12-06T01:00:30Z'), 7200, 1);
    expect(new Date(range.fullDaysEnd * 1000).toISOString()).toBe('2026-12-05T00:00:00.000Z');
    expect(windowsOf(range).map((w) => new Date(w.end * 1000).toISOString())).toEqual(['2026-12-05T00:00:00.000Z', '2026-12-05T23:00:00.000Z']);
  });
});

describe('reconciliation configuration', () => {
  const KEY_B64 = Buffer.alloc(32, 9).toString('base64');

  it('when nothing is set, then it runs nightly, settles for two hours and looks back 30 days', () => {
    expect(loadConfig({ ENCRYPTION_KEY: KEY_B64 }).reconciliation).toEqual({ enabled: true, schedule: '0 30 3 * * *', settleSeconds: 7200, lookbackDays: 30 });
  });

  it.each([
    ['RECONCILE_SCHEDULE', 'every night'],
    ['RECONCILE_LOOKBACK_DAYS', '34'],
    ['RECONCILE_SETTLE_SECONDS', '-1'],
  ])('when %s is %p, then the service refuses to start naming it', (name, value) => {
    expect(() => loadConfig({ ENCRYPTION_KEY: KEY_B64, [name]: value })).toThrow(new RegExp(name));
  });
});
