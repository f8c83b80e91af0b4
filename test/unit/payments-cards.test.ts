import { expiryOf } from '../../server/payments/cards';
import { isPastDue } from '../../server/payments/invoices';
import { createReadCache } from '../../server/payments/read-cache';

describe('card expiry rule: valid through the end of the expiry month; expiring soon in that month and the month before', () => {
  const on = (iso: string) => new Date(iso);
  it('when the card expires next month, then it is expiring soon, not expired', () => {
    expect(expiryOf(1, 2027, on('2026-12-06T00:00:00Z'))).toEqual({ expired: false, expiringSoon: true });
  });
  it('when the card expires this month, even on its last day, then it is expiring soon, not expired', () => {
    expect(expiryOf(12, 2026, on('2026-12-31T23:59:59Z'))).toEqual({ expired: false, expiringSoon: true });
  });
  it('when the expiry month is over, then it is expired', () => {
    expect(expiryOf(11, 2026, on('2026-12-01T00:00:00Z'))).toEqual({ expired: true, expiringSoon: false });
  });
  it('when the card expires in two months, then it is neither', () => {
    expect(expiryOf(2, 2027, on('2026-12-06T00:00:00Z'))).toEqual({ expired: false, expiringSoon: false });
  });
});

describe('past due', () => {
  const invoice = (o: object) => ({ status: 'open', due_date: null, attempt_count: 0, ...o }) as never;
  it('when an open invoice is past its due date, or was attempted without one, then it is past due; paid or not yet due, not', () => {
    expect(isPastDue(invoice({ due_date: 100 }), 200)).toBe(true);
    expect(isPastDue(invoice({ due_date: 300 }), 200)).toBe(false);
    expect(isPastDue(invoice({ attempt_count: 1 }), 200)).toBe(true);
    expect(isPastDue(invoice({ status: 'paid', due_date: 100 }), 200)).toBe(false);
  });
});

describe('read cache', () => {
  it('when read twice within the TTL, then Stripe is asked once; after the TTL or an invalidation, again; failures are not kept', async () => {
    let clock = 0;
    const cache = createReadCache({ ttlMs: 30_000, now: () => clock });
    let calls = 0;
    const load = async () => ++calls;
    expect(await cache.get('co', 'cus_1', 'k', load)).toBe(1);
    expect(await cache.get('co', 'cus_1', 'k', load)).toBe(1);
    clock = 30_000;
    expect(await cache.get('co', 'cus_1', 'k', load)).toBe(2);
    cache.invalidateCustomer('co', 'cus_1');
    expect(await cache.get('co', 'cus_1', 'k', load)).toBe(3);
    await expect(cache.get('co', 'cus_2', 'k', () => Promise.reject(new Error('down')))).rejects.toThrow('down');
    await new Promise((r) => setImmediate(r));
    expect(await cache.get('co', 'cus_2', 'k', load)).toBe(4);
  });
  it('when a customer is invalidated, then the agency-wide lists go too, and other customers stay', async () => {
    const cache = createReadCache();
    let n = 0;
    const load = async () => ++n;
    await cache.get('co', '*', 'list', load);
    await cache.get('co', 'cus_2', 'k', load);
    cache.invalidateCustomer('co', 'cus_1');
    expect(await cache.get('co', '*', 'list', load)).toBe(3);
    expect(await cache.get('co', 'cus_2', 'k', load)).toBe(2);
  });
});
