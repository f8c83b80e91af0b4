-- A webhook and a backfill page carrying the same HighLevel message could both find the other not yet committed and
-- both count it. Both now take a transaction advisory lock per message (7310002, hashtext('<location>:<message id>'))
-- before looking for it: the second waits for the first and then sees it. Same function as in 0005 otherwise.
CREATE OR REPLACE FUNCTION meterbridge_record_delivery(
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
  -- One lock per message, in hash order: a backfill page importing the same message (server/backfill/import-page.ts
  -- takes the same locks) commits before this checks for it, or waits until this has committed.
  PERFORM pg_advisory_xact_lock(7310002, m.h)
     FROM (SELECT DISTINCT hashtext((d->>'location_id') || ':' || (d->>'source_id')) AS h
             FROM jsonb_array_elements(p_usage) AS d
            WHERE d->>'source_id' IS NOT NULL
            ORDER BY 1) AS m;

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
