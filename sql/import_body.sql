-- The HTTP entry point trackly_import_sends_body(bytea): the key first, then
-- the bytes (UTF-8, nesting, JSON), then the import as
-- trackly_import_sends(jsonb) runs it; and trackly_check_api_key(), the
-- check a proxy makes before it reads a body.  Import ids tell nothing of
-- other accounts.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS trackly_history CASCADE;
CREATE EXTENSION trackly_history;
RESET client_min_messages;

SELECT trackly_create_account('Body Co') AS account \gset
SELECT trackly_create_api_key(:account) AS key \gset

CREATE FUNCTION body(text) RETURNS jsonb LANGUAGE sql AS $$
	SELECT trackly_import_sends_body(convert_to($1, 'UTF8'))
$$;
CREATE FUNCTION answer(r jsonb) RETURNS text LANGUAGE sql AS $$
	SELECT coalesce(nullif(current_setting('response.status', true), ''), '200') || ' ' ||
		   coalesce(r->'errors'->0->>'code', 'ok') || ' ' ||
		   coalesce(r->'errors'->0->>'error', r->>'success_count' || ' stored')
$$;
\set record '{"id": "b1", "to_number": "+12025559876", "timestamp": "2025-11-15T14:30:00Z"}'

-- Without a live key nothing of the body is looked at, whatever it is.
BEGIN;
SELECT answer(body('not json at all'));
ROLLBACK;
BEGIN;
SET LOCAL trackly.api_key = 'trk_notakey';
SELECT answer(trackly_import_sends_body('\xff'::bytea));
ROLLBACK;

SET trackly.api_key = :'key';
BEGIN;
SELECT answer(trackly_import_sends_body(NULL));
ROLLBACK;
BEGIN;
SELECT answer(trackly_import_sends_body('\x7b22ff223a317d'::bytea));  -- {"\xff":1}
ROLLBACK;
BEGIN;
SELECT answer(body('{"records": [' || :'record' || ']'));
ROLLBACK;
BEGIN;
SELECT answer(body('{"records": [], "n": 1e1000000}'));
ROLLBACK;
BEGIN;
SELECT answer(body('{"records": [' || :'record' || '], "x": "\u0000"}'));
ROLLBACK;
-- 64 levels pass (the body's object is the first), 65 do not; brackets inside strings do not count.
BEGIN;
SELECT answer(body('{"records": [' || :'record' || '], "deep": ' || repeat('[', 62) || repeat(']', 62) ||
				   ', "s": "' || repeat('[', 100) || '"}'));
ROLLBACK;
BEGIN;
SELECT answer(body('{"records": [' || :'record' || '], "deep": ' || repeat('[', 63) || repeat(']', 63) || '}'));
ROLLBACK;
BEGIN;
SELECT answer(body('{"records": [' || :'record' || '], "deep": ' || repeat('[', 64) || repeat(']', 64) || '}'));
ROLLBACK;
BEGIN;
SELECT answer(body(repeat('[', 100000) || repeat(']', 100000)));
ROLLBACK;
-- A well-formed body is the API import: the same answers as the jsonb form.
SELECT answer(body('{"records": [' || :'record' || ', {"id": "b2", "to_number": "+1", "timestamp": "2025-11-15T14:30:00Z"}]}'));
SELECT answer(body('{"records": [' || :'record' || ']}'));
SELECT answer(body('{"records": "no"}'));
SELECT source, success_count, error_count, duplicates_skipped FROM trackly.imports ORDER BY created_at, success_count DESC;

-- The key check: 401 and the code in a response header, nothing when the key is live.
BEGIN;
RESET trackly.api_key;
SELECT trackly_check_api_key();
SELECT current_setting('response.status', true) AS status, current_setting('response.headers', true) AS headers;
ROLLBACK;
BEGIN;
SET LOCAL request.headers = '{"x-api-key": "trk_0000000000000000000000000000000A"}';
SELECT trackly_check_api_key();
SELECT current_setting('response.status', true) AS status, current_setting('response.headers', true) AS headers;
ROLLBACK;
BEGIN;
SELECT set_config('request.headers', json_build_object('x-api-key', :'key')::text, true) IS NOT NULL AS key_set;
SELECT trackly_check_api_key();
SELECT current_setting('response.status', true) AS status, current_setting('response.headers', true) AS headers;
ROLLBACK;

-- Import ids: in [2^52, 2^53), distinct, in no order that counts imports.
SELECT trackly_create_account('Other Co') AS other \gset
SELECT (trackly_import_sends(('{"records": [' || :'record' || ']}')::jsonb, CASE WHEN g % 2 = 0 THEN :account ELSE :other END)->>'import_id')::bigint AS id
  INTO TEMP ids FROM generate_series(1, 200) g;
SELECT count(*) AS imports, count(DISTINCT id) AS distinct_ids,
	   bool_and(id >= 4503599627370496 AND id < 9007199254740992) AS in_range,
	   count(*) FILTER (WHERE abs(id - lag) = 1) AS consecutive
  FROM (SELECT id, lag(id) OVER (ORDER BY ctid) FROM ids) x;
SELECT count(*) AS imports_of_account, count(DISTINCT id) AS distinct_ids
  FROM trackly.imports WHERE account_id = :account;
