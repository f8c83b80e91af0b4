/**
 * Drives "Connect with Stripe" the way a browser does, against the service and the Stripe double
 * (test/support/stripe/connect-oauth.ts): start as an agency admin, follow the authorize redirect (keeping its
 * cookie), approve on "Stripe's page", come back to the callback.
 */
import Stripe from 'stripe';
import type { StripeStub } from './stripe-stub';
import type { TestService } from './test-service';

/** The Connect platform the double plays, as the service's environment. */
export const connectEnv = (stripe: StripeStub, appUrl = 'http://localhost:3999') => ({
  APP_URL: appUrl,
  STRIPE_API_URL: stripe.url,
  STRIPE_CONNECT_CLIENT_ID: stripe.connect.clientId,
  STRIPE_CONNECT_SECRET_KEY: stripe.connect.platformKey,
  STRIPE_CONNECT_WEBHOOK_SECRET: CONNECT_WEBHOOK_SECRET,
});
export const CONNECT_WEBHOOK_SECRET = 'whsec_connectTestSecret0001';

/** A bearer header of an agency user (admin by default). */
export async function agencyAuth(t: TestService, companyId: string, role = 'admin'): Promise<string> {
  const { token } = await t.service.sessionTokens.issue({ userId: `u-${companyId}-${role}`, companyId, type: 'agency', role, activeLocation: null });
  return `Bearer ${token}`;
}

/** Starts an authorization and follows Meterbridge's redirect: the Stripe URL, the state and the browser's cookie. */
export async function beginConnect(t: TestService, companyId: string): Promise<{ stripeUrl: URL; state: string; cookie: string }> {
  const started = await t.http.post('/api/stripe/connect').set('authorization', await agencyAuth(t, companyId)).expect(200);
  const link = new URL(started.body.authorizeUrl);
  const redirect = await t.http.get(`${link.pathname}${link.search}`).expect(302);
  const stripeUrl = new URL(String(redirect.headers.location));
  const cookie = String(redirect.headers['set-cookie']?.[0] ?? '').split(';')[0]!;
  return { stripeUrl, state: stripeUrl.searchParams.get('state')!, cookie };
}

/** Stripe's redirect back to the callback, with the browser's cookie; JSON answers. */
export const callback = (t: TestService, query: Record<string, string>, cookie: string | null) => {
  const req = t.http.get(`/stripe/connect/callback?${new URLSearchParams(query).toString()}`).set('accept', 'application/json');
  return cookie ? req.set('cookie', cookie) : req;
};

/** The whole happy path for an account (a new one when omitted): @returns the callback's answer. */
export async function connectThroughStripe(t: TestService, stripe: StripeStub, companyId: string, accountId?: string) {
  const { state, cookie } = await beginConnect(t, companyId);
  const { code, accountId: acct } = stripe.connect.authorize({ accountId });
  const res = await callback(t, { code, scope: 'read_write', state }, cookie);
  return { res, accountId: acct };
}

/** Delivers an event to the platform's Connect webhook, signed with its secret. */
export function deliverConnectEvent(t: TestService, event: object, secret = CONNECT_WEBHOOK_SECRET) {
  const payload = JSON.stringify(event);
  return t.http
    .post('/webhooks/stripe-connect')
    .set('stripe-signature', Stripe.webhooks.generateTestHeaderString({ payload, secret }))
    .set('content-type', 'application/json')
    .send(payload);
}
