ALTER TABLE "agencies" ADD COLUMN "billing_portal_configuration_id" text;--> statement-breakpoint
ALTER TABLE "agencies" ADD COLUMN "require_card_before_subscription" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "sub_accounts" ADD COLUMN "subscription_price_ids" jsonb;--> statement-breakpoint
CREATE INDEX "meter_reports_held_idx" ON "meter_reports" USING btree ("location_id","metric") WHERE "meter_reports"."status" = 'held';