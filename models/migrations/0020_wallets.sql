CREATE TABLE "wallet_settings" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"company_id" text NOT NULL,
	"location_id" text,
	"billing_mode" text DEFAULT 'postpaid' NOT NULL,
	"currency" text NOT NULL,
	"initial_top_up_cents" bigint NOT NULL,
	"threshold_cents" bigint NOT NULL,
	"top_up_cents" bigint NOT NULL,
	"max_balance_cents" bigint NOT NULL,
	"monthly_cap_cents" bigint,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "wallet_settings_amounts_positive" CHECK ("wallet_settings"."initial_top_up_cents" > 0 and "wallet_settings"."threshold_cents" > 0 and "wallet_settings"."top_up_cents" > 0 and "wallet_settings"."max_balance_cents" > 0),
	CONSTRAINT "wallet_settings_threshold_below_max" CHECK ("wallet_settings"."threshold_cents" < "wallet_settings"."max_balance_cents")
);
--> statement-breakpoint
CREATE TABLE "wallet_top_ups" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"company_id" text NOT NULL,
	"location_id" text NOT NULL,
	"trigger" text NOT NULL,
	"amount_cents" bigint NOT NULL,
	"currency" text NOT NULL,
	"status" text DEFAULT 'pending' NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"balance_before_cents" bigint,
	"stripe_invoice_id" text,
	"stripe_credit_grant_id" text,
	"error" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "wallet_top_ups_amount_positive" CHECK ("wallet_top_ups"."amount_cents" > 0)
);
--> statement-breakpoint
ALTER TABLE "wallet_settings" ADD CONSTRAINT "wallet_settings_company_id_agencies_company_id_fk" FOREIGN KEY ("company_id") REFERENCES "public"."agencies"("company_id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "wallet_settings" ADD CONSTRAINT "wallet_settings_location_id_sub_accounts_location_id_fk" FOREIGN KEY ("location_id") REFERENCES "public"."sub_accounts"("location_id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "wallet_top_ups" ADD CONSTRAINT "wallet_top_ups_company_id_agencies_company_id_fk" FOREIGN KEY ("company_id") REFERENCES "public"."agencies"("company_id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "wallet_top_ups" ADD CONSTRAINT "wallet_top_ups_location_id_sub_accounts_location_id_fk" FOREIGN KEY ("location_id") REFERENCES "public"."sub_accounts"("location_id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "wallet_settings_agency_key" ON "wallet_settings" USING btree ("company_id") WHERE "wallet_settings"."location_id" is null;--> statement-breakpoint
CREATE UNIQUE INDEX "wallet_settings_location_key" ON "wallet_settings" USING btree ("location_id") WHERE "wallet_settings"."location_id" is not null;--> statement-breakpoint
CREATE INDEX "wallet_top_ups_location_idx" ON "wallet_top_ups" USING btree ("location_id","created_at");--> statement-breakpoint
CREATE UNIQUE INDEX "wallet_top_ups_one_in_flight" ON "wallet_top_ups" USING btree ("location_id") WHERE "wallet_top_ups"."status" in ('pending', 'paid');--> statement-breakpoint
CREATE UNIQUE INDEX "wallet_top_ups_invoice_key" ON "wallet_top_ups" USING btree ("stripe_invoice_id");