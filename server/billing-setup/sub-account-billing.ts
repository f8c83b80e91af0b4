/**
 * Setting up one sub-account's billing: its Stripe customer (an existing one, or one created from the
 * sub-account's HighLevel name and email), its per-metric overrides, the on/off switch, and the Stripe
 * subscription whose items are the metered prices in force (plus the agency's flat fee). Also the bulk
 * "apply defaults" action and its automatic form for new sub-accounts.
 */
import type { Logger } from 'pino';
import type Stripe from 'stripe';
import type { Database, Executor } from '../../models/database';
import type { PriceTerms } from '../../models/schema';
import { AppError, notFound } from '../http/errors';
import { metricLabel, requireKnownMetric } from '../metering/custom-metrics';
import type { RebillingRules } from '../metering/rebilling-rules';
import { setRulePrice } from '../metering/rules-repository';
import { createCustomer, retrieveCustomer, searchCustomers } from '../stripe/customers';
import type { Accounts } from '../tenancy/accounts';
import {
  findAgency,
  findSubAccount,
  finishDefaults,
  listSubAccountsAwaitingDefaults,
  listSubscribedSubAccounts,
  setSubAccountBilling,
} from '../tenancy/accounts-repository';
import { stripeCall } from './pricing';
import { ensureRulePrice } from './rule-price';
import type { StripeForAgency } from './stripe-for-agency';
import { createSubscriptionSync, type SubscriptionOptions } from './subscription-sync';
import { audited } from '../audit/audited';
import { describeSubAccountBilling } from '../audit/describe';

/** One per-metric override: `inherit` removes it; otherwise the rule (and optionally its own price). */
export type MetricOverride =
  | { metric: string; inherit: true }
  | { metric: string; enabled: boolean; threshold: string; direction?: 'outbound' | 'inbound' | 'both'; perDirection?: boolean; price?: PriceTerms };

export interface BillingInput {
  rebillingEnabled?: boolean;
  overrides?: MetricOverride[];
  subscription?: SubscriptionOptions;
}

export function createSubAccountBilling(deps: {
  db: Database;
  rules: RebillingRules;
  accounts: Accounts;
  stripeForAgency: StripeForAgency;
  logger: Logger;
  /** The card check of the agency option "a card before a subscription starts" (server/payments/cards.ts). */
  requireCard?: (stripe: Stripe, customerId: string, locationId: string) => Promise<void>;
  /** Told after a customer’s subscription changed in Stripe (server/payments clears its cached reads and has its stored invoice previews read again); awaited. */
  onSubscriptionChanged?: (companyId: string, customerId: string) => void | Promise<void>;
}) {
  async function subAccountOrThrow(locationId: string) {
    const sub = await findSubAccount(deps.db, locationId);
    if (!sub) throw notFound(`No sub-account ${locationId}.`);
    return sub;
  }

  const { syncSubscription, adoptStartedSchedule, prepareSubscriptionChange, requireCardIfStarting } = createSubscriptionSync(deps);

  async function mapCustomer(locationId: string, choice: { customerId: string } | { create: true }): Promise<string> {
    const sub = await subAccountOrThrow(locationId);
    const stripe = await deps.stripeForAgency(sub.companyId);
    let customerId: string;
    if ('customerId' in choice) {
      const customer = await stripeCall(() => retrieveCustomer(stripe, choice.customerId));
      if (!customer) throw new AppError('unknown_customer', `Stripe has no customer ${choice.customerId} on this account.`);
      customerId = customer.id;
    } else {
      const created = await stripeCall(() =>
        createCustomer(
          stripe,
          { name: sub.name ?? locationId, email: sub.email ?? undefined, locationId, companyId: sub.companyId },
          `meterbridge-customer-${locationId}`,
        ),
      );
      customerId = created.id;
    }
    await deps.accounts.mapCustomer(locationId, customerId);
    return customerId;
  }

  async function applyDefaults(companyId: string, locationIds: string[]) {
    const results: Array<{ locationId: string; ok: boolean; error?: string; stripeCustomerId?: string | null }> = [];
    for (const locationId of locationIds) {
      try {
        const sub = await subAccountOrThrow(locationId);
        if (sub.companyId !== companyId) throw notFound(`No sub-account ${locationId}.`);
        const customerId = sub.stripeCustomerId ?? (await mapCustomer(locationId, { create: true }));
        await setSubAccountBilling(deps.db, locationId, { rebillingEnabled: true });
        await syncSubscription(locationId);
        results.push({ locationId, ok: true, stripeCustomerId: customerId });
      } catch (err) {
        results.push({ locationId, ok: false, error: (err as Error).message });
      }
    }
    return { results };
  }

  return {
    /** Customers of the agency's Stripe account matching an email or a name. */
    async searchCustomers(companyId: string, query: string) {
      const stripe = await deps.stripeForAgency(companyId);
      return stripeCall(() => searchCustomers(stripe, query));
    },

    mapCustomer,

    /**
     * Applies the switch and overrides, then brings the subscription in line with the rules in force.
     * @throws AppError 400 `unknown_metric`, 409 `stripe_tax_inactive` / `no_customer` / `card_required`, 422 `customer_location_required`
     *   / `customer_location_invalid` (all before any change); 404 unknown sub-account, 409 Stripe not connected,
     *   400 `invalid_start_date`, 400/502 with Stripe's message.
     */
    async setBilling(locationId: string, input: BillingInput): Promise<void> {
      const sub = await subAccountOrThrow(locationId);
      // Every metric is checked before anything changes (or is created in Stripe).
      const labels = new Map<string, string>();
      for (const override of input.overrides ?? []) {
        if ('inherit' in override) continue;
        await requireKnownMetric(deps.db, sub.companyId, override.metric);
        labels.set(override.metric, await metricLabel(deps.db, sub.companyId, override.metric));
      }
      const taxBehavior = (await findAgency(deps.db, sub.companyId))?.taxBehavior ?? 'exclusive';
      // The subscription's checks too (start date, Stripe Tax): a refusal leaves the switch and the overrides as they were.
      await prepareSubscriptionChange(locationId, input.subscription ?? {});
      await requireCardIfStarting(locationId, input.rebillingEnabled);
      if (input.rebillingEnabled !== undefined) {
        await setSubAccountBilling(deps.db, locationId, { rebillingEnabled: input.rebillingEnabled });
      }
      for (const override of input.overrides ?? []) {
        if ('inherit' in override) {
          await deps.rules.removeSubAccountRule(locationId, override.metric);
          continue;
        }
        // One rule of an inbound + outbound pair: its own meter; otherwise the metric's one rule and meter.
        const pair = override.perDirection && (override.direction === 'inbound' || override.direction === 'outbound') ? override.direction : null;
        const label = labels.get(override.metric)!;
        const terms = override.price;
        const priced = terms
          ? await ensureRulePrice(await deps.stripeForAgency(sub.companyId), {
              metric: override.metric,
              eventName: pair ? `meterbridge_${override.metric}_${pair}` : `meterbridge_${override.metric}`,
              label: pair ? `${label} (${pair})` : label,
              terms,
              taxBehavior,
            })
          : null;
        const rule = { metric: override.metric, enabled: override.enabled, threshold: override.threshold, meterEventName: priced?.eventName };
        if (pair) await deps.rules.setDirectionalRule({ locationId }, { ...rule, direction: pair });
        else await deps.rules.setRule({ locationId }, { ...rule, direction: override.direction });
        if (priced && terms) {
          await setRulePrice(deps.db, { companyId: sub.companyId, locationId }, override.metric, { stripeMeterId: priced.meterId, stripePriceId: priced.priceId, priceTerms: terms }, pair ?? undefined);
        }
      }
      await syncSubscription(locationId, input.subscription, true);
    },

    syncSubscription,

    /** Adopts the subscription of a schedule Stripe has started (subscription-sync.ts); null when there is no schedule. */
    adoptStartedSchedule,

    /**
     * Re-syncs every subscription of the agency (after a default price or the flat fee changed). One failing does not
     * stop the rest; its Stripe message is kept on the sub-account.
     * @returns counts of subscriptions updated and failed.
     */
    async resyncSubscriptions(companyId: string): Promise<{ synced: number; failed: number }> {
      let synced = 0;
      let failed = 0;
      for (const locationId of await listSubscribedSubAccounts(deps.db, companyId)) {
        try {
          await syncSubscription(locationId);
          synced += 1;
        } catch (err) {
          failed += 1;
          await setSubAccountBilling(deps.db, locationId, { billingStatusReason: `Updating the subscription failed: ${(err as Error).message}` });
        }
      }
      return { synced, failed };
    },

    /**
     * The agency's defaults onto these sub-accounts: a Stripe customer where none is mapped (created from the
     * HighLevel name and email), rebilling on, the subscription with the default prices. Each sub-account is done on
     * its own; one failing does not stop the rest.
     */
    applyDefaults,

    /** The apply-defaults job: sub-accounts that appeared while their agency auto-applies. */
    async applyPendingDefaults(): Promise<{ applied: number; failed: number }> {
      let applied = 0;
      let failed = 0;
      for (const { locationId, companyId } of await listSubAccountsAwaitingDefaults(deps.db)) {
        // Meterbridge's own change, audited in its transaction (server/audit/audited.ts).
        const audit = { companyId, actor: { type: 'system' as const }, action: 'defaults.applied', subject: 'sub_account_billing', describe: (ex: Executor) => describeSubAccountBilling(ex, locationId) };
        const result = await audited(deps.db, audit, async () => {
          const [outcome] = (await applyDefaults(companyId, [locationId])).results;
          await finishDefaults(deps.db, locationId, outcome?.ok ? null : (outcome?.error ?? 'unknown error'));
          return outcome;
        });
        if (result?.ok) applied += 1;
        else failed += 1;
      }
      return { applied, failed };
    },
  };
}

export type SubAccountBilling = ReturnType<typeof createSubAccountBilling>;
