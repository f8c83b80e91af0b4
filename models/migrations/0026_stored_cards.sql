CREATE TABLE "card_summaries" (
	"location_id" text PRIMARY KEY NOT NULL,
	"company_id" text NOT NULL,
	"stripe_customer_id" text NOT NULL,
	"stripe_subscription_id" text,
	"status" text,
	"customer_name" text,
	"source" text,
	"payment_method_id" text,
	"type" text,
	"brand" text,
	"last4" text,
	"exp_month" integer,
	"exp_year" integer,
	"fetched_at" timestamp with time zone,
	"attempted_at" timestamp with time zone DEFAULT now() NOT NULL,
	"last_error" text,
	"refresh_requested_at" timestamp with time zone
);
--> statement-breakpoint
ALTER TABLE "card_summaries" ADD CONSTRAINT "card_summaries_location_id_sub_accounts_location_id_fk" FOREIGN KEY ("location_id") REFERENCES "public"."sub_accounts"("location_id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "card_summaries_company_customer_idx" ON "card_summaries" USING btree ("company_id","stripe_customer_id");