ALTER TABLE "agencies" ADD COLUMN "tax_behavior" text DEFAULT 'exclusive' NOT NULL;--> statement-breakpoint
ALTER TABLE "sub_accounts" ADD COLUMN "stripe_subscription_schedule_id" text;--> statement-breakpoint
ALTER TABLE "sub_accounts" ADD COLUMN "subscription_starts_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "sub_accounts" ADD COLUMN "automatic_tax" boolean DEFAULT false NOT NULL;