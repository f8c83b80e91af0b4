CREATE TABLE "api_keys" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"company_id" text NOT NULL,
	"name" text NOT NULL,
	"prefix" text NOT NULL,
	"key_hash" text NOT NULL,
	"last_used_at" timestamp with time zone,
	"revoked_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "backfill_jobs" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"company_id" text NOT NULL,
	"location_id" text NOT NULL,
	"channels" jsonb NOT NULL,
	"start_at" timestamp with time zone NOT NULL,
	"end_at" timestamp with time zone NOT NULL,
	"bill" boolean DEFAULT false NOT NULL,
	"status" text DEFAULT 'queued' NOT NULL,
	"cursor" text,
	"pages" integer DEFAULT 0 NOT NULL,
	"messages_seen" integer DEFAULT 0 NOT NULL,
	"messages_imported" integer DEFAULT 0 NOT NULL,
	"messages_duplicate" integer DEFAULT 0 NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"last_error" text,
	"locked_until" timestamp with time zone,
	"billed_at" timestamp with time zone,
	"started_at" timestamp with time zone,
	"finished_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "backfill_jobs_range" CHECK ("backfill_jobs"."start_at" < "backfill_jobs"."end_at")
);
--> statement-breakpoint
CREATE TABLE "custom_metrics" (
	"company_id" text NOT NULL,
	"key" text NOT NULL,
	"label" text NOT NULL,
	"unit" text NOT NULL,
	"archived_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "custom_metrics_company_id_key_pk" PRIMARY KEY("company_id","key")
);
--> statement-breakpoint
DROP INDEX "usage_records_source_idx";--> statement-breakpoint
ALTER TABLE "activity_events" ALTER COLUMN "signature_scheme" DROP NOT NULL;--> statement-breakpoint
ALTER TABLE "meter_reports" ALTER COLUMN "stripe_customer_id" DROP NOT NULL;--> statement-breakpoint
ALTER TABLE "activity_events" ADD COLUMN "source" text DEFAULT 'webhook' NOT NULL;--> statement-breakpoint
ALTER TABLE "sub_accounts" ADD COLUMN "billing_mode" text DEFAULT 'live' NOT NULL;--> statement-breakpoint
ALTER TABLE "sub_accounts" ADD COLUMN "billing_mode_changed_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "usage_records" ADD COLUMN "counted" boolean DEFAULT true NOT NULL;--> statement-breakpoint
ALTER TABLE "api_keys" ADD CONSTRAINT "api_keys_company_id_agencies_company_id_fk" FOREIGN KEY ("company_id") REFERENCES "public"."agencies"("company_id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "backfill_jobs" ADD CONSTRAINT "backfill_jobs_company_id_agencies_company_id_fk" FOREIGN KEY ("company_id") REFERENCES "public"."agencies"("company_id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "backfill_jobs" ADD CONSTRAINT "backfill_jobs_location_id_sub_accounts_location_id_fk" FOREIGN KEY ("location_id") REFERENCES "public"."sub_accounts"("location_id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "custom_metrics" ADD CONSTRAINT "custom_metrics_company_id_agencies_company_id_fk" FOREIGN KEY ("company_id") REFERENCES "public"."agencies"("company_id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "api_keys_hash_key" ON "api_keys" USING btree ("key_hash");--> statement-breakpoint
CREATE INDEX "api_keys_company_idx" ON "api_keys" USING btree ("company_id");--> statement-breakpoint
CREATE INDEX "backfill_jobs_location_idx" ON "backfill_jobs" USING btree ("location_id","created_at");--> statement-breakpoint
CREATE INDEX "backfill_jobs_due_idx" ON "backfill_jobs" USING btree ("created_at") WHERE "backfill_jobs"."status" in ('queued', 'running');--> statement-breakpoint
CREATE INDEX "meter_reports_shadow_idx" ON "meter_reports" USING btree ("location_id","metric") WHERE "meter_reports"."status" = 'shadow';--> statement-breakpoint
CREATE INDEX "usage_records_location_source_idx" ON "usage_records" USING btree ("location_id","source_id") WHERE "usage_records"."source_id" is not null;--> statement-breakpoint
CREATE INDEX "usage_records_held_idx" ON "usage_records" USING btree ("location_id") WHERE not "usage_records"."counted";--> statement-breakpoint
ALTER TABLE "meter_reports" ADD CONSTRAINT "meter_reports_customer_unless_shadow" CHECK ("meter_reports"."stripe_customer_id" is not null or "meter_reports"."status" = 'shadow');