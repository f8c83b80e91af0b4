/**
 * A subscription that starts on a future date, made the way Stripe defines it: a subscription schedule
 * (docs.stripe.com/billing/subscriptions/subscription-schedules/use-cases#start-subscription-future; OpenAPI
 * PostSubscriptionSchedules) with the customer, `start_date`, `end_behavior: 'release'` and one phase holding the
 * items. Not `billing_cycle_anchor`, which only anchors the cycle of a subscription that starts now and which Stripe
 * refuses past the next natural billing date (docs.stripe.com/billing/subscriptions/billing-cycle).
 *
 * Stripe creates the subscription itself at `start_date` (the schedule turns `active` with `subscription` set);
 * Meterbridge then adopts it and releases the schedule, which "will stop scheduling of its phases, but leave any
 * existing subscription in place" (docs.stripe.com/api/subscription_schedules/release), so later price changes go to
 * the subscription directly (server/stripe/subscriptions.ts).
 */
import type Stripe from 'stripe';
import { badRequest } from '../http/errors';

/** The schedule Meterbridge wants: who, from when, which prices (`price_…`, 1–20), coupon, Stripe Tax, metadata. */
export interface ScheduleInput {
  /** `cus_…` */
  customerId: string;
  /** When the subscription starts; must be in the future. */
  startAt: Date;
  prices: string[];
  /**
   * Coupon id applied to the phase (and so to the subscription). On create, undefined or null: none. On update,
   * undefined keeps the phase's discounts (as upsertSubscription leaves a subscription's); null removes them.
   */
  coupon?: string | null;
  /** Stripe Tax on the phase (docs.stripe.com/api/subscription_schedules/create `phases.automatic_tax`). */
  automaticTax: boolean;
  /** Set on the schedule and on its phase (which Stripe copies onto the subscription when the phase starts). */
  metadata: Record<string, string>;
  /**
   * Days of free trial from the start (a plan's trial, 1–730): the phase is trialing until `startAt` + that many days
   * (docs.stripe.com/api/subscription_schedules/create `phases.trial_end`) and ends a day later (see `trialOf`).
   * Null or undefined: none, and Stripe gives the phase its default length.
   */
  trialDays?: number | null;
  /** Optional idempotency key for the create call (docs.stripe.com/api/idempotent_requests). */
  idempotencyKey?: string;
}

/**
 * A schedule as Meterbridge reads it. `status`: docs.stripe.com/api/subscription_schedules/object#subscription_schedule_object-status
 * (`not_started`, `active`, `completed`, `released`, `canceled`). `subscriptionId`: the subscription it created
 * (`subscription`, or `released_subscription` once released), null before it starts.
 */
export interface ScheduleState {
  scheduleId: string;
  status: Stripe.SubscriptionSchedule.Status;
  subscriptionId: string | null;
  /** The first phase's start, i.e. when billing starts. */
  startAt: Date;
  automaticTax: boolean;
}

/** A day, in seconds. */
const DAY_SECONDS = 86_400;

/**
 * The phase's trial and its end: trialing from `startAt` for `trialDays` days (`phases.trial_end`, Unix seconds), and
 * the phase ending one day after that (`phases.end_date`). Stripe wants the trial to end "before the phase end date"
 * (docs.stripe.com/api/subscription_schedules/create `phases.trial_end`), and a phase given no end lasts one
 * iteration of its prices' interval, so a 45-day trial on a monthly price would be refused. The end changes nothing
 * else: the schedule ends by `end_behavior: 'release'`, which leaves the subscription as it is, and Meterbridge
 * releases it as soon as the subscription starts anyway.
 */
function trialOf(startAt: Date, trialDays: number): { trial_end: number; end_date: number } {
  const trialEnd = Math.floor(startAt.getTime() / 1000) + trialDays * DAY_SECONDS;
  return { trial_end: trialEnd, end_date: trialEnd + DAY_SECONDS };
}

function phase(input: ScheduleInput): Stripe.SubscriptionScheduleCreateParams.Phase {
  const desired = [...new Set(input.prices)];
  if (desired.length === 0 || desired.length > 20) throw badRequest('invalid_subscription_prices', 'A subscription needs between 1 and 20 prices.');
  return {
    items: desired.map((price) => ({ price })),
    automatic_tax: { enabled: input.automaticTax },
    ...(input.coupon ? { discounts: [{ coupon: input.coupon }] } : {}),
    ...(input.trialDays ? trialOf(input.startAt, input.trialDays) : {}),
    metadata: input.metadata,
  };
}

function stateOf(schedule: Stripe.SubscriptionSchedule): ScheduleState {
  const sub = schedule.subscription ?? schedule.released_subscription;
  const first = schedule.phases[0];
  return {
    scheduleId: schedule.id,
    status: schedule.status,
    subscriptionId: typeof sub === 'string' ? sub : (sub?.id ?? null),
    startAt: new Date((first?.start_date ?? schedule.created) * 1000),
    automaticTax: first?.automatic_tax?.enabled ?? false,
  };
}

/**
 * Creates the schedule (docs.stripe.com/api/subscription_schedules/create): `customer`, `start_date` (Unix
 * seconds), `end_behavior: 'release'`, one phase with an item per price. Stripe gives the phase its default length;
 * it does not matter here, since the schedule is released as soon as its subscription is adopted.
 *
 * @throws AppError 400 `invalid_start_date` when `startAt` is not in the future; `invalid_subscription_prices` for
 *   no prices or more than 20.
 * @throws the stripe-node error (Stripe's message) when Stripe refuses (unknown customer, price, coupon; tax not ready).
 */
export async function scheduleSubscription(stripe: Stripe, input: ScheduleInput): Promise<ScheduleState> {
  if (!(input.startAt.getTime() > Date.now())) throw badRequest('invalid_start_date', 'A scheduled subscription starts in the future.');
  const created = await stripe.subscriptionSchedules.create(
    {
      customer: input.customerId,
      start_date: Math.floor(input.startAt.getTime() / 1000),
      end_behavior: 'release',
      phases: [phase(input)],
      metadata: input.metadata,
    },
    input.idempotencyKey ? { idempotencyKey: input.idempotencyKey } : undefined,
  );
  return stateOf(created);
}

/**
 * Replaces the phase of a schedule that has not started (docs.stripe.com/api/subscription_schedules/update: the
 * phases are given whole, the first with its `start_date`), e.g. after a price changed; `input.startAt` may move the
 * start; the phase's coupon stays unless `input.coupon` says otherwise. A schedule that has started is left alone
 * and returned as it is (its subscription is adopted instead).
 *
 * @throws AppError 400 `invalid_start_date` when asked to move the start to a time not in the future.
 * @throws the stripe-node error (Stripe's message) when Stripe refuses.
 */
export async function updateSchedule(stripe: Stripe, scheduleId: string, input: ScheduleInput): Promise<ScheduleState> {
  const current = await stripe.subscriptionSchedules.retrieve(scheduleId);
  if (current.status !== 'not_started') return stateOf(current);
  const wanted = Math.floor(input.startAt.getTime() / 1000);
  if (wanted * 1000 <= Date.now()) {
    // Its own start date just passed: Stripe is about to start it; the subscription is adopted and updated then.
    if (wanted === current.phases[0]?.start_date) return stateOf(current);
    throw badRequest('invalid_start_date', 'A scheduled subscription can only be moved to a time in the future.');
  }
  const kept = (current.phases[0]?.discounts ?? []).flatMap((d) =>
    typeof d.coupon === 'string' ? [{ coupon: d.coupon }] : d.coupon ? [{ coupon: d.coupon.id }] : [],
  );
  const next = { ...phase(input), start_date: wanted };
  if (input.coupon === undefined && kept.length > 0) next.discounts = kept;
  const updated = await stripe.subscriptionSchedules.update(scheduleId, {
    phases: [next],
    metadata: input.metadata,
  });
  return stateOf(updated);
}

/** The schedule as Stripe has it now (docs.stripe.com/api/subscription_schedules/retrieve). @throws stripe-node errors. */
export async function retrieveSchedule(stripe: Stripe, scheduleId: string): Promise<ScheduleState> {
  return stateOf(await stripe.subscriptionSchedules.retrieve(scheduleId));
}

/**
 * Releases a schedule whose subscription has started, keeping the subscription (docs.stripe.com/api/subscription_schedules/release;
 * only `not_started` or `active` schedules can be released). Any other status is returned as it is.
 * @throws stripe-node errors.
 */
export async function releaseSchedule(stripe: Stripe, scheduleId: string): Promise<ScheduleState> {
  const current = await stripe.subscriptionSchedules.retrieve(scheduleId);
  if (current.status !== 'active') return stateOf(current);
  return stateOf(await stripe.subscriptionSchedules.release(scheduleId));
}
