-- The send report: each interval, grouping and their combinations, time
-- zones whose day begins elsewhere than at 00:00 UTC (Asia/Tokyo, America/
-- New_York across a DST change, Asia/Kathmandu at +05:45, Asia/Kolkata at
-- +05:30), the imported filter, NULL delivered, edges inside an hour and
-- inside a quarter hour, empty ranges, every error; which rows of the rollup
-- a report reads; the rollup at both grains under every kind of writer,
-- compaction and rebuild.  Every report is compared with the same query
-- run over trackly.sends.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS trackly_history CASCADE;
CREATE EXTENSION trackly_history;
RESET client_min_messages;
SET TimeZone = 'UTC';

SELECT trackly_create_account('Report Co') AS a, trackly_create_account('Other Co') AS b \gset
SELECT trackly_create_api_key(:a) AS key \gset

-- The report as a direct query over trackly.sends.
\ir test/regress/direct_report.sql

-- The report (admin form) as rows of text, and whether it equals the direct query.
CREATE FUNCTION report(body jsonb, account bigint) RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE
	r jsonb := trackly_report(body, account);
	row jsonb;
BEGIN
	RETURN NEXT CASE WHEN r = direct_report(body, account) THEN 'equals the direct query'
					 ELSE 'DIFFERS from the direct query: ' || direct_report(body, account)::text END;
	FOR row IN SELECT jsonb_array_elements(r->'rows') LOOP
		RETURN NEXT row::text;
	END LOOP;
	RETURN NEXT 'totals ' || (r->'totals')::text;
END
$$;

-- History: sends around the day boundaries of the zones tested (UTC 00:00,
-- Tokyo 15:00 UTC, New York 04:00/05:00 UTC, Kathmandu 18:15 UTC), on both
-- sides of New York's change to standard time on 2025-11-02 (06:00 UTC),
-- with and without delivery known, lists, creatives and send types.
SELECT trackly_create_list(:a, NULL, 'main', 42), trackly_create_list(:a, NULL, 'side', 7);
SELECT trackly_import_sends(jsonb_build_object('records', jsonb_agg(jsonb_strip_nulls(jsonb_build_object(
		'id', 'h' || i, 'to_number', '+12025559876', 'timestamp', t,
		'list_id', CASE i % 3 WHEN 0 THEN 42 WHEN 1 THEN 7 END,
		'creative_id', CASE WHEN i % 4 < 2 THEN 100 + i % 2 END,
		'send_type', CASE i % 5 WHEN 0 THEN 'promo' WHEN 1 THEN 'alert' WHEN 2 THEN 'Promo' WHEN 3 THEN 'otp' END,
		'delivered', CASE i % 3 WHEN 0 THEN true WHEN 1 THEN false END)) ORDER BY i)), :a) - 'import_id' AS imported
  FROM (SELECT row_number() OVER (ORDER BY t) AS i, t
		  FROM unnest(ARRAY[
			'2025-10-31T23:59:59Z', '2025-11-01T00:00:00Z', '2025-11-01T03:59:59Z', '2025-11-01T04:00:00Z',
			'2025-11-01T14:59:59.999999Z', '2025-11-01T15:00:00Z', '2025-11-01T18:14:59Z', '2025-11-01T18:15:00Z',
			'2025-11-02T04:30:00Z', '2025-11-02T05:59:59Z', '2025-11-02T06:00:00Z', '2025-11-03T04:30:00Z',
			'2025-11-03T05:00:00Z', '2025-11-03T18:20:00Z', '2025-11-09T23:00:00Z', '2025-11-10T00:10:00Z',
			'2025-11-30T23:59:00Z', '2025-12-01T00:01:00Z', '2025-12-31T15:00:00Z', '2026-01-01T00:00:00Z']) t) x;
-- Live sends (imported = false) written by other software, and account B.
INSERT INTO trackly.sends (account_id, id, list_id, to_number, send_type, delivered, sent_at, imported)
VALUES (:a, 'live1', 42, '+12025559876', 'promo', true, '2025-11-01T12:00:00Z', false),
	   (:a, 'live2', NULL, '+12025559876', NULL, NULL, '2025-11-02T05:00:00Z', false),
	   (:b, 'other', 42, '+12025559876', 'promo', true, '2025-11-01T12:00:00Z', true);

-- Each interval, in UTC.
SELECT report('{"from": "2025-10-01T00:00:00Z", "to": "2026-02-01T00:00:00Z", "interval": "day"}', :a);
SELECT report('{"from": "2025-10-01T00:00:00Z", "to": "2026-02-01T00:00:00Z", "interval": "week"}', :a);
SELECT report('{"from": "2025-10-01T00:00:00Z", "to": "2026-02-01T00:00:00Z", "interval": "month"}', :a);
-- Each grouping, and their combinations in different orders (rows follow the
-- order given; NULL keys last; send_type compared bytewise: "Promo" < "alert").
SELECT report('{"from": "2025-11-01T00:00:00Z", "to": "2025-12-01T00:00:00Z", "interval": "month", "group_by": ["send_type"]}', :a);
SELECT report('{"from": "2025-11-01T00:00:00Z", "to": "2025-12-01T00:00:00Z", "interval": "month", "group_by": ["list_id"]}', :a);
SELECT report('{"from": "2025-11-01T00:00:00Z", "to": "2025-12-01T00:00:00Z", "interval": "month", "group_by": ["creative_id"]}', :a);
SELECT report('{"from": "2025-11-01T00:00:00Z", "to": "2025-12-01T00:00:00Z", "interval": "week", "group_by": ["list_id", "send_type"]}', :a);
SELECT report('{"from": "2025-11-01T00:00:00Z", "to": "2025-12-01T00:00:00Z", "interval": "month", "group_by": ["send_type", "list_id"]}', :a);
SELECT report('{"from": "2025-11-01T00:00:00Z", "to": "2025-12-01T00:00:00Z", "interval": "month", "group_by": ["creative_id", "list_id", "send_type"]}', :a);
SELECT report('{"from": "2025-11-01T00:00:00Z", "to": "2025-11-04T00:00:00Z", "interval": "day", "group_by": ["send_type", "creative_id"], "imported": null, "time_zone": null}', :a);
-- Time zones: Tokyo (+09:00), New York across its change to standard time,
-- Kathmandu (+05:45), names in any case, a fixed offset of the tz database.
SELECT report('{"from": "2025-10-31T00:00:00Z", "to": "2025-11-05T00:00:00Z", "interval": "day", "time_zone": "Asia/Tokyo"}', :a);
SELECT report('{"from": "2025-10-31T00:00:00Z", "to": "2025-11-05T00:00:00Z", "interval": "day", "time_zone": "America/New_York"}', :a);
SELECT report('{"from": "2025-10-31T00:00:00Z", "to": "2025-11-05T00:00:00Z", "interval": "day", "time_zone": "america/new_york", "group_by": ["send_type"]}', :a);
SELECT report('{"from": "2025-10-31T00:00:00Z", "to": "2025-11-05T00:00:00Z", "interval": "day", "time_zone": "Asia/Kathmandu"}', :a);
SELECT report('{"from": "2025-10-31T00:00:00Z", "to": "2025-11-05T00:00:00Z", "interval": "day", "time_zone": "Asia/Kolkata", "group_by": ["send_type"]}', :a);
SELECT report('{"from": "2025-10-01T00:00:00Z", "to": "2026-01-05T00:00:00Z", "interval": "week", "time_zone": "Asia/Kathmandu"}', :a);
SELECT report('{"from": "2025-10-01T00:00:00Z", "to": "2026-02-01T00:00:00Z", "interval": "month", "time_zone": "Asia/Tokyo"}', :a);
SELECT report('{"from": "2025-10-31T00:00:00Z", "to": "2025-11-05T00:00:00Z", "interval": "day", "time_zone": "Etc/GMT+5"}', :a);
-- The imported filter: history only, live sends only.
SELECT report('{"from": "2025-11-01T00:00:00Z", "to": "2025-11-03T00:00:00Z", "interval": "day", "imported": true}', :a);
SELECT report('{"from": "2025-11-01T00:00:00Z", "to": "2025-11-03T00:00:00Z", "interval": "day", "imported": false, "group_by": ["list_id"]}', :a);
-- Edges inside an hour, on a quarter hour: quarter-hour rows at the ends.
SELECT report('{"from": "2025-11-01T03:45:00Z", "to": "2025-11-01T18:15:00Z", "interval": "day"}', :a);
SELECT report('{"from": "2025-11-01T18:00:00Z", "to": "2025-11-01T18:15:00Z", "interval": "day"}', :a);
-- ... and from inside an hour to inside the same hour: its whole quarters.
SELECT report('{"from": "2025-11-01T03:10:00Z", "to": "2025-11-01T03:45:00Z", "interval": "day"}', :a);
SELECT report('{"from": "2025-11-01T03:10:00Z", "to": "2025-11-01T04:00:00Z", "interval": "day"}', :a);
SELECT report('{"from": "2025-11-01T18:10:00Z", "to": "2025-11-01T18:30:00Z", "interval": "day"}', :a);
SELECT report('{"from": "2025-11-01T14:45:00Z", "to": "2025-11-01T15:15:00+00:00", "interval": "day", "time_zone": "Asia/Tokyo"}', :a);
-- Edges inside a quarter hour, counted from trackly.sends: to the microsecond.
SELECT report('{"from": "2025-11-01T14:59:59.999999Z", "to": "2025-11-01T18:14:59.000001Z", "interval": "day"}', :a);
SELECT report('{"from": "2025-11-01T14:59:59.999999Z", "to": "2025-11-01T15:00:00.000001Z", "interval": "day"}', :a);
SELECT report('{"from": "2025-11-01T00:00:00.000001Z", "to": "2025-11-01T03:59:59.999999Z", "interval": "day", "time_zone": "Asia/Kathmandu"}', :a);
-- Empty: a range without sends, one before all history, another account's range.
SELECT report('{"from": "2025-11-20T00:00:00Z", "to": "2025-11-25T00:00:00Z", "interval": "day"}', :a);
SELECT report('{"from": "1990-01-01T00:00:00Z", "to": "1990-02-01T00:00:00Z", "interval": "month"}', :a);
SELECT report('{"from": "2025-11-02T00:00:00Z", "to": "2026-01-01T00:00:00Z", "interval": "month"}', :b);
-- Long ranges by week and month cost what the history's span costs.
SELECT report('{"from": "0001-01-01T00:00:00Z", "to": "9999-12-31T23:59:59Z", "interval": "month"}', :a);
-- A day at the 400-day limit is accepted.
SELECT trackly_report('{"from": "2025-01-01T00:00:00Z", "to": "2026-02-05T00:00:00Z", "interval": "day"}', :a)->'totals' AS at_the_limit;

-- A zone whose offset was not a multiple of 15 minutes: Liberia kept
-- -00:44:30 until 1972-01-07, so its days began inside a quarter hour
-- (00:44:30 UTC); those buckets are counted from trackly.sends.
INSERT INTO trackly.sends (account_id, id, to_number, sent_at, imported, delivered)
VALUES (:a, 'monrovia1', '+12025559876', '1971-12-01T00:44:29Z', true, true),
	   (:a, 'monrovia2', '+12025559876', '1971-12-01T00:44:30Z', true, false),
	   (:a, 'monrovia3', '+12025559876', '1971-12-02T00:40:00Z', true, NULL);
SELECT report('{"from": "1971-11-30T00:00:00Z", "to": "1971-12-03T00:00:00Z", "interval": "day", "time_zone": "Africa/Monrovia"}', :a);

-- Which rows of the rollup a report reads: each grain in turn marked (its
-- sends raised by a million, then lowered again), so a report's
-- excess over the direct query, in millions, counts the rows of that grain
-- it read.  In UTC and Tokyo (whole-hour offsets) only hour rows; in
-- Kathmandu (+05:45) the quarters of the hour each day begins inside
-- (18:00-19:00 UTC), hour rows elsewhere; a report by list reads none.
CREATE FUNCTION rows_read(body jsonb, account bigint) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
	direct bigint := (direct_report(body, account)->'totals'->>'sends')::bigint;
	quarters bigint;
	hours bigint;
BEGIN
	UPDATE trackly.send_stats SET sends = sends + 1000000 WHERE NOT hourly;
	quarters := ((trackly_report(body, account)->'totals'->>'sends')::bigint - direct) / 1000000;
	UPDATE trackly.send_stats SET sends = sends - 1000000 WHERE NOT hourly;
	UPDATE trackly.send_stats SET sends = sends + 1000000 WHERE hourly;
	hours := ((trackly_report(body, account)->'totals'->>'sends')::bigint - direct) / 1000000;
	UPDATE trackly.send_stats SET sends = sends - 1000000 WHERE hourly;
	RETURN format('%s sends, %s quarter-hour rows and %s hour rows read', direct, quarters, hours);
END
$$;
SELECT b AS body, rows_read(b::jsonb, :a) FROM (VALUES
	('{"from": "2025-10-31T00:00:00Z", "to": "2025-11-05T00:00:00Z", "interval": "day"}'),
	('{"from": "2025-10-31T00:00:00Z", "to": "2025-11-05T00:00:00Z", "interval": "day", "time_zone": "Asia/Tokyo"}'),
	('{"from": "2025-10-31T00:00:00Z", "to": "2025-11-05T00:00:00Z", "interval": "day", "time_zone": "Asia/Kathmandu"}'),
	('{"from": "2025-10-31T00:00:00Z", "to": "2025-11-05T00:00:00Z", "interval": "week", "time_zone": "Asia/Kathmandu"}'),
	('{"from": "2025-11-01T03:45:00Z", "to": "2025-11-01T18:15:00Z", "interval": "day"}'),
	('{"from": "2025-11-01T03:59:00Z", "to": "2025-11-01T18:15:00Z", "interval": "day"}'),
	('{"from": "2025-11-01T03:10:00Z", "to": "2025-11-01T04:00:00Z", "interval": "day"}'),
	('{"from": "2025-11-01T18:10:00Z", "to": "2025-11-01T18:30:00Z", "interval": "day"}'),
	('{"from": "2025-10-31T00:00:00Z", "to": "2025-11-05T00:00:00Z", "interval": "day", "group_by": ["list_id"]}')) t(b);

-- The API form: the key's account, as the import authenticates.
SET trackly.api_key = :'key';
SELECT trackly_report('{"from": "2025-11-01T00:00:00Z", "to": "2025-11-02T00:00:00Z", "interval": "day"}')
	 = trackly_report('{"from": "2025-11-01T00:00:00Z", "to": "2025-11-02T00:00:00Z", "interval": "day"}', :a) AS api_equals_admin;
SELECT trackly_report_body(convert_to('{"from": "2025-11-01T00:00:00Z", "to": "2025-11-02T00:00:00Z", "interval": "day"}', 'UTF8'))
	 = trackly_report('{"from": "2025-11-01T00:00:00Z", "to": "2025-11-02T00:00:00Z", "interval": "day"}', :a) AS body_equals_admin;

-- Every error, with response.status.
CREATE FUNCTION failure(body jsonb) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
	r jsonb;
BEGIN
	PERFORM set_config('response.status', '', true);
	r := trackly_report(body);
	RETURN format('%s %s: %s', current_setting('response.status'), r->'errors'->0->>'code', r->'errors'->0->>'error')
		|| CASE WHEN r - 'errors' = '{"rows": [], "totals": null}' AND r->'errors'->0->'index' = 'null'
					 AND r->'errors'->0->'id' = 'null' THEN '' ELSE ' BAD SHAPE ' || r::text END;
END
$$;
SELECT f AS body, failure(f::jsonb) FROM (VALUES
	(NULL), ('[]'), ('"x"'), ('42'), ('null'),
	('{"from": "2025-11-01T00:00:00Z", "to": "2025-11-02T00:00:00Z", "interval": "day", "account_id": 2}'),
	('{"From": "2025-11-01T00:00:00Z"}'),
	('{"to": "2025-11-02T00:00:00Z", "interval": "day"}'),
	('{"from": "2025-11-01", "to": "2025-11-02T00:00:00Z", "interval": "day"}'),
	('{"from": 20251101, "to": "2025-11-02T00:00:00Z", "interval": "day"}'),
	('{"from": "2025-11-01T00:00:00Z", "interval": "day"}'),
	('{"from": "2025-11-01T00:00:00Z", "to": "now", "interval": "day"}'),
	('{"from": "2025-11-01T00:00:00Z", "to": "2025-11-02T00:00:00Z"}'),
	('{"from": "2025-11-01T00:00:00Z", "to": "2025-11-02T00:00:00Z", "interval": "hour"}'),
	('{"from": "2025-11-01T00:00:00Z", "to": "2025-11-02T00:00:00Z", "interval": "Day"}'),
	('{"from": "2025-11-01T00:00:00Z", "to": "2025-11-02T00:00:00Z", "interval": null}'),
	('{"from": "2025-11-01T00:00:00Z", "to": "2025-11-02T00:00:00Z", "interval": "day", "group_by": "send_type"}'),
	('{"from": "2025-11-01T00:00:00Z", "to": "2025-11-02T00:00:00Z", "interval": "day", "group_by": ["list_id", "to_number"]}'),
	('{"from": "2025-11-01T00:00:00Z", "to": "2025-11-02T00:00:00Z", "interval": "day", "group_by": ["list_id", "list_id"]}'),
	('{"from": "2025-11-01T00:00:00Z", "to": "2025-11-02T00:00:00Z", "interval": "day", "group_by": [null]}'),
	('{"from": "2025-11-01T00:00:00Z", "to": "2025-11-02T00:00:00Z", "interval": "day", "imported": "true"}'),
	('{"from": "2025-11-01T00:00:00Z", "to": "2025-11-02T00:00:00Z", "interval": "day", "time_zone": 9}'),
	('{"from": "2025-11-01T00:00:00Z", "to": "2025-11-02T00:00:00Z", "interval": "day", "time_zone": "Mars/Olympus_Mons"}'),
	('{"from": "2025-11-01T00:00:00Z", "to": "2025-11-02T00:00:00Z", "interval": "day", "time_zone": "UTC+5"}'),
	('{"from": "2025-11-01T00:00:00Z", "to": "2025-11-02T00:00:00Z", "interval": "day", "time_zone": "EST5EDT,M3.2.0/2,M11.1.0/2"}'),
	('{"from": "2025-11-01T00:00:00Z", "to": "2025-11-02T00:00:00Z", "interval": "day", "time_zone": "right/UTC"}'),
	('{"from": "2025-11-01T00:00:00Z", "to": "2025-11-02T00:00:00Z", "interval": "day", "time_zone": "../UTC"}'),
	('{"from": "2025-11-01T00:00:00Z", "to": "2025-11-02T00:00:00Z", "interval": "day", "time_zone": ""}'),
	('{"from": "2025-11-02T00:00:00Z", "to": "2025-11-02T00:00:00Z", "interval": "day"}'),
	('{"from": "2025-11-02T00:00:00Z", "to": "2025-11-01T00:00:00Z", "interval": "month"}'),
	('{"from": "2025-01-01T00:00:00Z", "to": "2026-02-05T00:00:00.000001Z", "interval": "day"}'),
	('{"from": "2025-01-01T00:00:00Z", "to": "2026-02-05T00:00:00Z", "interval": "day", "time_zone": "Asia/Tokyo"}'),
	('{"from": "2000-01-01T00:00:00Z", "to": "2026-02-05T00:00:00Z", "interval": "day"}')) t(f);
SET trackly.api_key = '';
SELECT failure('{"from": "2025-11-01T00:00:00Z", "to": "2025-11-02T00:00:00Z", "interval": "day"}');
SET trackly.api_key = 'trk_00000000000000000000000000000000';
SELECT failure('{"from": "2025-11-01T00:00:00Z", "to": "2025-11-02T00:00:00Z", "interval": "day"}');
RESET trackly.api_key;
-- The raw body: the key first, then the bytes.
SELECT trackly_report_body(convert_to('{"from": ', 'UTF8'))->'errors'->0->>'code' AS no_key_first;
SET trackly.api_key = :'key';
SELECT trackly_report_body(convert_to('{"from": ', 'UTF8'))->'errors'->0->>'code' AS not_json,
	   current_setting('response.status') AS status;
RESET trackly.api_key;
-- The admin form: an unknown account is an ERROR.
SELECT trackly_report('{"from": "2025-11-01T00:00:00Z", "to": "2025-11-02T00:00:00Z", "interval": "day"}', 999);
SELECT trackly_report('{"from": "2025-11-01T00:00:00Z", "to": "2025-11-02T00:00:00Z", "interval": "day"}', NULL);

-- Time zone names as the tz database spells them; NULL for the rest.
SELECT z, trackly.time_zone_name(z) FROM unnest(ARRAY['UTC', 'utc', 'Europe/Paris', 'EUROPE/PARIS', 'EST5EDT', 'pst8pdt',
	'GMT0', 'GMT+0', 'Etc/GMT-14', 'CET', 'UTC+5', 'EST5', '<+0545>-5:45', 'right/Europe/Paris', 'Europe/Nowhere',
	'Europe/../UTC', '']) z;

-- Every writer keeps the rollup exact.  The rollup as the sum of its rows,
-- against the sends themselves counted at each grain.
CREATE VIEW rollup_check AS
WITH rollup AS (
	SELECT account_id, hourly, bucket, imported, send_type,
		   sum(sends) AS sends, sum(delivered) AS delivered, sum(undelivered) AS undelivered
	  FROM trackly.send_stats GROUP BY 1, 2, 3, 4, 5 HAVING sum(sends) <> 0 OR sum(delivered) <> 0 OR sum(undelivered) <> 0
), counted AS (
	SELECT s.account_id, g.hourly,
		   date_bin(CASE WHEN g.hourly THEN interval '1 hour' ELSE interval '15 minutes' END, s.sent_at,
					'2000-01-01 00:00:00+00') AS bucket,
		   s.imported, s.send_type COLLATE "C" AS send_type,
		   count(*) AS sends, count(*) FILTER (WHERE s.delivered) AS delivered,
		   count(*) FILTER (WHERE NOT s.delivered) AS undelivered
	  FROM trackly.sends s, (VALUES (false), (true)) g(hourly)
	 GROUP BY 1, 2, 3, 4, 5
)
SELECT (SELECT count(*) FROM (SELECT * FROM rollup EXCEPT ALL SELECT * FROM counted) x)
	 + (SELECT count(*) FROM (SELECT * FROM counted EXCEPT ALL SELECT * FROM rollup) y) AS differences;
-- Each send in one quarter-hour row and one hour row, per account.
SELECT account_id = :a AS own, hourly, sum(sends) AS sends, count(*) AS rollup_rows
  FROM trackly.send_stats GROUP BY 1, 2 ORDER BY 1, 2;
SELECT differences AS after_imports_and_inserts FROM rollup_check;
UPDATE trackly.sends SET delivered = NOT delivered WHERE account_id = :a AND id IN ('h1', 'h2', 'h3');
UPDATE trackly.sends SET sent_at = sent_at + interval '7 hours', send_type = 'moved' WHERE account_id = :a AND id = 'h4';
UPDATE trackly.sends SET message = 'no count changes' WHERE account_id = :a;
SELECT differences AS after_updates FROM rollup_check;
SELECT trackly_clear_history('{"send_type": "otp"}', :a)->'deleted_count' AS cleared;
DELETE FROM trackly.sends WHERE account_id = :a AND id = 'live1';
SELECT differences AS after_clear_and_delete FROM rollup_check;
SELECT report('{"from": "2025-10-31T00:00:00Z", "to": "2025-11-05T00:00:00Z", "interval": "day", "time_zone": "America/New_York", "group_by": ["send_type"]}', :a);

-- Compaction merges each group's deltas into one row, drops the groups that
-- add up to nothing, and changes no report.
CREATE TABLE before_compaction AS
	SELECT trackly_report('{"from": "1971-01-01T00:00:00Z", "to": "2027-01-01T00:00:00Z", "interval": "week", "group_by": ["list_id", "creative_id", "send_type"]}', :a) AS r;
SELECT count(*) AS rollup_rows FROM trackly.send_stats;
SELECT trackly_compact_send_stats(:a) AS removed;
SELECT count(*) AS rollup_rows, count(*) FILTER (WHERE sends = 0 AND delivered = 0 AND undelivered = 0) AS empty_rows
  FROM trackly.send_stats;
SELECT count(*) AS groups_with_two_rows FROM (
	SELECT FROM trackly.send_stats GROUP BY account_id, hourly, bucket, imported, send_type
	HAVING count(*) > 1) g;
SELECT trackly_compact_send_stats() AS removed_again, differences FROM rollup_check;
SELECT r = trackly_report('{"from": "1971-01-01T00:00:00Z", "to": "2027-01-01T00:00:00Z", "interval": "week", "group_by": ["list_id", "creative_id", "send_type"]}', :a)
	   AS report_unchanged FROM before_compaction;
SELECT trackly_compact_send_stats(999);

-- Rebuild: after writes the triggers did not see, an account's rollup is
-- made again from its sends; other accounts are left as they were.
ALTER TABLE trackly.sends DISABLE TRIGGER trackly_send_stats_delete;
DELETE FROM trackly.sends WHERE account_id = :a AND id IN ('h5', 'h6');
ALTER TABLE trackly.sends ENABLE TRIGGER trackly_send_stats_delete;
SELECT differences AS while_stale FROM rollup_check;
-- Meanwhile a report by list, read from trackly.sends, is exact; one
-- without, read from the rollup, is not.
SELECT split_part(r, ':', 1) AS while_stale FROM report('{"from": "2025-11-01T00:00:00Z", "to": "2025-11-03T00:00:00Z", "interval": "day", "group_by": ["list_id"]}', :a) r LIMIT 1;
SELECT split_part(r, ':', 1) AS while_stale FROM report('{"from": "2025-11-01T00:00:00Z", "to": "2025-11-03T00:00:00Z", "interval": "day"}', :a) r LIMIT 1;
SELECT trackly_rebuild_send_stats(:a) AS rollup_rows_written;
SELECT differences AS after_rebuild FROM rollup_check;
SELECT r = trackly_report('{"from": "1971-01-01T00:00:00Z", "to": "2027-01-01T00:00:00Z", "interval": "week", "group_by": ["list_id", "creative_id", "send_type"]}', :a)
	   AS report_changed FROM before_compaction;
SELECT report('{"from": "1971-01-01T00:00:00Z", "to": "2027-01-01T00:00:00Z", "interval": "month"}', :a);
SELECT trackly_rebuild_send_stats(999);

-- The analysts' view: UTC days, read from trackly.sends.
SELECT account_id = :a AS own, day, list_id, creative_id, send_type, imported, sends, delivered, undelivered, unknown
  FROM trackly.send_stats_daily WHERE day BETWEEN '2025-11-01' AND '2025-11-02'
 ORDER BY account_id, day, list_id, creative_id, send_type COLLATE "C", imported;

-- TRUNCATE empties the rollup with the sends, also when it names both.
BEGIN;
TRUNCATE trackly.sends;
SELECT count(*) AS rollup_rows_after_truncate FROM trackly.send_stats;
ROLLBACK;
BEGIN;
TRUNCATE trackly.sends, trackly.send_stats;
SELECT (SELECT count(*) FROM trackly.sends) AS sends_after_truncating_both,
	   (SELECT count(*) FROM trackly.send_stats) AS rollup_rows_after_truncating_both;
ROLLBACK;
BEGIN;
TRUNCATE trackly.send_stats, trackly.sends;
SELECT count(*) AS rollup_rows_after_truncating_both_the_other_way FROM trackly.send_stats;
ROLLBACK;

DROP TABLE before_compaction;
DROP VIEW rollup_check;
DROP FUNCTION report(jsonb, bigint), rows_read(jsonb, bigint), direct_report(jsonb, bigint), failure(jsonb);
