CREATE TABLE "installations" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"company_id" text NOT NULL,
	"location_id" text,
	"user_type" text NOT NULL,
	"user_id" text,
	"access_token" text NOT NULL,
	"refresh_token" text,
	"scopes" text DEFAULT '' NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"is_bulk_installation" boolean DEFAULT false NOT NULL,
	"source" text NOT NULL,
	"status" text DEFAULT 'active' NOT NULL,
	"status_reason" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
DROP INDEX "activity_events_pending_idx";--> statement-breakpoint
ALTER TABLE "agencies" ADD COLUMN "install_sync_requested_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "agencies" ADD COLUMN "install_synced_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "agencies" ADD COLUMN "install_sync_error" text;--> statement-breakpoint
ALTER TABLE "sub_accounts" ADD COLUMN "email" text;--> statement-breakpoint
ALTER TABLE "sub_accounts" ADD COLUMN "status" text DEFAULT 'active' NOT NULL;--> statement-breakpoint
ALTER TABLE "sub_accounts" ADD COLUMN "lifecycle_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "installations" ADD CONSTRAINT "installations_company_id_agencies_company_id_fk" FOREIGN KEY ("company_id") REFERENCES "public"."agencies"("company_id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "installations_company_key" ON "installations" USING btree ("company_id") WHERE "installations"."user_type" = 'Company';--> statement-breakpoint
CREATE UNIQUE INDEX "installations_location_key" ON "installations" USING btree ("location_id") WHERE "installations"."user_type" = 'Location';--> statement-breakpoint
CREATE INDEX "installations_expiry_idx" ON "installations" USING btree ("expires_at") WHERE "installations"."status" = 'active';