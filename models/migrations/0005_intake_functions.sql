-- Threshold crossings and the webhook intake as SQL functions, so a delivery is ONE round trip (and one implicit
-- transaction) instead of seven statements inside BEGIN/COMMIT. The TypeScript callers and the rules are
-- described in server/metering/thresholds.ts and server/metering/record-activity.ts.
--
-- meterbridge_apply_usage(location, usage, activity_event_id) counts usage of ONE sub-account against the rules in
-- force, advances its counters and writes a meter report for every whole threshold crossed:
--   * the sub-account must be billable: installed ('active'), rebilling on, not paused by Stripe;
--   * the agency's billing set-up lock is taken shared (7310001, hashtext(company_id): server/tenancy/tenancy-lock.ts)
--     BEFORE the rules are read, so a rule change (exclusive) never interleaves with a crossing;
--   * a record counts when its metric's rule (the sub-account's own, else the agency default) is enabled, the
--     direction matches (records without a direction always match) and, in live mode, a Stripe customer is mapped;
--   * per metric, in metric order (the lock order): total += sum of quantities; units due = div(total, threshold)
--     − billed_units; a crossing writes one report dated at the latest record, 'pending' (live) or 'shadow'.
-- usage: jsonb array of {metric, quantity (decimal string), direction (null|inbound|outbound), occurred_at}.
-- Returns {"counted": records counted, "reports": [{"metric", "units" (text)}]}.
CREATE FUNCTION meterbridge_apply_usage(p_location text, p_usage jsonb, p_event_id bigint) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
  v_company text;
  v_status text;
  v_counted int := 0;
  v_reports jsonb := '[]'::jsonb;
  v_due bigint;
  r record;
BEGIN
  SELECT s.company_id, CASE WHEN s.billing_mode = 'shadow' THEN 'shadow' ELSE 'pending' END
    INTO v_company, v_status
    FROM sub_accounts s
   WHERE s.location_id = p_location AND s.status = 'active' AND s.rebilling_enabled AND s.billing_status <> 'paused';
  IF NOT FOUND THEN
    RETURN jsonb_build_object('counted', 0, 'reports', v_reports);
  END IF;
  PERFORM pg_advisory_xact_lock_shared(7310001, hashtext(v_company));

  FOR r IN
    WITH usage AS (
      SELECT u.metric, u.quantity, u.direction, u.occurred_at
        FROM jsonb_to_recordset(p_usage) AS u(metric text, quantity numeric, direction text, occurred_at timestamptz)
    ), rules AS (
      SELECT DISTINCT ON (ru.metric) ru.metric, ru.enabled, ru.threshold, ru.direction, ru.meter_event_name,
             s.stripe_customer_id
        FROM sub_accounts s
        JOIN rebilling_rules ru ON ru.company_id = s.company_id AND (ru.location_id = s.location_id OR ru.location_id IS NULL)
       WHERE s.location_id = p_location AND ru.metric IN (SELECT metric FROM usage)
       ORDER BY ru.metric, (ru.location_id IS NULL)
    )
    SELECT u.metric, sum(u.quantity) AS quantity, max(u.occurred_at) AS crossed_at, count(*)::int AS records,
           min(ru.threshold) AS threshold, min(ru.meter_event_name) AS meter_event_name,
           min(ru.stripe_customer_id) AS customer
      FROM usage u JOIN rules ru USING (metric)
     WHERE ru.enabled
       AND (v_status = 'shadow' OR ru.stripe_customer_id IS NOT NULL)
       AND (u.direction IS NULL OR ru.direction = 'both' OR ru.direction = u.direction)
     GROUP BY u.metric
     ORDER BY u.metric
  LOOP
    v_counted := v_counted + r.records;
    INSERT INTO usage_counters AS c (location_id, metric, company_id, total, billed_units)
    VALUES (p_location, r.metric, v_company, r.quantity, 0)
    ON CONFLICT (location_id, metric) DO UPDATE SET total = c.total + excluded.total, updated_at = now()
    RETURNING div(c.total, r.threshold) - c.billed_units INTO v_due;
    IF v_due > 0 THEN
      UPDATE usage_counters SET billed_units = billed_units + v_due
       WHERE location_id = p_location AND metric = r.metric;
      INSERT INTO meter_reports (company_id, location_id, metric, stripe_customer_id, meter_event_name, units, crossed_at,
                                 activity_event_id, status)
      VALUES (v_company, p_location, r.metric, r.customer, r.meter_event_name, v_due, r.crossed_at, p_event_id, v_status);
      v_reports := v_reports || jsonb_build_object('metric', r.metric, 'units', v_due::text);
    END IF;
  END LOOP;
  RETURN jsonb_build_object('counted', v_counted, 'reports', v_reports);
END
$$;
--> statement-breakpoint
-- meterbridge_record_delivery(...) is a whole delivery in one call: the activity event unless its delivery key is
-- stored already (then nothing else happens: {"id": null}); its usage records, except those of a message a backfill
-- already imported for the sub-account (delivery key 'backfill:<location>:<message id>'); and their crossings through
-- meterbridge_apply_usage. All or nothing: one statement, one transaction.
-- usage: jsonb array of {location_id, metric, quantity, unit, direction, occurred_at, source_type, source_id,
-- attributes}, all for one sub-account (usually p_location). Returns {"id" (text), "stored": [indexes of usage stored], "counted", "reports"}.
CREATE FUNCTION meterbridge_record_delivery(
  p_webhook_id text, p_event_type text, p_status text, p_company text, p_location text, p_signature_scheme text,
  p_payload jsonb, p_occurred_at timestamptz, p_usage jsonb
) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
  v_id bigint;
  v_stored jsonb;
  v_fresh jsonb;
  v_applied jsonb;
BEGIN
  INSERT INTO activity_events (webhook_id, event_type, status, company_id, location_id, signature_scheme, payload, occurred_at)
  VALUES (p_webhook_id, p_event_type, p_status, p_company, p_location, p_signature_scheme, p_payload, p_occurred_at)
  ON CONFLICT (webhook_id) DO NOTHING
  RETURNING id INTO v_id;
  IF v_id IS NULL THEN
    RETURN jsonb_build_object('id', NULL);
  END IF;

  WITH fresh AS (
    SELECT (d.ordinality - 1)::int AS idx, d.value AS draft
      FROM jsonb_array_elements(p_usage) WITH ORDINALITY AS d(value, ordinality)
     WHERE d.value->>'source_id' IS NULL
        OR NOT EXISTS (SELECT 1 FROM activity_events b
                        WHERE b.webhook_id = 'backfill:' || (d.value->>'location_id') || ':' || (d.value->>'source_id'))
  ), inserted AS (
    INSERT INTO usage_records (activity_event_id, location_id, metric, quantity, unit, direction, occurred_at, source_type,
                               source_id, attributes)
    SELECT v_id, f.draft->>'location_id', f.draft->>'metric', (f.draft->>'quantity')::numeric, f.draft->>'unit',
           f.draft->>'direction', (f.draft->>'occurred_at')::timestamptz, f.draft->>'source_type', f.draft->>'source_id',
           coalesce(f.draft->'attributes', '{}'::jsonb)
      FROM fresh f
    RETURNING 1
  )
  SELECT coalesce(jsonb_agg(f.idx ORDER BY f.idx), '[]'::jsonb),
         coalesce(jsonb_agg(f.draft ORDER BY f.idx), '[]'::jsonb)
    INTO v_stored, v_fresh
    FROM fresh f;

  IF jsonb_array_length(v_fresh) = 0 THEN
    RETURN jsonb_build_object('id', v_id::text, 'stored', v_stored, 'counted', 0, 'reports', '[]'::jsonb);
  END IF;
  v_applied := meterbridge_apply_usage(v_fresh->0->>'location_id', v_fresh, v_id);
  RETURN jsonb_build_object('id', v_id::text, 'stored', v_stored, 'counted', v_applied->'counted', 'reports', v_applied->'reports');
END
$$;
