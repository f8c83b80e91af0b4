/**
 * Subscription schedules (docs.stripe.com/api/subscription_schedules; OpenAPI PostSubscriptionSchedules,
 * GetSubscriptionSchedulesSchedule, PostSubscriptionSchedulesSchedule, …/cancel, …/release): the way to start a
 * subscription on a future date (docs.stripe.com/billing/subscriptions/subscription-schedules/use-cases#start-subscription-future).
 *
 * - create: `customer`, `start_date` (Unix seconds or `now`), `end_behavior` (`release` default, or `cancel`),
 *   `phases[]` with `items[][price]`, `duration` or `end_date`, `automatic_tax`, `discounts`, `metadata`. A schedule
 *   starting now creates its subscription at once (status `active`); a later one is `not_started` with
 *   `subscription: null`.
 * - Stripe starts a `not_started` schedule at its start date by itself; the double has no clock, so a test calls
 *   `stub.startSubscriptionSchedule(id)`, which creates the subscription from the first phase as Stripe would.
 * - update (phases, metadata, end_behavior) while `not_started` or `active`; cancel ("Cancels a subscription schedule
 *   and its associated subscription immediately"); release ("stop scheduling of its phases, but leave any existing
 *   subscription in place … remove its subscription property and set the subscription's ID to the
 *   released_subscription property"); both "only if its status is not_started or active" (stripe-node 23).
 * - list, filtered by `customer`.
 */
import { liveCustomer } from './customers';
import { nextNaturalBillingDate, requireTaxReady } from './billing-rules';
import { subscriptionEngine } from './subscriptions';
import type { Fake, Route, StripeJson } from './types';
import { arr, bool, byId, ID, integer, invalid, list, mergeMetadata, missingParam, newId, now, obj, requireString, str, type FormObject } from './wire';

declare module './types' {
  interface StripeFakeState {
    /** Subscription schedules as stored, by `sub_sched_…` id. */
    subscriptionSchedules: Map<string, StripeJson>;
  }
  interface StripeStub {
    /**
     * Plays Stripe's clock reaching a `not_started` schedule's start date: creates the subscription from its first
     * phase (items, automatic tax, discounts, metadata), sets `subscription` and status `active`. Returns the schedule.
     */
    startSubscriptionSchedule(id: string): StripeJson;
  }
}

/** The routes of subscription schedules; also installs `stub.startSubscriptionSchedule`. */
export function subscriptionScheduleRoutes(fake: Fake): Route[] {
  const { stub, state } = fake;
  const engine = subscriptionEngine(fake);
  const scheduleById = byId(state.subscriptionSchedules, 'subscription schedule');

  /** phases[] as given → stored phases with their dates; the first starts at `start`. */
  function phasesFrom(param: FormObject['phases'] | undefined, start: number, customer: StripeJson, scheduleId: string): StripeJson[] {
    const given = arr(param);
    if (!given || given.length === 0) throw missingParam('phases');
    let at = start;
    return given.map((raw, p) => {
      const phase = obj(raw);
      if (!phase) throw invalid(`Invalid phases[${p}]: must be an object.`, `phases[${p}]`);
      const items = arr(phase.items);
      if (!items || items.length === 0) throw missingParam(`phases[${p}][items]`);
      const prices = items.map((rawItem, i) => {
        const item = obj(rawItem);
        if (!item) throw invalid(`Invalid phases[${p}][items][${i}]: must be an object.`, `phases[${p}][items][${i}]`);
        if (item.price_data !== undefined) throw invalid('The stub supports items[][price] only.', `phases[${p}][items][${i}][price_data]`);
        return { price: engine.activePrice(str(item.price) ?? '', `phases[${p}][items][${i}][price]`), quantity: integer(item.quantity, `phases[${p}][items][${i}][quantity]`) };
      });
      engine.checkItems(prices.map((x) => ({ id: '', object: 'subscription_item', price: x.price })));
      const duration = obj(phase.duration);
      const endDate = integer(phase.end_date, `phases[${p}][end_date]`);
      // PostSubscriptionSchedules phases[].duration: "If set, `end_date` must not be set" (and the reverse).
      if (duration && endDate !== undefined) throw invalid(`You may only specify one of these parameters: phases[${p}][duration], phases[${p}][end_date].`, `phases[${p}]`);
      const first = prices[0]!.price.recurring;
      const end =
        endDate ??
        (duration
          ? nextNaturalBillingDate(at, requireString(duration, 'interval'), integer(duration.interval_count, `phases[${p}][duration][interval_count]`, 1) ?? 1)
          : nextNaturalBillingDate(at, first.interval, first.interval_count ?? 1)); // approximate: one iteration by default
      if (end <= at) throw invalid(`phases[${p}] must end after it starts (approximate).`, `phases[${p}][end_date]`);
      // phases[].trial_end: "Sets the phase to trialing from the start date to this date. Must be before the phase end
      // date" (docs.stripe.com/api/subscription_schedules/create).
      const trialEnd = integer(phase.trial_end, `phases[${p}][trial_end]`);
      if (trialEnd !== undefined && (trialEnd <= at || trialEnd > end)) throw invalid(`phases[${p}][trial_end] must be before the phase end date (approximate).`, `phases[${p}][trial_end]`);
      const taxEnabled = bool(obj(phase.automatic_tax)?.enabled) ?? false;
      if (taxEnabled) requireTaxReady(fake, customer, prices.map((x) => x.price), `phases[${p}][automatic_tax][enabled]`);
      const stored: StripeJson = {
        id: `${scheduleId}_phase_${p}`,
        object: 'subscription_schedule_phase',
        automatic_tax: { disabled_reason: null, enabled: taxEnabled, liability: taxEnabled ? { type: 'self' } : null },
        discounts: (arr(phase.discounts) ?? []).map((d) => ({ coupon: str(obj(d)?.coupon) ?? null, discount: null, promotion_code: null })),
        end_date: end,
        items: prices.map((x) => ({ price: x.price.id, ...(x.price.recurring.usage_type === 'metered' ? {} : { quantity: x.quantity ?? 1 }), metadata: {}, discounts: [], tax_rates: [] })),
        metadata: mergeMetadata({}, phase.metadata),
        proration_behavior: str(phase.proration_behavior) ?? 'create_prorations',
        start_date: at,
        trial_end: trialEnd ?? null,
      };
      at = end;
      return stored;
    });
  }

  /** Creates the subscription of the schedule's first phase, as Stripe does when the schedule starts. */
  function start(schedule: StripeJson): StripeJson {
    const phase = schedule.phases[0];
    const params: FormObject = {
      customer: schedule.customer,
      items: phase.items.map((i: StripeJson) => ({ price: i.price, ...(i.quantity !== undefined ? { quantity: String(i.quantity) } : {}) })),
      metadata: phase.metadata,
      automatic_tax: { enabled: String(phase.automatic_tax.enabled) },
      proration_behavior: 'none',
      // The trial runs from the phase's start to its trial_end (whole days, as the double's trials count them).
      ...(phase.trial_end ? { trial_period_days: String(Math.round((phase.trial_end - phase.start_date) / 86_400)) } : {}),
      ...(phase.discounts.length > 0 ? { discounts: phase.discounts.map((d: StripeJson) => ({ coupon: d.coupon })) } : {}),
    };
    const sub = engine.createSubscription(params);
    sub.schedule = schedule.id;
    sub.start_date = phase.start_date;
    Object.assign(schedule, { status: 'active', subscription: sub.id, current_phase: { start_date: phase.start_date, end_date: phase.end_date } });
    return sub;
  }

  function endable(schedule: StripeJson, action: string): void {
    if (schedule.status !== 'not_started' && schedule.status !== 'active') {
      throw invalid(`You cannot ${action} a subscription schedule that is currently in the \`${schedule.status}\` status. It must be in \`not_started\` or \`active\` (approximate).`);
    }
  }

  function create(params: FormObject): StripeJson {
    if (params.from_subscription !== undefined) throw invalid('The stub does not support from_subscription.', 'from_subscription');
    const customerId = requireString(params, 'customer');
    const customer = liveCustomer(state, customerId);
    const startParam = str(params.start_date);
    const startDate = startParam === undefined || startParam === 'now' ? now() : integer(startParam, 'start_date')!;
    const endBehavior = str(params.end_behavior) ?? 'release';
    if (!['release', 'cancel'].includes(endBehavior)) throw invalid(`Invalid end_behavior: ${endBehavior}`, 'end_behavior');
    const id = newId('sub_sched');
    const schedule: StripeJson = {
      id,
      object: 'subscription_schedule',
      application: null,
      billing_mode: { type: 'classic' },
      canceled_at: null,
      completed_at: null,
      created: now(),
      current_phase: null,
      customer: customerId,
      default_settings: { automatic_tax: { enabled: false, liability: null }, billing_cycle_anchor: 'automatic', collection_method: 'charge_automatically' },
      end_behavior: endBehavior,
      livemode: false,
      metadata: mergeMetadata({}, params.metadata),
      phases: phasesFrom(params.phases, startDate, customer, id),
      released_at: null,
      released_subscription: null,
      status: 'not_started',
      subscription: null,
      test_clock: null,
    };
    state.subscriptionSchedules.set(id, schedule);
    if (startDate <= now()) start(schedule);
    return schedule;
  }

  function update(schedule: StripeJson, params: FormObject): StripeJson {
    endable(schedule, 'update');
    if (params.phases !== undefined) {
      if (schedule.status !== 'not_started') throw invalid('The stub updates the phases of a not_started schedule only.', 'phases');
      const first = obj(arr(params.phases)?.[0]);
      // PostSubscriptionSchedulesSchedule phases[].start_date: "Must be set on the first phase" (`now` not supported here).
      const startDate = integer(first?.start_date, 'phases[0][start_date]');
      if (startDate === undefined) throw missingParam('phases[0][start_date]');
      const phases = (arr(params.phases) ?? []).map((p) => {
        const { start_date: _ignored, ...rest } = obj(p) ?? {};
        return rest;
      });
      schedule.phases = phasesFrom(phases, startDate, liveCustomer(state, schedule.customer), schedule.id);
    }
    const endBehavior = str(params.end_behavior);
    if (endBehavior !== undefined) schedule.end_behavior = endBehavior;
    schedule.metadata = mergeMetadata(schedule.metadata, params.metadata);
    return schedule;
  }

  stub.startSubscriptionSchedule = (id) => {
    const schedule = scheduleById(id);
    if (schedule.status !== 'not_started') throw new Error(`Schedule ${id} is ${schedule.status}, not not_started.`);
    start(schedule);
    return schedule;
  };

  return [
    {
      method: 'POST',
      pattern: /^\/v1\/subscription_schedules$/,
      resource: 'subscriptions',
      access: 'write',
      accepts: ['customer', 'start_date', 'end_behavior', 'phases', 'metadata', 'default_settings', 'from_subscription'],
      handle: ({ params }) => ({ body: create(params) }),
    },
    { method: 'GET', pattern: new RegExp(`^/v1/subscription_schedules/${ID}$`), resource: 'subscriptions', access: 'read', accepts: [], handle: (_ctx, id) => ({ body: scheduleById(id) }) },
    {
      method: 'POST',
      pattern: new RegExp(`^/v1/subscription_schedules/${ID}$`),
      resource: 'subscriptions',
      access: 'write',
      accepts: ['phases', 'metadata', 'end_behavior', 'proration_behavior', 'default_settings'],
      handle: ({ params }, id) => ({ body: update(scheduleById(id), params) }),
    },
    {
      method: 'POST',
      pattern: new RegExp(`^/v1/subscription_schedules/${ID}/cancel$`),
      resource: 'subscriptions',
      access: 'write',
      accepts: ['invoice_now', 'prorate'],
      handle: (_ctx, id) => {
        const schedule = scheduleById(id);
        endable(schedule, 'cancel');
        const sub = schedule.subscription ? state.subscriptions.get(schedule.subscription) : undefined;
        if (sub && sub.status !== 'canceled') Object.assign(sub, { status: 'canceled', canceled_at: now(), ended_at: now() });
        Object.assign(schedule, { status: 'canceled', canceled_at: now(), current_phase: null });
        return { body: schedule };
      },
    },
    {
      method: 'POST',
      pattern: new RegExp(`^/v1/subscription_schedules/${ID}/release$`),
      resource: 'subscriptions',
      access: 'write',
      accepts: ['preserve_cancel_date'],
      handle: (_ctx, id) => {
        const schedule = scheduleById(id);
        endable(schedule, 'release');
        const sub = schedule.subscription ? state.subscriptions.get(schedule.subscription) : undefined;
        if (sub) sub.schedule = null;
        Object.assign(schedule, { status: 'released', released_at: now(), released_subscription: schedule.subscription, subscription: null, current_phase: null });
        return { body: schedule };
      },
    },
    {
      method: 'GET',
      pattern: /^\/v1\/subscription_schedules$/,
      resource: 'subscriptions',
      access: 'read',
      accepts: ['customer', 'limit', 'starting_after', 'ending_before', 'scheduled', 'completed_at', 'canceled_at', 'released_at', 'created'],
      handle: ({ params }) => {
        const customer = str(params.customer);
        const items = [...state.subscriptionSchedules.values()].filter((s) => customer === undefined || s.customer === customer);
        return { body: list(items, params, '/v1/subscription_schedules') };
      },
    },
  ];
}
