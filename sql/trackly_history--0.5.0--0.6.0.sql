/* trackly_history--0.5.0--0.6.0.sql: Clear History, an import's errors page by page, the purge of old error records, the send report and its rollup */

\echo Use "ALTER EXTENSION trackly_history UPDATE TO '0.6.0'" to load this file. \quit

-- The clear log: a row per clear that ran, keyed by account like every
-- table that grows with traffic.
CREATE TABLE trackly.history_clears (
	account_id	bigint NOT NULL,
	id			bigserial,
	source		text NOT NULL CHECK (source IN ('api', 'sql')),
	api_key_id	bigint,
	called_by	text NOT NULL,
	filters		jsonb NOT NULL,
	deleted_count bigint NOT NULL,
	created_at	timestamptz NOT NULL DEFAULT pg_catalog.now(),
	PRIMARY KEY (account_id, id),
	CHECK ((source = 'api') = (api_key_id IS NOT NULL))
);
COMMENT ON TABLE trackly.history_clears IS
	'one row per Clear History call that ran: the account, the key (api) or none (sql), the role that called, the filters as sent, the count deleted, when';
COMMENT ON COLUMN trackly.history_clears.called_by IS
	'the role that called (SET ROLE''s role, else the session''s): PostgREST''s anonymous role for the API form, the admin''s role for the admin form';
SELECT pg_catalog.pg_extension_config_dump('trackly.history_clears', '');
SELECT pg_catalog.pg_extension_config_dump('trackly.history_clears_id_seq', '');
GRANT SELECT ON trackly.history_clears TO trackly_admin;

-- C helpers (src/history.c): the request's key, a raw body's parse, the
-- role that called, the import's way of showing a value and explaining a
-- date-time.  Internal.
CREATE FUNCTION trackly.authenticate_request(OUT account_id bigint, OUT api_key_id bigint,
											 OUT code text, OUT error text)
	AS 'MODULE_PATHNAME', 'trackly_authenticate_request'
	LANGUAGE C VOLATILE;
COMMENT ON FUNCTION trackly.authenticate_request() IS
	'the request''s API key as trackly_import_sends(jsonb) finds it: its account and id, or the code and sentence of a 401';

CREATE FUNCTION trackly.parse_request_body(bytea, OUT body jsonb, OUT error text)
	AS 'MODULE_PATHNAME', 'trackly_parse_request_body'
	LANGUAGE C VOLATILE;
COMMENT ON FUNCTION trackly.parse_request_body(bytea) IS
	'a raw HTTP body as jsonb, checked as trackly_import_sends_body checks it; else the invalid_body sentence';

CREATE FUNCTION trackly.calling_role() RETURNS text
	AS 'MODULE_PATHNAME', 'trackly_calling_role'
	LANGUAGE C STABLE;
COMMENT ON FUNCTION trackly.calling_role() IS
	'the role that called, outside any SECURITY DEFINER function (SET ROLE''s role, else the session''s)';

CREATE FUNCTION trackly.shown_value(text) RETURNS text
	AS 'MODULE_PATHNAME', 'trackly_shown_value'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION trackly.shown_value(text) IS
	'the value in double quotes as the import''s sentences show it: its first 40 characters, then ...';

CREATE FUNCTION trackly.explain_iso8601(text) RETURNS text
	AS 'MODULE_PATHNAME', 'trackly_explain_iso8601'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION trackly.explain_iso8601(text) IS
	'why a string is no valid ISO 8601 date-time (the import''s words), NULL when it is one';

-- How a JSON value reads in a sentence, as the import shows a field: the
-- string "...", 42.5, true, null, an array, an object.
CREATE FUNCTION trackly.json_shown(value jsonb) RETURNS text
	LANGUAGE plpgsql IMMUTABLE
	SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	CASE jsonb_typeof(value)
		WHEN 'string' THEN RETURN 'the string ' || trackly.shown_value(value #>> '{}');
		WHEN 'number' THEN
			RETURN CASE WHEN char_length(value::text) <= 40 THEN value::text ELSE left(value::text, 40) || '...' END;
		WHEN 'boolean' THEN RETURN value::text;
		WHEN 'null' THEN RETURN 'null';
		WHEN 'array' THEN RETURN CASE WHEN jsonb_array_length(value) = 0 THEN 'an empty array' ELSE 'an array' END;
		ELSE RETURN 'an object';
	END CASE;
END
$$;
COMMENT ON FUNCTION trackly.json_shown(jsonb) IS
	'how a JSON value reads in a sentence: the string "...", 42.5, true, null, an array, an object';

-- A JSON integer (a number with a whole value: 42, 42.0, 4.2e1) from low to
-- high as bigint; NULL for anything else.
CREATE FUNCTION trackly.json_integer(value jsonb, low numeric, high numeric) RETURNS bigint
	LANGUAGE plpgsql IMMUTABLE
	SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	n numeric;
BEGIN
	IF jsonb_typeof(value) IS DISTINCT FROM 'number' THEN
		RETURN NULL;
	END IF;
	n := value::numeric;
	IF n <> trunc(n) OR n < low OR n > high THEN
		RETURN NULL;
	END IF;
	RETURN n::bigint;
END
$$;
COMMENT ON FUNCTION trackly.json_integer(jsonb, numeric, numeric) IS
	'a JSON number with a whole value from low to high, as bigint; NULL for anything else';

-- A message id as the import stores it: a string of 1 to 255 characters, or
-- an integer from -2^63 to 2^63-1 as its decimal text; NULL for anything else.
CREATE FUNCTION trackly.json_message_id(value jsonb) RETURNS text
	LANGUAGE plpgsql IMMUTABLE
	SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF jsonb_typeof(value) = 'string' THEN
		IF char_length(value #>> '{}') BETWEEN 1 AND 255 THEN
			RETURN value #>> '{}';
		END IF;
		RETURN NULL;
	END IF;
	RETURN trackly.json_integer(value, -9223372036854775808, 9223372036854775807)::text;
END
$$;
COMMENT ON FUNCTION trackly.json_message_id(jsonb) IS
	'a message id as the import stores it (a string of 1 to 255 characters, or an integer as its decimal text); NULL for anything else';

-- A date-time filter (after, before) as an instant, or the sentence that
-- says what is wrong with it.
CREATE FUNCTION trackly.json_instant(name text, value jsonb, OUT instant timestamptz, OUT error text)
	LANGUAGE plpgsql IMMUTABLE
	SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF jsonb_typeof(value) <> 'string' THEN
		error := format('%s must be a string holding an ISO 8601 date-time such as "2025-11-15T14:30:00Z"; it is %s.',
						name, trackly.json_shown(value));
	ELSIF trackly.explain_iso8601(value #>> '{}') IS NOT NULL THEN
		error := format('%s %s is not a valid ISO 8601 date-time: %s.', name,
						trackly.shown_value(value #>> '{}'), trackly.explain_iso8601(value #>> '{}'));
	ELSE
		instant := @extschema@.trackly_iso8601(value #>> '{}');
	END IF;
END
$$;
COMMENT ON FUNCTION trackly.json_instant(text, jsonb) IS
	'a date-time filter as an instant (the contract''s ISO 8601 grammar), or the sentence that says what is wrong with it';

-- The answer to a request of one of the APIs below ('clear',
-- 'import_errors', 'report') refused as a whole: that API's empty answer
-- with the error, and PostgREST's response.status set (for a 404, also the
-- header nginx tells it from PostgREST's own 404 by).
CREATE FUNCTION trackly.request_failure(api text, code text, status integer, error text) RETURNS jsonb
	LANGUAGE plpgsql VOLATILE
	SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	PERFORM set_config('response.status', status::text, true);
	IF status = 404 THEN
		PERFORM set_config('response.headers', format('[{"X-Trackly-Code": "%s"}]', code), true);
	END IF;
	RETURN CASE api
			   WHEN 'clear' THEN '{"deleted_count": 0}'::jsonb
			   WHEN 'import_errors' THEN '{"import_id": null, "next_offset": null}'::jsonb
			   ELSE '{"rows": [], "totals": null}'::jsonb
		   END
		   || jsonb_build_object('errors', jsonb_build_array(jsonb_build_object('index', NULL, 'id', NULL,
																				  'code', code, 'error', error)));
END
$$;
COMMENT ON FUNCTION trackly.request_failure(text, text, integer, text) IS
	'the answer to a clear, import errors or report request refused as a whole, in that API''s shape, with response.status set';

-- A request of an API form (the key's account): the key checked first, as
-- trackly_import_sends(jsonb) checks it, then, for a raw HTTP body, that the
-- bytes are UTF-8 JSON nested at most 64 deep (else invalid_body), then the
-- API's run for the key's account.
CREATE FUNCTION trackly.serve_request(api text, body jsonb, raw bytea, from_raw boolean) RETURNS jsonb
	LANGUAGE plpgsql VOLATILE
	SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	auth record;
	parsed record;
BEGIN
	SELECT * INTO auth FROM trackly.authenticate_request();
	IF auth.code IS NOT NULL THEN
		RETURN trackly.request_failure(api, auth.code, 401, auth.error);
	END IF;
	IF from_raw THEN
		SELECT * INTO parsed FROM trackly.parse_request_body(raw);
		IF parsed.error IS NOT NULL THEN
			RETURN trackly.request_failure(api, 'invalid_body', 400, parsed.error);
		END IF;
		body := parsed.body;
	END IF;
	CASE api
		WHEN 'clear' THEN RETURN trackly.clear_history_run(body, auth.account_id, auth.api_key_id);
		WHEN 'import_errors' THEN RETURN trackly.import_errors_run(body, auth.account_id);
		ELSE RETURN trackly.report_run(body, auth.account_id);
	END CASE;
END
$$;
COMMENT ON FUNCTION trackly.serve_request(text, jsonb, bytea, boolean) IS
	'an API-key request of the clear, import errors or report API (the body as jsonb, or raw bytes to check): the key, the body, then the API for the key''s account';

-- ---------------------------------------------------------------------------
-- Clear History
-- ---------------------------------------------------------------------------

-- The filters of a clear request, or the first fault of its body (code and
-- sentence): the body, its keys, each filter in the order of the README,
-- the time range, then that there is a filter at all.
CREATE FUNCTION trackly.clear_filters(body jsonb,
	OUT code text, OUT error text,
	OUT import_id bigint, OUT ids text[], OUT list_id bigint, OUT send_type text,
	OUT after timestamptz, OUT before timestamptz, OUT clear_all boolean)
	LANGUAGE plpgsql IMMUTABLE
	SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v jsonb;
	unknown text;
	bad_at bigint;
	bad jsonb;
	n integer;
BEGIN
	clear_all := false;
	IF body IS NULL THEN
		code := 'invalid_body';
		error := 'The request body is SQL NULL; send a JSON object of filters.';
		RETURN;
	END IF;
	IF jsonb_typeof(body) <> 'object' THEN
		code := 'invalid_body';
		error := format('The request body must be a JSON object of filters; it is %s.',
						CASE WHEN jsonb_typeof(body) = 'string' THEN 'a string' ELSE trackly.json_shown(body) END);
		RETURN;
	END IF;

	code := 'invalid_filter';
	SELECT k INTO unknown FROM jsonb_object_keys(body) k
	 WHERE k NOT IN ('import_id', 'ids', 'list_id', 'send_type', 'after', 'before', 'all')
	 ORDER BY k COLLATE "C" LIMIT 1;
	IF unknown IS NOT NULL THEN
		error := format('%s is not a filter: a clear takes import_id, ids, list_id, send_type, after and before, or all.',
						trackly.shown_value(unknown));
		RETURN;
	END IF;

	IF body ? 'import_id' THEN
		import_id := trackly.json_integer(body->'import_id', 1, 9223372036854775807);
		IF import_id IS NULL THEN
			error := format('import_id must be an integer from 1 to 9223372036854775807 (the import_id an import answered); it is %s.',
							trackly.json_shown(body->'import_id'));
			RETURN;
		END IF;
	END IF;

	IF body ? 'ids' THEN
		v := body->'ids';
		IF jsonb_typeof(v) <> 'array' OR jsonb_array_length(v) = 0 THEN
			error := format('ids must be an array of 1 to 1,000 message ids; it is %s.', trackly.json_shown(v));
			RETURN;
		END IF;
		n := jsonb_array_length(v);
		IF n > 1000 THEN
			error := format('ids may hold at most 1,000 message ids; it holds %s. Clear in several requests.', n);
			RETURN;
		END IF;
		SELECT a.o - 1, a.e INTO bad_at, bad
		  FROM jsonb_array_elements(v) WITH ORDINALITY a(e, o)
		 WHERE trackly.json_message_id(a.e) IS NULL
		 ORDER BY a.o LIMIT 1;
		IF FOUND THEN
			error := format('ids[%s] must be a message id: a string of 1 to 255 characters or an integer; it is %s.',
							bad_at, trackly.json_shown(bad));
			RETURN;
		END IF;
		ids := ARRAY(SELECT DISTINCT trackly.json_message_id(e) FROM jsonb_array_elements(v) e);
	END IF;

	IF body ? 'list_id' THEN
		list_id := trackly.json_integer(body->'list_id', 1, 9223372036854775807);
		IF list_id IS NULL THEN
			error := format('list_id must be an integer from 1 to 9223372036854775807; it is %s.',
							trackly.json_shown(body->'list_id'));
			RETURN;
		END IF;
	END IF;

	IF body ? 'send_type' THEN
		v := body->'send_type';
		IF jsonb_typeof(v) <> 'string' OR char_length(v #>> '{}') NOT BETWEEN 1 AND 64 THEN
			error := format('send_type must be a string of 1 to 64 characters; it is %s.', trackly.json_shown(v));
			RETURN;
		END IF;
		send_type := v #>> '{}';
	END IF;

	IF body ? 'after' THEN
		SELECT t.instant, t.error INTO after, error FROM trackly.json_instant('after', body->'after') t;
		IF error IS NOT NULL THEN
			RETURN;
		END IF;
	END IF;
	IF body ? 'before' THEN
		SELECT t.instant, t.error INTO before, error FROM trackly.json_instant('before', body->'before') t;
		IF error IS NOT NULL THEN
			RETURN;
		END IF;
	END IF;

	IF body ? 'all' THEN
		IF jsonb_typeof(body->'all') <> 'boolean' THEN
			error := format('all must be true (false is the same as leaving it out); it is %s.',
							trackly.json_shown(body->'all'));
			RETURN;
		END IF;
		clear_all := (body->>'all')::boolean;
	END IF;

	IF after >= before THEN
		error := format('after (%s) must be earlier than before (%s): no send lies in that range.',
						body->>'after', body->>'before');
		RETURN;
	END IF;

	IF import_id IS NULL AND ids IS NULL AND list_id IS NULL AND send_type IS NULL
	   AND after IS NULL AND before IS NULL AND NOT clear_all THEN
		code := 'missing_filter';
		error := 'Name at least one filter (import_id, ids, list_id, send_type, after, before), or send "all": true to clear every imported send of the account.';
		RETURN;
	END IF;
	code := NULL;
END
$$;
COMMENT ON FUNCTION trackly.clear_filters(jsonb) IS
	'the filters of a clear request, or the code and sentence of its first fault';

-- A clear for an account (api_key_id NULL: the admin form): deletes the
-- account's imported sends that match every filter, in one statement that
-- counts without returning rows, and logs the call.
--
-- Why a clear cannot deadlock with imports: an import waits only at an id
-- whose index entry belongs to a transaction still running (src/import_write.c);
-- a clear waits only for the account's row (held by another clear of the
-- account or a list creation, neither of which waits for an import) and
-- for rows another transaction deletes or updates (which imports never do:
-- they only insert, and rows they insert are invisible to the clear, which
-- so never waits for them).  Imports may wait for a clear; a clear never
-- waits for an import: no circle.  A record whose id a running clear is
-- deleting is either reported a duplicate (the import read the row before
-- the clear committed: the id is then absent) or waited for and stored
-- once (the clear committed first).
CREATE FUNCTION trackly.clear_history_run(body jsonb, account_id bigint, api_key_id bigint) RETURNS jsonb
	LANGUAGE plpgsql VOLATILE
	SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	f record;
	deleted bigint;
BEGIN
	SELECT * INTO f FROM trackly.clear_filters(body);
	IF f.code IS NOT NULL THEN
		RETURN trackly.request_failure('clear', f.code, 400, f.error);
	END IF;
	IF f.import_id IS NOT NULL
	   AND NOT EXISTS (SELECT FROM trackly.imports i
					    WHERE i.account_id = clear_history_run.account_id AND i.id = f.import_id) THEN
		RETURN trackly.request_failure('clear', 'import_not_found', 404,
			'The import_id names no import of this account: send the import_id an import of this account answered.');
	END IF;

	-- One clear at a time per account, so two clears never lock each
	-- other's rows in opposite orders.
	PERFORM FROM trackly.accounts a WHERE a.id = clear_history_run.account_id FOR NO KEY UPDATE;

	-- Only the filters given, as parameters: each call is planned for its
	-- own (an ids filter walks the primary key).
	EXECUTE 'DELETE FROM trackly.sends s WHERE s.account_id = $1 AND s.imported'
			|| CASE WHEN f.import_id IS NOT NULL THEN ' AND s.import_id = $2' ELSE '' END
			|| CASE WHEN f.ids IS NOT NULL THEN ' AND s.id = ANY ($3)' ELSE '' END
			|| CASE WHEN f.list_id IS NOT NULL THEN ' AND s.list_id = $4' ELSE '' END
			|| CASE WHEN f.send_type IS NOT NULL THEN ' AND s.send_type = $5' ELSE '' END
			|| CASE WHEN f.after IS NOT NULL THEN ' AND s.sent_at >= $6' ELSE '' END
			|| CASE WHEN f.before IS NOT NULL THEN ' AND s.sent_at < $7' ELSE '' END
		USING account_id, f.import_id, f.ids, f.list_id, f.send_type, f.after, f.before;
	GET DIAGNOSTICS deleted = ROW_COUNT;

	INSERT INTO trackly.history_clears (account_id, source, api_key_id, called_by, filters, deleted_count)
		VALUES (account_id, CASE WHEN api_key_id IS NULL THEN 'sql' ELSE 'api' END, api_key_id,
				trackly.calling_role(), body, deleted);
	RETURN jsonb_build_object('deleted_count', deleted, 'errors', '[]'::jsonb);
END
$$;
COMMENT ON FUNCTION trackly.clear_history_run(jsonb, bigint, bigint) IS
	'a clear for an account: deletes its imported sends that match every filter, logs the call, returns the response';

CREATE FUNCTION trackly_clear_history(jsonb) RETURNS jsonb
	LANGUAGE plpgsql VOLATILE SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	RETURN trackly.serve_request('clear', $1, NULL, false);
END
$$;
COMMENT ON FUNCTION trackly_clear_history(jsonb) IS
	'deletes the imported sends that match the filters of the body, for the account of the API key (as trackly_import_sends(jsonb) finds it); returns {"deleted_count", "errors"}';

CREATE FUNCTION trackly_clear_history(jsonb, bigint) RETURNS jsonb
	LANGUAGE plpgsql VOLATILE SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	PERFORM trackly.require_account($2);
	RETURN trackly.clear_history_run($1, $2, NULL);
END
$$;
COMMENT ON FUNCTION trackly_clear_history(jsonb, bigint) IS
	'deletes the imported sends of the given account that match the filters of the body, without an API key; returns {"deleted_count", "errors"}';

CREATE FUNCTION trackly_clear_history_body(bytea) RETURNS jsonb
	LANGUAGE plpgsql VOLATILE SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	RETURN trackly.serve_request('clear', NULL, $1, true);
END
$$;
COMMENT ON FUNCTION trackly_clear_history_body(bytea) IS
	'trackly_clear_history(jsonb) for a raw HTTP body: checks the key first, then that the bytes are UTF-8 JSON nested at most 64 deep (else invalid_body)';

-- ---------------------------------------------------------------------------
-- An import's errors, page by page
-- ---------------------------------------------------------------------------

-- The page a request asks for, or the first fault of its body.
CREATE FUNCTION trackly.import_errors_page(body jsonb,
	OUT code text, OUT error text, OUT import_id bigint, OUT first bigint, OUT page_size integer)
	LANGUAGE plpgsql IMMUTABLE
	SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	unknown text;
BEGIN
	first := 0;
	page_size := 100;
	IF body IS NULL THEN
		code := 'invalid_body';
		error := 'The request body is SQL NULL; send a JSON object with an import_id.';
		RETURN;
	END IF;
	IF jsonb_typeof(body) <> 'object' THEN
		code := 'invalid_body';
		error := format('The request body must be a JSON object with an import_id; it is %s.',
						CASE WHEN jsonb_typeof(body) = 'string' THEN 'a string' ELSE trackly.json_shown(body) END);
		RETURN;
	END IF;

	code := 'invalid_filter';
	SELECT k INTO unknown FROM jsonb_object_keys(body) k
	 WHERE k NOT IN ('import_id', 'offset', 'limit')
	 ORDER BY k COLLATE "C" LIMIT 1;
	IF unknown IS NOT NULL THEN
		error := format('%s is not a field of this request: it takes import_id, offset and limit.',
						trackly.shown_value(unknown));
		RETURN;
	END IF;
	IF NOT body ? 'import_id' THEN
		error := 'import_id is required: send the import_id an import answered.';
		RETURN;
	END IF;
	import_id := trackly.json_integer(body->'import_id', 1, 9223372036854775807);
	IF import_id IS NULL THEN
		error := format('import_id must be an integer from 1 to 9223372036854775807 (the import_id an import answered); it is %s.',
						trackly.json_shown(body->'import_id'));
		RETURN;
	END IF;
	IF jsonb_typeof(body->'offset') IS DISTINCT FROM 'null' AND body ? 'offset' THEN
		first := trackly.json_integer(body->'offset', 0, 9223372036854775807);
		IF first IS NULL THEN
			error := format('offset must be an integer from 0 to 9223372036854775807 (a next_offset an answer gave); it is %s.',
							trackly.json_shown(body->'offset'));
			RETURN;
		END IF;
	END IF;
	IF jsonb_typeof(body->'limit') IS DISTINCT FROM 'null' AND body ? 'limit' THEN
		page_size := trackly.json_integer(body->'limit', 1, 1000);
		IF page_size IS NULL THEN
			error := format('limit must be an integer from 1 to 1000; it is %s.', trackly.json_shown(body->'limit'));
			RETURN;
		END IF;
	END IF;
	code := NULL;
END
$$;
COMMENT ON FUNCTION trackly.import_errors_page(jsonb) IS
	'the import, offset and limit a request for an import''s errors asks for, or the code and sentence of its first fault';

-- A page of an import's errors for an account, ordered by index.  offset
-- counts errors, not records: the first index of the page is found by a
-- walk of the primary key alone, and the page read from there.
CREATE FUNCTION trackly.import_errors_run(body jsonb, account_id bigint) RETURNS jsonb
	LANGUAGE plpgsql STABLE
	SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	p record;
	first_index bigint := -9223372036854775808;
	errors jsonb;
	more boolean;
BEGIN
	SELECT * INTO p FROM trackly.import_errors_page(body);
	IF p.code IS NOT NULL THEN
		RETURN trackly.request_failure('import_errors', p.code, 400, p.error);
	END IF;
	IF NOT EXISTS (SELECT FROM trackly.imports i
					WHERE i.account_id = import_errors_run.account_id AND i.id = p.import_id) THEN
		RETURN trackly.request_failure('import_errors', 'import_not_found', 404,
			'The import_id names no import of this account: send the import_id an import of this account answered.');
	END IF;
	IF p.first > 0 THEN
		SELECT e.index INTO first_index
		  FROM trackly.import_errors e
		 WHERE e.account_id = import_errors_run.account_id AND e.import_id = p.import_id
		 ORDER BY e.index OFFSET p.first LIMIT 1;
		IF NOT FOUND THEN
			RETURN jsonb_build_object('import_id', p.import_id, 'errors', '[]'::jsonb, 'next_offset', NULL);
		END IF;
	END IF;
	SELECT coalesce(jsonb_agg(jsonb_build_object('index', x.index, 'id', x.id, 'code', x.code, 'error', x.error)
							  ORDER BY x.index) FILTER (WHERE x.n <= p.page_size), '[]'::jsonb),
		   count(*) > p.page_size
	  INTO errors, more
	  FROM (SELECT e.index, e.id, e.code, e.error, row_number() OVER (ORDER BY e.index) AS n
			  FROM trackly.import_errors e
			 WHERE e.account_id = import_errors_run.account_id AND e.import_id = p.import_id
			   AND e.index >= first_index
			 ORDER BY e.index LIMIT p.page_size + 1) x;
	RETURN jsonb_build_object('import_id', p.import_id, 'errors', errors,
							  'next_offset', CASE WHEN more THEN p.first + p.page_size END);
END
$$;
COMMENT ON FUNCTION trackly.import_errors_run(jsonb, bigint) IS
	'a page of an import''s failed records for an account, in the import response''s shape, ordered by index';

CREATE FUNCTION trackly_import_errors(jsonb) RETURNS jsonb
	LANGUAGE plpgsql VOLATILE SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	RETURN trackly.serve_request('import_errors', $1, NULL, false);
END
$$;
COMMENT ON FUNCTION trackly_import_errors(jsonb) IS
	'a page of the failed records of an import of the API key''s account: {"import_id", "offset", "limit"} answers {"import_id", "errors", "next_offset"}';

CREATE FUNCTION trackly_import_errors(jsonb, bigint) RETURNS jsonb
	LANGUAGE plpgsql VOLATILE SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	PERFORM trackly.require_account($2);
	RETURN trackly.import_errors_run($1, $2);
END
$$;
COMMENT ON FUNCTION trackly_import_errors(jsonb, bigint) IS
	'a page of the failed records of an import of the given account, without an API key';

CREATE FUNCTION trackly_import_errors_body(bytea) RETURNS jsonb
	LANGUAGE plpgsql VOLATILE SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	RETURN trackly.serve_request('import_errors', NULL, $1, true);
END
$$;
COMMENT ON FUNCTION trackly_import_errors_body(bytea) IS
	'trackly_import_errors(jsonb) for a raw HTTP body: checks the key first, then that the bytes are UTF-8 JSON nested at most 64 deep (else invalid_body)';

-- ---------------------------------------------------------------------------
-- Retention of import_errors
-- ---------------------------------------------------------------------------

-- The instant before which imports count as older than older_than, or an
-- ERROR that says what is wrong with it.
CREATE FUNCTION trackly.purge_cutoff(older_than interval) RETURNS timestamptz
	LANGUAGE plpgsql STABLE
	SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF older_than IS NULL THEN
		RAISE EXCEPTION 'older_than is NULL; pass an interval such as ''90 days''' USING ERRCODE = '22004';
	END IF;
	IF older_than < interval '0' THEN
		RAISE EXCEPTION 'older_than must not be negative, it is %', older_than
			USING ERRCODE = '22023',
				  HINT = 'Pass how old an import must be for its error records to go, for example ''90 days''.';
	END IF;
	RETURN now() - older_than;
END
$$;
COMMENT ON FUNCTION trackly.purge_cutoff(interval) IS
	'now() - older_than, or an ERROR for a NULL (22004) or negative (22023) interval';

-- Only import_errors rows are deleted and locked: imports are read, never
-- locked, and an import writes rows of its own new import id only.
CREATE FUNCTION trackly_purge_import_errors(older_than interval) RETURNS bigint
	LANGUAGE plpgsql VOLATILE SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	created_before timestamptz := trackly.purge_cutoff(older_than);
	deleted bigint;
BEGIN
	DELETE FROM trackly.import_errors e
	 USING trackly.imports i
	 WHERE i.account_id = e.account_id AND i.id = e.import_id
	   AND i.created_at < created_before;
	GET DIAGNOSTICS deleted = ROW_COUNT;
	RETURN deleted;
END
$$;
COMMENT ON FUNCTION trackly_purge_import_errors(interval) IS
	'deletes the error records of the imports created more than older_than ago, in one statement; returns how many it deleted';

-- One batch of the procedure below: at most batch_rows error records of
-- imports created before created_before.
CREATE FUNCTION trackly.purge_import_errors_batch(created_before timestamptz, batch_rows integer) RETURNS bigint
	LANGUAGE plpgsql VOLATILE SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	deleted bigint;
BEGIN
	DELETE FROM trackly.import_errors e
	 USING (SELECT x.account_id, x.import_id, x.index
			  FROM trackly.imports i
			  JOIN trackly.import_errors x ON x.account_id = i.account_id AND x.import_id = i.id
			 WHERE i.created_at < created_before
			 LIMIT batch_rows) old
	 WHERE e.account_id = old.account_id AND e.import_id = old.import_id AND e.index = old.index;
	GET DIAGNOSTICS deleted = ROW_COUNT;
	RETURN deleted;
END
$$;
COMMENT ON FUNCTION trackly.purge_import_errors_batch(timestamptz, integer) IS
	'deletes at most batch_rows error records of imports created before created_before; returns how many (trackly_purge_import_errors_batched)';

-- The purge in committed batches, for tables too large for one statement.
-- PostgreSQL refuses COMMIT in a SECURITY DEFINER procedure or one with a
-- SET clause: this one runs as its caller, without SET, and names
-- everything with its schema; each batch deletes as the owner.
CREATE PROCEDURE trackly_purge_import_errors_batched(older_than interval, batch_rows integer DEFAULT 10000)
LANGUAGE plpgsql AS $purge$
DECLARE
	created_before timestamptz := trackly.purge_cutoff(older_than);
	deleted bigint;
	total bigint := 0;
	batches integer := 0;
BEGIN
	IF batch_rows IS NULL THEN
		RAISE EXCEPTION 'batch_rows is NULL' USING ERRCODE = '22004';
	END IF;
	IF batch_rows < 1 THEN
		RAISE EXCEPTION 'batch_rows must be at least 1, not %', batch_rows USING ERRCODE = '22023';
	END IF;
	LOOP
		deleted := trackly.purge_import_errors_batch(created_before, batch_rows);
		EXIT WHEN deleted = 0;
		total := total + deleted;
		batches := batches + 1;
		COMMIT;
	END LOOP;
	RAISE NOTICE 'deleted % error records of imports created more than % ago, in % batches', total, older_than, batches;
END
$purge$;
COMMENT ON PROCEDURE trackly_purge_import_errors_batched(interval, integer) IS
	'trackly_purge_import_errors in batches of batch_rows rows, each committed; CALL it outside a transaction block';

-- ---------------------------------------------------------------------------
-- Privileges
-- ---------------------------------------------------------------------------

REVOKE ALL ON FUNCTION trackly.authenticate_request(), trackly.parse_request_body(bytea),
	trackly.calling_role(), trackly.shown_value(text), trackly.explain_iso8601(text),
	trackly.json_shown(jsonb), trackly.json_integer(jsonb, numeric, numeric), trackly.json_message_id(jsonb),
	trackly.json_instant(text, jsonb), trackly.request_failure(text, text, integer, text),
	trackly.serve_request(text, jsonb, bytea, boolean), trackly.clear_filters(jsonb),
	trackly.clear_history_run(jsonb, bigint, bigint),
	trackly.import_errors_page(jsonb), trackly.import_errors_run(jsonb, bigint), trackly.purge_cutoff(interval),
	trackly.purge_import_errors_batch(timestamptz, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION trackly.purge_cutoff(interval), trackly.purge_import_errors_batch(timestamptz, integer)
	TO trackly_admin;

REVOKE ALL ON FUNCTION trackly_clear_history(jsonb), trackly_clear_history(jsonb, bigint),
	trackly_clear_history_body(bytea), trackly_import_errors(jsonb), trackly_import_errors(jsonb, bigint),
	trackly_import_errors_body(bytea), trackly_purge_import_errors(interval) FROM PUBLIC;
REVOKE ALL ON PROCEDURE trackly_purge_import_errors_batched(interval, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION trackly_clear_history(jsonb), trackly_clear_history_body(bytea),
	trackly_import_errors(jsonb), trackly_import_errors_body(bytea) TO trackly_api, trackly_admin;
GRANT EXECUTE ON FUNCTION trackly_clear_history(jsonb, bigint), trackly_import_errors(jsonb, bigint),
	trackly_purge_import_errors(interval) TO trackly_admin;
GRANT EXECUTE ON PROCEDURE trackly_purge_import_errors_batched(interval, integer) TO trackly_admin;

-- ---------------------------------------------------------------------------
-- Citus: the clear log is distributed with the other tables that grow with
-- traffic, co-located with sends.
-- ---------------------------------------------------------------------------
CREATE OR REPLACE FUNCTION trackly_distribute() RETURNS void
	LANGUAGE plpgsql VOLATILE
	SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	workers bigint;
	t record;
BEGIN
	IF NOT EXISTS (SELECT FROM pg_extension WHERE extname = 'citus') THEN
		RAISE EXCEPTION 'Citus is not installed in this database'
			USING ERRCODE = '55000',
				  HINT = 'Put citus in shared_preload_libraries, CREATE EXTENSION citus, add the workers with citus_add_node, then call trackly_distribute() again.';
	END IF;
	EXECUTE 'SELECT count(*) FROM pg_dist_node WHERE noderole = ''primary'' AND isactive AND groupid <> 0'
		INTO workers;
	IF workers = 0 THEN
		RAISE EXCEPTION 'no Citus worker is known'
			USING ERRCODE = '55000',
				  HINT = 'Add the workers with citus_add_node(host, port) on this coordinator first.';
	END IF;
	-- Foreign keys to a reference table want one connection per node for
	-- everything the transaction does to the distributed tables.
	PERFORM set_config('citus.multi_shard_modify_mode', 'sequential', true);
	-- The rollup's triggers on sends go with it to every shard, where each
	-- writes the deltas of its shard's rows into the co-located shard of
	-- send_stats; Citus distributes a table with triggers only when told.
	PERFORM set_config('citus.enable_unsafe_triggers', 'on', true);

	IF EXISTS (SELECT FROM pg_constraint c
				WHERE c.contype = 'f' AND c.confrelid = 'trackly.accounts'::regclass
				  AND NOT EXISTS (SELECT FROM pg_dist_partition p WHERE p.logicalrelid = c.conrelid)) THEN
		ALTER TABLE trackly.lists DROP CONSTRAINT IF EXISTS lists_account_id_fkey;
		ALTER TABLE trackly.api_keys DROP CONSTRAINT IF EXISTS api_keys_account_id_fkey;
		-- The workers' copies of the extension's tables (Citus created the
		-- extension there too) become the shells of the Citus tables: the
		-- keys are made again below through the coordinator, for all.
		PERFORM run_command_on_workers(
			'ALTER TABLE trackly.lists DROP CONSTRAINT IF EXISTS lists_account_id_fkey;'
			' ALTER TABLE trackly.api_keys DROP CONSTRAINT IF EXISTS api_keys_account_id_fkey');
	END IF;

	FOR t IN SELECT * FROM (VALUES
			(1, 'trackly.accounts', 'reference'),
			(2, 'trackly.api_keys', 'reference'),
			(3, 'trackly.imports', 'distributed'),
			(4, 'trackly.send_stats', 'distributed'),
			(5, 'trackly.sends', 'distributed'),
			(6, 'trackly.lists', 'distributed'),
			(7, 'trackly.import_errors', 'distributed'),
			(8, 'trackly.history_clears', 'distributed')) AS x(n, relation, kind)
		ORDER BY n
	LOOP
		CONTINUE WHEN EXISTS (SELECT FROM pg_dist_partition p WHERE p.logicalrelid = t.relation::regclass);
		IF t.kind = 'reference' THEN
			PERFORM create_reference_table(t.relation::regclass);
		ELSIF t.relation = 'trackly.imports' THEN
			PERFORM create_distributed_table(t.relation::regclass, 'account_id');
		ELSE
			PERFORM create_distributed_table(t.relation::regclass, 'account_id', colocate_with => 'trackly.imports');
		END IF;
	END LOOP;

	IF NOT EXISTS (SELECT FROM pg_constraint c
					WHERE c.contype = 'f' AND c.conrelid = 'trackly.lists'::regclass) THEN
		ALTER TABLE trackly.lists ADD CONSTRAINT lists_account_id_fkey
			FOREIGN KEY (account_id) REFERENCES trackly.accounts (id);
	END IF;
	IF NOT EXISTS (SELECT FROM pg_constraint c
					WHERE c.contype = 'f' AND c.conrelid = 'trackly.api_keys'::regclass) THEN
		ALTER TABLE trackly.api_keys ADD CONSTRAINT api_keys_account_id_fkey
			FOREIGN KEY (account_id) REFERENCES trackly.accounts (id);
	END IF;
END
$$;
COMMENT ON FUNCTION trackly_distribute() IS
	'makes accounts and api_keys Citus reference tables and lists, sends, imports, import_errors, history_clears, send_stats distributed by account_id (run on the coordinator)';

-- ---------------------------------------------------------------------------
-- Reporting
-- ---------------------------------------------------------------------------

-- No send is written while the rollup is made and filled: the triggers
-- below count every write from their creation on, the fill every row
-- written before.
LOCK TABLE trackly.sends IN SHARE ROW EXCLUSIVE MODE;

-- The rollup of trackly.sends: deltas, appended by every statement that
-- writes sends (never updated in place, so writers never wait on one
-- another), per account, imported and send type at two grains: every row
-- written or deleted is counted once in its UTC quarter hour (hourly =
-- false) and once in its UTC hour (hourly = true).  A report reads an hour
-- row for every hour that no boundary of its periods falls inside, and
-- quarter-hour rows only around the boundaries: a year by day is 8,760
-- hours, whatever the number of sends.  No list or creative: that rollup
-- would be nearly as large as the history, and writing it would cost every
-- import more than its budget.
CREATE TABLE trackly.send_stats (
	account_id	bigint NOT NULL,
	hourly		boolean NOT NULL,
	bucket		timestamptz NOT NULL,
	imported	boolean NOT NULL,
	send_type	text COLLATE "C",
	sends		bigint NOT NULL,
	delivered	bigint NOT NULL,
	undelivered	bigint NOT NULL
);
-- A report reads an account's rows of a range from this index alone (an
-- index-only scan, once vacuum has marked the pages all-visible).
CREATE INDEX send_stats_account_id_hourly_bucket_idx ON trackly.send_stats (account_id, hourly, bucket)
	INCLUDE (imported, send_type, sends, delivered, undelivered);
COMMENT ON TABLE trackly.send_stats IS
	'the rollup of trackly.sends that reports read: signed counts per account, imported and send_type, per UTC quarter hour (hourly = false) and per UTC hour (hourly = true), each send counted at both grains; a group''s rows add up to its sends; written by the triggers on trackly.sends and by the import, merged by trackly_compact_send_stats, never dumped (a restore of sends rebuilds it)';
COMMENT ON COLUMN trackly.send_stats.hourly IS
	'false: bucket is a UTC quarter hour; true: a UTC hour';
COMMENT ON COLUMN trackly.send_stats.bucket IS
	'the UTC quarter hour or hour of sent_at: date_bin(''15 minutes'' or ''1 hour'', sent_at, ''2000-01-01 00:00:00+00'')';
COMMENT ON COLUMN trackly.send_stats.delivered IS 'sends with delivered = true';
COMMENT ON COLUMN trackly.send_stats.undelivered IS
	'sends with delivered = false; the rest (sends - delivered - undelivered) are unknown';
GRANT SELECT ON trackly.send_stats TO trackly_admin;

-- The deltas of one statement that wrote trackly.sends, from its transition
-- tables: one grouped INSERT, rows written counted up, rows deleted down
-- (an UPDATE both; one that changes nothing counted leaves nothing), each
-- row in its quarter hour and in its hour.  The import writes the same
-- deltas itself when it writes rows directly, which fires no trigger; it
-- knows these triggers by this function.  TRUNCATE empties the rollup of
-- every account, as it empties sends.
--
-- Under Citus the triggers fire on each shard of sends, on its worker: the
-- deltas go to the co-located shard of send_stats (the same hash range, on
-- the same node), a local table, since Citus cannot plan a distributed
-- statement that reads a transition table.
CREATE FUNCTION trackly.record_send_stats() RETURNS trigger
	LANGUAGE plpgsql SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	target text := 'trackly.send_stats';
	deltas constant text := $deltas$
		INSERT INTO %s (account_id, hourly, bucket, imported, send_type, sends, delivered, undelivered)
		SELECT d.account_id, GROUPING(d.quarter) = 1, coalesce(d.quarter, d.hour), d.imported, d.send_type,
			   sum(d.sign), coalesce(sum(d.sign) FILTER (WHERE d.delivered), 0),
			   coalesce(sum(d.sign) FILTER (WHERE NOT d.delivered), 0)
		  FROM (%s) d
		 GROUP BY d.account_id, d.imported, d.send_type, GROUPING SETS ((d.quarter), (d.hour))
		HAVING sum(d.sign) <> 0 OR sum(d.sign) FILTER (WHERE d.delivered) <> 0
			   OR sum(d.sign) FILTER (WHERE NOT d.delivered) <> 0$deltas$;
	written constant text := $rows$
		SELECT n.account_id, pg_catalog.date_bin('15 minutes', n.sent_at, '2000-01-01 00:00:00+00') AS quarter,
			   pg_catalog.date_bin('1 hour', n.sent_at, '2000-01-01 00:00:00+00') AS hour,
			   n.imported, n.send_type, n.delivered, 1 AS sign
		  FROM new_sends n$rows$;
	deleted constant text := $rows$
		SELECT o.account_id, pg_catalog.date_bin('15 minutes', o.sent_at, '2000-01-01 00:00:00+00') AS quarter,
			   pg_catalog.date_bin('1 hour', o.sent_at, '2000-01-01 00:00:00+00') AS hour,
			   o.imported, o.send_type, o.delivered, -1 AS sign
		  FROM old_sends o$rows$;
BEGIN
	IF TG_TABLE_NAME <> 'sends' THEN
		EXECUTE $shard$
			SELECT pg_catalog.shard_name('trackly.send_stats'::regclass, t.shardid)
			  FROM pg_catalog.pg_dist_shard s
			  JOIN pg_catalog.pg_dist_shard t ON t.logicalrelid = 'trackly.send_stats'::regclass
											 AND t.shardminvalue = s.shardminvalue
			 WHERE s.shardid = $1$shard$
		   INTO target
		  USING substring(TG_TABLE_NAME FROM '^sends_([0-9]+)$')::bigint;
		IF target IS NULL THEN
			RAISE EXCEPTION 'no shard of trackly.send_stats is co-located with %.%', TG_TABLE_SCHEMA, TG_TABLE_NAME
				USING ERRCODE = '55000',
					  HINT = 'Distribute trackly.send_stats co-located with trackly.sends: SELECT trackly_distribute().';
		END IF;
	END IF;
	CASE TG_OP
		WHEN 'TRUNCATE' THEN EXECUTE format('TRUNCATE %s', target);
		WHEN 'INSERT' THEN EXECUTE format(deltas, target, written);
		WHEN 'DELETE' THEN EXECUTE format(deltas, target, deleted);
		ELSE EXECUTE format(deltas, target, written || ' UNION ALL ' || deleted);
	END CASE;
	RETURN NULL;
END
$$;
COMMENT ON FUNCTION trackly.record_send_stats() IS
	'the triggers on trackly.sends that keep trackly.send_stats: a statement''s rows written and deleted, as signed counts per quarter hour and per hour in one grouped INSERT; TRUNCATE empties it';

CREATE TRIGGER trackly_send_stats_insert AFTER INSERT ON trackly.sends
	REFERENCING NEW TABLE AS new_sends
	FOR EACH STATEMENT EXECUTE FUNCTION trackly.record_send_stats();
CREATE TRIGGER trackly_send_stats_update AFTER UPDATE ON trackly.sends
	REFERENCING OLD TABLE AS old_sends NEW TABLE AS new_sends
	FOR EACH STATEMENT EXECUTE FUNCTION trackly.record_send_stats();
CREATE TRIGGER trackly_send_stats_delete AFTER DELETE ON trackly.sends
	REFERENCING OLD TABLE AS old_sends
	FOR EACH STATEMENT EXECUTE FUNCTION trackly.record_send_stats();
CREATE TRIGGER trackly_send_stats_truncate AFTER TRUNCATE ON trackly.sends
	FOR EACH STATEMENT EXECUTE FUNCTION trackly.record_send_stats();

-- The sends stored before this version, counted once: the lock above keeps
-- every other writer out until the triggers count their writes.
INSERT INTO trackly.send_stats (account_id, hourly, bucket, imported, send_type, sends, delivered, undelivered)
SELECT d.account_id, GROUPING(d.quarter) = 1, coalesce(d.quarter, d.hour), d.imported, d.send_type,
	   count(*), count(*) FILTER (WHERE d.delivered), count(*) FILTER (WHERE NOT d.delivered)
  FROM (SELECT s.account_id, pg_catalog.date_bin('15 minutes', s.sent_at, '2000-01-01 00:00:00+00') AS quarter,
			   pg_catalog.date_bin('1 hour', s.sent_at, '2000-01-01 00:00:00+00') AS hour,
			   s.imported, s.send_type, s.delivered
		  FROM trackly.sends s) d
 GROUP BY d.account_id, d.imported, d.send_type, GROUPING SETS ((d.quarter), (d.hour));

-- Daily counts per account, UTC day, list, creative, send type and origin:
-- a plain view over trackly.sends (the rollup has no list or creative), so
-- a query of it reads the sends it counts; filter it by account and day.
CREATE VIEW trackly.send_stats_daily AS
SELECT s.account_id, (s.sent_at AT TIME ZONE 'UTC')::date AS day, s.list_id, s.creative_id, s.send_type,
	   s.imported, count(*) AS sends, count(*) FILTER (WHERE s.delivered) AS delivered,
	   count(*) FILTER (WHERE NOT s.delivered) AS undelivered, count(*) FILTER (WHERE s.delivered IS NULL) AS unknown
  FROM trackly.sends s
 GROUP BY s.account_id, (s.sent_at AT TIME ZONE 'UTC')::date, s.list_id, s.creative_id, s.send_type, s.imported;
COMMENT ON VIEW trackly.send_stats_daily IS
	'sends per account, UTC day, list, creative, send type and imported, with the delivered, undelivered and unknown counts: a plain view over trackly.sends (not the rollup), whose cost grows with the sends it counts';
GRANT SELECT ON trackly.send_stats_daily TO trackly_admin;

-- Compaction of a table of the rollup (trackly.send_stats, or one of its
-- Citus shards, on its worker): the deltas of each group of the accounts
-- given (account, grain, bucket, imported, send type: each grain merged on
-- its own) merged into one row, groups that add up to nothing dropped, in one
-- statement that waits for nobody: rows another compaction holds are
-- skipped.  Returns the rows removed.
CREATE FUNCTION trackly.compact_send_stats_rows(target regclass, accounts bigint[]) RETURNS bigint
	LANGUAGE plpgsql VOLATILE
	SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	removed bigint;
BEGIN
	EXECUTE format($compact$
		WITH merging AS (
			SELECT g.row_id
			  FROM (SELECT s.ctid AS row_id, s.sends, s.delivered, s.undelivered,
						   count(*) OVER (PARTITION BY s.account_id, s.hourly, s.bucket, s.imported,
												   s.send_type) AS group_rows
					  FROM %1$s s
					 WHERE s.account_id = ANY ($1)) g
			 WHERE g.group_rows > 1 OR (g.sends = 0 AND g.delivered = 0 AND g.undelivered = 0)
		), picked AS (
			SELECT s.ctid AS row_id
			  FROM %1$s s
			 WHERE s.ctid = ANY (ARRAY(SELECT m.row_id FROM merging m))
			   FOR UPDATE SKIP LOCKED
		), gone AS (
			DELETE FROM %1$s s
			 WHERE s.ctid = ANY (ARRAY(SELECT p.row_id FROM picked p))
			RETURNING s.*
		), merged AS (
			INSERT INTO %1$s (account_id, hourly, bucket, imported, send_type, sends, delivered, undelivered)
			SELECT r.account_id, r.hourly, r.bucket, r.imported, r.send_type,
				   sum(r.sends), sum(r.delivered), sum(r.undelivered)
			  FROM gone r
			 GROUP BY r.account_id, r.hourly, r.bucket, r.imported, r.send_type
			HAVING sum(r.sends) <> 0 OR sum(r.delivered) <> 0 OR sum(r.undelivered) <> 0
			RETURNING 1
		)
		SELECT (SELECT count(*) FROM gone) - (SELECT count(*) FROM merged)$compact$, target)
	  INTO removed
	 USING accounts;
	RETURN removed;
END
$$;
COMMENT ON FUNCTION trackly.compact_send_stats_rows(regclass, bigint[]) IS
	'merges the rollup rows of each group of the accounts given into one, drops groups that add up to nothing, skipping rows another compaction holds, in trackly.send_stats or one of its Citus shards; returns the rows removed';

-- Compaction of one account or all.  A rebuild of an account holds its
-- accounts row FOR UPDATE; compaction takes it FOR KEY SHARE SKIP LOCKED
-- and so leaves an account being rebuilt alone (its merged rows, new to
-- the rebuild's snapshot, would be counted twice), and waits for nobody.
-- Under Citus, which plans no statement on ctid, each shard of send_stats
-- is compacted on its worker.
CREATE FUNCTION trackly_compact_send_stats(account_id bigint DEFAULT NULL) RETURNS bigint
	LANGUAGE plpgsql VOLATILE SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	accounts bigint[];
	removed bigint;
	failed text;
	distributed boolean := false;
BEGIN
	IF account_id IS NOT NULL THEN
		PERFORM trackly.require_account(account_id);
	END IF;
	accounts := ARRAY(SELECT x.id FROM trackly.accounts x
					   WHERE trackly_compact_send_stats.account_id IS NULL OR x.id = trackly_compact_send_stats.account_id
					   ORDER BY x.id FOR KEY SHARE SKIP LOCKED);
	IF cardinality(accounts) = 0 THEN
		RETURN 0;
	END IF;
	IF to_regclass('pg_catalog.pg_dist_partition') IS NOT NULL THEN
		EXECUTE 'SELECT EXISTS (SELECT FROM pg_catalog.pg_dist_partition p WHERE p.logicalrelid = ''trackly.send_stats''::regclass)'
		   INTO distributed;
	END IF;
	IF distributed THEN
		EXECUTE $shards$
			SELECT coalesce(sum(r.result::bigint) FILTER (WHERE r.success), 0),
				   min(r.result) FILTER (WHERE NOT r.success)
			  FROM pg_catalog.run_command_on_shards('trackly.send_stats',
					 pg_catalog.format('SELECT trackly.compact_send_stats_rows(%%L, %L)', $1)) r$shards$
		   INTO removed, failed
		  USING accounts;
		IF failed IS NOT NULL THEN
			RAISE EXCEPTION 'the compaction of a shard of trackly.send_stats failed: %', failed
				USING ERRCODE = '58000';
		END IF;
		RETURN removed;
	END IF;
	RETURN trackly.compact_send_stats_rows('trackly.send_stats', accounts);
END
$$;
COMMENT ON FUNCTION trackly_compact_send_stats(bigint) IS
	'merges the rollup''s deltas of an account (NULL: of every account) into one row per group and drops groups that add up to nothing, waiting for nobody; returns the rows removed';

-- An account's rollup made again from trackly.sends (after its triggers were
-- disabled, say).  The old rows go and the new are counted in one statement,
-- so with one snapshot: a write committed after it leaves its deltas, which
-- the statement did not see, and its rows, which it did not count.
CREATE FUNCTION trackly_rebuild_send_stats(account_id bigint) RETURNS bigint
	LANGUAGE plpgsql VOLATILE SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	written bigint;
BEGIN
	PERFORM trackly.require_account(account_id);
	-- Compaction leaves the account alone from here on; the statement
	-- below takes its snapshot after any running compaction committed.
	PERFORM FROM trackly.accounts x WHERE x.id = trackly_rebuild_send_stats.account_id FOR UPDATE;
	-- Planned with the account's value, so that Citus runs it on the
	-- account's shard.
	EXECUTE $rebuild$
	WITH removed AS (
		DELETE FROM trackly.send_stats s WHERE s.account_id = $1
	), counted AS (
		INSERT INTO trackly.send_stats (account_id, hourly, bucket, imported, send_type, sends, delivered, undelivered)
		SELECT d.account_id, GROUPING(d.quarter) = 1, coalesce(d.quarter, d.hour), d.imported, d.send_type,
			   count(*), count(*) FILTER (WHERE d.delivered), count(*) FILTER (WHERE NOT d.delivered)
		  FROM (SELECT s.account_id, date_bin('15 minutes', s.sent_at, '2000-01-01 00:00:00+00') AS quarter,
					   date_bin('1 hour', s.sent_at, '2000-01-01 00:00:00+00') AS hour,
					   s.imported, s.send_type, s.delivered
				  FROM trackly.sends s
				 WHERE s.account_id = $1) d
		 GROUP BY d.account_id, d.imported, d.send_type, GROUPING SETS ((d.quarter), (d.hour))
		RETURNING 1
	)
	SELECT count(*) FROM counted$rebuild$
	  INTO written
	 USING account_id;
	RETURN written;
END
$$;
COMMENT ON FUNCTION trackly_rebuild_send_stats(bigint) IS
	'makes an account''s rollup again from its rows of trackly.sends, exact under concurrent writes; returns the rollup rows written';

-- C helpers (src/report.c).  Internal.
CREATE FUNCTION trackly.time_zone_name(text) RETURNS text
	AS 'MODULE_PATHNAME', 'trackly_time_zone_name'
	LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION trackly.time_zone_name(text) IS
	'the tz database zone a name means (case-insensitively), spelled as the tz database spells it; NULL for anything else, POSIX rules and leap-second zones included';

CREATE FUNCTION trackly.report_periods(time_zone text, unit text, first timestamptz, last timestamptz,
									   OUT periods date[], OUT starts timestamptz[])
	AS 'MODULE_PATHNAME', 'trackly_report_periods'
	LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION trackly.report_periods(text, text, timestamptz, timestamptz) IS
	'the local days, ISO weeks or months of a time zone that hold an instant from first to last (exclusive), each with the first instant that is in it';

-- What a report request asks for, or the first fault of its body: the
-- body, its keys, each field in the order of the README, then the range.
CREATE FUNCTION trackly.report_request(body jsonb,
	OUT code text, OUT error text, OUT range_from timestamptz, OUT range_to timestamptz,
	OUT unit text, OUT group_by text[], OUT imported boolean, OUT time_zone text)
	LANGUAGE plpgsql STABLE
	SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v jsonb;
	unknown text;
	bad_at bigint;
	bad jsonb;
	days integer;
BEGIN
	group_by := '{}';
	time_zone := 'UTC';
	IF body IS NULL THEN
		code := 'invalid_body';
		error := 'The request body is SQL NULL; send a JSON object with from, to and interval.';
		RETURN;
	END IF;
	IF jsonb_typeof(body) <> 'object' THEN
		code := 'invalid_body';
		error := format('The request body must be a JSON object with from, to and interval; it is %s.',
						CASE WHEN jsonb_typeof(body) = 'string' THEN 'a string' ELSE trackly.json_shown(body) END);
		RETURN;
	END IF;

	code := 'invalid_filter';
	SELECT k INTO unknown FROM jsonb_object_keys(body) k
	 WHERE k NOT IN ('from', 'to', 'interval', 'group_by', 'imported', 'time_zone')
	 ORDER BY k COLLATE "C" LIMIT 1;
	IF unknown IS NOT NULL THEN
		error := format('%s is not a field of a report: it takes from, to, interval, group_by, imported and time_zone.',
						trackly.shown_value(unknown));
		RETURN;
	END IF;

	IF NOT body ? 'from' THEN
		error := 'from is required: the first instant of the report, an ISO 8601 date-time such as "2025-11-01T00:00:00Z".';
		RETURN;
	END IF;
	SELECT t.instant, t.error INTO range_from, error FROM trackly.json_instant('from', body->'from') t;
	IF error IS NOT NULL THEN
		RETURN;
	END IF;
	IF NOT body ? 'to' THEN
		error := 'to is required: the instant the report ends before, an ISO 8601 date-time such as "2025-12-01T00:00:00Z".';
		RETURN;
	END IF;
	SELECT t.instant, t.error INTO range_to, error FROM trackly.json_instant('to', body->'to') t;
	IF error IS NOT NULL THEN
		RETURN;
	END IF;

	IF NOT body ? 'interval' THEN
		error := 'interval is required: "day", "week" or "month".';
		RETURN;
	END IF;
	IF body->'interval' NOT IN ('"day"', '"week"', '"month"') THEN
		error := format('interval must be "day", "week" or "month"; it is %s.', trackly.json_shown(body->'interval'));
		RETURN;
	END IF;
	unit := body->>'interval';

	v := body->'group_by';
	IF jsonb_typeof(v) IS DISTINCT FROM 'null' AND v IS NOT NULL THEN
		IF jsonb_typeof(v) <> 'array' THEN
			error := format('group_by must be an array of "list_id", "creative_id" and "send_type", each at most once; it is %s.',
							trackly.json_shown(v));
			RETURN;
		END IF;
		SELECT a.o - 1, a.e INTO bad_at, bad
		  FROM jsonb_array_elements(v) WITH ORDINALITY a(e, o)
		 WHERE a.e NOT IN ('"list_id"', '"creative_id"', '"send_type"')
			OR EXISTS (SELECT FROM jsonb_array_elements(v) WITH ORDINALITY b(e, o) WHERE b.e = a.e AND b.o < a.o)
		 ORDER BY a.o LIMIT 1;
		IF FOUND THEN
			error := format('group_by[%s] must be "list_id", "creative_id" or "send_type", each at most once; it is %s.',
							bad_at, trackly.json_shown(bad));
			RETURN;
		END IF;
		group_by := ARRAY(SELECT a.e FROM jsonb_array_elements_text(v) WITH ORDINALITY a(e, o) ORDER BY a.o);
	END IF;

	v := body->'imported';
	IF jsonb_typeof(v) IS DISTINCT FROM 'null' AND v IS NOT NULL THEN
		IF jsonb_typeof(v) <> 'boolean' THEN
			error := format('imported must be true (imported history), false (live sends) or null (both); it is %s.',
							trackly.json_shown(v));
			RETURN;
		END IF;
		imported := v::boolean;
	END IF;

	v := body->'time_zone';
	IF jsonb_typeof(v) IS DISTINCT FROM 'null' AND v IS NOT NULL THEN
		IF jsonb_typeof(v) <> 'string' THEN
			error := format('time_zone must be a string naming a zone of the IANA tz database such as "America/New_York"; it is %s.',
							trackly.json_shown(v));
			RETURN;
		END IF;
		time_zone := trackly.time_zone_name(v #>> '{}');
		IF time_zone IS NULL THEN
			error := format('time_zone %s is not a zone of the IANA tz database: name one such as "America/New_York" or "Asia/Kathmandu" (POSIX rules such as "UTC+5" are not accepted; "Etc/GMT-5" is a fixed UTC+05:00).',
							trackly.shown_value(v #>> '{}'));
			RETURN;
		END IF;
	END IF;

	code := 'invalid_range';
	IF range_from >= range_to THEN
		error := format('from (%s) must be earlier than to (%s): the range holds no instant.',
						body->>'from', body->>'to');
		RETURN;
	END IF;
	IF unit = 'day' THEN
		-- A range of at most 402 days touches at most 404 local days.
		days := CASE WHEN range_to - range_from > interval '402 days' THEN 401
					 ELSE cardinality((trackly.report_periods(time_zone, 'day', range_from, range_to)).periods) END;
		IF days > 400 THEN
			error := format('A report by day covers at most 400 days; from %s to %s spans more in %s. Ask for weeks or months, or for a shorter range.',
							body->>'from', body->>'to', time_zone);
			RETURN;
		END IF;
	END IF;
	code := NULL;
END
$$;
COMMENT ON FUNCTION trackly.report_request(jsonb) IS
	'the range, interval, grouping, origin and time zone a report request asks for, or the code and sentence of its first fault';

-- A report for an account.  STABLE: every statement sees the one snapshot
-- the call began with, so a report shows all or nothing of an import or a
-- clear that commits while it runs.
--
-- Without list_id or creative_id it reads the rollup.  The boundaries of a
-- report are from, to and the first instant of each period; each period,
-- clipped to the range, is read as at most three range scans of the
-- index: the hour rows of the UTC hours it holds whole, then the quarter-hour
-- rows of the quarters it holds whole in the hours at its two ends.  A
-- quarter hour that a boundary falls strictly inside (from or to not on a
-- quarter hour, or a period that begins inside one: an offset not a
-- multiple of 15 minutes, local mean time before about 1970) is counted
-- from trackly.sends, as are the rows of a report by list or creative,
-- which the rollup does not hold.
CREATE FUNCTION trackly.report_run(body jsonb, account_id bigint) RETURNS jsonb
	LANGUAGE plpgsql STABLE
	SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	r record;
	origin constant timestamptz := '2000-01-01 00:00:00+00';
	first_hour timestamptz;
	last_hour timestamptz;
	low timestamptz;
	high timestamptz;
	p record;
	split timestamptz[];
	by_sends boolean;
	counted text;
	key_columns text := '';
	key_fields text := '';
	key_order text := '';
	stats_keys text := '';
	stats_group text := '()';
	sends_keys text := '';
	sends_group text := '1';
	i integer;
	k text;
	report jsonb;
BEGIN
	SELECT * INTO r FROM trackly.report_request(body);
	IF r.code IS NOT NULL THEN
		RETURN trackly.request_failure('report', r.code, 400, r.error);
	END IF;

	-- Periods only where the account has sends: a range of centuries costs
	-- what its sends' span costs.
	SELECT min(s.bucket), max(s.bucket) INTO first_hour, last_hour
	  FROM trackly.send_stats s
	 WHERE s.account_id = report_run.account_id AND s.hourly;
	low := greatest(r.range_from, first_hour);
	high := least(r.range_to, last_hour + interval '1 hour');
	IF first_hour IS NULL OR low >= high THEN
		RETURN jsonb_build_object('rows', '[]'::jsonb, 'errors', '[]'::jsonb,
			'totals', jsonb_build_object('sends', 0, 'delivered', 0, 'undelivered', 0, 'unknown', 0,
										 'delivery_rate', NULL));
	END IF;
	SELECT * INTO p FROM trackly.report_periods(r.time_zone, r.unit, low, high);
	by_sends := r.group_by && ARRAY['list_id', 'creative_id'];
	split := ARRAY(SELECT DISTINCT date_bin('15 minutes', x, origin)
					 FROM unnest(p.starts || ARRAY[r.range_from, r.range_to]) x
					WHERE date_bin('15 minutes', x, origin) <> x AND NOT by_sends);

	FOR i IN 1 .. cardinality(r.group_by) LOOP
		k := r.group_by[i];
		key_columns := key_columns || format(', %I', k);
		key_fields := key_fields || format(', %L, g.%I', k, k);
		key_order := key_order || format(', g.%I NULLS LAST', k);
		stats_keys := stats_keys || format('s.%I, ', k);
		stats_group := stats_group || format(', s.%I', k);
		sends_keys := sends_keys || CASE k WHEN 'send_type' THEN ', t.send_type COLLATE "C" AS send_type'
										   ELSE format(', t.%I', k) END;
		sends_group := sends_group || format(', %s', i + 1);
	END LOOP;

	-- The sends counted from trackly.sends, by period and keys: every send
	-- of the range, or only those of the quarter hours a boundary splits.
	counted := format($sends$
		SELECT width_bucket(t.sent_at, $7)%1$s, count(*) AS sends, count(*) FILTER (WHERE t.delivered) AS delivered,
			   count(*) FILTER (WHERE NOT t.delivered) AS undelivered
		  FROM trackly.sends t
		 WHERE t.account_id = $1 AND t.sent_at >= $3 AND t.sent_at < $4
		   AND ($5 IS NULL OR t.imported = $5)
		   AND (NOT $2 OR date_bin('15 minutes', t.sent_at, $9) = ANY ($8))
		 GROUP BY %2$s$sends$, sends_keys, sends_group);
	IF NOT by_sends THEN
		counted := format($rollup$
			WITH period AS (
				SELECT p.n::integer AS n, greatest(p.start, $3) AS a, least(coalesce($7[p.n + 1], 'infinity'), $4) AS b
				  FROM unnest($7) WITH ORDINALITY p(start, n)
			), edge AS (
				SELECT x.n, date_bin('15 minutes', x.a + interval '15 minutes' - interval '1 microsecond', $9) AS q1,
					   date_bin('1 hour', x.a + interval '1 hour' - interval '1 microsecond', $9) AS h1,
					   date_bin('1 hour', x.b, $9) AS h2, date_bin('15 minutes', x.b, $9) AS q2
				  FROM period x
				 WHERE x.a < x.b
			), segment AS (
				SELECT e.n, true AS hourly, e.h1 AS first, e.h2 AS last FROM edge e WHERE e.h1 < e.h2
				UNION ALL
				SELECT e.n, false, e.q1, least(e.h1, e.q2) FROM edge e WHERE e.q1 < least(e.h1, e.q2)
				UNION ALL
				SELECT e.n, false, greatest(e.h1, e.h2), e.q2 FROM edge e WHERE greatest(e.h1, e.h2) < e.q2
			)
			SELECT g.n AS period%1$s, r.sends, r.delivered, r.undelivered
			  FROM segment g,
			  LATERAL (SELECT %2$s sum(s.sends) AS sends, sum(s.delivered) AS delivered,
							  sum(s.undelivered) AS undelivered
						 FROM trackly.send_stats s
						WHERE s.account_id = $1 AND s.hourly = g.hourly
						  AND s.bucket >= g.first AND s.bucket < g.last
						  AND ($5 IS NULL OR s.imported = $5)
						GROUP BY %3$s) r
			UNION ALL
			SELECT * FROM (%4$s) t
			 WHERE cardinality($8) > 0$rollup$, key_columns, stats_keys, stats_group, counted);
	END IF;

	EXECUTE format($report$
		SELECT jsonb_build_object(
				'rows', coalesce(jsonb_agg(jsonb_build_object('period', $6[g.period]%1$s,
						'sends', g.sends, 'delivered', g.delivered, 'undelivered', g.undelivered,
						'unknown', g.sends - g.delivered - g.undelivered,
						'delivery_rate', round(g.delivered::numeric / nullif(g.delivered + g.undelivered, 0), 4))
						ORDER BY g.period%2$s), '[]'::jsonb),
				'totals', jsonb_build_object('sends', coalesce(sum(g.sends), 0),
						'delivered', coalesce(sum(g.delivered), 0), 'undelivered', coalesce(sum(g.undelivered), 0),
						'unknown', coalesce(sum(g.sends - g.delivered - g.undelivered), 0),
						'delivery_rate', round(sum(g.delivered) / nullif(sum(g.delivered + g.undelivered), 0), 4)),
				'errors', '[]'::jsonb)
		  FROM (SELECT c.period%3$s, sum(c.sends)::bigint AS sends, sum(c.delivered)::bigint AS delivered,
					   sum(c.undelivered)::bigint AS undelivered
				  FROM (%4$s) c(period%3$s, sends, delivered, undelivered)
				 GROUP BY c.period%3$s
				HAVING sum(c.sends) <> 0) g
		$report$, key_fields, key_order, key_columns, counted)
	  INTO report
	 USING account_id, NOT by_sends, low, high, r.imported, p.periods, p.starts, split, origin;
	RETURN report;
END
$$;
COMMENT ON FUNCTION trackly.report_run(jsonb, bigint) IS
	'a report of an account''s sends by period and the keys asked for: from the rollup''s hours and quarter hours (and trackly.sends for quarter hours a boundary splits), or from trackly.sends when grouped by list_id or creative_id';

CREATE FUNCTION trackly_report(jsonb) RETURNS jsonb
	LANGUAGE plpgsql VOLATILE SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	RETURN trackly.serve_request('report', $1, NULL, false);
END
$$;
COMMENT ON FUNCTION trackly_report(jsonb) IS
	'the sends of the API key''s account (as trackly_import_sends(jsonb) finds it) by local day, week or month and the keys asked for: {"from", "to", "interval", "group_by", "imported", "time_zone"} answers {"rows", "totals", "errors"}';

CREATE FUNCTION trackly_report(jsonb, bigint) RETURNS jsonb
	LANGUAGE plpgsql VOLATILE SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	PERFORM trackly.require_account($2);
	RETURN trackly.report_run($1, $2);
END
$$;
COMMENT ON FUNCTION trackly_report(jsonb, bigint) IS
	'the sends of the given account by local day, week or month and the keys asked for, without an API key';

CREATE FUNCTION trackly_report_body(bytea) RETURNS jsonb
	LANGUAGE plpgsql VOLATILE SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	RETURN trackly.serve_request('report', NULL, $1, true);
END
$$;
COMMENT ON FUNCTION trackly_report_body(bytea) IS
	'trackly_report(jsonb) for a raw HTTP body: checks the key first, then that the bytes are UTF-8 JSON nested at most 64 deep (else invalid_body)';

REVOKE ALL ON FUNCTION trackly.record_send_stats(), trackly.compact_send_stats_rows(regclass, bigint[]),
	trackly.time_zone_name(text), trackly.report_periods(text, text, timestamptz, timestamptz),
	trackly.report_request(jsonb),
	trackly.report_run(jsonb, bigint) FROM PUBLIC;
REVOKE ALL ON FUNCTION trackly_report(jsonb), trackly_report(jsonb, bigint), trackly_report_body(bytea),
	trackly_compact_send_stats(bigint), trackly_rebuild_send_stats(bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION trackly_report(jsonb), trackly_report_body(bytea) TO trackly_api, trackly_admin;
GRANT EXECUTE ON FUNCTION trackly_report(jsonb, bigint), trackly_compact_send_stats(bigint),
	trackly_rebuild_send_stats(bigint) TO trackly_admin;
