DROP INDEX "rebilling_rules_default_key";--> statement-breakpoint
DROP INDEX "rebilling_rules_location_key";--> statement-breakpoint
ALTER TABLE "usage_counters" ADD COLUMN "direction" text DEFAULT 'both' NOT NULL;--> statement-breakpoint
-- Today's counters belong to the one rule in force for their (sub-account, metric): its own, else the agency
-- default. They take that rule's direction, so each keeps counting (and carrying its remainder) exactly as before.
UPDATE "usage_counters" c SET "direction" = coalesce(
  (SELECT r."direction" FROM "rebilling_rules" r WHERE r."location_id" = c."location_id" AND r."metric" = c."metric"),
  (SELECT r."direction" FROM "rebilling_rules" r WHERE r."company_id" = c."company_id" AND r."location_id" IS NULL AND r."metric" = c."metric"),
  'both');--> statement-breakpoint
ALTER TABLE "usage_counters" DROP CONSTRAINT "usage_counters_location_id_metric_pk";--> statement-breakpoint
ALTER TABLE "usage_counters" ADD CONSTRAINT "usage_counters_location_id_metric_direction_pk" PRIMARY KEY("location_id","metric","direction");--> statement-breakpoint
ALTER TABLE "sub_accounts" ADD COLUMN "nickname" text;--> statement-breakpoint
ALTER TABLE "plans" ADD COLUMN "trial_days" integer;--> statement-breakpoint
CREATE UNIQUE INDEX "rebilling_rules_default_key" ON "rebilling_rules" USING btree ("company_id","metric","direction") WHERE "rebilling_rules"."location_id" is null;--> statement-breakpoint
CREATE UNIQUE INDEX "rebilling_rules_location_key" ON "rebilling_rules" USING btree ("location_id","metric","direction") WHERE "rebilling_rules"."location_id" is not null;
