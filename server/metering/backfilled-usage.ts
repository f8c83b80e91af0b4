/**
 * Usage already imported by a backfill (server/backfill/). A backfill skips messages a webhook delivered; this is
 * the other direction: a webhook arriving after a backfill imported the same message (HighLevel retries a delivery
 * for hours) must not count it a second time: the intake's SQL function `meterbridge_record_delivery`
 * (models/migrations/0005_intake_functions.sql) leaves such usage out.
 */

/** The delivery key (`activity_events.webhook_id`) of a message imported by a backfill. */
export function backfillDeliveryKey(locationId: string, messageId: string): string {
  return `backfill:${locationId}:${messageId}`;
}
