/**
 * Payments test helpers: an agency with Stripe connected and SMS priced (optionally a flat fee), sub-accounts mapped
 * to new Stripe customers, session tokens for each kind of caller, signed Stripe events, usage through the usage API.
 */
import Stripe from 'stripe';
import { startStripeStub, type StripeStub } from './stripe-stub';
import { startTestService, type TestService } from './test-service';

export interface PaymentsAgency {
  companyId: string;
  agencyToken: string;
  /** A session of the sub-account's own user; `admin` true for a HighLevel sub-account admin. */
  clientToken(locationId: string, admin?: boolean): Promise<string>;
  /** Maps the sub-account to a new Stripe customer and returns its id. */
  addSubAccount(locationId: string, name: string): Promise<string>;
  /** Adds each sub-account (named `Client 0`, `Client 1`…) with a new customer and rebilling on (a subscription); returns their customers by location id. */
  addSubscribedClients(locationIds: string[]): Promise<Record<string, string>>;
  /** Posts a Stripe event of the agency's account, signed with its webhook endpoint's secret. */
  sendEvent(type: string, object: { id: string; object: string; customer?: string | null }): Promise<{ body: Record<string, unknown> }>;
  /** Records `quantity` SMS for the sub-account through the usage API, as used at `occurredAt` (default now). */
  recordSms(locationId: string, quantity: number, occurredAt?: Date): Promise<void>;
}

/** Registers and connects the agency (Stripe key, SMS at 2¢ a unit, optional flat fee in cents). */
export async function setUpPaymentsAgency(t: TestService, stripe: StripeStub, companyId: string, options: { flatFeeCents?: number } = {}): Promise<PaymentsAgency> {
  await t.service.accounts.registerAgency(companyId, `Agency ${companyId}`);
  const agencyToken = (await t.service.sessionTokens.issue({ userId: `u-${companyId}`, companyId, type: 'agency', role: 'admin', activeLocation: null })).token;
  const as = (method: 'put' | 'get', path: string) => t.http[method](path).set('authorization', `Bearer ${agencyToken}`);
  await as('put', '/api/stripe/connection').send({ secretKey: `sk_test_${companyId}Key0001` }).expect(200);
  await as('put', '/api/pricing/sms').send({ threshold: 1, price: { currency: 'usd', interval: 'month', unitAmountDecimal: '2' } }).expect(200);
  if (options.flatFeeCents) await as('put', '/api/defaults').send({ flatFeeAmount: options.flatFeeCents }).expect(200);
  const apiKey = (await t.service.apiKeys.create(companyId, 'payments tests')).key;
  let sequence = 0;
  const addSubAccount = async (locationId: string, name: string) => {
    await t.service.accounts.registerSubAccount(locationId, companyId, name);
    return (await as('put', `/api/sub-accounts/${locationId}/customer`).send({ create: true }).expect(200)).body.stripeCustomerId as string;
  };
  return {
    companyId,
    agencyToken,
    clientToken: async (locationId, admin = true) =>
      (await t.service.sessionTokens.issue({ userId: `u-${locationId}`, companyId, type: 'location', role: admin ? 'admin' : 'user', activeLocation: locationId })).token,
    addSubAccount,
    async addSubscribedClients(locationIds) {
      const customers: Record<string, string> = {};
      for (const [i, id] of locationIds.entries()) {
        customers[id] = await addSubAccount(id, `Client ${i}`);
        await as('put', `/api/sub-accounts/${id}/billing`).send({ rebillingEnabled: true }).expect(200);
      }
      return customers;
    },
    sendEvent: (type, object) => sendStripeEvent(t, stripe, companyId, { id: `evt_${type}_${object.id}_${sequence++}`, type, object }),
    async recordSms(locationId, quantity, occurredAt = new Date()) {
      await t.http
        .post('/api/v1/usage')
        .set('authorization', `Bearer ${apiKey}`)
        .send({ events: [{ locationId, metric: 'sms', quantity, occurredAt: occurredAt.toISOString(), idempotencyKey: `pay-${locationId}-${sequence++}` }] })
        .expect(200);
    },
  };
}

/** A Stripe double, the service on it, and an agency with `clients` subscribed (`addSubscribedClients`); `close` ends them. */
export interface PaymentsWorld {
  t: TestService;
  stripe: StripeStub;
  agency: PaymentsAgency;
  /** Each client's Stripe customer, by location id. */
  customers: Record<string, string>;
  close(): Promise<void>;
}

/** Starts a PaymentsWorld: the double, the service (reporter retries at once), the agency (`setUpPaymentsAgency`) and its clients. */
export async function startPaymentsWorld(companyId: string, clients: string[], options: { flatFeeCents?: number } = {}): Promise<PaymentsWorld> {
  const stripe = await startStripeStub();
  const t = await startTestService({ STRIPE_API_URL: stripe.url, REPORTER_RETRY_BASE_SECONDS: '0' });
  const agency = await setUpPaymentsAgency(t, stripe, companyId, options);
  const customers = await agency.addSubscribedClients(clients);
  return { t, stripe, agency, customers, close: async () => (await t.close(), await stripe.close()) };
}

/**
 * Posts a Stripe event to the agency's webhook (/webhooks/stripe/:companyId), signed with the secret of the webhook
 * endpoint the service created in the Stripe double when the agency connected its key (Stripe's signature scheme:
 * docs.stripe.com/webhooks#verify-events). `id` is the event's own (`evt_…`).
 * @throws (the supertest assertion) unless the service answers 200.
 */
export function sendStripeEvent(t: TestService, stripe: StripeStub, companyId: string, event: { id: string; type: string; object: object }) {
  const endpoint = [...stripe.state.webhookEndpoints.values()].find((e) => String(e.url).endsWith(`/webhooks/stripe/${companyId}`))!;
  const payload = JSON.stringify({ id: event.id, object: 'event', type: event.type, data: { object: event.object } });
  return t.http
    .post(`/webhooks/stripe/${companyId}`)
    .set('stripe-signature', Stripe.webhooks.generateTestHeaderString({ payload, secret: endpoint.secret as string }))
    .set('content-type', 'application/json')
    .send(payload)
    .expect(200);
}
