-- Duplicates: inside a request, against stored rows, integer and string ids;
-- failed records don't claim ids; the 100-error cap; accounts; rollback.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS trackly_history CASCADE;
CREATE EXTENSION trackly_history;
DROP SCHEMA IF EXISTS import_duplicates CASCADE;
RESET client_min_messages;
CREATE SCHEMA import_duplicates;
SET search_path = import_duplicates, public;

SELECT trackly_create_account('First Co') AS a \gset
SELECT trackly_create_account('Second Co') AS b \gset

CREATE FUNCTION import(records text, account bigint) RETURNS jsonb LANGUAGE sql AS $$
	SELECT trackly_import_sends(('{"records": [' || records || ']}')::jsonb, account)
$$;
CREATE FUNCTION rec(id text, message text DEFAULT NULL, ts text DEFAULT '2025-11-15T14:30:00Z') RETURNS text
LANGUAGE sql AS $$
	SELECT json_build_object('id', id::json, 'to_number', '+12025559876', 'timestamp', ts,
							 'message', message)::text
$$;
CREATE FUNCTION counts(r jsonb) RETURNS text LANGUAGE sql AS $$
	SELECT format('success %s, errors %s, duplicates %s', r->'success_count', r->'error_count',
				  r->'duplicates_skipped')
$$;

-- Inside one request the first record of an id wins; the others are duplicates,
-- whatever else they say.  42 and "42" are the same id.
SELECT counts(import(rec('"d1"', 'first') || ',' || rec('"d1"', 'second') || ',' ||
					 rec('42', 'integer') || ',' || rec('"42"', 'string') || ',' ||
					 rec('4.2e1', 'exponent') || ',' || rec('"d1"', NULL, 'not a time'), :a));
SELECT id, message FROM trackly.sends ORDER BY id;

-- Against stored rows: a replay stores nothing and reports the earlier
-- successes as duplicates, whatever the records now say.
SELECT counts(import(rec('"d1"', 'changed') || ',' || rec('"d2"', 'new') || ',' || rec('"42"', 'again'), :a));
SELECT id, message FROM trackly.sends ORDER BY id;

-- A failed record does not claim its id: a later record with it can succeed,
-- in the same request or in a later one.
SELECT counts(import(rec('"f1"', NULL, '2025-02-30T00:00:00Z') || ',' || rec('"f1"', 'fixed'), :a));
SELECT counts(import(rec('"f2"', NULL, 'bad'), :a));
SELECT counts(import(rec('"f2"', 'fixed later'), :a));
SELECT id, message FROM trackly.sends WHERE id LIKE 'f%' ORDER BY id;

-- Ids are per account: the same ids go into another account.
SELECT counts(import(rec('"d1"', 'of b') || ',' || rec('42', 'of b'), :b));
SELECT account_id = :b AS of_b, id, message FROM trackly.sends ORDER BY account_id, id;

-- The response lists the first 100 failures in input order; all are recorded.
CREATE TEMP TABLE big AS
SELECT import((SELECT string_agg(CASE WHEN i % 4 = 0 THEN rec(i::text) ELSE rec(i::text, NULL, 'bad') END, ',')
				 FROM generate_series(1, 200) i), :a) AS r;
SELECT r - 'errors' - 'import_id' AS counts,
	   jsonb_array_length(r->'errors') AS listed,
	   r->'errors'->0->>'index' AS first_listed, r->'errors'->99->>'index' AS last_listed,
	   (SELECT count(*) FROM trackly.import_errors e WHERE e.import_id = (r->>'import_id')::bigint) AS recorded,
	   (SELECT max(index) FROM trackly.import_errors e WHERE e.import_id = (r->>'import_id')::bigint) AS last_recorded
  FROM big;

-- A rolled-back call keeps nothing: no sends, no audit rows.
SELECT count(*) AS sends_before FROM trackly.sends \gset
SELECT count(*) AS imports_before FROM trackly.imports \gset
BEGIN;
SELECT counts(import(rec('"rolled"') || ',' || rec('"back"', NULL, 'bad'), :a));
ROLLBACK;
SELECT count(*) - :sends_before AS new_sends FROM trackly.sends;
SELECT count(*) - :imports_before AS new_imports FROM trackly.imports;
SELECT count(*) AS errors_of_missing_imports FROM trackly.import_errors e
 WHERE NOT EXISTS (SELECT FROM trackly.imports i WHERE i.account_id = e.account_id AND i.id = e.import_id);

SET client_min_messages = warning;
DROP SCHEMA import_duplicates CASCADE;
