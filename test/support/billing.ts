/**
 * Billing set-up and reporter draining for tests, through the service's own use cases.
 */
import { sql } from 'drizzle-orm';
import { selectRows, type Database } from '../../models/database';
import type { RuleInput } from '../../server/metering/rebilling-rules';
import type { Service } from '../../server/main';
import type { TickSummary } from '../../server/stripe/meter-reporter';

/** A Stripe test key shape the service accepts. */
export const TEST_STRIPE_KEY = 'sk_test_meterbridgeTestKey0001';

export interface BillingSetup {
  companyId: string;
  locationId: string;
  customer: string;
  rules: RuleInput[];
  stripeKey?: string;
  /** Whether the rules are the agency defaults (inherited) or the sub-account's own. */
  as?: 'default' | 'override';
}

/** Registers the agency and sub-account, stores the Stripe key, maps the customer and sets the rules. */
export async function setUpBilling(service: Service, setup: BillingSetup): Promise<void> {
  await service.accounts.registerAgency(setup.companyId, `Agency ${setup.companyId}`);
  await service.accounts.registerSubAccount(setup.locationId, setup.companyId, `Sub-account ${setup.locationId}`);
  await service.accounts.storeStripeKey(setup.companyId, setup.stripeKey ?? TEST_STRIPE_KEY);
  await service.accounts.mapCustomer(setup.locationId, setup.customer);
  for (const rule of setup.rules) {
    const scope = setup.as === 'override' ? { locationId: setup.locationId } : { companyId: setup.companyId, locationId: null };
    await service.rules.setRule(scope, rule);
  }
}

/** Counts of outbox rows by status. */
export async function outboxState(db: Database): Promise<{ pending: number; sending: number; failed: number; sent: number }> {
  const [row] = await selectRows<{ pending: number; sending: number; failed: number; sent: number }>(
    db,
    sql`select (select count(*)::int from meter_reports where status = 'pending') as pending,
               (select count(*)::int from meter_batches where status in ('sending', 'queued')) as sending,
               (select count(*)::int from meter_batches where status = 'failed') as failed,
               (select count(*)::int from meter_batches where status = 'sent') as sent`,
  );
  return row!;
}

/**
 * Lets the inbox processor count everything stored, then ticks the reporter until no report is pending and no batch
 * is in flight (failed batches stay failed).
 * @throws when it has not drained after `maxTicks`.
 */
export async function drainReporter(service: Service, maxTicks = 200): Promise<TickSummary[]> {
  await service.pipeline.drain();
  const ticks: TickSummary[] = [];
  for (let i = 0; i < maxTicks; i++) {
    ticks.push(await service.reporter.tick());
    const state = await outboxState(service.database.db);
    if (state.pending === 0 && state.sending === 0) return ticks;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  throw new Error(`reporter did not drain in ${maxTicks} ticks: ${JSON.stringify(await outboxState(service.database.db))}`);
}

/**
 * Gives the sub-account a subscription as far as Meterbridge knows (`stripe_subscription_id`, its prices unknown:
 * trusted until the next sync), for tests about sending usage that do not set up a Stripe subscription. Without one,
 * crossings of a metric Meterbridge prices are held, not sent (server/payments/held-usage.ts).
 */
export async function markSubscribed(db: Database, locationId: string, subscriptionId = `sub_test_${locationId}`): Promise<void> {
  await db.execute(sql`update sub_accounts set stripe_subscription_id = ${subscriptionId}, subscription_price_ids = null where location_id = ${locationId}`);
}
