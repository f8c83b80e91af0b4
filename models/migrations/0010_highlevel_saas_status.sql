CREATE TABLE "highlevel_saas_status" (
	"location_id" text PRIMARY KEY NOT NULL,
	"company_id" text NOT NULL,
	"saas_mode" text,
	"is_saas_v2" boolean,
	"subscription_status" text,
	"saas_plan_id" text,
	"in_saas_mode" boolean DEFAULT false NOT NULL,
	"error" text,
	"checked_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
ALTER TABLE "highlevel_saas_status" ADD CONSTRAINT "highlevel_saas_status_location_id_sub_accounts_location_id_fk" FOREIGN KEY ("location_id") REFERENCES "public"."sub_accounts"("location_id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "highlevel_saas_status_company_idx" ON "highlevel_saas_status" USING btree ("company_id");