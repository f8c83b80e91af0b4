CREATE TABLE "meter_event_cancellations" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"company_id" text NOT NULL,
	"batch_id" bigint NOT NULL,
	"identifier" text NOT NULL,
	"meter_event_name" text NOT NULL,
	"units" bigint NOT NULL,
	"run_id" bigint NOT NULL,
	"status" text DEFAULT 'requested' NOT NULL,
	"error" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "reconciliation_pairs" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"run_id" bigint NOT NULL,
	"company_id" text NOT NULL,
	"location_id" text,
	"stripe_customer_id" text NOT NULL,
	"meter_event_name" text NOT NULL,
	"stripe_meter_id" text,
	"status" text NOT NULL,
	"windows_checked" integer DEFAULT 0 NOT NULL,
	"windows_skipped" integer DEFAULT 0 NOT NULL,
	"our_units" bigint DEFAULT 0 NOT NULL,
	"stripe_units" bigint DEFAULT 0 NOT NULL,
	"missing_units" bigint DEFAULT 0 NOT NULL,
	"excess_units" bigint DEFAULT 0 NOT NULL,
	"corrected_units" bigint DEFAULT 0 NOT NULL,
	"left_for_person_units" bigint DEFAULT 0 NOT NULL,
	"message" text,
	"windows" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "reconciliation_runs" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"company_id" text NOT NULL,
	"location_id" text,
	"trigger" text NOT NULL,
	"status" text DEFAULT 'running' NOT NULL,
	"settled_before" timestamp with time zone NOT NULL,
	"windows_from" timestamp with time zone NOT NULL,
	"pairs_checked" integer DEFAULT 0 NOT NULL,
	"pairs_with_drift" integer DEFAULT 0 NOT NULL,
	"pairs_failed" integer DEFAULT 0 NOT NULL,
	"windows_checked" integer DEFAULT 0 NOT NULL,
	"windows_skipped" integer DEFAULT 0 NOT NULL,
	"missing_units" bigint DEFAULT 0 NOT NULL,
	"excess_units" bigint DEFAULT 0 NOT NULL,
	"corrected_units" bigint DEFAULT 0 NOT NULL,
	"left_for_person_units" bigint DEFAULT 0 NOT NULL,
	"unconfirmed_settled" integer DEFAULT 0 NOT NULL,
	"error" text,
	"started_at" timestamp with time zone DEFAULT now() NOT NULL,
	"finished_at" timestamp with time zone
);
--> statement-breakpoint
ALTER TABLE "meter_batches" ADD COLUMN "kind" text DEFAULT 'usage' NOT NULL;--> statement-breakpoint
ALTER TABLE "meter_batches" ADD COLUMN "replaces_batch_id" bigint;--> statement-breakpoint
ALTER TABLE "meter_batches" ADD COLUMN "reconciliation_run_id" bigint;--> statement-breakpoint
ALTER TABLE "reconciliation_pairs" ADD CONSTRAINT "reconciliation_pairs_run_id_reconciliation_runs_id_fk" FOREIGN KEY ("run_id") REFERENCES "public"."reconciliation_runs"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "meter_event_cancellations_identifier_key" ON "meter_event_cancellations" USING btree ("identifier");--> statement-breakpoint
CREATE INDEX "reconciliation_pairs_run_idx" ON "reconciliation_pairs" USING btree ("run_id");--> statement-breakpoint
CREATE INDEX "reconciliation_pairs_pair_idx" ON "reconciliation_pairs" USING btree ("company_id","stripe_customer_id","meter_event_name","run_id");--> statement-breakpoint
CREATE INDEX "reconciliation_pairs_location_idx" ON "reconciliation_pairs" USING btree ("location_id","run_id");--> statement-breakpoint
CREATE INDEX "reconciliation_runs_company_idx" ON "reconciliation_runs" USING btree ("company_id","id");--> statement-breakpoint
CREATE UNIQUE INDEX "reconciliation_runs_running_key" ON "reconciliation_runs" USING btree ("company_id") WHERE "reconciliation_runs"."status" = 'running';--> statement-breakpoint
CREATE INDEX "meter_batches_pair_time_idx" ON "meter_batches" USING btree ("company_id","stripe_customer_id","meter_event_name","timestamp");