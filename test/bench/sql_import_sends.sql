-- sql_import_sends.sql: the import written in plain SQL, for the
-- import benchmark only (never shipped).
--
-- bench.sql_import_sends(body jsonb, account_id bigint) returns jsonb is what a
-- skilled SQL developer would write without a C extension: request-level checks
-- in PL/pgSQL, then a single statement that unpacks the records with
-- jsonb_array_elements, classifies each one into the response's codes (regexes
-- for E.164 and ISO 8601 plus range checks, JSON type checks), resolves lists by
-- join, inserts the first record of each new id with one INSERT ... SELECT ...
-- ON CONFLICT DO NOTHING in ascending id order, writes the audit rows and builds
-- the response.  It writes to tables of its own with the same columns and
-- indexes as the extension's: bench.sql_sends, bench.sql_imports,
-- bench.sql_import_errors; it reads the lists from trackly.lists.
--
-- Known simplifications against the C version: E.164 is a regex plus a length
-- check, not per-country lengths (so "+999123456" or a US number one digit
-- short pass); error sentences are plainer; no
-- save_error (the tables have no constraint a valid row could break).

CREATE SCHEMA IF NOT EXISTS bench;

DROP FUNCTION IF EXISTS bench.sql_import_sends(jsonb, bigint);
DROP TABLE IF EXISTS bench.sql_import_errors, bench.sql_imports, bench.sql_sends;
DROP SEQUENCE IF EXISTS bench.sql_imports_id_seq;

CREATE TABLE bench.sql_sends (LIKE trackly.sends INCLUDING ALL);
CREATE SEQUENCE bench.sql_imports_id_seq;
CREATE TABLE bench.sql_imports (LIKE trackly.imports INCLUDING ALL);
ALTER TABLE bench.sql_imports ALTER COLUMN id SET DEFAULT nextval('bench.sql_imports_id_seq');
ALTER SEQUENCE bench.sql_imports_id_seq OWNED BY bench.sql_imports.id;
CREATE TABLE bench.sql_import_errors (
	LIKE trackly.import_errors INCLUDING ALL,
	FOREIGN KEY (account_id, import_id) REFERENCES bench.sql_imports (account_id, id)
);

-- Is s an E.164 number?  "+", digits, 7 to 15 of them.  The length is checked
-- apart: PostgreSQL's regex engine runs '^\+[1-9][0-9]+$' about 3 times faster
-- than the bounded '^\+[1-9][0-9]{6,14}$' (measured: 0.3 against 1 us a row).
CREATE OR REPLACE FUNCTION bench.is_e164(s text) RETURNS boolean
	LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT octet_length(s) BETWEEN 8 AND 16 AND s ~ '^\+[1-9][0-9]+$' $$;

-- The instant an ISO 8601 date-time names, or NULL when it is not one: the
-- grammar by regex, the day of the month by arithmetic, then the cast (which
-- reads no offset as the session's TimeZone: the caller sets UTC).
CREATE OR REPLACE FUNCTION bench.iso8601_or_null(s text) RETURNS timestamptz
	LANGUAGE sql STABLE PARALLEL SAFE
AS $$
	SELECT CASE
		WHEN s ~ '^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])[Tt ]([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9]([.,][0-9]+)?)?([Zz]|[+-]([01][0-9]|2[0-3])(:?[0-5][0-9])?)?$'
		 AND left(s, 4) <> '0000'
		 AND substr(s, 9, 2)::int <= CASE substr(s, 6, 2)::int
				WHEN 2 THEN CASE WHEN (left(s, 4)::int % 4 = 0 AND left(s, 4)::int % 100 <> 0)
									   OR left(s, 4)::int % 400 = 0 THEN 29 ELSE 28 END
				WHEN 4 THEN 30 WHEN 6 THEN 30 WHEN 9 THEN 30 WHEN 11 THEN 30
				ELSE 31 END
		THEN replace(s, ',', '.')::timestamptz
	END
$$;

-- A JSON integer (no fractional digits) in [lo, hi] as bigint, or NULL.
CREATE OR REPLACE FUNCTION bench.jsonb_int(j jsonb, lo numeric, hi numeric) RETURNS bigint
	LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
	SELECT CASE WHEN jsonb_typeof(j) = 'number' AND strpos(j::text, '.') = 0
					 AND j::numeric BETWEEN lo AND hi
				THEN j::numeric::bigint END
$$;

-- The response to a request refused as a whole.
CREATE OR REPLACE FUNCTION bench.sql_request_failure(code text, message text) RETURNS jsonb
	LANGUAGE sql IMMUTABLE
AS $$
	SELECT jsonb_build_object('success_count', 0, 'error_count', 0, 'duplicates_skipped', 0,
							  'invalid_phones', 0, 'import_id', NULL,
							  'errors', jsonb_build_array(jsonb_build_object(
									'index', NULL, 'id', NULL, 'code', code, 'error', message)))
$$;

CREATE FUNCTION bench.sql_import_sends(body jsonb, account bigint) RETURNS jsonb
	LANGUAGE plpgsql VOLATILE
	SET search_path = pg_catalog, pg_temp
	SET TimeZone = 'UTC'
AS $fn$
DECLARE
	records jsonb := body -> 'records';
	nrecords int;
	new_import bigint;
	response jsonb;
BEGIN
	IF account IS NULL OR NOT EXISTS (SELECT FROM trackly.accounts a WHERE a.id = account) THEN
		PERFORM set_config('response.status', '404', true);
		RETURN bench.sql_request_failure('account_not_found', format('No account has id %s.', account));
	END IF;
	IF body IS NULL OR jsonb_typeof(body) <> 'object' THEN
		PERFORM set_config('response.status', '400', true);
		RETURN bench.sql_request_failure('invalid_body', 'The request body must be a JSON object with a records array.');
	END IF;
	IF jsonb_typeof(records) IS DISTINCT FROM 'array' OR jsonb_array_length(records) = 0 THEN
		PERFORM set_config('response.status', '400', true);
		RETURN bench.sql_request_failure('missing_records', 'The records field is required and must be a non-empty array.');
	END IF;
	nrecords := jsonb_array_length(records);
	IF nrecords > 1000 THEN
		PERFORM set_config('response.status', '413', true);
		RETURN bench.sql_request_failure('too_many_records',
			format('A request may hold at most 1000 records; this one has %s.', nrecords));
	END IF;
	new_import := nextval('bench.sql_imports_id_seq');

	WITH rec AS (
		-- Each record with its 0-based index and JSON type.
		SELECT (e.ord - 1)::int AS idx, jsonb_typeof(e.r) AS t, e.r
		  FROM jsonb_array_elements(records) WITH ORDINALITY AS e(r, ord)
	), field AS MATERIALIZED (
		-- The fields; JSON null counts as absent for the optional ones, so does list_number "".
		-- MATERIALIZED here and below: inlined, every use of a column would repeat its
		-- jsonb lookups and regexes (measured: twice as slow).
		SELECT idx, t,
			   r -> 'id' AS j_id, jsonb_typeof(r -> 'id') AS t_id, r ->> 'id' AS s_id,
			   r -> 'to_number' AS j_to, jsonb_typeof(r -> 'to_number') AS t_to, r ->> 'to_number' AS s_to,
			   r -> 'timestamp' AS j_ts, jsonb_typeof(r -> 'timestamp') AS t_ts, r ->> 'timestamp' AS s_ts,
			   nullif(nullif(r -> 'list_number', 'null'), '""') AS j_list_number,
			   nullif(r -> 'list_id', 'null') AS j_list_id,
			   nullif(r -> 'creative_id', 'null') AS j_creative_id,
			   nullif(r -> 'length', 'null') AS j_length,
			   nullif(r -> 'message', 'null') AS j_message,
			   nullif(r -> 'send_type', 'null') AS j_send_type,
			   nullif(r -> 'delivered', 'null') AS j_delivered
		  FROM rec
	), typed AS MATERIALIZED (
		-- Converted values (NULL when absent or not convertible) and the first rule-7 problem.
		SELECT f.*,
			   CASE WHEN t_ts = 'string' THEN bench.iso8601_or_null(s_ts) END AS sent_at,
			   j_list_number #>> '{}' AS s_list_number,
			   bench.jsonb_int(j_list_id, 1, 9223372036854775807) AS list_id,
			   bench.jsonb_int(j_creative_id, 1, 9223372036854775807) AS creative_id,
			   bench.jsonb_int(j_length, 0, 2147483647) AS length,
			   CASE
				WHEN NOT ((t_id = 'string' AND char_length(s_id) <= 255)
						  OR bench.jsonb_int(j_id, -9223372036854775808, 9223372036854775807) IS NOT NULL)
					THEN format('id %s is neither a string of 1 to 255 characters nor a 64-bit integer.', left(j_id::text, 42))
				WHEN j_list_id IS NOT NULL AND bench.jsonb_int(j_list_id, 1, 9223372036854775807) IS NULL
					THEN format('list_id must be an integer from 1 to 9223372036854775807; it is %s.', left(j_list_id::text, 42))
				WHEN j_creative_id IS NOT NULL AND bench.jsonb_int(j_creative_id, 1, 9223372036854775807) IS NULL
					THEN format('creative_id must be an integer from 1 to 9223372036854775807; it is %s.', left(j_creative_id::text, 42))
				WHEN j_length IS NOT NULL AND bench.jsonb_int(j_length, 0, 2147483647) IS NULL
					THEN format('length must be an integer from 0 to 2147483647; it is %s.', left(j_length::text, 42))
				WHEN j_message IS NOT NULL
					 AND (jsonb_typeof(j_message) <> 'string' OR char_length(j_message #>> '{}') > 10000)
					THEN 'message must be a string of at most 10000 characters.'
				WHEN j_send_type IS NOT NULL
					 AND (jsonb_typeof(j_send_type) <> 'string' OR char_length(j_send_type #>> '{}') NOT BETWEEN 1 AND 64)
					THEN 'send_type must be a string of 1 to 64 characters.'
				WHEN j_delivered IS NOT NULL AND jsonb_typeof(j_delivered) <> 'boolean'
					THEN format('delivered must be true or false; it is %s.', left(j_delivered::text, 42))
			   END AS field_error
		  FROM field f
	), resolved AS (
		-- Rule 8 by join: the list named by list_id, the list named by list_number.
		SELECT v.*, by_id.id AS list_by_id, by_number.id AS list_by_number
		  FROM typed v
		  LEFT JOIN trackly.lists by_id
				 ON by_id.account_id = account AND by_id.id = v.list_id
		  LEFT JOIN trackly.lists by_number
				 ON by_number.account_id = account AND by_number.phone_number = v.s_list_number
	), judged AS (
		-- Rules 1 to 8 in the documented order: the first failure wins.
		SELECT r.*,
			   CASE
				WHEN t IS DISTINCT FROM 'object' THEN 'invalid_record'
				WHEN coalesce(t_id, 'null') = 'null' OR s_id = '' THEN 'missing_id'
				WHEN coalesce(t_to, 'null') = 'null' OR s_to = '' THEN 'missing_to_number'
				WHEN coalesce(t_ts, 'null') = 'null' OR s_ts = '' THEN 'missing_timestamp'
				WHEN t_to <> 'string' OR NOT bench.is_e164(s_to) THEN 'invalid_phone'
				WHEN j_list_number IS NOT NULL
					 AND (jsonb_typeof(j_list_number) <> 'string' OR NOT bench.is_e164(s_list_number)) THEN 'invalid_phone'
				WHEN sent_at IS NULL THEN 'invalid_timestamp'
				WHEN field_error IS NOT NULL THEN 'invalid_field'
				WHEN (list_id IS NOT NULL AND list_by_id IS NULL)
					 OR (s_list_number IS NOT NULL AND list_by_number IS NULL)
					 OR list_by_id <> list_by_number THEN 'list_not_found'
			   END AS code
		  FROM resolved r
	), failed AS (
		-- The failed records, with the id as the response shows it and a sentence.
		SELECT idx, code,
			   CASE WHEN t_id = 'string' AND s_id <> '' THEN s_id
					WHEN t_id = 'number' AND strpos(s_id, '.') = 0 THEN s_id END AS shown_id,
			   CASE code
				WHEN 'invalid_record' THEN format('The record is %s, not a JSON object.', coalesce(t, 'null'))
				WHEN 'missing_id' THEN CASE WHEN t_id IS NULL THEN 'The record has no id.'
											WHEN t_id = 'null' THEN 'id is null.' ELSE 'id is an empty string.' END
				WHEN 'missing_to_number' THEN CASE WHEN t_to IS NULL THEN 'The record has no to_number.'
												   WHEN t_to = 'null' THEN 'to_number is null.' ELSE 'to_number is an empty string.' END
				WHEN 'missing_timestamp' THEN CASE WHEN t_ts IS NULL THEN 'The record has no timestamp.'
												   WHEN t_ts = 'null' THEN 'timestamp is null.' ELSE 'timestamp is an empty string.' END
				WHEN 'invalid_phone' THEN
					CASE WHEN t_to <> 'string' OR NOT bench.is_e164(s_to)
						 THEN format('to_number %s is not a valid E.164 phone number.', left(j_to::text, 42))
						 ELSE format('list_number %s is not a valid E.164 phone number.', left(j_list_number::text, 42)) END
				WHEN 'invalid_timestamp' THEN format('timestamp %s is not a valid ISO 8601 date-time.', left(j_ts::text, 42))
				WHEN 'invalid_field' THEN field_error
				WHEN 'list_not_found' THEN format('No list of this account matches list_id %s and list_number %s.',
												  coalesce(list_id::text, 'null'), coalesce(s_list_number, 'null'))
			   END AS message
		  FROM judged
		 WHERE code IS NOT NULL
	), candidate AS (
		-- The first valid record of each id.
		SELECT DISTINCT ON (s_id COLLATE "C") *
		  FROM judged
		 WHERE code IS NULL
		 ORDER BY s_id COLLATE "C", idx
	), inserted AS (
		-- Ascending id order, so concurrent imports cannot deadlock; stored ids are skipped.
		INSERT INTO bench.sql_sends AS s (account_id, id, list_id, to_number, message, creative_id,
										  send_type, delivered, length, sent_at, imported, import_id)
		SELECT account, c.s_id, coalesce(c.list_by_id, c.list_by_number), c.s_to, c.j_message #>> '{}',
			   c.creative_id, c.j_send_type #>> '{}', c.j_delivered::boolean, c.length, c.sent_at, true, new_import
		  FROM candidate c
		 ORDER BY c.s_id COLLATE "C"
		ON CONFLICT (account_id, id) DO NOTHING
		RETURNING 1
	), tally AS (
		SELECT (SELECT count(*) FROM inserted)::int AS success_count,
			   count(*)::int AS error_count,
			   (count(*) FILTER (WHERE code = 'invalid_phone'))::int AS invalid_phones
		  FROM failed
	), audit AS (
		INSERT INTO bench.sql_imports (account_id, id, source, success_count, error_count,
									   duplicates_skipped, invalid_phones)
		SELECT account, new_import, 'sql', success_count, error_count,
			   nrecords - success_count - error_count, invalid_phones
		  FROM tally
	), audit_errors AS (
		INSERT INTO bench.sql_import_errors (account_id, import_id, index, id, code, error)
		SELECT account, new_import, idx, shown_id, code, message FROM failed
	)
	SELECT jsonb_build_object(
			'success_count', success_count,
			'error_count', error_count,
			'duplicates_skipped', nrecords - success_count - error_count,
			'invalid_phones', invalid_phones,
			'errors', coalesce((SELECT jsonb_agg(jsonb_build_object('index', e.idx, 'id', e.shown_id,
																	 'code', e.code, 'error', e.message)
												 ORDER BY e.idx)
								  FROM (SELECT * FROM failed ORDER BY idx LIMIT 100) e), '[]'::jsonb),
			'import_id', new_import)
	  INTO response
	  FROM tally;
	RETURN response;
END
$fn$;
COMMENT ON FUNCTION bench.sql_import_sends(jsonb, bigint) IS
	'the import in plain SQL, for the benchmark: same response, its own tables';
