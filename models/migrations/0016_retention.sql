-- Hand-written (issue 20, item 7): indexes for the retention job and the /metrics gauges (the inbox backlog gauge uses
-- activity_events_inbox_idx of 0015). activity_events is the
-- ingestion pipeline's table (models/schema/ledger.ts), so these live here instead of in its Drizzle declaration;
-- drizzle-kit never drops an index it was not told about.
--
-- 1. The retention job (server/retention/) redacts private text of finished events (status processed or ignored)
--    older than RETENTION_DAYS, oldest first, and marks each row it has dealt with by the payload key
--    `meterbridgeRedaction`. Only rows still to do are in this index, so a run reads what is due and nothing else,
--    however long the history.
CREATE INDEX IF NOT EXISTS "activity_events_retention_due_idx" ON "activity_events" USING btree ("received_at")
  WHERE "status" IN ('processed', 'ignored') AND NOT ("payload" ? 'meterbridgeRedaction');
--> statement-breakpoint
-- 2. Meter batches in a state that needs attention or is on its way (the terminal `sent` and `replaced` grow forever
--    and are not counted by the gauges).
CREATE INDEX IF NOT EXISTS "meter_batches_open_status_idx" ON "meter_batches" USING btree ("status")
  WHERE "status" IN ('queued', 'sending', 'failed', 'rejected', 'unconfirmed');
