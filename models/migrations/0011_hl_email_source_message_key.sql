ALTER TABLE "agencies" ADD COLUMN "email_billing_source" text DEFAULT 'conversations' NOT NULL;--> statement-breakpoint
ALTER TABLE "usage_records" ADD COLUMN "message_key" text;--> statement-breakpoint
CREATE INDEX "usage_records_location_message_key_idx" ON "usage_records" USING btree ("location_id","message_key") WHERE "usage_records"."message_key" is not null;
--> statement-breakpoint
-- ---------------------------------------------------------------------------------------------------------------
-- Hand-written below (issue 14): one HighLevel message is one message across webhook and backfill even when the
-- webhook carries no messageId. usage_records.message_key (added above) is '<conversationId>@<dateAdded as UTC ISO
-- 8601 with milliseconds>', the key server/metering/message-key.ts computes (why those two fields: see there).
--
-- 1. Data fix: rows stored before this migration get their key from their event's payload (a webhook's own fields;
--    a backfilled message under payload.message), in exactly the format of JavaScript's Date.toISOString().
UPDATE usage_records u
   SET message_key = k.conversation_id || '@' || to_char(k.date_added::timestamptz AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
  FROM (SELECT e.id,
               coalesce(e.payload->>'conversationId', e.payload->'message'->>'conversationId') AS conversation_id,
               coalesce(e.payload->>'dateAdded', e.payload->'message'->>'dateAdded') AS date_added
          FROM activity_events e
         WHERE e.event_type IN ('InboundMessage', 'OutboundMessage') AND e.source IN ('webhook', 'backfill')) AS k
 WHERE u.activity_event_id = k.id
   AND k.conversation_id <> ''
   AND k.date_added ~ '^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}'
   AND u.source_type IN ('InboundMessage', 'OutboundMessage');
--> statement-breakpoint
-- 2. Whether a backfill already imported the message with this key for this sub-account. A STABLE function for the
--    reason 0008 gives for meterbridge_message_backfilled: an index probe (usage_records_location_message_key_idx)
--    whatever the statistics were when plpgsql cached the calling statement's plan.
CREATE FUNCTION meterbridge_message_key_backfilled(p_location text, p_message_key text) RETURNS boolean
LANGUAGE plpgsql STABLE AS $$
BEGIN
  RETURN EXISTS (SELECT 1 FROM usage_records u JOIN activity_events e ON e.id = u.activity_event_id
                  WHERE u.location_id = p_location AND u.message_key = p_message_key AND e.source = 'backfill');
END
$$;
--> statement-breakpoint
-- 3. meterbridge_record_deliveries as in 0008, with three changes: each usage draft may carry "message_key"; the
--    message locks (7310002) are taken on the source_id AND the message_key of each draft (a backfill page locks both
--    for each exported message: server/metering/backfilled-usage.ts), so a webhook without a messageId still waits
--    for a page importing the same message; and a draft is left out when a backfill imported its message under
--    either identifier.
CREATE OR REPLACE FUNCTION meterbridge_record_deliveries(p_deliveries jsonb) RETURNS jsonb
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
     FROM (SELECT DISTINCT hashtext((u->>'location_id') || ':' || k.ident) AS h
             FROM jsonb_array_elements(p_deliveries) AS x(d), jsonb_array_elements(x.d->'usage') AS u,
                  LATERAL (VALUES (u->>'source_id'), (u->>'message_key')) AS k(ident)
            WHERE k.ident IS NOT NULL
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
       WHERE (u.value->>'source_id' IS NULL
              OR NOT meterbridge_message_backfilled(u.value->>'location_id', u.value->>'source_id'))
         AND (u.value->>'message_key' IS NULL
              OR NOT meterbridge_message_key_backfilled(u.value->>'location_id', u.value->>'message_key'))
    ), inserted AS (
      INSERT INTO usage_records (activity_event_id, location_id, metric, quantity, unit, direction, occurred_at, source_type,
                                 source_id, message_key, attributes)
      SELECT v_id, f.draft->>'location_id', f.draft->>'metric', (f.draft->>'quantity')::numeric, f.draft->>'unit',
             f.draft->>'direction', (f.draft->>'occurred_at')::timestamptz, f.draft->>'source_type', f.draft->>'source_id',
             f.draft->>'message_key', coalesce(f.draft->'attributes', '{}'::jsonb)
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
