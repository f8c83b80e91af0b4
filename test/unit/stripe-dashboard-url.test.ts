import { stripeDashboardTarget, stripeDashboardUrl } from '../../ui/src/stripe-dashboard';

/**
 * The page's one builder of Stripe Dashboard addresses (ui/src/stripe-dashboard.ts), against the forms Stripe documents
 * (docs.stripe.com/stripe-apps/deep-links: `/test` for test mode, the account id first; object pages from
 * docs.stripe.com/stripe-apps/reference/viewports).
 */
describe('stripeDashboardUrl', () => {
  it('when the account is in test mode, then customers and subscriptions open under /test', () => {
    const test = { mode: 'test' as const, accountId: null };
    expect(stripeDashboardUrl(test, 'customer', 'cus_Abc123')).toBe('https://dashboard.stripe.com/test/customers/cus_Abc123');
    expect(stripeDashboardUrl(test, 'subscription', 'sub_Abc123')).toBe('https://dashboard.stripe.com/test/subscriptions/sub_Abc123');
  });

  it('when the account is in live mode, then customers and subscriptions open without a mode', () => {
    const live = { mode: 'live' as const, accountId: null };
    expect(stripeDashboardUrl(live, 'customer', 'cus_Abc123')).toBe('https://dashboard.stripe.com/customers/cus_Abc123');
    expect(stripeDashboardUrl(live, 'subscription', 'sub_Abc123')).toBe('https://dashboard.stripe.com/subscriptions/sub_Abc123');
  });

  it('when the account id is known (a Connect grant or a key that reads its account), then it comes first, before the mode', () => {
    expect(stripeDashboardUrl({ mode: 'test', accountId: 'acct_1Agency' }, 'customer', 'cus_X')).toBe('https://dashboard.stripe.com/acct_1Agency/test/customers/cus_X');
    expect(stripeDashboardUrl({ mode: 'live', accountId: 'acct_1Agency' }, 'subscription', 'sub_X')).toBe('https://dashboard.stripe.com/acct_1Agency/subscriptions/sub_X');
  });

  it('when an id carries characters that are not part of a path, then they are encoded and stay inside the one segment', () => {
    expect(stripeDashboardUrl({ mode: 'live', accountId: null }, 'customer', 'cus_a/../b?c')).toBe('https://dashboard.stripe.com/customers/cus_a%2F..%2Fb%3Fc');
  });
});

describe('stripeDashboardTarget', () => {
  it('when the connection reports a mode, then the target carries it and the account; without a mode there is none', () => {
    expect(stripeDashboardTarget({ mode: 'live', accountId: 'acct_1' })).toEqual({ mode: 'live', accountId: 'acct_1' });
    expect(stripeDashboardTarget({ mode: 'test', accountId: null })).toEqual({ mode: 'test', accountId: null });
    expect(stripeDashboardTarget({ mode: null, accountId: null })).toBeNull();
    expect(stripeDashboardTarget(null)).toBeNull();
  });
});
