import { sql } from 'drizzle-orm';
import Stripe from 'stripe';
import { selectRows } from '../../models/database';
import { listAudit } from '../../server/audit/audit-log';
import { findAgency, findSubAccount } from '../../server/tenancy/accounts-repository';
import { attachTestCard } from '../support/stripe/customers';
import { startStripeStub, type StripeStub } from '../support/stripe-stub';
import { startTestService, type TestService } from '../support/test-service';

/**
 * Issue 19: every change is "recorded … in the same transaction as the change" (server/audit/audited.ts). Faults are
 * injected in the real database with triggers: one refuses the audit entry (after the change's own write, before the
 * commit), one fails the commit itself (a deferred constraint trigger on the changed row, run after the entry was
 * written). Either way neither the change nor the entry is left; with the fault gone, the same request makes both.
 * Changes made by a job (apply-defaults) and by a Stripe webhook (a subscription canceled) are audited with their
 * own actor, in their own transaction.
 */
let t: TestService;
let stripe: StripeStub;
const A = 'companySameTx000001';
const LOC = 'locSameTx0000001';
const KEY = 'sk_test_sameTransaction0001';
const SMS = { threshold: 1, price: { currency: 'usd', interval: 'month', unitAmountDecimal: '2' } };

const token = async () => (await t.service.sessionTokens.issue({ userId: 'u-same-tx', companyId: A, type: 'agency', role: 'admin', activeLocation: null })).token;
const send = async (method: 'put' | 'post', path: string, body: object) => t.http[method](path).set('authorization', `Bearer ${await token()}`).send(body);
const actions = async () => (await listAudit(t.database.db, A, { limit: 200 })).map((e) => e.action);
const db = () => t.database.db;

/** Makes inserting an audit entry with `action` fail, as a fault between the change's write and its commit. */
async function refuseEntries(action: string | null): Promise<void> {
  await db().execute(sql.raw(`create or replace function refuse_audit() returns trigger language plpgsql as $$
    begin if new.action = ${action ? `'${action}'` : 'null'} then raise exception 'injected fault: audit entry refused'; end if; return new; end $$`));
  await db().execute(sql`drop trigger if exists refuse_audit on audit_entries`);
  if (action) await db().execute(sql`create trigger refuse_audit before insert on audit_entries for each row execute function refuse_audit()`);
}

beforeAll(async () => {
  stripe = await startStripeStub();
  t = await startTestService({ STRIPE_API_URL: stripe.url, REPORTER_ENABLED: 'false' });
  await t.service.accounts.registerAgency(A, 'Same Transaction Agency');
  await t.service.accounts.registerSubAccount(LOC, A, 'Same Tx Clinic');
  stripe.apiKeys.add(KEY);
  await send('put', '/api/stripe/connection', { secretKey: KEY }).then((r) => expect(r.status).toBe(200));
});
afterAll(async () => {
  await t.close();
  await stripe.close();
});

describe('an audit entry commits in the same transaction as its change', () => {
  it('when the entry cannot be written after the change wrote, then the change is rolled back too; without the fault both commit', async () => {
    await refuseEntries('defaults.set');
    const failed = await send('put', '/api/defaults', { autoApply: true });
    expect(failed.status).toBeGreaterThanOrEqual(500);
    expect((await findAgency(db(), A))!.defaultsAutoApply).toBe(false);
    expect(await actions()).not.toContain('defaults.set');

    await refuseEntries(null);
    expect((await send('put', '/api/defaults', { autoApply: true })).status).toBe(200);
    expect((await findAgency(db(), A))!.defaultsAutoApply).toBe(true);
    expect((await actions()).filter((a) => a === 'defaults.set')).toHaveLength(1);
  });

  it('when the commit itself fails after the entry was written, then there is no entry without its change', async () => {
    // A deferred constraint trigger runs at COMMIT, after the entry's insert: the commit fails, both roll back.
    await db().execute(sql`create or replace function fail_at_commit() returns trigger language plpgsql as $$
      begin if new.defaults_auto_apply = false then raise exception 'injected fault at commit'; end if; return new; end $$`);
    await db().execute(sql`create constraint trigger fail_at_commit after update on agencies deferrable initially deferred
      for each row execute function fail_at_commit()`);
    try {
      const failed = await send('put', '/api/defaults', { autoApply: false });
      expect(failed.status).toBeGreaterThanOrEqual(500);
    } finally {
      await db().execute(sql`drop trigger fail_at_commit on agencies`);
    }
    expect((await findAgency(db(), A))!.defaultsAutoApply).toBe(true);
    expect((await actions()).filter((a) => a === 'defaults.set')).toHaveLength(1);
  });

  it('when a change that calls Stripe fails to record, then nothing local is kept and the retried change reuses what Stripe made', async () => {
    await refuseEntries('pricing.rule_set');
    expect((await send('put', '/api/pricing/sms', SMS)).status).toBeGreaterThanOrEqual(500);
    const rules = () => selectRows<{ n: number }>(db(), sql`select count(*)::int as n from rebilling_rules where company_id = ${A} and location_id is null and metric = 'sms'`);
    expect((await rules())[0]!.n).toBe(0);
    const prices = () => [...stripe.state.prices.values()].filter((p) => (p.metadata as Record<string, string> | undefined)?.meterbridge_metric === 'sms').length;
    const made = prices();
    expect(made).toBe(1);

    await refuseEntries(null);
    expect((await send('put', '/api/pricing/sms', SMS)).status).toBe(200);
    expect((await rules())[0]!.n).toBe(1);
    expect(prices()).toBe(made);
    expect((await actions()).filter((a) => a === 'pricing.rule_set')).toHaveLength(1);
  });

  it('when a one-time charge cannot be recorded, then its row is not stored and Stripe is never asked to charge', async () => {
    const customer = (await send('put', `/api/sub-accounts/${LOC}/customer`, { create: true })).body.stripeCustomerId as string;
    attachTestCard(stripe.state, 'pm_card_visa', customer);
    stripe.state.customers.get(customer)!.invoice_settings = { default_payment_method: 'pm_card_visa' };
    const product = (await send('post', '/api/catalog/one-time-products', { name: 'Set-up fee', amount: 4990, currency: 'usd' })).body;
    const invoices = () => [...stripe.state.invoices.values()].filter((i) => i.customer === customer).length;

    await refuseEntries('one_time_charge.created');
    expect((await send('post', `/api/sub-accounts/${LOC}/one-time-charges`, { mode: 'charge_now', productId: product.id })).status).toBeGreaterThanOrEqual(500);
    expect((await selectRows<{ n: number }>(db(), sql`select count(*)::int as n from one_time_charges where location_id = ${LOC}`))[0]!.n).toBe(0);
    expect(invoices()).toBe(0);

    await refuseEntries(null);
    const charged = await send('post', `/api/sub-accounts/${LOC}/one-time-charges`, { mode: 'charge_now', productId: product.id });
    expect([charged.status, charged.body.status]).toEqual([201, 'paid']);
    expect(invoices()).toBe(1);
    const [entry] = await listAudit(db(), A, { action: 'one_time_charge.created', limit: 5 });
    expect(entry).toMatchObject({ after: { id: charged.body.id, locationId: LOC, amount: 4990, status: 'pending' } });
  });
});

describe('changes made by Meterbridge and by Stripe are audited as theirs, in their transaction', () => {
  const NEW = 'locSameTxAutoApply01';

  it('when the apply-defaults job maps a new sub-account, then the entry is Meterbridge’s; a refused entry leaves the sub-account untouched', async () => {
    await t.service.accounts.registerSubAccount(NEW, A, 'Auto Apply Clinic'); // the agency auto-applies (first test)
    await refuseEntries('defaults.applied');
    await expect(t.service.billing.applyPendingDefaults()).rejects.toThrow(/insert into "audit_entries"/);
    expect(await findSubAccount(db(), NEW)).toMatchObject({ stripeCustomerId: null, stripeSubscriptionId: null, defaultsPending: true });

    await refuseEntries(null);
    expect(await t.service.billing.applyPendingDefaults()).toEqual({ applied: 1, failed: 0 });
    const [entry] = await listAudit(db(), A, { action: 'defaults.applied', limit: 5 });
    expect(entry).toMatchObject({ actor: { type: 'system' }, subject: 'sub_account_billing', before: { locationId: NEW, stripeCustomerId: null }, after: { stripeCustomerId: expect.stringMatching(/^cus_/), stripeSubscriptionId: expect.stringMatching(/^sub_/) } });
  });

  it('when Stripe cancels a subscription (webhook), then the paused sub-account is one entry of Stripe’s with the subscription before and after', async () => {
    const subscriptionId = (await findSubAccount(db(), NEW))!.stripeSubscriptionId!;
    expect(subscriptionId).toMatch(/^sub_/);
    stripe.state.subscriptions.get(subscriptionId)!.status = 'canceled';
    const secret = [...stripe.state.webhookEndpoints.values()][0]!.secret as string;
    const payload = JSON.stringify({ id: 'evt_same_tx_deleted', object: 'event', type: 'customer.subscription.deleted', data: { object: { id: subscriptionId, object: 'subscription' } } });
    await t.http.post(`/webhooks/stripe/${A}`).set('stripe-signature', Stripe.webhooks.generateTestHeaderString({ payload, secret })).set('content-type', 'application/json').send(payload).expect(200);
    const [entry] = await listAudit(db(), A, { action: 'sub_account.subscription_canceled', limit: 5 });
    expect(entry).toMatchObject({ actor: { type: 'stripe' }, before: { locationId: NEW, stripeSubscriptionId: subscriptionId }, after: { stripeSubscriptionId: null } });
  });
});
