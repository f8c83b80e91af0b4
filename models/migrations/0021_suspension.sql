CREATE TABLE "suspension_policies" (
	"company_id" text PRIMARY KEY NOT NULL,
	"policy" text DEFAULT 'off' NOT NULL,
	"after_attempts" integer DEFAULT 3 NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "suspension_policies_attempts_range" CHECK ("suspension_policies"."after_attempts" between 1 and 10)
);
--> statement-breakpoint
CREATE TABLE "suspensions" (
	"location_id" text PRIMARY KEY NOT NULL,
	"company_id" text NOT NULL,
	"trigger" text NOT NULL,
	"invoice_id" text,
	"hosted_invoice_url" text,
	"attempt_count" integer,
	"suspended_at" timestamp with time zone DEFAULT now() NOT NULL,
	"pause_in_highlevel" boolean NOT NULL,
	"highlevel_state" text DEFAULT 'none' NOT NULL,
	"highlevel_error" text,
	"highlevel_at" timestamp with time zone,
	"resumed_at" timestamp with time zone,
	"resumed_by" text
);
--> statement-breakpoint
ALTER TABLE "suspension_policies" ADD CONSTRAINT "suspension_policies_company_id_agencies_company_id_fk" FOREIGN KEY ("company_id") REFERENCES "public"."agencies"("company_id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "suspensions" ADD CONSTRAINT "suspensions_location_id_sub_accounts_location_id_fk" FOREIGN KEY ("location_id") REFERENCES "public"."sub_accounts"("location_id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "suspensions_company_idx" ON "suspensions" USING btree ("company_id");