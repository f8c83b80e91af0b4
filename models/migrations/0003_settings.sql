ALTER TABLE "agencies" ADD COLUMN "stripe_mode" text;--> statement-breakpoint
ALTER TABLE "agencies" ADD COLUMN "stripe_key_type" text;--> statement-breakpoint
ALTER TABLE "agencies" ADD COLUMN "stripe_key_last4" text;--> statement-breakpoint
ALTER TABLE "agencies" ADD COLUMN "stripe_account_name" text;--> statement-breakpoint
ALTER TABLE "agencies" ADD COLUMN "stripe_missing_permissions" jsonb DEFAULT '[]'::jsonb NOT NULL;--> statement-breakpoint
ALTER TABLE "agencies" ADD COLUMN "stripe_connected_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "agencies" ADD COLUMN "stripe_webhook_endpoint_id" text;--> statement-breakpoint
ALTER TABLE "agencies" ADD COLUMN "stripe_webhook_secret" text;--> statement-breakpoint
ALTER TABLE "agencies" ADD COLUMN "defaults_auto_apply" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "agencies" ADD COLUMN "flat_fee_price_id" text;--> statement-breakpoint
ALTER TABLE "agencies" ADD COLUMN "flat_fee_amount" integer;--> statement-breakpoint
ALTER TABLE "agencies" ADD COLUMN "currency" text DEFAULT 'usd' NOT NULL;--> statement-breakpoint
ALTER TABLE "rebilling_rules" ADD COLUMN "stripe_meter_id" text;--> statement-breakpoint
ALTER TABLE "rebilling_rules" ADD COLUMN "stripe_price_id" text;--> statement-breakpoint
ALTER TABLE "rebilling_rules" ADD COLUMN "price_terms" jsonb;--> statement-breakpoint
ALTER TABLE "rebilling_rules" ADD COLUMN "base_cost_decimal" numeric(24, 6);--> statement-breakpoint
ALTER TABLE "sub_accounts" ADD COLUMN "rebilling_enabled" boolean DEFAULT true NOT NULL;--> statement-breakpoint
ALTER TABLE "sub_accounts" ADD COLUMN "stripe_subscription_id" text;--> statement-breakpoint
ALTER TABLE "sub_accounts" ADD COLUMN "billing_status" text DEFAULT 'ok' NOT NULL;--> statement-breakpoint
ALTER TABLE "sub_accounts" ADD COLUMN "billing_status_reason" text;--> statement-breakpoint
ALTER TABLE "sub_accounts" ADD COLUMN "defaults_pending" boolean DEFAULT false NOT NULL;