/**
 * Addresses of the agency's Stripe objects in the Stripe Dashboard — the one place the page builds them.
 *
 * Stripe's documented forms (docs.stripe.com/stripe-apps/deep-links, "Create the deep link URL"):
 * - live mode `https://dashboard.stripe.com/customers`, test mode `https://dashboard.stripe.com/test/customers`: test
 *   mode puts `/test` before the page;
 * - the full form `https://dashboard.stripe.com/<ACCOUNT_ID>/<MODE>/<PAGE>`: the account id first, so the Dashboard
 *   opens that account even when the signed-in user belongs to several (an agency that connected through Stripe
 *   Connect is a Standard account with its own Dashboard, docs.stripe.com/connect/oauth-reference; a sandbox has
 *   its own account id too).
 * Object pages (docs.stripe.com/stripe-apps/reference/viewports): customer details `dashboard.stripe.com/customers/:id`,
 * subscription details `dashboard.stripe.com/subscriptions/:id`.
 */
import type { StripeConnection } from './api-types';

/** Which Dashboard the agency's objects live in: its mode and, when known, its account (`acct_…`). */
export interface StripeDashboardTarget {
  mode: 'test' | 'live';
  accountId: string | null;
}

/** The Stripe objects the page links to, and their Dashboard page. */
const PAGES = { customer: 'customers', subscription: 'subscriptions' } as const;

/** A Stripe object the page links to: a customer (`cus_…`) or a subscription (`sub_…`). */
export type StripeObjectKind = keyof typeof PAGES;

/**
 * The Dashboard address of one object, e.g. `https://dashboard.stripe.com/acct_1/test/customers/cus_1`
 * (`https://dashboard.stripe.com/customers/cus_1` for a live account whose id is unknown). Ids are URL-encoded.
 */
export function stripeDashboardUrl(target: StripeDashboardTarget, kind: StripeObjectKind, id: string): string {
  const account = target.accountId ? `/${encodeURIComponent(target.accountId)}` : '';
  const mode = target.mode === 'test' ? '/test' : '';
  return `https://dashboard.stripe.com${account}${mode}/${PAGES[kind]}/${encodeURIComponent(id)}`;
}

/**
 * The target of the agency's connection as `GET /api/stripe/connection` reports it (`mode`, `accountId`, stored when
 * Stripe was connected: the key's `sk_test_`/`rk_test_` prefix or the Connect grant's `livemode`), or null when the
 * mode is unknown (never connected, or disconnected): no link can be built then.
 */
export function stripeDashboardTarget(connection: Pick<StripeConnection, 'mode' | 'accountId'> | null | undefined): StripeDashboardTarget | null {
  return connection?.mode ? { mode: connection.mode, accountId: connection.accountId } : null;
}
