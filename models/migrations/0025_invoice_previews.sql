CREATE TABLE "invoice_previews" (
	"location_id" text PRIMARY KEY NOT NULL,
	"company_id" text NOT NULL,
	"stripe_customer_id" text NOT NULL,
	"stripe_subscription_id" text NOT NULL,
	"currency" text,
	"subtotal_cents" bigint,
	"tax_cents" bigint,
	"total_cents" bigint,
	"amount_due_cents" bigint,
	"period_start" timestamp with time zone,
	"period_end" timestamp with time zone,
	"none_reason" text,
	"fetched_at" timestamp with time zone,
	"attempted_at" timestamp with time zone DEFAULT now() NOT NULL,
	"last_error" text,
	"refresh_requested_at" timestamp with time zone
);
--> statement-breakpoint
ALTER TABLE "invoice_previews" ADD CONSTRAINT "invoice_previews_location_id_sub_accounts_location_id_fk" FOREIGN KEY ("location_id") REFERENCES "public"."sub_accounts"("location_id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "invoice_previews_company_customer_idx" ON "invoice_previews" USING btree ("company_id","stripe_customer_id");