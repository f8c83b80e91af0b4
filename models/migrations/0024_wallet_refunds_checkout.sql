CREATE TABLE "wallet_refunds" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"company_id" text NOT NULL,
	"location_id" text NOT NULL,
	"top_up_id" bigint NOT NULL,
	"amount_cents" bigint NOT NULL,
	"currency" text NOT NULL,
	"voided_grant_id" text NOT NULL,
	"grant_remaining_cents" bigint NOT NULL,
	"replacement_grant_id" text,
	"stripe_refund_id" text,
	"status" text DEFAULT 'pending' NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"error" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "wallet_refunds_amount_within_grant" CHECK ("wallet_refunds"."amount_cents" > 0 and "wallet_refunds"."amount_cents" <= "wallet_refunds"."grant_remaining_cents")
);
--> statement-breakpoint
CREATE TABLE "wallet_states" (
	"location_id" text PRIMARY KEY NOT NULL,
	"balance_cents" bigint NOT NULL,
	"low" boolean DEFAULT false NOT NULL,
	"low_since" timestamp with time zone,
	"checked_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "wallet_top_ups" ADD COLUMN "stripe_checkout_session_id" text;--> statement-breakpoint
ALTER TABLE "wallet_top_ups" ADD COLUMN "stripe_payment_intent_id" text;--> statement-breakpoint
ALTER TABLE "wallet_refunds" ADD CONSTRAINT "wallet_refunds_company_id_agencies_company_id_fk" FOREIGN KEY ("company_id") REFERENCES "public"."agencies"("company_id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "wallet_refunds" ADD CONSTRAINT "wallet_refunds_location_id_sub_accounts_location_id_fk" FOREIGN KEY ("location_id") REFERENCES "public"."sub_accounts"("location_id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "wallet_refunds" ADD CONSTRAINT "wallet_refunds_top_up_id_wallet_top_ups_id_fk" FOREIGN KEY ("top_up_id") REFERENCES "public"."wallet_top_ups"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "wallet_states" ADD CONSTRAINT "wallet_states_location_id_sub_accounts_location_id_fk" FOREIGN KEY ("location_id") REFERENCES "public"."sub_accounts"("location_id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "wallet_refunds_location_idx" ON "wallet_refunds" USING btree ("location_id","created_at");--> statement-breakpoint
CREATE UNIQUE INDEX "wallet_refunds_one_pending" ON "wallet_refunds" USING btree ("top_up_id") WHERE "wallet_refunds"."status" = 'pending';--> statement-breakpoint
CREATE UNIQUE INDEX "wallet_top_ups_checkout_key" ON "wallet_top_ups" USING btree ("stripe_checkout_session_id");