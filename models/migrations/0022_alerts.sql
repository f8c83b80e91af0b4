CREATE TABLE "alert_deliveries" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"alert_id" uuid NOT NULL,
	"company_id" text NOT NULL,
	"channel" text NOT NULL,
	"target" text NOT NULL,
	"subscription_id" text,
	"status" text DEFAULT 'pending' NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"next_attempt_at" timestamp with time zone DEFAULT now(),
	"last_status_code" integer,
	"last_error" text,
	"delivered_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "alert_delivery_attempts" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"delivery_id" bigint NOT NULL,
	"attempt" integer NOT NULL,
	"status_code" integer,
	"error" text,
	"attempted_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "alert_settings" (
	"company_id" text PRIMARY KEY NOT NULL,
	"webhook_url" text,
	"webhook_enabled" boolean DEFAULT false NOT NULL,
	"webhook_events" text[] DEFAULT '{}'::text[] NOT NULL,
	"webhook_secret" text,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "alerts" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"company_id" text NOT NULL,
	"location_id" text,
	"kind" text NOT NULL,
	"dedupe_key" text NOT NULL,
	"title" text NOT NULL,
	"message" text NOT NULL,
	"data" jsonb NOT NULL,
	"read_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "highlevel_trigger_subscriptions" (
	"id" text PRIMARY KEY NOT NULL,
	"trigger_key" text NOT NULL,
	"company_id" text NOT NULL,
	"location_id" text NOT NULL,
	"workflow_id" text,
	"target_url" text NOT NULL,
	"filters" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "usage_alert_thresholds" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"company_id" text NOT NULL,
	"location_id" text,
	"metric" text NOT NULL,
	"limit_value" numeric NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "usage_alert_thresholds_positive" CHECK ("usage_alert_thresholds"."limit_value" > 0)
);
--> statement-breakpoint
ALTER TABLE "alert_deliveries" ADD CONSTRAINT "alert_deliveries_alert_id_alerts_id_fk" FOREIGN KEY ("alert_id") REFERENCES "public"."alerts"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "alert_delivery_attempts" ADD CONSTRAINT "alert_delivery_attempts_delivery_id_alert_deliveries_id_fk" FOREIGN KEY ("delivery_id") REFERENCES "public"."alert_deliveries"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "alert_settings" ADD CONSTRAINT "alert_settings_company_id_agencies_company_id_fk" FOREIGN KEY ("company_id") REFERENCES "public"."agencies"("company_id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "alerts" ADD CONSTRAINT "alerts_company_id_agencies_company_id_fk" FOREIGN KEY ("company_id") REFERENCES "public"."agencies"("company_id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "alerts" ADD CONSTRAINT "alerts_location_id_sub_accounts_location_id_fk" FOREIGN KEY ("location_id") REFERENCES "public"."sub_accounts"("location_id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "highlevel_trigger_subscriptions" ADD CONSTRAINT "highlevel_trigger_subscriptions_location_id_sub_accounts_location_id_fk" FOREIGN KEY ("location_id") REFERENCES "public"."sub_accounts"("location_id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "usage_alert_thresholds" ADD CONSTRAINT "usage_alert_thresholds_company_id_agencies_company_id_fk" FOREIGN KEY ("company_id") REFERENCES "public"."agencies"("company_id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "usage_alert_thresholds" ADD CONSTRAINT "usage_alert_thresholds_location_id_sub_accounts_location_id_fk" FOREIGN KEY ("location_id") REFERENCES "public"."sub_accounts"("location_id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "alert_deliveries_target_key" ON "alert_deliveries" USING btree ("alert_id","channel","target");--> statement-breakpoint
CREATE INDEX "alert_deliveries_due_idx" ON "alert_deliveries" USING btree ("next_attempt_at") WHERE "alert_deliveries"."status" = 'pending';--> statement-breakpoint
CREATE INDEX "alert_deliveries_company_idx" ON "alert_deliveries" USING btree ("company_id","created_at");--> statement-breakpoint
CREATE UNIQUE INDEX "alert_delivery_attempts_key" ON "alert_delivery_attempts" USING btree ("delivery_id","attempt");--> statement-breakpoint
CREATE UNIQUE INDEX "alerts_dedupe_key" ON "alerts" USING btree ("company_id","dedupe_key");--> statement-breakpoint
CREATE INDEX "alerts_company_created_idx" ON "alerts" USING btree ("company_id","created_at");--> statement-breakpoint
CREATE INDEX "alerts_company_unread_idx" ON "alerts" USING btree ("company_id") WHERE "alerts"."read_at" is null;--> statement-breakpoint
CREATE INDEX "highlevel_trigger_subscriptions_location_idx" ON "highlevel_trigger_subscriptions" USING btree ("location_id","trigger_key");--> statement-breakpoint
CREATE UNIQUE INDEX "usage_alert_thresholds_agency_key" ON "usage_alert_thresholds" USING btree ("company_id","metric") WHERE "usage_alert_thresholds"."location_id" is null;--> statement-breakpoint
CREATE UNIQUE INDEX "usage_alert_thresholds_location_key" ON "usage_alert_thresholds" USING btree ("location_id","metric") WHERE "usage_alert_thresholds"."location_id" is not null;