/**
 * Keeps a sub-account's Stripe subscription in line with the prices in force — or, when it starts later, its
 * subscription schedule — and applies Stripe Tax only when Stripe can calculate it. The one place that decides
 * between a subscription and a schedule, and that stores what Stripe answered (subscription or schedule id, start
 * date, automatic tax).
 */
import type { Logger } from 'pino';
import type Stripe from 'stripe';
import type { Database } from '../../models/database';
import { planInForce } from '../catalog/plans-repository';
import { findEffectiveRules } from '../metering/rules-repository';
import { releaseSchedule, retrieveSchedule, scheduleSubscription, updateSchedule, type ScheduleState } from '../stripe/subscription-schedules';
import { endAtPeriodEnd, upsertSubscription } from '../stripe/subscriptions';
import { ensureCustomerTaxLocation, requireStripeTaxActive, type BillingAddress } from '../stripe/tax';
import { findAgency, findSubAccount, setSubAccountBilling } from '../tenancy/accounts-repository';
import { AppError, badRequest, notFound } from '../http/errors';
import { stripeCall } from './pricing';
import type { StripeForAgency } from './stripe-for-agency';

/** What a request may say about the subscription; all optional. */
export interface SubscriptionOptions {
  /** ISO 8601 time. In the future and with no subscription yet: a schedule that starts then. Otherwise ignored. */
  startAt?: string;
  coupon?: string;
  /** Stripe Tax on or off; undefined keeps what the sub-account has (`sub_accounts.automatic_tax`). */
  automaticTax?: boolean;
  /** Set on the Stripe customer before Stripe Tax is switched on (server/stripe/tax.ts). */
  billingAddress?: BillingAddress;
  /** How an update of a running subscription is prorated (default 'none'); a plan change lets the agency choose. */
  prorationBehavior?: 'create_prorations' | 'none' | 'always_invoice';
}

/**
 * The subscription use cases of one sub-account: `syncSubscription`, `adoptStartedSchedule`, `prepareSubscriptionChange`.
 * Needs the database, the agency's Stripe client and a logger.
 */
export function createSubscriptionSync(deps: {
  db: Database;
  stripeForAgency: StripeForAgency;
  logger: Logger;
  /**
   * The agency option "a card before a subscription starts" (server/payments/cards.ts): throws AppError 409
   * `card_required` unless Stripe has a usable default payment method for the customer. Without it, nothing is checked.
   */
  requireCard?: (stripe: Stripe, customerId: string, locationId: string) => Promise<void>;
  /** Told after Meterbridge changed a customer’s subscription in Stripe (server/payments clears its cached reads and has its stored invoice previews read again); awaited. */
  onSubscriptionChanged?: (companyId: string, customerId: string) => void | Promise<void>;
}) {
  /**
   * The prices a sub-account's subscription should carry. The plan in force (its own, else the agency's default) sets
   * the base fee and, per metric it names, the price; the rules in force still decide which metrics are billed
   * (server/catalog/plans.ts). Without a plan, the agency's flat fee.
   */
  async function desiredPrices(locationId: string, companyId: string, flatFeePriceId: string | null | undefined): Promise<string[]> {
    const plan = await planInForce(deps.db, locationId, companyId);
    const planPrices = new Map(plan?.metrics.map((m) => [m.metric, m.stripePriceId]) ?? []);
    const prices = (await findEffectiveRules(deps.db, locationId))
      .filter((r) => r.enabled && (planPrices.get(r.metric) ?? r.stripePriceId))
      .map((r) => planPrices.get(r.metric) ?? r.stripePriceId!);
    const baseFee = plan ? plan.stripeBasePriceId : flatFeePriceId;
    if (baseFee) prices.push(baseFee);
    return [...new Set(prices)];
  }

  /**
   * Refuses (409 `card_required`) when a subscription would start now for a customer without a usable card and the
   * agency requires one; `rebillingEnabled` is the switch as the request leaves it.
   */
  async function requireCardIfStarting(locationId: string, rebillingEnabled?: boolean): Promise<void> {
    const sub = await findSubAccount(deps.db, locationId);
    if (!sub?.stripeCustomerId || sub.stripeSubscriptionId || sub.stripeSubscriptionScheduleId || !deps.requireCard) return;
    if (!(rebillingEnabled ?? sub.rebillingEnabled)) return;
    const agency = await findAgency(deps.db, sub.companyId);
    if (!agency?.requireCardBeforeSubscription || (await desiredPrices(locationId, sub.companyId, agency.flatFeePriceId)).length === 0) return;
    await deps.requireCard(await deps.stripeForAgency(sub.companyId), sub.stripeCustomerId, locationId);
  }

  const metadataOf = (locationId: string, companyId: string) => ({ meterbridge_location_id: locationId, meterbridge_company_id: companyId });

  /**
   * Adopts the subscription of a schedule Stripe has started: the schedule is released (the subscription stays,
   * docs.stripe.com/api/subscription_schedules/release) and its subscription id stored in place of the schedule.
   * A schedule canceled in Stripe before it started is forgotten. Nothing happens while it has not started.
   * @param dueOnly skip the Stripe call while the start date is still ahead (Stripe starts a schedule at its start
   *   date, not before), as reads do; a sync always asks, since the schedule may have been canceled in Stripe.
   * @returns the schedule as Stripe has it, or null when the sub-account has none (or, with `dueOnly`, it is not due).
   * @throws AppError 404 for an unknown sub-account; Stripe errors as 400/502 with Stripe's message.
   */
  async function adoptStartedSchedule(locationId: string, dueOnly = false): Promise<ScheduleState | null> {
    const sub = await findSubAccount(deps.db, locationId);
    if (!sub) throw notFound(`No sub-account ${locationId}.`);
    if (!sub.stripeSubscriptionScheduleId) return null;
    if (dueOnly && sub.subscriptionStartsAt && sub.subscriptionStartsAt.getTime() > Date.now()) return null;
    const stripe = await deps.stripeForAgency(sub.companyId);
    const schedule = await stripeCall(() => retrieveSchedule(stripe, sub.stripeSubscriptionScheduleId!));
    if (schedule.status === 'not_started') return schedule;
    const released = schedule.status === 'active' ? await stripeCall(() => releaseSchedule(stripe, schedule.scheduleId)) : schedule;
    await setSubAccountBilling(deps.db, locationId, {
      stripeSubscriptionId: released.subscriptionId ?? sub.stripeSubscriptionId,
      stripeSubscriptionScheduleId: null,
      subscriptionStartsAt: null,
      ...(released.subscriptionId
        ? {}
        : { billingStatusReason: `The scheduled subscription ${schedule.scheduleId} was ${schedule.status} in Stripe before it started; set up a new one.` }),
    });
    deps.logger.info({ locationId, scheduleId: schedule.scheduleId, subscriptionId: released.subscriptionId }, 'scheduled subscription adopted');
    return released;
  }

  /**
   * Checks, before anything changes, what a request asks of the subscription: a scheduled start moves only to the
   * future; Stripe Tax can be switched on (only when `automaticTax` is true and it is off today, or a billing address
   * is given). Sets the billing address on the Stripe customer when one is given.
   * @throws AppError 400 `invalid_start_date`, 409 `no_customer` (no Stripe customer mapped), 409 `stripe_tax_inactive`,
   *   422 `customer_location_required` / `customer_location_invalid`; Stripe errors as 400/502.
   */
  async function prepareSubscriptionChange(locationId: string, options: SubscriptionOptions): Promise<void> {
    const sub = await findSubAccount(deps.db, locationId);
    if (!sub) throw notFound(`No sub-account ${locationId}.`);
    // A scheduled start can only move to the future (subscription-schedules.ts updateSchedule says so too, to Stripe).
    if (sub.stripeSubscriptionScheduleId && options.startAt !== undefined && Date.parse(options.startAt) <= Date.now()) {
      throw badRequest('invalid_start_date', 'A scheduled subscription can only be moved to a time in the future.');
    }
    if (options.automaticTax !== true) return;
    if (!sub.stripeCustomerId) throw new AppError('no_customer', 'Map the sub-account to a Stripe customer before switching automatic tax on.');
    if (sub.automaticTax && options.billingAddress === undefined) return;
    const stripe = await deps.stripeForAgency(sub.companyId);
    await stripeCall(async () => {
      await requireStripeTaxActive(stripe);
      await ensureCustomerTaxLocation(stripe, sub.stripeCustomerId!, options.billingAddress);
    });
  }

  /**
   * Creates or updates the subscription (or the schedule of one starting later) from the rules in force plus the
   * base fee of the plan in force (or, with no plan, the agency's flat fee). No-op without a customer or with no priced
   * rule; with billing off, the subscription is set to end at the end of its current period.
   *
   * Stripe Tax switched on (`automaticTax: true` while off, or with a billing address) first needs active tax
   * settings and the customer's location (prepareSubscriptionChange), unless the caller already checked (`prepared`).
   *
   * @returns the subscription id, or null (none yet, or only a schedule).
   * @throws AppError 409 `stripe_tax_inactive`, 422 `customer_location_required` / `customer_location_invalid`,
   *   409 `card_required` (a new subscription, the agency requiring a card, none usable), 400 `invalid_start_date`, 404 unknown sub-account, 409 Stripe not connected; Stripe errors as 400/502.
   */
  async function syncSubscription(locationId: string, options: SubscriptionOptions = {}, prepared = false): Promise<string | null> {
    if (!prepared) await prepareSubscriptionChange(locationId, options);
    const adopted = await adoptStartedSchedule(locationId);
    // Canceled (or released without a subscription) in Stripe before it started: this sync creates nothing on its
    // own; the reason is on the sub-account and the agency sets up a new one.
    if (adopted && adopted.status !== 'not_started' && !adopted.subscriptionId) return null;
    const sub = (await findSubAccount(deps.db, locationId))!;
    if (!sub.stripeCustomerId) return sub.stripeSubscriptionId;
    if (!sub.rebillingEnabled) {
      // Rebilling off ends the subscription — flat fee included — at the end of the period already invoiced
      // (docs.stripe.com/billing/subscriptions/cancel: `cancel_at_period_end`), so what the client was told (no more
      // charges after this period) is what Stripe does. Switched on again before then, the sync below resumes it.
      if (sub.stripeSubscriptionId) {
        const stripe = await deps.stripeForAgency(sub.companyId);
        await stripeCall(() => endAtPeriodEnd(stripe, sub.stripeSubscriptionId!));
        await deps.onSubscriptionChanged?.(sub.companyId, sub.stripeCustomerId);
      }
      return sub.stripeSubscriptionId;
    }
    const agency = await findAgency(deps.db, sub.companyId);
    const prices = await desiredPrices(locationId, sub.companyId, agency?.flatFeePriceId);
    if (prices.length === 0) return sub.stripeSubscriptionId;
    const stripe = await deps.stripeForAgency(sub.companyId);
    if (!sub.stripeSubscriptionId && !sub.stripeSubscriptionScheduleId && agency?.requireCardBeforeSubscription && deps.requireCard) {
      await deps.requireCard(stripe, sub.stripeCustomerId, locationId);
    }
    // Undefined keeps Stripe's state; the stored "on" is re-sent so an update never turns tax off by omission.
    const automaticTax = options.automaticTax ?? (sub.automaticTax ? true : undefined);
    const metadata = metadataOf(locationId, sub.companyId);
    const startAt = options.startAt ? new Date(options.startAt) : undefined;

    if (sub.stripeSubscriptionScheduleId || (!sub.stripeSubscriptionId && startAt && startAt.getTime() > Date.now())) {
      const input = {
        customerId: sub.stripeCustomerId,
        startAt: startAt ?? sub.subscriptionStartsAt!,
        prices: [...new Set(prices)],
        coupon: options.coupon,
        automaticTax: automaticTax ?? false,
        metadata,
        // A subscription starting later on a plan with a trial starts with it (server/catalog/plans.ts).
        trialDays: (await planInForce(deps.db, locationId, sub.companyId))?.trialDays,
      };
      const schedule = await stripeCall(() =>
        sub.stripeSubscriptionScheduleId
          ? updateSchedule(stripe, sub.stripeSubscriptionScheduleId, input)
          : scheduleSubscription(stripe, input),
      );
      await setSubAccountBilling(deps.db, locationId, {
        stripeSubscriptionScheduleId: schedule.scheduleId,
        subscriptionStartsAt: schedule.startAt,
        automaticTax: schedule.automaticTax,
      });
      return null;
    }

    // A new subscription on a plan with a trial starts with it (server/catalog/plans.ts).
    const trialPeriodDays = sub.stripeSubscriptionId ? null : (await planInForce(deps.db, locationId, sub.companyId))?.trialDays;
    const result = await stripeCall(() =>
      upsertSubscription(stripe, {
        customerId: sub.stripeCustomerId!,
        subscriptionId: sub.stripeSubscriptionId,
        prices: [...new Set(prices)],
        coupon: options.coupon,
        automaticTax,
        metadata,
        prorationBehavior: options.prorationBehavior,
        trialPeriodDays,
      }),
    );
    await deps.onSubscriptionChanged?.(sub.companyId, sub.stripeCustomerId);
    // A sub-account paused because Stripe canceled its subscription bills again once it has a new one (it stayed
    // paused for good before: its usage was never billed again).
    const resumed = sub.billingStatus === 'paused' && result.subscriptionId !== sub.stripeSubscriptionId;
    await setSubAccountBilling(deps.db, locationId, {
      stripeSubscriptionId: result.subscriptionId,
      automaticTax: result.automaticTax,
      // What Stripe says the subscription carries: the reporter holds usage whose price is not on it (held-usage.ts).
      subscriptionPriceIds: result.items.map((i) => i.priceId),
      ...(resumed ? { billingStatus: 'ok' as const, billingStatusReason: null, paymentProblem: null } : {}),
    });
    return result.subscriptionId;
  }

  return { syncSubscription, adoptStartedSchedule, prepareSubscriptionChange, requireCardIfStarting };
}

/** The subscription use cases, as createSubscriptionSync returns them. */
export type SubscriptionSync = ReturnType<typeof createSubscriptionSync>;
