/**
 * v2 event destinations and thin events, as stripe-node 23.1 types them (`V2.Core.EventDestination`,
 * `V2.Core.Event`, `V1BillingMeterErrorReportTriggeredEvent`) and docs.stripe.com/api/v2/core/event_destinations and
 * docs.stripe.com/api/v2/core/events document them. v2 requests have JSON bodies (stripe-node sends
 * `application/json` in v2 mode); times are ISO 8601 strings; lists are `{ data, next_page_url }`.
 * - POST /v2/core/event_destinations: `name`, `type`, `event_payload`, `enabled_events` required; type
 *   `webhook_endpoint` needs `webhook_endpoint.url`; the signing secret is returned only in the create response and
 *   only with `include: ['webhook_endpoint.signing_secret']`; the URL only with `include: ['webhook_endpoint.url']`.
 * - GET (list, retrieve), DELETE /v2/core/event_destinations/:id.
 * - GET /v2/core/events/:id: the full event, `data` included.
 * Error reports: meter events refused by the asynchronous validation (stripe/meter-events.ts) are gathered for
 * `errorReportDelayMs`, then one event per meter is made — `v1.billing.meter.error_report_triggered` with
 * `related_object` the meter, or `v1.billing.meter.no_meter_found` without one — with `data.reason.error_types[]`
 * per code and up to `stub.sampleErrors` `sample_errors` each (a SAMPLE, as on Stripe), and its thin notification
 * `{ id, object: 'v2.core.event', type, livemode, created, related_object? }` (no `data`) is POSTed to every enabled
 * destination subscribed to the type, signed `Stripe-Signature: t=…,v1=…` with HMAC-SHA256 of `${t}.${body}` under
 * the destination's secret (docs.stripe.com/webhooks/signature; the same scheme for thin events).
 */
import { createHmac, randomBytes } from 'node:crypto';
import type { Fake, RejectedMeterEvent, Route, StripeJson } from './types';
import { ID, invalid, missingParam, newId, noSuch } from './wire';

const iso = (ms: number) => new Date(ms).toISOString();
const strings = (v: unknown): string[] | undefined => (Array.isArray(v) && v.every((s) => typeof s === 'string') ? (v as string[]) : undefined);

/** The routes of v2 event destinations and events, and the error-report emitter the meter-event handler feeds. */
export function eventDestinationRoutes({ stub, state }: Fake) {
  let pending: Array<RejectedMeterEvent & { at: number }> = [];
  let timer: NodeJS.Timeout | null = null;

  const destinationView = (d: StripeJson, include: string[] = []): StripeJson => ({
    ...d,
    webhook_endpoint: {
      ...(include.includes('webhook_endpoint.signing_secret') ? { signing_secret: d.webhook_endpoint.signing_secret } : {}),
      ...(include.includes('webhook_endpoint.url') ? { url: d.webhook_endpoint.url } : {}),
    },
  });
  const destinationById = (id: string) => {
    const found = state.eventDestinations.get(id);
    if (!found) throw noSuch('event destination', id);
    return found;
  };

  async function deliver(event: StripeJson): Promise<void> {
    const { data: _data, ...thin } = event;
    const body = JSON.stringify(thin);
    for (const d of [...state.eventDestinations.values()]) {
      if (d.status !== 'enabled' || !d.enabled_events.includes(event.type)) continue;
      const t = Math.floor(Date.now() / 1000);
      const v1 = createHmac('sha256', d.webhook_endpoint.signing_secret).update(`${t}.${body}`).digest('hex');
      const headers = { 'content-type': 'application/json', 'stripe-signature': `t=${t},v1=${v1}` };
      const url = d.webhook_endpoint.url as string;
      const delivery = { url, eventId: event.id, type: event.type, status: 0 };
      stub.deliveries.push(delivery);
      try {
        delivery.status = stub.deliver
          ? await stub.deliver(url, body, headers)
          : (await fetch(url, { method: 'POST', headers, body, signal: AbortSignal.timeout(10_000) })).status;
      } catch {
        delivery.status = 0;
      }
    }
  }

  /** Makes one event per (API key, meter) from the refused events gathered so far and delivers them. */
  async function flush(): Promise<void> {
    if (timer) clearTimeout(timer);
    timer = null;
    const batch = pending;
    pending = [];
    const groups = new Map<string, typeof batch>();
    for (const r of batch) {
      const key = `${r.apiKey}|${r.meterId ?? `none:${r.eventName}`}`;
      groups.set(key, [...(groups.get(key) ?? []), r]);
    }
    for (const group of groups.values()) {
      const meterId = group[0]!.meterId;
      const codes = [...new Set(group.map((r) => r.code))];
      const event: StripeJson = {
        id: newId('evt_test'),
        object: 'v2.core.event',
        context: null,
        created: iso(Date.now()),
        livemode: false,
        reason: null,
        type: meterId ? 'v1.billing.meter.error_report_triggered' : 'v1.billing.meter.no_meter_found',
        ...(meterId ? { related_object: { id: meterId, type: 'billing.meter', url: `/v1/billing/meters/${meterId}` } } : {}),
        data: {
          developer_message_summary: `There ${group.length === 1 ? 'is 1 invalid event' : `are ${group.length} invalid events`}`,
          reason: {
            error_count: group.length,
            error_types: codes.map((code) => {
              const ofCode = group.filter((r) => r.code === code);
              return {
                code,
                error_count: ofCode.length,
                sample_errors: ofCode.slice(0, stub.sampleErrors).map((r) => ({ error_message: r.message, request: { identifier: r.identifier } })),
              };
            }),
          },
          validation_start: iso(Math.min(...group.map((r) => r.at))),
          validation_end: iso(Date.now()),
        },
      };
      state.v2Events.set(event.id, event);
      await deliver(event);
    }
  }

  /** Gathers a refused event; its report goes out `errorReportDelayMs` later. */
  function report(rejected: RejectedMeterEvent): void {
    stub.rejectedEvents.push(rejected);
    pending.push({ ...rejected, at: Date.now() });
    timer ??= setTimeout(() => void flush(), stub.errorReportDelayMs);
  }

  const routes: Route[] = [
    {
      method: 'POST',
      pattern: /^\/v2\/core\/event_destinations$/,
      resource: 'event_destinations',
      access: 'write',
      accepts: ['name', 'type', 'event_payload', 'enabled_events', 'description', 'events_from', 'include', 'metadata', 'snapshot_api_version', 'webhook_endpoint'],
      handle: ({ params }) => {
        const p = params as unknown as Record<string, unknown>;
        for (const field of ['name', 'type', 'event_payload', 'enabled_events']) if (p[field] === undefined) throw missingParam(field);
        const events = strings(p.enabled_events);
        if (!events || events.length === 0) throw invalid('enabled_events must be a non-empty list of event types (approximate).', 'enabled_events');
        if (!['thin', 'snapshot'].includes(String(p.event_payload))) throw invalid(`Invalid event_payload: ${String(p.event_payload)}`, 'event_payload');
        if (p.event_payload === 'thin' && p.snapshot_api_version !== undefined) {
          throw invalid('snapshot_api_version is for snapshot events only (approximate).', 'snapshot_api_version');
        }
        if (p.type !== 'webhook_endpoint') throw invalid('The stub supports type webhook_endpoint only.', 'type');
        const url = (p.webhook_endpoint as { url?: unknown } | undefined)?.url;
        if (typeof url !== 'string' || !/^https?:\/\/\S+$/.test(url)) throw missingParam('webhook_endpoint.url');
        const destination: StripeJson = {
          id: newId('ed_test'),
          object: 'v2.core.event_destination',
          created: iso(Date.now()),
          description: typeof p.description === 'string' ? p.description : '',
          enabled_events: events,
          event_payload: p.event_payload,
          events_from: strings(p.events_from) ?? ['@self'],
          livemode: false,
          metadata: (p.metadata as Record<string, string> | undefined) ?? {},
          name: String(p.name),
          status: 'enabled',
          type: 'webhook_endpoint',
          updated: iso(Date.now()),
          webhook_endpoint: { url, signing_secret: `whsec_${randomBytes(24).toString('hex')}` },
        };
        state.eventDestinations.set(destination.id, destination);
        return { body: destinationView(destination, strings(p.include) ?? []) };
      },
    },
    {
      method: 'GET',
      pattern: /^\/v2\/core\/event_destinations$/,
      resource: 'event_destinations',
      access: 'read',
      accepts: ['include', 'limit', 'page'],
      handle: ({ params }) => ({
        body: { data: [...state.eventDestinations.values()].map((d) => destinationView(d, [params.include ?? []].flat().map(String))), next_page_url: null, previous_page_url: null },
      }),
    },
    {
      method: 'GET',
      pattern: new RegExp(`^/v2/core/event_destinations/${ID}$`),
      resource: 'event_destinations',
      access: 'read',
      accepts: ['include'],
      handle: ({ params }, id) => ({ body: destinationView(destinationById(id), [params.include ?? []].flat().map(String)) }),
    },
    {
      method: 'DELETE',
      pattern: new RegExp(`^/v2/core/event_destinations/${ID}$`),
      resource: 'event_destinations',
      access: 'write',
      accepts: [],
      handle: (_ctx, id) => {
        destinationById(id);
        state.eventDestinations.delete(id);
        return { body: { id, object: 'v2.core.event_destination', deleted: true } };
      },
    },
    {
      method: 'GET',
      pattern: new RegExp(`^/v2/core/events/${ID}$`),
      resource: 'event_destinations',
      access: 'read',
      accepts: [],
      handle: (_ctx, id) => {
        const event = state.v2Events.get(id);
        if (!event) throw noSuch('event', id);
        return { body: event };
      },
    },
  ];
  return { routes, report, flush };
}
