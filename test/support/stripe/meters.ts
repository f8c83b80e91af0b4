/**
 * Billing meters (docs.stripe.com/api/billing/meter): create (one active meter per event name), list, retrieve,
 * update, deactivate, reactivate.
 */
import type { Fake, Route, StripeFakeState, StripeJson } from './types';
import { byId, ID, invalid, list, missingParam, newId, now, obj, requireString, str, type FormObject } from './wire';

/** The routes of meter. */
export function meterRoutes({ stub, state }: Fake): Route[] {
  function createMeter(params: FormObject): StripeJson {
    const displayName = requireString(params, 'display_name');
    const eventName = requireString(params, 'event_name');
    if (eventName.length > 100) throw invalid('event_name may be up to 100 characters.', 'event_name');
    const formula = str(obj(params.default_aggregation)?.formula);
    if (!formula) throw missingParam('default_aggregation[formula]');
    if (!['sum', 'count', 'last'].includes(formula)) throw invalid(`Invalid default_aggregation[formula]: ${formula}`, 'default_aggregation[formula]');
    const mapping = obj(params.customer_mapping);
    const mappingType = str(mapping?.type) ?? 'by_id';
    if (mappingType !== 'by_id') throw invalid(`Invalid customer_mapping[type]: ${mappingType}`, 'customer_mapping[type]');
    if (activeMeterFor(eventName)) {
      throw invalid(`A meter with event_name \`${eventName}\` already exists and is active (approximate).`, 'event_name');
    }
    const meter: StripeJson = {
      id: newId('mtr_test'),
      object: 'billing.meter',
      created: now(),
      customer_mapping: { event_payload_key: str(mapping?.event_payload_key) ?? 'stripe_customer_id', type: mappingType },
      default_aggregation: { formula },
      display_name: displayName,
      event_name: eventName,
      event_time_window: str(params.event_time_window) ?? null,
      livemode: false,
      status: 'active',
      status_transitions: { deactivated_at: null },
      updated: now(),
      value_settings: { event_payload_key: str(obj(params.value_settings)?.event_payload_key) ?? 'value' },
    };
    state.meters.set(meter.id, meter);
    return meter;
  }

  const activeMeterFor = (eventName: string) => activeMeter(state, eventName);

  const meterById = byId(state.meters, 'billing meter');

  return [
  // docs.stripe.com/api/billing/meter
  {
    method: 'POST',
    pattern: /^\/v1\/billing\/meters$/,
    resource: 'billing_meters',
    access: 'write',
    accepts: ['display_name', 'event_name', 'default_aggregation', 'customer_mapping', 'value_settings', 'event_time_window'],
    handle: ({ params }) => ({ body: createMeter(params) }),
  },
  {
    method: 'GET',
    pattern: /^\/v1\/billing\/meters$/,
    resource: 'billing_meters',
    access: 'read',
    accepts: ['status', 'limit', 'starting_after', 'ending_before'],
    handle: ({ params }) => {
      const status = str(params.status);
      if (status !== undefined && !['active', 'inactive'].includes(status)) throw invalid(`Invalid status: ${status}`, 'status');
      return { body: list([...state.meters.values()].filter((m) => status === undefined || m.status === status), params, '/v1/billing/meters') };
    },
  },
  { method: 'GET', pattern: new RegExp(`^/v1/billing/meters/${ID}$`), resource: 'billing_meters', access: 'read', accepts: [], handle: (_ctx, id) => ({ body: meterById(id) }) },
  {
    method: 'POST',
    pattern: new RegExp(`^/v1/billing/meters/${ID}$`),
    resource: 'billing_meters',
    access: 'write',
    accepts: ['display_name'],
    handle: ({ params }, id) => {
      const meter = meterById(id);
      const displayName = str(params.display_name);
      if (displayName) meter.display_name = displayName;
      meter.updated = now();
      return { body: meter };
    },
  },
  {
    method: 'POST',
    pattern: new RegExp(`^/v1/billing/meters/${ID}/deactivate$`),
    resource: 'billing_meters',
    access: 'write',
    accepts: [],
    handle: (_ctx, id) => {
      const meter = meterById(id);
      Object.assign(meter, { status: 'inactive', status_transitions: { deactivated_at: now() }, updated: now() });
      return { body: meter };
    },
  },
  {
    method: 'POST',
    pattern: new RegExp(`^/v1/billing/meters/${ID}/reactivate$`),
    resource: 'billing_meters',
    access: 'write',
    accepts: [],
    handle: (_ctx, id) => {
      const meter = meterById(id);
      const other = activeMeterFor(meter.event_name);
      if (other && other.id !== id) throw invalid(`A meter with event_name \`${meter.event_name}\` already exists and is active (approximate).`, 'event_name');
      Object.assign(meter, { status: 'active', status_transitions: { deactivated_at: null }, updated: now() });
      return { body: meter };
    },
  },
  ];
}

/** The active meter for an event name, if any. */
export function activeMeter(state: StripeFakeState, eventName: string): StripeJson | undefined {
  return [...state.meters.values()].find((m) => m.event_name === eventName && m.status === 'active');
}
