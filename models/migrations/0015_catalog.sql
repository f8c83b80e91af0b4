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
	"pay_attempts" integer DEFAULT 0 NOT NULL,
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
ALTER TABLE "one_time_charges" ADD CONSTRAINT "one_time_charges_company_id_agencies_company_id_fk" FOREIGN KEY ("company_id") REFERENCES "public"."agencies"("company_id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "one_time_charges" ADD CONSTRAINT "one_time_charges_location_id_sub_accounts_location_id_fk" FOREIGN KEY ("location_id") REFERENCES "public"."sub_accounts"("location_id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "one_time_charges" ADD CONSTRAINT "one_time_charges_product_id_one_time_products_id_fk" FOREIGN KEY ("product_id") REFERENCES "public"."one_time_products"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "one_time_products" ADD CONSTRAINT "one_time_products_company_id_agencies_company_id_fk" FOREIGN KEY ("company_id") REFERENCES "public"."agencies"("company_id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "one_time_charges_location_idx" ON "one_time_charges" USING btree ("location_id","created_at");--> statement-breakpoint
CREATE UNIQUE INDEX "one_time_charges_invoice_key" ON "one_time_charges" USING btree ("stripe_invoice_id");--> statement-breakpoint
CREATE INDEX "one_time_products_company_idx" ON "one_time_products" USING btree ("company_id");