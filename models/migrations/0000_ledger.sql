CREATE TABLE "activity_events" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"webhook_id" text NOT NULL,
	"event_type" text NOT NULL,
	"status" text NOT NULL,
	"company_id" text,
	"location_id" text,
	"signature_scheme" text NOT NULL,
	"payload" jsonb NOT NULL,
	"occurred_at" timestamp with time zone,
	"received_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "usage_records" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"activity_event_id" bigint NOT NULL,
	"location_id" text NOT NULL,
	"metric" text NOT NULL,
	"quantity" numeric(24, 6) NOT NULL,
	"unit" text NOT NULL,
	"direction" text,
	"occurred_at" timestamp with time zone NOT NULL,
	"source_type" text NOT NULL,
	"source_id" text,
	"attributes" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "usage_records_quantity_nonnegative" CHECK ("usage_records"."quantity" >= 0)
);
--> statement-breakpoint
ALTER TABLE "usage_records" ADD CONSTRAINT "usage_records_activity_event_id_activity_events_id_fk" FOREIGN KEY ("activity_event_id") REFERENCES "public"."activity_events"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "activity_events_webhook_id_key" ON "activity_events" USING btree ("webhook_id");--> statement-breakpoint
CREATE INDEX "activity_events_location_idx" ON "activity_events" USING btree ("location_id","received_at");--> statement-breakpoint
CREATE INDEX "activity_events_pending_idx" ON "activity_events" USING btree ("event_type") WHERE "activity_events"."status" = 'pending';--> statement-breakpoint
CREATE UNIQUE INDEX "usage_records_event_metric_key" ON "usage_records" USING btree ("activity_event_id","metric");--> statement-breakpoint
CREATE INDEX "usage_records_location_metric_idx" ON "usage_records" USING btree ("location_id","metric","occurred_at");--> statement-breakpoint
CREATE INDEX "usage_records_source_idx" ON "usage_records" USING btree ("source_id");