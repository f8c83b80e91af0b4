ALTER TABLE "agencies" ADD COLUMN "stripe_event_destination_id" text;--> statement-breakpoint
ALTER TABLE "agencies" ADD COLUMN "stripe_event_destination_secret" text;--> statement-breakpoint
ALTER TABLE "meter_batches" ADD COLUMN "first_sent_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "meter_batches" ADD COLUMN "sent_timestamp" bigint;--> statement-breakpoint
ALTER TABLE "meter_batches" ADD COLUMN "rejected_code" text;--> statement-breakpoint
ALTER TABLE "meter_batches" ADD COLUMN "resent_at" timestamp with time zone;--> statement-breakpoint
CREATE INDEX "meter_batches_sent_idx" ON "meter_batches" USING btree ("company_id","meter_event_name","sent_at");--> statement-breakpoint
-- Hand-written data fix (issue 15): batches from before this migration never recorded when their identifier first
-- went to Stripe. A batch already attempted gets its creation time (the earliest it can have been sent, so its
-- identifier window is never overestimated); one never attempted keeps null (its identifier is unused).
UPDATE "meter_batches" SET "first_sent_at" = "created_at" WHERE "attempts" > 0 AND "first_sent_at" IS NULL;
