-- Group commit for the webhook intake (server/metering/group-commit.ts): deliveries that arrive together are written
-- by ONE call, in ONE transaction, so they share one commit (one WAL flush) and one round trip while each still
-- waits for that commit before it is acknowledged.
--
-- meterbridge_record_deliveries(deliveries) does for every delivery what meterbridge_record_delivery (0005, 0007,
-- dropped below) did for one — the activity event unless its delivery key is stored already, its usage records
-- except those of a message a backfill already imported — and then counts the new usage once per sub-account, through
-- meterbridge_apply_usage, as the usage API's batches do (server/metering/record-activity-batch.ts): a sub-account's
-- crossings become one meter report per crossed counter, attributed to its last new event of the batch.
--
-- Lock order, the same as every other writer's, so concurrent batches do not deadlock:
--   1. the message locks of the whole batch (7310002, hash order), as a backfill page takes them;
--   2. the events, in delivery-key order (COLLATE "C": byte order, as the usage API's batches sort);
--   3. the counters, sub-account by sub-account in id order, metric by metric (meterbridge_apply_usage).
-- A delivery key twice in one batch stores the first and reports the second as a duplicate.
-- deliveries: jsonb array of {webhook_id, event_type, status, company_id, location_id, signature_scheme, payload,
-- occurred_at, usage: [{location_id, metric, quantity, unit, direction, occurred_at, source_type, source_id, attributes}]}.
-- Returns {"deliveries": [per input, in input order: {"id": null} for a duplicate, else {"id" (text), "stored":
-- [indexes of usage stored], "reports": meter reports attributed to this event}]}.
-- Whether a backfill already imported this message for this sub-account: its delivery key
-- 'backfill:<location>:<message id>' is stored. The intake functions used to ask this with NOT EXISTS inside their
-- statements; plpgsql caches those statements' plans per connection, and a plan made while activity_events was
-- still small (a new install, statistics not yet gathered) hashed the WHOLE table for every delivery — every call
-- then read all of activity_events, more each minute, until an ANALYZE replanned it (`npm run bench` found it: the
-- database's CPU per delivery tripled within a minute). Asked here, it is one equality on the unique delivery key:
-- an index probe whatever the statistics say.
CREATE FUNCTION meterbridge_message_backfilled(p_location text, p_source_id text) RETURNS boolean
LANGUAGE plpgsql STABLE AS $$
BEGIN
  RETURN EXISTS (SELECT 1 FROM activity_events WHERE webhook_id = 'backfill:' || p_location || ':' || p_source_id);
END
$$;
--> statement-breakpoint
CREATE FUNCTION meterbridge_record_deliveries(p_deliveries jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
  d record;
  s record;
  v_id bigint;
  v_stored jsonb;
  v_new jsonb;
  v_results jsonb := '{}'::jsonb;
  v_fresh jsonb := '[]'::jsonb;
  v_reports jsonb := '{}'::jsonb;
  v_applied jsonb;
BEGIN
  PERFORM pg_advisory_xact_lock(7310002, m.h)
     FROM (SELECT DISTINCT hashtext((u->>'location_id') || ':' || (u->>'source_id')) AS h
             FROM jsonb_array_elements(p_deliveries) AS x(d), jsonb_array_elements(x.d->'usage') AS u
            WHERE u->>'source_id' IS NOT NULL
            ORDER BY 1) AS m;

  FOR d IN
    SELECT x.value AS v, (x.ordinality - 1)::int AS idx
      FROM jsonb_array_elements(p_deliveries) WITH ORDINALITY AS x(value, ordinality)
     ORDER BY x.value->>'webhook_id' COLLATE "C", x.ordinality
  LOOP
    INSERT INTO activity_events (webhook_id, event_type, status, company_id, location_id, signature_scheme, payload, occurred_at)
    VALUES (d.v->>'webhook_id', d.v->>'event_type', d.v->>'status', d.v->>'company_id', d.v->>'location_id',
            d.v->>'signature_scheme', d.v->'payload', (d.v->>'occurred_at')::timestamptz)
    ON CONFLICT (webhook_id) DO NOTHING
    RETURNING id INTO v_id;
    IF v_id IS NULL THEN
      v_results := v_results || jsonb_build_object(d.idx::text, jsonb_build_object('id', NULL));
      CONTINUE;
    END IF;

    WITH fresh AS (
      SELECT (u.ordinality - 1)::int AS idx, u.value AS draft
        FROM jsonb_array_elements(d.v->'usage') WITH ORDINALITY AS u(value, ordinality)
       WHERE u.value->>'source_id' IS NULL
          OR NOT meterbridge_message_backfilled(u.value->>'location_id', u.value->>'source_id')
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
           coalesce(jsonb_agg(jsonb_build_object('event_id', v_id, 'draft', f.draft) ORDER BY f.idx), '[]'::jsonb)
      INTO v_stored, v_new
      FROM fresh f;
    v_fresh := v_fresh || v_new;
    v_results := v_results || jsonb_build_object(d.idx::text, jsonb_build_object('id', v_id::text, 'stored', v_stored));
  END LOOP;

  FOR s IN
    SELECT f->'draft'->>'location_id' AS location_id, jsonb_agg(f->'draft') AS usage, max((f->>'event_id')::bigint) AS event_id
      FROM jsonb_array_elements(v_fresh) AS f
     GROUP BY f->'draft'->>'location_id'
     ORDER BY (f->'draft'->>'location_id') COLLATE "C"
  LOOP
    v_applied := meterbridge_apply_usage(s.location_id, s.usage, s.event_id);
    v_reports := v_reports || jsonb_build_object(s.event_id::text, jsonb_array_length(v_applied->'reports'));
  END LOOP;

  RETURN jsonb_build_object('deliveries', (
    SELECT coalesce(jsonb_agg(
             CASE WHEN r->>'id' IS NULL THEN r
                  ELSE r || jsonb_build_object('reports', coalesce((v_reports->>(r->>'id'))::int, 0)) END
             ORDER BY i), '[]'::jsonb)
      FROM generate_series(0, jsonb_array_length(p_deliveries) - 1) AS i, LATERAL (SELECT v_results->(i::text) AS r) AS x));
END
$$;
--> statement-breakpoint
-- Every intake write now goes through meterbridge_record_deliveries (one delivery is a batch of one), so the
-- one-delivery function of 0005/0007, whose cached plan had the whole-table lookup, goes.
DROP FUNCTION meterbridge_record_delivery(text, text, text, text, text, text, jsonb, timestamptz, jsonb);
