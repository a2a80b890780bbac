-- History management: Clear History (every filter and combination, the
-- safety rules, every error), an import's errors page by page (the paging
-- boundaries), and the purge of old error records.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS trackly_history CASCADE;
CREATE EXTENSION trackly_history;
RESET client_min_messages;
SET TimeZone = 'UTC';

SELECT trackly_create_account('Clear Co') AS a, trackly_create_account('Other Co') AS b \gset
SELECT set_config('test.a', :'a', false) IS NOT NULL AS a_set, set_config('test.b', :'b', false) IS NOT NULL AS b_set;
SELECT trackly_create_list(:a, '+14155551234', 'main', 42), trackly_create_list(:a, NULL, 'side', 7),
	   trackly_create_list(:b, '+14155551234', 'main', 42);

-- Records from a compact description: id, list_id, send_type, day of November 2025.
CREATE FUNCTION body_of(recs text[]) RETURNS jsonb LANGUAGE sql AS $$
	SELECT jsonb_build_object('records', jsonb_agg(jsonb_strip_nulls(jsonb_build_object(
			'id', split_part(r, ':', 1),
			'list_id', nullif(split_part(r, ':', 2), '')::bigint,
			'send_type', nullif(split_part(r, ':', 3), ''),
			'to_number', '+12025559876',
			'timestamp', format('2025-11-%sT12:00:00Z', split_part(r, ':', 4)))) ORDER BY o))
	  FROM unnest(recs) WITH ORDINALITY u(r, o)
$$;

-- Account A: two imports and two live sends (imported = false); account B:
-- the same ids as A's first import.
SELECT (trackly_import_sends(body_of(ARRAY['a1:42:campaign:15', 'a2:42:alert:16', 'a3:7:campaign:17',
										   'a4::campaign:18', 'a5:7::19', 'a6:::20']), :a))->'import_id' AS imp1 \gset
SELECT (trackly_import_sends(body_of(ARRAY['b1:42:campaign:15', 'b2:7:alert:18', 'b3:::21']), :a))->'import_id' AS imp2 \gset
SELECT (trackly_import_sends(body_of(ARRAY['a1:42:campaign:15', 'a2:42:alert:16', 'a3::campaign:17']), :b))->'import_id' AS impb \gset
INSERT INTO trackly.sends (account_id, id, list_id, to_number, send_type, sent_at, imported)
VALUES (:a, 'live1', 42, '+12025559876', 'campaign', '2025-11-15T12:00:00Z', false),
	   (:a, 'live2', NULL, '+12025559876', NULL, '2025-11-20T12:00:00Z', false);
SELECT set_config('test.imp1', :'imp1', false) IS NOT NULL AS imp1_set, set_config('test.imp2', :'imp2', false) IS NOT NULL AS imp2_set;

SELECT CASE account_id WHEN :a THEN 'A' ELSE 'B' END AS account, id, list_id, send_type, sent_at, imported,
	   CASE import_id WHEN :imp1 THEN 'imp1' WHEN :imp2 THEN 'imp2' WHEN :impb THEN 'impb' END AS import
  FROM trackly.sends ORDER BY account, id;

-- try_clear(body): runs the admin form for account A and rolls it back; shows
-- the response (import ids written as imp1/imp2), response.status, and
-- which rows of either account went.
CREATE TABLE snapshot AS SELECT account_id, id FROM trackly.sends;
CREATE FUNCTION try_clear(body jsonb, account bigint DEFAULT current_setting('test.a')::bigint) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
	r jsonb;
	gone text;
BEGIN
	BEGIN
		PERFORM set_config('response.status', '', true);
		r := trackly_clear_history(body, account);
		SELECT string_agg(CASE s.account_id WHEN current_setting('test.a')::bigint THEN 'A:' ELSE 'B:' END || s.id, ' '
						  ORDER BY s.account_id, s.id)
		  INTO gone FROM snapshot s
		 WHERE NOT EXISTS (SELECT FROM trackly.sends x WHERE x.account_id = s.account_id AND x.id = s.id);
		RAISE EXCEPTION USING ERRCODE = 'P0099',
			MESSAGE = format('%s status=%s gone=%s', r, nullif(current_setting('response.status'), ''),
							 coalesce(gone, '-'));
	EXCEPTION WHEN SQLSTATE 'P0099' THEN
		RETURN SQLERRM;
	END;
END
$$;
-- A body with the import ids filled in: $imp1, $imp2 in the text.
CREATE FUNCTION b(text) RETURNS jsonb LANGUAGE sql AS $$
	SELECT replace(replace($1, '$imp1', current_setting('test.imp1')), '$imp2', current_setting('test.imp2'))::jsonb
$$;

-- Each filter alone.  Live sends and account B are never touched.
SELECT f AS body, try_clear(b(f)) FROM (VALUES
	('{"import_id": $imp1}'),
	('{"import_id": $imp2}'),
	('{"ids": ["a1", "b2", "live1", "nope"]}'),
	('{"ids": ["a1", "a1", "a1"]}'),
	('{"list_id": 42}'),
	('{"list_id": 7}'),
	('{"list_id": 9}'),
	('{"send_type": "campaign"}'),
	('{"send_type": "Campaign"}'),
	('{"after": "2025-11-18T12:00:00Z"}'),
	('{"before": "2025-11-18T12:00:00Z"}'),
	('{"after": "2025-11-18T12:00:00.000001Z"}'),
	('{"before": "2025-11-18T12:00:00.000001Z"}'),
	('{"after": "2025-11-18 07:00:00-05:00"}'),
	('{"all": true}')) t(f);
-- Combinations (AND).
SELECT f AS body, try_clear(b(f)) FROM (VALUES
	('{"import_id": $imp1, "list_id": 42}'),
	('{"import_id": $imp1, "ids": ["a1", "b1"]}'),
	('{"list_id": 42, "send_type": "campaign"}'),
	('{"send_type": "campaign", "after": "2025-11-16T00:00:00Z", "before": "2025-11-18T00:00:00Z"}'),
	('{"after": "2025-11-16T12:00:00Z", "before": "2025-11-20T12:00:00Z"}'),
	('{"import_id": $imp2, "ids": ["b1", "b2", "b3"], "list_id": 7, "send_type": "alert", "after": "2025-11-18T00:00:00Z", "before": "2025-11-19T00:00:00Z"}'),
	('{"all": true, "list_id": 7}'),
	('{"all": false, "list_id": 7}'),
	('{"ids": [1, "2"], "all": true}')) t(f);
-- Integer ids are stored as their decimal text, as the import stores them.
SELECT (trackly_import_sends('{"records": [{"id": 42, "to_number": "+12025559876", "timestamp": "2025-11-15T12:00:00Z"},
										   {"id": -7, "to_number": "+12025559876", "timestamp": "2025-11-15T12:00:00Z"}]}', :a))->'success_count' AS stored;
INSERT INTO snapshot VALUES (:a, '42'), (:a, '-7');
SELECT f AS body, try_clear(b(f)) FROM (VALUES
	('{"ids": [42, -7]}'),
	('{"ids": [42.0, 4.2e1]}'),
	('{"ids": ["42"]}')) t(f);
SELECT trackly_clear_history('{"ids": [42, -7]}', :a) AS cleared_integer_ids;
DELETE FROM snapshot WHERE id IN ('42', '-7');

-- Request-level errors: nothing is deleted, response.status is set.
SELECT f AS body, try_clear(f::jsonb) FROM (VALUES
	('[]'), ('[{"all": true}]'), ('"all"'), ('42'), ('null'), ('true'),
	('{}'), ('{"all": false}'),
	('{"list": 42}'), ('{"imported": true, "all": true}'), ('{"ALL": true}'), ('{"zz": 1, "aa": 2}'),
	('{"import_id": "1"}'), ('{"import_id": 0}'), ('{"import_id": 1.5}'), ('{"import_id": null}'),
	('{"import_id": 9223372036854775808}'),
	('{"ids": "a1"}'), ('{"ids": []}'), ('{"ids": null}'), ('{"ids": ["a1", ""]}'), ('{"ids": ["a1", null]}'),
	('{"ids": [true]}'), ('{"ids": [[1]]}'), ('{"ids": [1.5]}'), ('{"ids": [9223372036854775808]}'),
	('{"list_id": 0}'), ('{"list_id": "42"}'), ('{"list_id": -1}'), ('{"list_id": null}'),
	('{"send_type": ""}'), ('{"send_type": 5}'), ('{"send_type": null}'),
	('{"after": "2025-11-18"}'), ('{"after": "Nov 18 2025"}'), ('{"after": 1731900000}'),
	('{"before": "2025-02-29T00:00:00Z"}'), ('{"before": null}'),
	('{"after": "2025-11-18T12:00:00Z", "before": "2025-11-18T12:00:00Z"}'),
	('{"after": "2025-11-19T00:00:00Z", "before": "2025-11-18T00:00:00Z"}'),
	('{"all": "true"}'), ('{"all": 1}'), ('{"all": null}')) t(f);
SELECT try_clear(NULL) AS sql_null;
SELECT try_clear(json_build_object('ids', array_fill('x'::text, ARRAY[1001]))::jsonb) AS ids_1001;
SELECT try_clear(json_build_object('ids', array_fill('x'::text, ARRAY[1000]))::jsonb) AS ids_1000;
SELECT try_clear(json_build_object('ids', ARRAY[repeat('x', 256)])::jsonb) AS id_256_chars;
SELECT try_clear(json_build_object('ids', ARRAY[repeat('x', 255)])::jsonb) AS id_255_chars;
SELECT try_clear(json_build_object('send_type', repeat('é', 65))::jsonb) AS send_type_65_chars;
-- import_id must be one of the account's own imports: another account's is
-- answered as one that does not exist.
SELECT try_clear(b('{"import_id": 1}')) AS unknown_import;
SELECT try_clear(jsonb_build_object('import_id', :impb)) AS other_accounts_import;
SELECT try_clear(jsonb_build_object('import_id', :impb), :b) AS own_import_of_b;

-- The admin form: a NULL or unknown account is an ERROR.
SELECT trackly_clear_history('{"all": true}', NULL);
SELECT trackly_clear_history('{"all": true}', -1);
SELECT trackly_clear_history(NULL, -1);

-- The API form: the key decides the account; 401 without a live key.
SELECT trackly_create_api_key(:a) AS key_a, trackly_create_api_key(:b) AS key_b \gset
SELECT trackly_clear_history('{"all": true}') AS no_key, current_setting('response.status') AS status;
SET trackly.api_key = '';
SELECT trackly_clear_history('{"all": true}') AS empty_key, current_setting('response.status') AS status;
SET trackly.api_key = 'trk_short';
SELECT trackly_clear_history('{"all": true}') AS malformed_key, current_setting('response.status') AS status;
SET trackly.api_key = 'trk_00000000000000000000000000000000';
SELECT trackly_clear_history(NULL) AS unknown_key_before_body, current_setting('response.status') AS status;
SET trackly.api_key = :'key_b';
BEGIN;
SELECT trackly_clear_history(jsonb_build_object('import_id', :imp1)) AS b_names_a_import,
	   current_setting('response.status') AS status, current_setting('response.headers') AS headers;
SELECT trackly_clear_history('{"ids": ["a1", "a2", "b1"]}') AS b_clears_its_own;
SELECT CASE account_id WHEN :a THEN 'A' ELSE 'B' END AS account, id FROM trackly.sends
 WHERE id IN ('a1', 'a2', 'b1') ORDER BY 1, 2;
ROLLBACK;
-- Over HTTP the body comes as bytes: the key first, then the parse.
SELECT trackly_clear_history_body(convert_to('{"ids": ["a3"]', 'UTF8')) AS truncated_json;
SELECT trackly_clear_history_body('\xff'::bytea) AS not_utf8;
SELECT trackly_clear_history_body(convert_to(repeat('[', 65) || repeat(']', 65), 'UTF8')) ->'errors'->0->>'code' AS too_deep;
SELECT trackly_clear_history_body(NULL) AS sql_null;
SELECT trackly_clear_history_body(convert_to('"all"', 'UTF8')) AS a_string;
SELECT trackly_clear_history_body(convert_to('{"ids": ["a3"]}', 'UTF8')) AS b_clears_a3;
SET trackly.api_key = 'trk_short';
SELECT trackly_clear_history_body(convert_to('not json', 'UTF8')) AS bad_key_before_body;
RESET trackly.api_key;

-- Cleared records can be imported again; live sends never go.
SET trackly.api_key = :'key_a';
SELECT trackly_clear_history('{"all": true}') AS clear_all_of_a;
RESET trackly.api_key;
SELECT CASE account_id WHEN :a THEN 'A' ELSE 'B' END AS account, id, imported FROM trackly.sends ORDER BY 1, 2;
SELECT trackly_import_sends(body_of(ARRAY['a1:42:campaign:15', 'a2:42:alert:16', 'live1:::15']), :a)
	- 'import_id' AS imported_again;
SELECT id, imported, import_id <> :imp1 AS new_import FROM trackly.sends WHERE account_id = :a ORDER BY id;
-- A clear that matches nothing is logged too.
SELECT trackly_clear_history('{"ids": ["nothing"]}', :a) AS matches_nothing;

-- The clear log: a row per clear that ran (rolled back ones are gone, refused ones never written).
SELECT CASE account_id WHEN :a THEN 'A' ELSE 'B' END AS account, source,
	   api_key_id IS NOT NULL AS by_key, called_by = current_user AS by_me, filters, deleted_count,
	   created_at = now() AS stamped
  FROM trackly.history_clears ORDER BY id;

-- ---------------------------------------------------------------------------
-- An import's errors, page by page
-- ---------------------------------------------------------------------------

-- An import of n records of which the ones at the given positions fail
-- (a bad to_number): returns the import id.
CREATE FUNCTION import_failing(account bigint, prefix text, n integer, failing integer[]) RETURNS bigint
LANGUAGE sql AS $$
	SELECT (trackly_import_sends(jsonb_build_object('records', jsonb_agg(jsonb_build_object(
			'id', prefix || i,
			'to_number', CASE WHEN i = ANY (failing) THEN 'bad-' || i ELSE '+12025559876' END,
			'timestamp', '2025-11-15T12:00:00Z') ORDER BY i)), account)->>'import_id')::bigint
	  FROM generate_series(0, n - 1) i
$$;
SELECT import_failing(:a, 'none-', 3, '{}') AS none,
	   import_failing(:a, 'h100-', 150, ARRAY(SELECT generate_series(0, 149, 3) UNION ALL SELECT generate_series(1, 149, 3))) AS h100,
	   import_failing(:a, 'h101-', 101, ARRAY(SELECT generate_series(0, 100))) AS h101,
	   import_failing(:a, 'h1000-', 1000, ARRAY(SELECT generate_series(0, 999))) AS h1000,
	   import_failing(:b, 'b-', 2, ARRAY[1]) AS bimp \gset
SELECT CASE import_id WHEN :h100 THEN 'h100' WHEN :h101 THEN 'h101' WHEN :h1000 THEN 'h1000' ELSE 'none' END AS import,
	   count(*) AS errors
  FROM trackly.import_errors
 WHERE account_id = :a AND import_id IN (:none, :h100, :h101, :h1000)
 GROUP BY import_id ORDER BY count(*);

-- page(import, offset, limit): the count, first and last index, and next_offset of a page.
CREATE FUNCTION page(import bigint, first jsonb DEFAULT NULL, size jsonb DEFAULT NULL,
					 account bigint DEFAULT current_setting('test.a')::bigint) RETURNS text
LANGUAGE sql AS $$
	SELECT format('%s errors, indexes %s to %s, next_offset %s, import_id echoed %s',
				  jsonb_array_length(r->'errors'), r->'errors'->0->'index', r->'errors'->-1->'index',
				  r->'next_offset', r->'import_id' = to_jsonb(import))
	  FROM trackly_import_errors(jsonb_strip_nulls(jsonb_build_object('import_id', import, 'offset', first, 'limit', size))
								 || CASE WHEN first = 'null' THEN '{"offset": null}' ELSE '{}' END::jsonb
								 || CASE WHEN size = 'null' THEN '{"limit": null}' ELSE '{}' END::jsonb, account) r
$$;
SELECT 'empty import' AS case, page(:none)
UNION ALL SELECT 'exactly 100', page(:h100)
UNION ALL SELECT 'exactly 100, limit 99', page(:h100, NULL, '99')
UNION ALL SELECT 'exactly 100, offset 99', page(:h100, '99')
UNION ALL SELECT 'exactly 100, offset 100', page(:h100, '100')
UNION ALL SELECT '101', page(:h101)
UNION ALL SELECT '101, offset 100', page(:h101, '100')
UNION ALL SELECT '101, offset 101', page(:h101, '101')
UNION ALL SELECT '101, limit 101', page(:h101, NULL, '101')
UNION ALL SELECT '101, offset null, limit null', page(:h101, 'null', 'null')
UNION ALL SELECT '1000', page(:h1000)
UNION ALL SELECT '1000, limit 1000', page(:h1000, NULL, '1000')
UNION ALL SELECT '1000, limit 999', page(:h1000, NULL, '999')
UNION ALL SELECT '1000, offset 999, limit 1000', page(:h1000, '999', '1000')
UNION ALL SELECT '1000, offset 900', page(:h1000, '900')
UNION ALL SELECT '1000, offset 1000', page(:h1000, '1000')
UNION ALL SELECT '1000, offset 2^63-1', page(:h1000, '9223372036854775807')
UNION ALL SELECT '1000, offset 5.0, limit 1e1', page(:h1000, '5.0', '1e1');
-- The first page is exactly the import response's errors; following
-- next_offset in pages of 7 gives every error once, in index order.
SELECT trackly_import_sends('{"records": [{"id": "p1", "to_number": "+1", "timestamp": "2025-11-15T12:00:00Z"},
										 5, {"id": "p3"}, {"id": "p4", "to_number": "+12025559876", "timestamp": "2025-11-15T12:00:00Z"}]}', :a)
	AS response \gset
SELECT (:'response'::jsonb)->'errors' = (trackly_import_errors(jsonb_build_object('import_id', (:'response'::jsonb)->'import_id'), :a))->'errors'
	AS same_as_the_import_response,
	   (trackly_import_errors(jsonb_build_object('import_id', (:'response'::jsonb)->'import_id'), :a))->'errors' AS errors;
WITH RECURSIVE pages(n, next, errors) AS (
	SELECT 1, r->'next_offset', r->'errors'
	  FROM trackly_import_errors(jsonb_build_object('import_id', :h1000, 'limit', 7), :a) r
	UNION ALL
	SELECT p.n + 1, r->'next_offset', r->'errors'
	  FROM pages p, trackly_import_errors(jsonb_build_object('import_id', :h1000, 'limit', 7, 'offset', p.next), :a) r
	 WHERE p.next <> 'null'
)
SELECT count(*) AS pages,
	   (SELECT array_agg((e->>'index')::bigint ORDER BY p2.n, o) FROM pages p2, jsonb_array_elements(p2.errors) WITH ORDINALITY x(e, o))
	 = (SELECT array_agg(index ORDER BY index) FROM trackly.import_errors WHERE account_id = :a AND import_id = :h1000)
	   AS every_error_once_in_order
  FROM pages;

-- Request-level errors.
SELECT f AS body, trackly_import_errors(f::jsonb, :a) AS response, current_setting('response.status') AS status
  FROM (VALUES ('[]'), ('"x"'), ('5'), ('{}'), ('{"offset": 0}'), ('{"import_id": null}'), ('{"import_id": "1"}'),
			   ('{"import_id": 1, "page": 2}'), ('{"import_id": 0}'),
			   ('{"import_id": 1, "offset": -1}'), ('{"import_id": 1, "offset": 1.5}'), ('{"import_id": 1, "offset": "0"}'),
			   ('{"import_id": 1, "limit": 0}'), ('{"import_id": 1, "limit": 1001}'), ('{"import_id": 1, "limit": "10"}'),
			   ('{"import_id": 1}')) t(f);
SELECT trackly_import_errors(NULL, :a) AS sql_null;
-- Another account's import, by the admin form and by key: not found.
SELECT trackly_import_errors(jsonb_build_object('import_id', :bimp), :a) AS other_accounts_import;
SELECT page(:bimp, account => :b) AS own_import_of_b;
SELECT trackly_import_errors('{"import_id": 1}', NULL);
SELECT trackly_import_errors('{"import_id": 1}', -1);
SELECT trackly_import_errors(jsonb_build_object('import_id', :h101)) AS no_key, current_setting('response.status') AS status;
SET trackly.api_key = 'trk_00000000000000000000000000000000';
SELECT trackly_import_errors(jsonb_build_object('import_id', :h101)) AS unknown_key, current_setting('response.status') AS status;
SET trackly.api_key = :'key_b';
BEGIN;
SELECT trackly_import_errors(jsonb_build_object('import_id', :h101)) AS b_asks_for_a_import,
	   current_setting('response.status') AS status, current_setting('response.headers') AS headers;
ROLLBACK;
SELECT r - 'import_id' AS b_asks_for_its_own, r->'import_id' = to_jsonb(:bimp) AS import_id_echoed
  FROM trackly_import_errors(jsonb_build_object('import_id', :bimp)) r;
SELECT r - 'import_id' AS over_http, r->'import_id' = to_jsonb(:bimp) AS import_id_echoed
  FROM trackly_import_errors_body(convert_to(format('{"import_id": %s, "limit": 1}', :bimp), 'UTF8')) r;
SELECT trackly_import_errors_body(convert_to('{"import_id": ', 'UTF8')) AS truncated_json;
SET trackly.api_key = '';
SELECT trackly_import_errors_body(convert_to('not json', 'UTF8')) AS no_key_before_body;
RESET trackly.api_key;

-- ---------------------------------------------------------------------------
-- Purge
-- ---------------------------------------------------------------------------
SELECT trackly_purge_import_errors(NULL);
SELECT trackly_purge_import_errors('-1 day');
SELECT trackly_purge_import_errors('1 hour') AS nothing_older_than_an_hour;
-- Age two imports: h101 by 100 days, h100 by 40.
UPDATE trackly.imports SET created_at = now() - CASE id WHEN :h101 THEN interval '100 days' ELSE interval '40 days' END
 WHERE account_id = :a AND id IN (:h101, :h100);
SELECT trackly_purge_import_errors('90 days') AS older_than_90_days;
SELECT trackly_purge_import_errors('90 days') AS again;
SELECT page(:h101) AS purged_import, page(:h100) AS kept_import;
SELECT count(*) AS imports_kept FROM trackly.imports WHERE account_id = :a AND id IN (:h101, :h100);
-- In batches, each committed (CALL outside a transaction block).
CALL trackly_purge_import_errors_batched('30 days', 7);
SELECT page(:h100) AS purged_in_batches, page(:h1000) AS newer_kept;
CALL trackly_purge_import_errors_batched('30 days', 0);
CALL trackly_purge_import_errors_batched(NULL);
UPDATE trackly.imports SET created_at = now() - interval '2 days' WHERE account_id = :b;
-- Inside a transaction block it cannot commit.
BEGIN;
CALL trackly_purge_import_errors_batched('1 day');
ROLLBACK;
CALL trackly_purge_import_errors_batched('1 day');
SELECT page(:bimp, account => :b) AS b_purged;
SELECT count(*) AS errors_left FROM trackly.import_errors;
-- Purging everything before now leaves only the imports of this transaction.
BEGIN;
SELECT import_failing(:a, 'late-', 2, ARRAY[0]) IS NOT NULL AS imported_now;
SELECT trackly_purge_import_errors('0 days') > 0 AS purged_the_rest;
SELECT array_agg(id) AS left FROM trackly.import_errors;
ROLLBACK;

DROP FUNCTION try_clear(jsonb, bigint), b(text), body_of(text[]), import_failing(bigint, text, integer, integer[]),
	page(bigint, jsonb, jsonb, bigint);
DROP TABLE snapshot;
