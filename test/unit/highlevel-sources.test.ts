import { readFileSync } from 'node:fs';
import path from 'node:path';
import { doubleBillingWarning, isInSaasMode } from '../../server/highlevel/saas-rebilling';
import { billingMonth, phoneNumberMonthKey } from '../../server/phone-numbers/phone-number-months';

/** The pure rules behind phone numbers by the month and the double-rebilling guard. */
const documentedSaas = JSON.parse(readFileSync(path.join(__dirname, '../fixtures/highlevel/api/saas-subscription.json'), 'utf8'));

describe('billing month of a phone number (UTC calendar month)', () => {
  it.each([
    ['2026-12-31T23:59:59.999Z', '2026-12'],
    ['2027-01-01T00:00:00.000Z', '2027-01'],
    ['2026-12-31T20:00:00-05:00', '2027-01'], // New Year's Eve in New York is already January in UTC
    ['2026-03-01T00:30:00+01:00', '2026-02'],
  ])('when the job runs at %s, then the number is billed for %s', (at, month) => {
    expect(billingMonth(new Date(at))).toBe(month);
  });

  it('when the same number is seen in two months, then it has two keys; in one month, one', () => {
    const dec = phoneNumberMonthKey('loc1', 'PN1', billingMonth(new Date('2026-12-01T00:00:00Z')));
    expect(phoneNumberMonthKey('loc1', 'PN1', billingMonth(new Date('2026-12-31T23:00:00Z')))).toBe(dec);
    expect(phoneNumberMonthKey('loc1', 'PN1', billingMonth(new Date('2027-01-01T00:00:00Z')))).not.toBe(dec);
  });
});

describe('SaaS mode as HighLevel reports it', () => {
  it.each([
    ['HighLevel’s documented answer (saasMode saasV2, a plan and a subscription)', documentedSaas, true],
    ['only the required fields, SaaS V2 off', { locationId: 'l', companyId: 'c', isSaaSV2: false }, false],
    ['saasMode not_activated', { saasMode: 'not_activated' }, false],
    ['saasMode "Not Activated"', { saasMode: 'Not Activated' }, false],
    ['a SaaS plan without a mode', { saasPlanId: 'plan1' }, true],
    ['an empty mode', { saasMode: '  ' }, false],
  ])('when the answer is %s, then it is read as in SaaS mode or not as expected', (_name, answer, expected) => {
    expect(isInSaasMode(answer)).toBe(expected);
  });

  it('when no sub-account is in SaaS mode, then no metric warns; when one is, only metrics HighLevel also rebills do', () => {
    const none = { readable: true, checkedSubAccounts: 3, saasSubAccounts: 0, lastCheckedAt: null };
    const two = { ...none, saasSubAccounts: 2 };
    expect(doubleBillingWarning('sms', none)).toBeNull();
    expect(doubleBillingWarning('sms', two)).toMatch(/^2 sub-accounts are in HighLevel SaaS mode.*"Phone"/);
    expect(doubleBillingWarning('vapi_minutes', two)).toBeNull();
    expect(doubleBillingWarning('ai_call_minutes', two)).toBeNull();
  });
});
