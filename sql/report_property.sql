-- A property of the report: after any mix of writers (API and staged
-- imports, Clear History, a DBA's DELETE and UPDATE, live inserts with
-- imported = false, compaction), every report equals the same query run
-- over trackly.sends: every grouping, in zones with whole-hour, :30 and :45
-- offsets across their changes of offset, over ranges that begin and end on
-- an hour, on a quarter hour or anywhere.  Random rounds from a fixed seed;
-- a difference is shown with the request that found it.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS trackly_history CASCADE;
CREATE EXTENSION trackly_history;
RESET client_min_messages;
SET TimeZone = 'UTC';

SELECT trackly_create_account('Property Co') AS a, trackly_create_account('Neighbour Co') AS b \gset
SELECT trackly_create_api_key(:a) AS key \gset
SELECT trackly_create_list(:a, NULL, 'main', 42), trackly_create_list(:a, NULL, 'side', 7),
	   trackly_create_list(:b, NULL, 'main', 42);
SET trackly.api_key = :'key';
SELECT set_config('test.a', :'a', false) IS NOT NULL AS a_set, set_config('test.b', :'b', false) IS NOT NULL AS b_set;

-- The report as a direct query over trackly.sends.
\ir test/regress/direct_report.sql

-- The zones reports are asked in: whole-hour offsets (Tokyo; New York and
-- Havana, which change offset on 2025-11-02), :30 (Kolkata; Adelaide,
-- +09:30 to +10:30, and Lord Howe, +10:30 to +11:00, on 2025-10-05;
-- St John's, -02:30 to -03:30, on 2025-11-02) and :45 (Kathmandu; Chatham,
-- +12:45 to +13:45, on 2025-09-28).
CREATE FUNCTION random_zone() RETURNS text LANGUAGE sql AS $$
	SELECT (ARRAY['UTC', 'Asia/Tokyo', 'America/New_York', 'America/Havana', 'Asia/Kolkata', 'Australia/Adelaide',
				  'Australia/Lord_Howe', 'America/St_Johns', 'Asia/Kathmandu', 'Pacific/Chatham'])
		   [1 + floor(random() * 10)::int]
$$;
-- An instant on an hour, on a quarter hour or anywhere (to the microsecond).
CREATE FUNCTION random_alignment(t timestamptz) RETURNS timestamptz LANGUAGE sql AS $$
	SELECT CASE WHEN x < 0.25 THEN date_bin('1 hour', t, '2000-01-01 00:00:00+00')
				WHEN x < 0.5 THEN date_bin('15 minutes', t, '2000-01-01 00:00:00+00')
				ELSE t END
	  FROM (SELECT random() AS x) r
$$;
-- A random instant of 2025-09-24 to 2025-11-10 (the changes of offset
-- above are in it), half of them within 90 minutes of a zone's local
-- midnight, where the periods begin.
CREATE FUNCTION random_instant() RETURNS timestamptz LANGUAGE sql AS $$
	SELECT random_alignment(CASE WHEN random() < 0.5
			THEN '2025-09-24T00:00:00Z'::timestamptz + random() * interval '47 days'
			ELSE (('2025-09-24'::date + floor(random() * 47)::int)::timestamp AT TIME ZONE random_zone())
				 + (random() - 0.5) * interval '3 hours' END)
$$;
-- An instant written as the contract's ISO 8601, in a random offset.
CREATE FUNCTION iso(t timestamptz) RETURNS text LANGUAGE sql AS $$
	SELECT to_char(t AT TIME ZONE o::interval, 'YYYY-MM-DD"T"HH24:MI:SS.US') || CASE o WHEN '+00:00' THEN 'Z' ELSE o END
	  FROM (SELECT (ARRAY['+00:00', '+05:45', '-03:30', '+09:00'])[1 + floor(random() * 4)::int] AS o) x
$$;
CREATE FUNCTION pick(a anyarray) RETURNS anyelement LANGUAGE sql AS $$
	SELECT a[1 + floor(random() * cardinality(a))::int]
$$;
CREATE FUNCTION random_record() RETURNS jsonb LANGUAGE sql AS $$
	SELECT jsonb_strip_nulls(jsonb_build_object(
		'id', 'm' || floor(random() * 3000)::int,
		'to_number', CASE WHEN random() < 0.05 THEN 'bad' ELSE '+12025559876' END,
		'timestamp', iso(random_instant()),
		'list_id', pick(ARRAY[42, 7, NULL, NULL]),
		'creative_id', pick(ARRAY[100, 101, NULL]),
		'send_type', pick(ARRAY['promo', 'Promo', 'alert', NULL]),
		'delivered', pick(ARRAY[true, false, NULL])))
$$;

CREATE TABLE staging (id text, to_number text, "timestamp" text, list_id text, creative_id text,
					  send_type text, delivered text);
GRANT SELECT ON staging TO trackly_admin;

CREATE FUNCTION random_round() RETURNS text LANGUAGE plpgsql AS $$
DECLARE
	a bigint := current_setting('test.a')::bigint;
	b bigint := current_setting('test.b')::bigint;
	op integer := floor(random() * 8)::int;
	t timestamptz;
BEGIN
	CASE op
	WHEN 0 THEN
		PERFORM trackly_import_sends(jsonb_build_object('records',
			(SELECT jsonb_agg(random_record()) FROM generate_series(1, 1 + floor(random() * 150)::int))));
		RETURN 'api import';
	WHEN 1 THEN
		DELETE FROM staging;
		INSERT INTO staging
		SELECT r->>'id', r->>'to_number', r->>'timestamp', r->>'list_id', r->>'creative_id', r->>'send_type', r->>'delivered'
		  FROM (SELECT random_record() AS r FROM generate_series(1, 1 + floor(random() * 150)::int)) x;
		PERFORM trackly_import_sends_from('staging', a);
		RETURN 'staged import';
	WHEN 2 THEN
		t := random_instant();
		PERFORM trackly_clear_history(jsonb_strip_nulls(jsonb_build_object(
			'send_type', pick(ARRAY['promo', 'alert', NULL]),
			'list_id', pick(ARRAY[42, 7, NULL]),
			'after', iso(t), 'before', iso(t + random() * interval '3 days'))));
		RETURN 'clear';
	WHEN 3 THEN
		DELETE FROM trackly.sends WHERE account_id = a AND random() < 0.1;
		RETURN 'delete';
	WHEN 4 THEN
		UPDATE trackly.sends
		   SET sent_at = sent_at + (random() - 0.5) * interval '2 days',
			   delivered = CASE WHEN random() < 0.5 THEN NOT delivered ELSE delivered END,
			   send_type = CASE WHEN random() < 0.3 THEN pick(ARRAY['promo', 'otp', NULL]) ELSE send_type END,
			   imported = CASE WHEN random() < 0.1 THEN NOT imported ELSE imported END
		 WHERE account_id = a AND random() < 0.2;
		RETURN 'update';
	WHEN 5 THEN
		INSERT INTO trackly.sends (account_id, id, list_id, to_number, creative_id, send_type, delivered, sent_at, imported)
		SELECT pick(ARRAY[a, a, b]), 'live' || floor(random() * 1e9)::bigint, pick(ARRAY[42, NULL]), '+12025559876',
			   pick(ARRAY[100, NULL]), pick(ARRAY['promo', 'alert', NULL]), pick(ARRAY[true, false, NULL]),
			   random_instant(), false
		  FROM generate_series(1, 1 + floor(random() * 20)::int)
		ON CONFLICT DO NOTHING;
		RETURN 'live inserts';
	WHEN 6 THEN
		PERFORM trackly_compact_send_stats(pick(ARRAY[a, NULL]));
		RETURN 'compaction';
	ELSE
		PERFORM trackly_import_sends(jsonb_build_object('records',
			(SELECT jsonb_agg(random_record()) FROM generate_series(1, 1 + floor(random() * 150)::int))), b);
		RETURN 'import of the other account';
	END CASE;
END
$$;

-- A request with the grouping given (a number from 0 to 7, one bit a key;
-- the keys in a random order), over up to 3 hours or up to 12 days.
CREATE FUNCTION random_request(keys integer) RETURNS jsonb LANGUAGE sql AS $$
	SELECT jsonb_strip_nulls(jsonb_build_object(
		'from', iso(f), 'to', iso(greatest(random_alignment(f + random() * CASE WHEN random() < 0.3 THEN interval '3 hours'
																		   ELSE interval '12 days' END),
										   f + interval '1 microsecond')),
		'interval', pick(ARRAY['day', 'week', 'month']),
		'group_by', (SELECT jsonb_agg(k ORDER BY random()) FROM unnest(ARRAY['list_id', 'creative_id', 'send_type']) WITH ORDINALITY g(k, o)
					  WHERE keys & (1 << (o::int - 1)) <> 0),
		'imported', pick(ARRAY[true, false, NULL]),
		'time_zone', CASE WHEN random() < 0.1 THEN NULL ELSE random_zone() END))
	  FROM (SELECT random_alignment(random_instant() - CASE WHEN random() < 0.3 THEN interval '1 hour'
															ELSE interval '2 days' END) AS f) x
$$;

-- 150 rounds; after each, four random reports against the direct query,
-- the eight groupings in turn.
CREATE TABLE outcome (round integer, operation text, request jsonb, differs boolean);
DO $$
DECLARE
	i integer;
	j integer;
	op text;
	req jsonb;
BEGIN
	PERFORM setseed(0.1313);
	FOR i IN 1 .. 150 LOOP
		op := random_round();
		FOR j IN 1 .. 4 LOOP
			req := random_request((i * 4 + j) % 8);
			INSERT INTO outcome VALUES (i, op, req,
				trackly_report(req) IS DISTINCT FROM direct_report(req, current_setting('test.a')::bigint));
		END LOOP;
	END LOOP;
END
$$;

SELECT count(*) AS reports_compared, count(*) FILTER (WHERE differs) AS differences,
	   count(DISTINCT operation) AS kinds_of_writers,
	   count(DISTINCT ARRAY[g ? 'list_id', g ? 'creative_id', g ? 'send_type']) AS groupings,
	   count(DISTINCT request->>'time_zone') AS zones
  FROM outcome, coalesce(request->'group_by', '[]') g;
-- Enough happened: rows stored, deleted, of both origins, in several zones.
SELECT count(*) > 100 AS sends_stored, count(DISTINCT imported) = 2 AS both_origins FROM trackly.sends;
SELECT (SELECT count(*) FROM trackly.history_clears) > 5 AS clears_ran,
	   (SELECT count(*) FROM outcome WHERE (trackly_report(request)->'totals'->>'sends')::int > 0) > 100 AS reports_with_sends;
-- Ranges from and to an hour, a quarter hour and elsewhere, each often.
SELECT count(*) FILTER (WHERE date_bin('1 hour', t, '2000-01-01 00:00:00+00') = t) > 200 AS on_an_hour,
	   count(*) FILTER (WHERE date_bin('15 minutes', t, '2000-01-01 00:00:00+00') = t
						  AND date_bin('1 hour', t, '2000-01-01 00:00:00+00') <> t) > 100 AS on_a_quarter_hour,
	   count(*) FILTER (WHERE date_bin('15 minutes', t, '2000-01-01 00:00:00+00') <> t) > 400 AS elsewhere
  FROM outcome, unnest(ARRAY[trackly_iso8601(request->>'from'), trackly_iso8601(request->>'to')]) t;
-- The first difference, if any, with what the direct query gives.
SELECT round, operation, request, trackly_report(request) AS report,
	   direct_report(request, current_setting('test.a')::bigint) AS direct
  FROM outcome WHERE differs ORDER BY round LIMIT 1;

DROP TABLE outcome, staging;
RESET trackly.api_key;
