-- Request-level answers: authentication first, then the body as a whole.
-- Nothing is imported or recorded, counts are 0, errors holds one object whose
-- index and id are null, import_id is null, and response.status is set.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS trackly_history CASCADE;
CREATE EXTENSION trackly_history;
DROP SCHEMA IF EXISTS import_request CASCADE;
RESET client_min_messages;
CREATE SCHEMA import_request;
SET search_path = import_request, public;

SELECT trackly_create_account('Request Co') AS account \gset
SELECT trackly_create_api_key(:account) AS api_key \gset
SELECT trackly_create_api_key(:account) AS revoked_key \gset
SELECT trackly_revoke_api_key(:'revoked_key');

-- Each answer as PostgREST would send it: the status, and the code and error of
-- the one object in errors; refused is true when the rest of the body has the
-- shape of a refused request (counts 0, index, id and import_id null).
CREATE FUNCTION refused_shape(r jsonb) RETURNS boolean LANGUAGE sql AS $$
	SELECT r - 'errors' = '{"success_count": 0, "error_count": 0, "duplicates_skipped": 0,
						   "invalid_phones": 0, "import_id": null}'
	   AND jsonb_array_length(r->'errors') = 1
	   AND r->'errors'->0->'index' = 'null' AND r->'errors'->0->'id' = 'null'
$$;
CREATE FUNCTION answer(body jsonb, account bigint DEFAULT 0,
					   OUT status text, OUT refused boolean, OUT code text, OUT error text)
LANGUAGE plpgsql AS $$
DECLARE
	r jsonb;
BEGIN
	PERFORM set_config('response.status', '', true);
	IF account = 0 THEN
		r := trackly_import_sends(body);
	ELSE
		r := trackly_import_sends(body, account);
	END IF;
	status := coalesce(nullif(current_setting('response.status', true), ''), '200');
	refused := refused_shape(r);
	code := r->'errors'->0->>'code';
	error := r->'errors'->0->>'error';
END
$$;

\set one '{"records": [{"id": "r1", "to_number": "+12025559876", "timestamp": "2025-11-15T14:30:00Z"}]}'

-- Authentication (the one-argument form).
SELECT * FROM answer(:'one');                          -- no key at all
SET trackly.api_key = '';
SELECT * FROM answer(:'one');                          -- an empty key
SET trackly.api_key = 'trk_short';
SELECT * FROM answer(:'one');                          -- malformed
SET trackly.api_key = 'trk_0123456789abcdefghijklmnopqrstu!';
SELECT * FROM answer(:'one');                          -- malformed: not alphanumeric
SET trackly.api_key = 'TRK_0123456789abcdefghijklmnopqrstuv';
SELECT * FROM answer(:'one');                          -- malformed: the prefix is lower case
SET trackly.api_key = 'trk_0123456789abcdefghijklmnopqrstuv';
SELECT * FROM answer(:'one');                          -- well formed, unknown
SET trackly.api_key = :'revoked_key';
SELECT * FROM answer(:'one');                          -- revoked
SELECT * FROM answer(NULL::jsonb);                     -- authentication comes before the body

-- request.headers (set by PostgREST) decides when it is set and not empty:
-- then only its x-api-key counts, even if trackly.api_key holds a good key.
SET trackly.api_key = :'api_key';
BEGIN;
SELECT set_config('request.headers', '{"content-type": "application/json"}', true) IS NOT NULL AS headers_set;
SELECT * FROM answer(:'one');
SELECT set_config('request.headers', '{"x-api-key": ""}', true) IS NOT NULL AS headers_set;
SELECT * FROM answer(:'one');
SELECT set_config('request.headers', json_build_object('x-api-key', :'revoked_key')::text, true) IS NOT NULL AS headers_set;
SELECT * FROM answer(:'one');
SELECT set_config('request.headers', json_build_object('x-api-key', :'api_key', 'user-agent', 'curl/7.88.1')::text, true) IS NOT NULL AS headers_set;
SELECT * FROM answer(:'one');
ROLLBACK;
BEGIN;
-- An empty request.headers falls back to trackly.api_key.
SELECT set_config('request.headers', '', true) IS NOT NULL AS headers_set;
SELECT * FROM answer(:'one');
-- A request.headers that is not a JSON object is an error of the caller's set-up.
SELECT set_config('request.headers', '[1, 2]', true) IS NOT NULL AS headers_set;
SELECT * FROM answer(:'one');
ROLLBACK;
BEGIN;
SELECT set_config('request.headers', 'not json', true) IS NOT NULL AS headers_set;
SELECT * FROM answer(:'one');
ROLLBACK;

-- The body, in the documented order: invalid_body, missing_records, too_many_records.
SELECT * FROM answer(NULL::jsonb);
SELECT * FROM answer('[{"records": []}]');
SELECT * FROM answer('[]');
SELECT * FROM answer('"records"');
SELECT * FROM answer('42');
SELECT * FROM answer('true');
SELECT * FROM answer('null');
SELECT * FROM answer('{}');
SELECT * FROM answer('{"Records": [{"id": 1}]}');
SELECT * FROM answer('{"records": null}');
SELECT * FROM answer('{"records": "[]"}');
SELECT * FROM answer('{"records": {"id": 1}}');
SELECT * FROM answer('{"records": 7}');
SELECT * FROM answer('{"records": []}');
SELECT * FROM answer(jsonb_build_object('records', (SELECT jsonb_agg(jsonb_build_object('id', i)) FROM generate_series(1, 1001) i)));
-- 1,000 records are accepted (each fails on its own here: no to_number).
SELECT r - 'errors' - 'import_id' AS counts, jsonb_array_length(r->'errors') AS listed
  FROM trackly_import_sends(jsonb_build_object('records',
		(SELECT jsonb_agg(jsonb_build_object('id', i)) FROM generate_series(1, 1000) i))) AS r;

-- The two-argument form: the account must exist, and is checked first.
SELECT * FROM answer(:'one', 999999);
SELECT * FROM answer(NULL::jsonb, 999999);
SELECT * FROM answer(:'one', NULL::bigint);
SELECT * FROM answer('{"records": []}', :account);

-- Only the one call with records was recorded; nothing was stored.
SELECT count(*) AS imports, sum(error_count) AS errors FROM trackly.imports;
SELECT count(*) AS sends FROM trackly.sends WHERE id = 'r1';

SET client_min_messages = warning;
DROP SCHEMA import_request CASCADE;
