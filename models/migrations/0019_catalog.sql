CREATE TABLE "one_time_charges" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"company_id" text NOT NULL,
	"location_id" text NOT NULL,
	"product_id" bigint NOT NULL,
	"product_name" text NOT NULL,
	"amount" bigint NOT NULL,
	"currency" text NOT NULL,
	"mode" text NOT NULL,
	"days_until_due" integer,
	"status" text DEFAULT 'pending' NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"stripe_invoice_id" text,
	"hosted_invoice_url" text,
	"due_date" timestamp with time zone,
	"error" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "one_time_charges_amount_positive" CHECK ("one_time_charges"."amount" > 0)
);
--> statement-breakpoint
CREATE TABLE "one_time_products" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"company_id" text NOT NULL,
	"name" text NOT NULL,
	"description" text,
	"amount" bigint NOT NULL,
	"currency" text NOT NULL,
	"tax_behavior" text NOT NULL,
	"stripe_product_id" text,
	"stripe_price_id" text,
	"archived_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "one_time_products_amount_positive" CHECK ("one_time_products"."amount" > 0)
);
--> statement-breakpoint
CREATE TABLE "plan_metric_prices" (
	"plan_id" bigint NOT NULL,
	"metric" text NOT NULL,
	"included_units" bigint NOT NULL,
	"overage_unit_amount_decimal" numeric(24, 12) NOT NULL,
	"stripe_meter_id" text NOT NULL,
	"stripe_price_id" text NOT NULL,
	CONSTRAINT "plan_metric_prices_plan_id_metric_pk" PRIMARY KEY("plan_id","metric"),
	CONSTRAINT "plan_metric_included_not_negative" CHECK ("plan_metric_prices"."included_units" >= 0)
);
--> statement-breakpoint
CREATE TABLE "plans" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"company_id" text NOT NULL,
	"name" text NOT NULL,
	"currency" text NOT NULL,
	"interval" text NOT NULL,
	"base_fee_amount" bigint NOT NULL,
	"stripe_base_price_id" text,
	"is_default" boolean DEFAULT false NOT NULL,
	"archived_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "plans_base_fee_not_negative" CHECK ("plans"."base_fee_amount" >= 0)
);
--> statement-breakpoint
CREATE TABLE "sub_account_plans" (
	"location_id" text PRIMARY KEY NOT NULL,
	"plan_id" bigint NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "one_time_charges" ADD CONSTRAINT "one_time_charges_company_id_agencies_company_id_fk" FOREIGN KEY ("company_id") REFERENCES "public"."agencies"("company_id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "one_time_charges" ADD CONSTRAINT "one_time_charges_location_id_sub_accounts_location_id_fk" FOREIGN KEY ("location_id") REFERENCES "public"."sub_accounts"("location_id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "one_time_charges" ADD CONSTRAINT "one_time_charges_product_id_one_time_products_id_fk" FOREIGN KEY ("product_id") REFERENCES "public"."one_time_products"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "one_time_products" ADD CONSTRAINT "one_time_products_company_id_agencies_company_id_fk" FOREIGN KEY ("company_id") REFERENCES "public"."agencies"("company_id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "plan_metric_prices" ADD CONSTRAINT "plan_metric_prices_plan_id_plans_id_fk" FOREIGN KEY ("plan_id") REFERENCES "public"."plans"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "plans" ADD CONSTRAINT "plans_company_id_agencies_company_id_fk" FOREIGN KEY ("company_id") REFERENCES "public"."agencies"("company_id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "sub_account_plans" ADD CONSTRAINT "sub_account_plans_location_id_sub_accounts_location_id_fk" FOREIGN KEY ("location_id") REFERENCES "public"."sub_accounts"("location_id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "sub_account_plans" ADD CONSTRAINT "sub_account_plans_plan_id_plans_id_fk" FOREIGN KEY ("plan_id") REFERENCES "public"."plans"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "one_time_charges_location_idx" ON "one_time_charges" USING btree ("location_id","created_at");--> statement-breakpoint
CREATE UNIQUE INDEX "one_time_charges_invoice_key" ON "one_time_charges" USING btree ("stripe_invoice_id");--> statement-breakpoint
CREATE INDEX "one_time_products_company_idx" ON "one_time_products" USING btree ("company_id");--> statement-breakpoint
CREATE INDEX "plans_company_idx" ON "plans" USING btree ("company_id");--> statement-breakpoint
CREATE UNIQUE INDEX "plans_one_default_key" ON "plans" USING btree ("company_id") WHERE "plans"."is_default";--> statement-breakpoint
-- Today's agency flat fee becomes the agency's default plan, with the very same Stripe price: no charge changes.
INSERT INTO "plans" ("company_id", "name", "currency", "interval", "base_fee_amount", "stripe_base_price_id", "is_default")
SELECT "company_id", 'Default plan', "currency", 'month', "flat_fee_amount", "flat_fee_price_id", true
FROM "agencies"
WHERE "flat_fee_price_id" IS NOT NULL AND "flat_fee_amount" IS NOT NULL;
