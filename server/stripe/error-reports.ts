/**
 * Stripe's asynchronous meter-event errors, delivered to `/webhooks/stripe-events/:companyId` by the agency's event
 * destination (server/stripe/event-destinations.ts). The delivery is a signed thin notification (`Stripe-Signature`,
 * the scheme of docs.stripe.com/webhooks/signature) verified with stripe-node 23.1's `parseEventNotification`; it is
 * only a hint: the full event is read from Stripe (`GET /v2/core/events/:id`, `stripe.v2.core.events.retrieve`) and
 * that is what is applied. Its shape (stripe-node 23.1 `V1BillingMeterErrorReportTriggeredEvent.Data`, the same
 * for `no_meter_found`): `{ reason: { error_types: [{ code, sample_errors: [{ error_message, request: { identifier } }] }] },
 * validation_start, validation_end }`.
 * - Each sample's identifier names one of our batches: it becomes `rejected` with the code and message (Stripe
 *   never counted it).
 * - `no_meter_found`: no meter takes that event name, so no event to it in the validation window was counted:
 *   every batch of the agency for the event names the samples point to, received in the window, is rejected too.
 * `sample_errors` is a sample: events it does not name stay as they are (reconciliation settles them).
 */
import type { Logger } from 'pino';
import type Stripe from 'stripe';
import type { Database } from '../../models/database';
import type { SecretBox } from '../crypto/secret-box';
import { AppError, badRequest, notFound } from '../http/errors';
import { findAgency } from '../tenancy/accounts-repository';
import { METER_ERROR_EVENT_TYPES } from './event-destinations';
import { rejectBatch, rejectBatchesInWindow } from './meter-batch-settlement';

/** What one delivery did. */
export interface ErrorReportOutcome {
  eventId: string;
  type: string;
  /** Batches marked rejected by this delivery (0 for a repeat, or an event type not listened to). */
  rejectedBatches: number;
}

/** The part of a meter error event read here (both types share it). */
interface MeterErrorData {
  developer_message_summary?: string;
  reason?: { error_types?: Array<{ code?: string; sample_errors?: Array<{ error_message?: string; request?: { identifier?: string } }> }> };
  validation_start?: string;
  validation_end?: string;
}

/**
 * Builds the handler of error-report deliveries. `stripeForAgency` gives the agency's client (its key verifies
 * nothing: the signature is checked with the destination's own secret, then the event is read through the key).
 */
export function createErrorReports(deps: { db: Database; secretBox: SecretBox; stripeForAgency: (companyId: string) => Promise<Stripe>; logger: Logger }) {
  const { db, logger } = deps;

  async function apply(companyId: string, type: string, data: MeterErrorData): Promise<number> {
    let rejected = 0;
    const eventNames = new Set<string>();
    let first: { code: string; message: string } | null = null;
    for (const errorType of data.reason?.error_types ?? []) {
      const code = errorType.code ?? 'unknown';
      for (const sample of errorType.sample_errors ?? []) {
        const identifier = sample.request?.identifier;
        if (!identifier) continue;
        const message = sample.error_message ?? data.developer_message_summary ?? 'Stripe refused this meter event.';
        first ??= { code, message };
        const eventName = await rejectBatch(db, companyId, identifier, code, message);
        if (eventName !== null) {
          rejected += 1;
          eventNames.add(eventName);
        }
      }
    }
    const start = data.validation_start ? new Date(data.validation_start) : null;
    const end = data.validation_end ? new Date(data.validation_end) : null;
    if (type === 'v1.billing.meter.no_meter_found' && first && start && end && !Number.isNaN(start.getTime()) && !Number.isNaN(end.getTime())) {
      rejected += await rejectBatchesInWindow(db, companyId, [...eventNames], { start, end }, first.code, first.message);
    }
    return rejected;
  }

  return {
    /**
     * Verifies, re-reads and applies one delivery.
     * @throws AppError 404 unknown agency; 400 `event_destination_not_configured` or 401 `invalid_signature` (nothing
     *   applied); Stripe read errors propagate (the route answers 5xx and Stripe delivers again).
     */
    async handle(companyId: string, rawBody: Buffer, signature: string | undefined): Promise<ErrorReportOutcome> {
      const agency = await findAgency(db, companyId);
      if (!agency) throw notFound('Unknown agency.');
      if (!agency.stripeEventDestinationSecret) throw badRequest('event_destination_not_configured', 'No Stripe event destination is configured for this agency.');
      const stripe = await deps.stripeForAgency(companyId);
      let notification: { id: string; type: string };
      try {
        notification = stripe.parseEventNotification(rawBody, signature ?? '', deps.secretBox.open(agency.stripeEventDestinationSecret));
      } catch (err) {
        throw new AppError('invalid_signature', `The Stripe signature does not match: ${(err as Error).message}`);
      }
      if (!(METER_ERROR_EVENT_TYPES as readonly string[]).includes(notification.type)) {
        return { eventId: notification.id, type: notification.type, rejectedBatches: 0 };
      }
      const event = (await stripe.v2.core.events.retrieve(notification.id)) as unknown as { id: string; type: string; data?: MeterErrorData };
      const rejectedBatches = await apply(companyId, event.type, event.data ?? {});
      logger.warn({ companyId, eventId: event.id, type: event.type, rejectedBatches }, 'Stripe refused meter events after accepting them');
      return { eventId: event.id, type: event.type, rejectedBatches };
    },
  };
}

/** The error-report handler (see `createErrorReports`). */
export type ErrorReports = ReturnType<typeof createErrorReports>;
