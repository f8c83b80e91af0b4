CREATE TABLE "agencies" (
	"company_id" text PRIMARY KEY NOT NULL,
	"name" text,
	"stripe_secret_key" text,
	"stripe_account_id" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "meter_batches" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"company_id" text NOT NULL,
	"stripe_customer_id" text NOT NULL,
	"meter_event_name" text NOT NULL,
	"identifier" text NOT NULL,
	"value" bigint NOT NULL,
	"timestamp" bigint NOT NULL,
	"status" text DEFAULT 'sending' NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"next_attempt_at" timestamp with time zone DEFAULT now() NOT NULL,
	"locked_until" timestamp with time zone,
	"last_error" text,
	"sent_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "meter_reports" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"company_id" text NOT NULL,
	"location_id" text NOT NULL,
	"metric" text NOT NULL,
	"stripe_customer_id" text NOT NULL,
	"meter_event_name" text NOT NULL,
	"units" bigint NOT NULL,
	"crossed_at" timestamp with time zone NOT NULL,
	"activity_event_id" bigint,
	"status" text DEFAULT 'pending' NOT NULL,
	"batch_id" bigint,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "meter_reports_units_positive" CHECK ("meter_reports"."units" > 0)
);
--> statement-breakpoint
CREATE TABLE "rebilling_rules" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"company_id" text NOT NULL,
	"location_id" text,
	"metric" text NOT NULL,
	"enabled" boolean DEFAULT true NOT NULL,
	"threshold" numeric(24, 6) NOT NULL,
	"direction" text NOT NULL,
	"meter_event_name" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "rebilling_rules_threshold_positive" CHECK ("rebilling_rules"."threshold" > 0)
);
--> statement-breakpoint
CREATE TABLE "sub_accounts" (
	"location_id" text PRIMARY KEY NOT NULL,
	"company_id" text NOT NULL,
	"name" text,
	"stripe_customer_id" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "usage_counters" (
	"location_id" text NOT NULL,
	"metric" text NOT NULL,
	"company_id" text NOT NULL,
	"total" numeric(30, 6) NOT NULL,
	"billed_units" bigint NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "usage_counters_location_id_metric_pk" PRIMARY KEY("location_id","metric")
);
--> statement-breakpoint
ALTER TABLE "meter_reports" ADD CONSTRAINT "meter_reports_activity_event_id_activity_events_id_fk" FOREIGN KEY ("activity_event_id") REFERENCES "public"."activity_events"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "meter_reports" ADD CONSTRAINT "meter_reports_batch_id_meter_batches_id_fk" FOREIGN KEY ("batch_id") REFERENCES "public"."meter_batches"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "rebilling_rules" ADD CONSTRAINT "rebilling_rules_company_id_agencies_company_id_fk" FOREIGN KEY ("company_id") REFERENCES "public"."agencies"("company_id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "rebilling_rules" ADD CONSTRAINT "rebilling_rules_location_id_sub_accounts_location_id_fk" FOREIGN KEY ("location_id") REFERENCES "public"."sub_accounts"("location_id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "sub_accounts" ADD CONSTRAINT "sub_accounts_company_id_agencies_company_id_fk" FOREIGN KEY ("company_id") REFERENCES "public"."agencies"("company_id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "meter_batches_identifier_key" ON "meter_batches" USING btree ("identifier");--> statement-breakpoint
CREATE UNIQUE INDEX "meter_batches_in_flight_key" ON "meter_batches" USING btree ("company_id","stripe_customer_id","meter_event_name") WHERE "meter_batches"."status" = 'sending';--> statement-breakpoint
CREATE INDEX "meter_batches_due_idx" ON "meter_batches" USING btree ("next_attempt_at") WHERE "meter_batches"."status" = 'sending';--> statement-breakpoint
CREATE INDEX "meter_reports_pending_idx" ON "meter_reports" USING btree ("company_id","stripe_customer_id","meter_event_name") WHERE "meter_reports"."status" = 'pending';--> statement-breakpoint
CREATE INDEX "meter_reports_location_idx" ON "meter_reports" USING btree ("location_id","metric","created_at");--> statement-breakpoint
CREATE INDEX "meter_reports_batch_idx" ON "meter_reports" USING btree ("batch_id");--> statement-breakpoint
CREATE UNIQUE INDEX "rebilling_rules_default_key" ON "rebilling_rules" USING btree ("company_id","metric") WHERE "rebilling_rules"."location_id" is null;--> statement-breakpoint
CREATE UNIQUE INDEX "rebilling_rules_location_key" ON "rebilling_rules" USING btree ("location_id","metric") WHERE "rebilling_rules"."location_id" is not null;--> statement-breakpoint
CREATE INDEX "sub_accounts_company_idx" ON "sub_accounts" USING btree ("company_id");