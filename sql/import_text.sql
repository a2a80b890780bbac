-- trackly_import_sends_body(bytea) reads the records straight from the
-- body's JSON text, and leaves every body it cannot answer exactly as jsonb
-- would to the jsonb way (the DEBUG line shows which).  Each body here is
-- imported both ways, for two accounts alike, in a block rolled back after:
-- the answers, HTTP status, stored sends and recorded errors must be the
-- same; then 3,000 bodies made by random edits, the same.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS trackly_history CASCADE;
CREATE EXTENSION trackly_history;
RESET client_min_messages;

SELECT trackly_create_account('Text Co') AS by_text, trackly_create_account('Jsonb Co') AS by_jsonb \gset
SELECT trackly_create_api_key(:by_text) AS text_key, trackly_create_api_key(:by_jsonb) AS jsonb_key \gset
SELECT trackly_create_list(a, '+12025550100', 'Main', 1) FROM unnest(ARRAY[:by_text, :by_jsonb]) a;

-- 'same: <status> <first code or ok> <stored> stored, <failed> failed', or
-- 'DIFFERENT' with both answers.
CREATE FUNCTION both_ways(t text, text_key text, jsonb_key text, a bigint, b bigint) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
	raw bytea := convert_to(t, 'UTF8');
	r1 jsonb; r2 jsonb; s1 text; s2 text; rows1 jsonb; rows2 jsonb; errs1 jsonb; errs2 jsonb;
	parsed record;
BEGIN
	BEGIN
		PERFORM set_config('response.status', '', true);
		PERFORM set_config('trackly.api_key', text_key, true);
		r1 := trackly_import_sends_body(raw);
		s1 := coalesce(nullif(current_setting('response.status', true), ''), '200');

		PERFORM set_config('response.status', '', true);
		PERFORM set_config('trackly.api_key', jsonb_key, true);
		SET LOCAL client_min_messages = notice;
		parsed := trackly.parse_request_body(raw);
		IF parsed.body IS NULL THEN
			r2 := jsonb_build_object('error', parsed.error);
			r1 := jsonb_build_object('error', r1->'errors'->0->>'error');
			s2 := '400';
		ELSE
			r2 := trackly_import_sends(parsed.body);
			s2 := coalesce(nullif(current_setting('response.status', true), ''), '200');
		END IF;

		SELECT jsonb_agg(to_jsonb(s) - 'account_id' - 'import_id' ORDER BY s.id) INTO rows1 FROM trackly.sends s WHERE account_id = a;
		SELECT jsonb_agg(to_jsonb(s) - 'account_id' - 'import_id' ORDER BY s.id) INTO rows2 FROM trackly.sends s WHERE account_id = b;
		SELECT jsonb_agg(to_jsonb(e) - 'account_id' - 'import_id' ORDER BY e.index) INTO errs1 FROM trackly.import_errors e WHERE account_id = a;
		SELECT jsonb_agg(to_jsonb(e) - 'account_id' - 'import_id' ORDER BY e.index) INTO errs2 FROM trackly.import_errors e WHERE account_id = b;
		RAISE EXCEPTION USING MESSAGE = CASE
			WHEN s1 = s2 AND r1 - 'import_id' = r2 - 'import_id' AND rows1 IS NOT DISTINCT FROM rows2
				 AND errs1 IS NOT DISTINCT FROM errs2
			THEN format('same: %s %s %s stored, %s failed', s1,
						coalesce(r1->'errors'->0->>'code', r1->>'error', 'ok'),
						coalesce(jsonb_array_length(rows1), 0), coalesce(jsonb_array_length(errs1), 0))
			ELSE format('DIFFERENT: %s %s %s / %s %s %s', s1, r1, rows1, s2, r2, rows2) END;
	EXCEPTION WHEN raise_exception THEN
		RETURN SQLERRM;
	END;
END $$;
CREATE TABLE ways AS SELECT :'text_key'::text AS text_key, :'jsonb_key'::text AS jsonb_key,
	:by_text::bigint AS by_text, :by_jsonb::bigint AS by_jsonb;
CREATE FUNCTION same(t text) RETURNS text LANGUAGE sql AS $$
	SELECT both_ways(t, text_key, jsonb_key, by_text, by_jsonb) FROM ways
$$;
\set r '"to_number": "+12025559876", "timestamp": "2025-11-15T14:30:00Z"'

SET client_min_messages = debug1;
-- Read from the text.
SELECT same('{"records": [{"id": "t1", ' || :'r' || '}]}');
SELECT same(E' \t\n\r{ \n"records"\t:\r[ {"id" : "t1" , ' || :'r' || ' } , {"id":"t2",' || :'r' || E'}\n] \t}\r\n ');
SELECT same('{"records": [{"id": "t1", ' || :'r' || ', "message": "a\"b\\c\/d\be\ff\ng\rh\ti \u00e9 é \ud83d\ude00 \u20AC \uFFFF"}]}');
SELECT same('{"records": [{"\u0069d": "t\u0031", "to\u005fnumber": "+12025559876", "timestamp": "2025-11-15T14:30:00Z"}]}');
SELECT same('{"\u0072ecords": [{"id": "t1", ' || :'r' || '}]}');
SELECT same('{"records": [{"id": "first", "id": "t1", "to_number": 5, ' || :'r' || ', "send_type": {"x": 1}, "send_type": "flow"}]}');
SELECT same('{"before": {"a": [1, {"b": null}, "records"]}, "records": [{"id": "t1", ' || :'r' || ', "meta": [[], {}, -1.5e-3, "\"]"]}], "after": [true, false, null]}');
SELECT same('{"records": [1, "x", null, true, false, [], {}, [{"id": "t1"}], {"id": "t1", ' || :'r' || '}]}');
SELECT same('{"records": [{"id": "t1", ' || :'r' || ', "length": 12, "creative_id": 7, "list_id": 1}, {"id": "t2", ' || :'r' || ', "length": 12.0, "creative_id": 7.5}]}');
SELECT same('{"records": [{"id": 42, ' || :'r' || '}, {"id": 4.2e1, ' || :'r' || '}, {"id": 42.5, ' || :'r' || '}, {"id": -0, ' || :'r' || '}]}');
SELECT same('{"records": [{"id": 123456789012345678, ' || :'r' || '}, {"id": -123456789012345678, ' || :'r' || '}, {"id": 1234567890123456789, ' || :'r' || '}]}');
SELECT same('{"records": [{"id": 9223372036854775807, ' || :'r' || '}, {"id": -9223372036854775808, ' || :'r' || '}, {"id": 9223372036854775808, ' || :'r' || '}]}');
SELECT same('{"records": [{"id": "t1", ' || :'r' || ', "length": 1E2, "creative_id": 5e+0, "list_id": 10E-1}, {"id": "t2", ' || :'r' || ', "length": 1e999}]}');
SELECT same('{"records": [{"id": "t1", ' || :'r' || ', "length": 0.' || repeat('0', 990) || '1}]}');
SELECT same('{"records": [{"id": "t1", ' || :'r' || ', "delivered": true, "send_type": null, "message": ""}, {"id": "", ' || :'r' || '}, {"id": null}]}');
SELECT same('{"records": [{"id": "t1", ' || :'r' || '}, {"id": "t1", ' || :'r' || '}, {"id": "t2", "to_number": "+1", "timestamp": "now"}]}');
SELECT same('{"records": [' || string_agg('{"id": "m' || g || '", ' || :'r' || '}', ',') || ']}') FROM generate_series(1, 1000) g;
SELECT same('{"records": [{"id": "t1", ' || :'r' || '}], "deep": ' || repeat('[', 62) || repeat(']', 62) || ', "s": "' || repeat('{', 70) || '"}');
-- Left to the jsonb way: refused requests, what jsonb refuses, numbers to judge.
SELECT same('{"records": [{"id": "t1", ' || :'r' || '}], "records": [{"id": "t2", ' || :'r' || '}]}');
SELECT same('{"records": []}');
SELECT same('{"records": {"id": "t1"}}');
SELECT same('{"other": []}');
SELECT same('[{"id": "t1"}]');
SELECT same('"records"');
SELECT same('');
SELECT same('{"records": [' || string_agg('{"id": "m' || g || '"}', ',') || ']}') FROM generate_series(1, 1001) g;
SELECT same('{"records": [{"id": "t1", ' || :'r' || '}], "deep": ' || repeat('[', 63) || repeat(']', 63) || '}');
SELECT same('{"records": [{"id": "t1", ' || :'r' || ', "length": 1e1000}]}');
SELECT same('{"records": [{"id": "t1", ' || :'r' || ', "n": 1e1000000}]}');
SELECT same('{"records": [{"id": "t1", ' || :'r' || ', "length": 1' || repeat('0', 1000) || '}]}');
SELECT same('{"records": [{"id": "t1", ' || :'r' || ', "message": "\u0000"}]}');
SELECT same('{"records": [{"id": "t1", ' || :'r' || ', "message": "\ud83d"}]}');
SELECT same('{"records": [{"id": "t1", ' || :'r' || ', "message": "\ude00\ud83d"}]}');
SELECT same('{"records": [{"id": "t1", ' || :'r' || ', "message": "\ud83d\u0041"}]}');
SELECT same('{"records": [{"id": "t1", ' || :'r' || ', "message": "\ud83dx"}]}');
SELECT same('{"records": [{"id": "t1", ' || :'r' || ', "message": "\x"}]}');
SELECT same('{"records": [{"id": "t1", ' || :'r' || ', "message": "\u12G4"}]}');
SELECT same('{"records": [{"id": "t1", ' || :'r' || ', "message": "tab' || E'\t' || 'raw"}]}');
SELECT same('{"records": [{"id": "t1", ' || :'r' || '}]} x');
SELECT same('{"records": [{"id": "t1", ' || :'r' || '}]}}');
SELECT same('{"records": [{"id": "t1", ' || :'r' || '},]}');
SELECT same('{"records": [{"id": "t1", ' || :'r' || ',}]}');
SELECT same('{"records": [{"id": "t1" ' || :'r' || '}]}');
SELECT same('{"records": [{"id": "t1", ' || :'r' || '}],}');
SELECT same('{"records": [{"id": "t1", ' || :'r' || ', "length": 012}]}');
SELECT same('{"records": [{"id": "t1", ' || :'r' || ', "length": -}]}');
SELECT same('{"records": [{"id": "t1", ' || :'r' || ', "length": 1.}]}');
SELECT same('{"records": [{"id": "t1", ' || :'r' || ', "length": .5}]}');
SELECT same('{"records": [{"id": "t1", ' || :'r' || ', "length": 1e}]}');
SELECT same('{"records": [{"id": "t1", ' || :'r' || ', "length": +1}]}');
SELECT same('{"records": [{"id": "t1", ' || :'r' || ', "delivered": tru}]}');
SELECT same('{"records": [{"id": "t1", ' || :'r' || ', "delivered": truex}]}');
SELECT same('{"records": [{"id": "t1", ' || :'r' || ', "delivered": nulls}]}');
SELECT same('{"records": [{"id": "t1", ' || :'r' || ', "delivered": True}]}');
SELECT same('{"records": [{"id": "t1", ' || :'r' || ', "x": NaN}]}');
SELECT same('{"records": [{''id'': "t1", ' || :'r' || '}]}');
SELECT same('{"records": [{"id": "t1", ' || :'r' || '}]' || E'\f' || '}');
SELECT same('{"records": [{"id": "t1", ' || :'r' || '}');
SELECT same('{"records": [{"id": "t1", ' || :'r' || ', "message": "open}]}');
RESET client_min_messages;
-- The text's invalid UTF-8, through the bytes themselves.
BEGIN;
SET LOCAL trackly.api_key = :'text_key';
SET LOCAL client_min_messages = debug1;
SELECT trackly_import_sends_body('\x7b227265636f726473223a5b7b226964223a22ff227d5d7d'::bytea)->'errors'->0->>'code' AS code;
ROLLBACK;

-- 3,000 bodies, each a few random edits of one of three: deletions,
-- insertions and replacements of JSON's bytes, escapes, numbers and words.
CREATE FUNCTION mutated(base text, edits int) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
	pieces text[] := ARRAY['"', '\', '{', '}', '[', ']', ',', ':', ' ', '0', '1', '9', 'e', 'E', '-', '+', '.',
						   'u', 'n', 't', 'f', 'é', E'\t', E'\n', E'\x01', '\u00e9', '\ud83d', '\ude00', '\u0000',
						   '\"', '\\', '1e5', '1e1234', '12345678901234567890', '"id"', '"records"', 'null',
						   'true', '"x"', '{}', '[]', '"id": 7,', '"id": "dup",'];
	t text := base;
	p int;
BEGIN
	FOR i IN 1 .. edits LOOP
		p := 1 + floor(random() * (length(t) + 1))::int;
		CASE floor(random() * 3)::int
			WHEN 0 THEN t := overlay(t PLACING '' FROM p FOR 1);
			WHEN 1 THEN t := overlay(t PLACING pieces[1 + floor(random() * array_length(pieces, 1))::int] FROM p FOR 0);
			ELSE t := overlay(t PLACING pieces[1 + floor(random() * array_length(pieces, 1))::int] FROM p FOR 1);
		END CASE;
	END LOOP;
	RETURN t;
END $$;
CREATE TEMP TABLE bases (n int, body text);
INSERT INTO bases VALUES
	(1, '{"records": [{"id": "p1", ' || :'r' || ', "length": 12, "list_id": 1, "message": "caf\u00e9 \ud83d\ude00"}, {"id": 7, ' || :'r' || ', "delivered": true}]}'),
	(2, '{"meta": {"a": [1, 2.5e-1]}, "records": [{"id": "p2", "to_number": "+447911123456", "timestamp": "2025-11-15T14:30:00.123+01:00", "send_type": "flow", "creative_id": 3}, "x", null]}'),
	(3, E'{\n  "records": [\n    {"id": "p\\"3", ' || :'r' || ', "list_number": "+12025550100", "extra": {"n": [[], {}]}},\n    {"id": "p4", "to_number": "+1", "timestamp": "soon"}\n  ]\n}\n');
SELECT setseed(0.16);
CREATE TEMP TABLE outcomes AS
	SELECT g, same(mutated(body, 1 + floor(random() * 3)::int)) AS outcome
	  FROM generate_series(1, 1000) g, bases ORDER BY g, n;
SELECT count(*) AS bodies,
	   count(*) FILTER (WHERE outcome LIKE 'same%') AS answered_alike,
	   count(*) FILTER (WHERE outcome LIKE 'same: 200%') AS imported,
	   count(*) FILTER (WHERE outcome LIKE 'same: 200%' AND outcome NOT LIKE '% 0 stored%') AS with_stored_sends,
	   count(*) FILTER (WHERE outcome LIKE 'same: 400 %') AS refused
  FROM outcomes;
SELECT outcome FROM outcomes WHERE outcome NOT LIKE 'same%';
