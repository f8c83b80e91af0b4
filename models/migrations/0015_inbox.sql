-- The inbox (server/pipeline/): activity_events is where every source stores what it received, answered after the
-- insert; the inbox processor derives usage, counters and meter reports afterwards. New columns: the usage drafts a
-- source prepared (usage API, workflow action, phone numbers), the processing attempts, the last error and when to
-- try again, and when the row was processed. Existing rows are all processed or ignored already.
ALTER TABLE "activity_events" ADD COLUMN "usage" jsonb;--> statement-breakpoint
ALTER TABLE "activity_events" ADD COLUMN "attempts" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "activity_events" ADD COLUMN "last_error" text;--> statement-breakpoint
ALTER TABLE "activity_events" ADD COLUMN "next_attempt_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "activity_events" ADD COLUMN "processed_at" timestamp with time zone;--> statement-breakpoint
CREATE INDEX "activity_events_inbox_idx" ON "activity_events" USING btree ("id") WHERE "activity_events"."status" in ('received', 'failed');--> statement-breakpoint
-- The billing rule is now written once, in TypeScript (server/metering/billing-rule.ts), and the intake no longer
-- counts before it answers: the plpgsql intake functions of 0005, 0007, 0008 and 0011 go.
DROP FUNCTION IF EXISTS meterbridge_record_deliveries(jsonb);--> statement-breakpoint
DROP FUNCTION IF EXISTS meterbridge_apply_usage(text, jsonb, bigint);--> statement-breakpoint
DROP FUNCTION IF EXISTS meterbridge_message_backfilled(text, text);--> statement-breakpoint
DROP FUNCTION IF EXISTS meterbridge_message_key_backfilled(text, text);
