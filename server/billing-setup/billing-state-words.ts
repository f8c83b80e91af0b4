/**
 * A sub-account's billing state in words: "Billing", or "Not billing" and why. Plain data without imports, so the
 * settings page's bundle can include it (ui/src/agency/status.tsx); the state itself is computed once, on the
 * server, by billing-state.ts.
 */

/** Why a sub-account's usage is not billed, most fundamental first; `billing` when it is. */
export const BILLING_STATES = ['billing', 'uninstalled', 'rebilling_off', 'no_customer', 'shadow', 'paused', 'no_subscription', 'metric_not_covered'] as const;
/** A sub-account's billing state: `billing`, or the reason it is not billed. */
export type BillingState = (typeof BILLING_STATES)[number];
/** The reasons a sub-account is not billed. */
export type NotBillingReason = Exclude<BillingState, 'billing'>;

/** The reason as the list and the page show it after "Not billing: ". */
export const NOT_BILLING_WORDS: Readonly<Record<NotBillingReason, string>> = {
  uninstalled: 'uninstalled',
  rebilling_off: 'rebilling off',
  no_customer: 'no Stripe customer',
  shadow: 'shadow mode',
  paused: 'paused',
  no_subscription: 'no subscription',
  metric_not_covered: 'a metric outside the subscription',
};

/** What the reason means and what to do about it, in an owner's words. */
export const NOT_BILLING_EXPLAINED: Readonly<Record<NotBillingReason, string>> = {
  uninstalled: 'Meterbridge was uninstalled from this sub-account: new usage is no longer counted.',
  rebilling_off: 'Rebilling is switched off: usage is counted, never billed.',
  no_customer: 'No Stripe customer is mapped: usage is counted but not billed. Map or create one on the sub-account’s page.',
  shadow: 'Shadow mode: what would be billed is computed and kept here, nothing is sent to Stripe.',
  paused: 'The Stripe subscription was canceled or paused: usage is kept back until a new subscription starts.',
  no_subscription: 'No Stripe subscription invoices this usage: its units are held until one does. Create the subscription on the sub-account’s page.',
  metric_not_covered: 'The subscription has no item for a metric that was used: those units are held until it does. Update the subscription.',
};

/** "Billing" or "Not billing: no Stripe customer". */
export const billingStateLabel = (state: BillingState): string => (state === 'billing' ? 'Billing' : `Not billing: ${NOT_BILLING_WORDS[state]}`);
