/* trackly_history--0.3.0--0.4.0.sql: imports from staging tables and views */

\echo Use "ALTER EXTENSION trackly_history UPDATE TO '0.4.0'" to load this file. \quit

-- A staged import can hold more than 2^31 rows: its counts and each failure's
-- index are bigint; a failure carries its source row, so it can be found.
ALTER TABLE trackly.imports
	ALTER COLUMN success_count TYPE bigint,
	ALTER COLUMN error_count TYPE bigint,
	ALTER COLUMN duplicates_skipped TYPE bigint,
	ALTER COLUMN invalid_phones TYPE bigint;
ALTER TABLE trackly.import_errors
	ALTER COLUMN index TYPE bigint,
	ADD COLUMN source_row jsonb;
COMMENT ON COLUMN trackly.import_errors.source_row IS
	'for a staged import, the failed row''s values as its source holds them (long values shortened)';

-- Not SECURITY DEFINER: it reads the source as its caller, and writes as
-- the owner of trackly.sends only around the writes (src/import_staged.c).
CREATE FUNCTION trackly_import_sends_from(source regclass, account_id bigint, order_by text[] DEFAULT NULL)
	RETURNS jsonb
	AS 'MODULE_PATHNAME', 'trackly_import_sends_from'
	LANGUAGE C VOLATILE;
COMMENT ON FUNCTION trackly_import_sends_from(regclass, bigint, text[]) IS
	'imports every row of a table or view (columns named as the record fields) for an account, in one import; returns the response';
REVOKE ALL ON FUNCTION trackly_import_sends_from(regclass, bigint, text[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION trackly_import_sends_from(regclass, bigint, text[]) TO trackly_admin;

-- The staged import of one slice of a load, its failures' indexes counted
-- from index_base (trackly_load_sends).  Internal; as trackly_import_sends_from.
CREATE FUNCTION trackly.import_sends_slice(source regclass, account_id bigint, index_base bigint)
	RETURNS jsonb
	AS 'MODULE_PATHNAME', 'trackly_import_sends_slice'
	LANGUAGE C VOLATILE;
REVOKE ALL ON FUNCTION trackly.import_sends_slice(regclass, bigint, bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION trackly.import_sends_slice(regclass, bigint, bigint) TO trackly_admin;

-- Loads too big for one transaction: slices of batch_rows rows, in a stable
-- order, each its own import, committed one by one.  PostgreSQL refuses
-- COMMIT in a SECURITY DEFINER procedure or one with a SET clause: this one
-- runs as its caller, without SET, and names everything with its schema.
-- Each slice is a temporary view over the source (so the caller needs TEMP
-- on the database, as every role has by default).
CREATE PROCEDURE trackly_load_sends(source regclass, account_id bigint, order_by text[] DEFAULT NULL,
									batch_rows bigint DEFAULT 100000)
LANGUAGE plpgsql AS $load$
DECLARE
	by_ctid boolean := order_by IS NULL OR pg_catalog.cardinality(order_by) = 0;
	key_columns text[];		-- the slices' order: the order_by columns, or the view's ctid
	key_types text[];		-- each key's type
	keys text;				-- key_columns quoted, for SQL
	last_key text[];		-- the last key of the slice before, as text; NULL: none yet
	slice_name text := 'trackly_load_slice_' || pg_catalog.pg_backend_pid();
	after text;
	bad boolean;
	r jsonb;
	rows_in_slice bigint;
	slice integer := 0;
	read bigint := 0;
	stored bigint := 0;
	failed bigint := 0;
	duplicates bigint := 0;
	started timestamptz := pg_catalog.clock_timestamp();
BEGIN
	IF source IS NULL OR account_id IS NULL OR batch_rows IS NULL THEN
		RAISE EXCEPTION 'source, account_id and batch_rows must not be NULL' USING ERRCODE = '22004';
	END IF;
	IF batch_rows < 1 THEN
		RAISE EXCEPTION 'batch_rows must be at least 1, not %', batch_rows USING ERRCODE = '22023';
	END IF;
	IF NOT EXISTS (SELECT FROM trackly.accounts a WHERE a.id = account_id) THEN
		RAISE EXCEPTION 'no account has id %', account_id USING ERRCODE = '22023',
			HINT = 'trackly_create_account makes one.';
	END IF;

	IF by_ctid THEN
		IF (SELECT c.relkind FROM pg_catalog.pg_class c WHERE c.oid = source) <> 'r' THEN
			RAISE EXCEPTION '% is not a plain table: name columns unique in it in order_by', source
				USING ERRCODE = '22023',
				HINT = 'Slices need a stable order; only a plain table has one of its own (its physical order).';
		END IF;
		key_columns := ARRAY['trackly_slice_ctid'];
		key_types := ARRAY['tid'];
	ELSE
		SELECT pg_catalog.array_agg(u.k ORDER BY u.o),
			   pg_catalog.array_agg(pg_catalog.format_type(a.atttypid, a.atttypmod) ORDER BY u.o)
		  INTO key_columns, key_types
		  FROM pg_catalog.unnest(order_by) WITH ORDINALITY AS u(k, o)
		  LEFT JOIN pg_catalog.pg_attribute a
			ON a.attrelid = source AND a.attname = u.k AND a.attnum > 0 AND NOT a.attisdropped;
		IF pg_catalog.array_position(key_types, NULL) IS NOT NULL THEN
			RAISE EXCEPTION 'order_by names a column that % does not have', source USING ERRCODE = '42703';
		END IF;
	END IF;
	SELECT pg_catalog.string_agg(pg_catalog.quote_ident(k), ', ' ORDER BY o) INTO keys
	  FROM pg_catalog.unnest(key_columns) WITH ORDINALITY AS u(k, o);

	IF NOT by_ctid THEN
		-- Slices follow the key: it must be unique and never NULL.
		EXECUTE pg_catalog.format('SELECT EXISTS (SELECT FROM %s GROUP BY %s HAVING pg_catalog.count(*) > 1)'
								  ' OR EXISTS (SELECT FROM %s WHERE %s)',
								  source, keys, source,
								  (SELECT pg_catalog.string_agg(pg_catalog.quote_ident(k) || ' IS NULL', ' OR ')
									 FROM pg_catalog.unnest(key_columns) k))
		   INTO bad;
		IF bad THEN
			RAISE EXCEPTION 'the order_by columns (%) are not unique and never null in %', keys, source
				USING ERRCODE = '22023', HINT = 'Slices follow that order: name a key of the source.';
		END IF;
	END IF;

	LOOP
		after := 'true';
		IF last_key IS NOT NULL THEN
			SELECT '(' || keys || ') > (' || pg_catalog.string_agg(pg_catalog.format('%L::%s', v, t), ', ' ORDER BY o) || ')'
			  INTO after
			  FROM ROWS FROM (pg_catalog.unnest(last_key), pg_catalog.unnest(key_types)) WITH ORDINALITY AS u(v, t, o);
		END IF;
		IF pg_catalog.to_regclass(pg_catalog.format('pg_temp.%I', slice_name)) IS NOT NULL THEN
			EXECUTE pg_catalog.format('DROP VIEW pg_temp.%I', slice_name);
		END IF;
		-- By ctid: physical order, read from the last slice's end on (a TID
		-- range scan; synchronized scans are off while the import reads).
		-- By key: the key's order (an index on it keeps each slice cheap).
		EXECUTE pg_catalog.format('CREATE TEMP VIEW %I AS SELECT * FROM (SELECT s.*%s FROM %s s) s'
								  ' WHERE %s %s LIMIT %s',
								  slice_name, CASE WHEN by_ctid THEN ', s.ctid AS trackly_slice_ctid' ELSE '' END,
								  source, after, CASE WHEN by_ctid THEN '' ELSE 'ORDER BY ' || keys END, batch_rows);
		EXECUTE pg_catalog.format('SELECT EXISTS (SELECT FROM pg_temp.%I)', slice_name) INTO bad;
		EXIT WHEN NOT bad;		-- nothing left: no empty import
		r := trackly.import_sends_slice(pg_catalog.format('pg_temp.%I', slice_name)::regclass, account_id, read);
		rows_in_slice := (r->>'success_count')::bigint + (r->>'error_count')::bigint
						 + (r->>'duplicates_skipped')::bigint;
		EXIT WHEN rows_in_slice = 0;
		slice := slice + 1;
		read := read + rows_in_slice;
		stored := stored + (r->>'success_count')::bigint;
		failed := failed + (r->>'error_count')::bigint;
		duplicates := duplicates + (r->>'duplicates_skipped')::bigint;
		-- The last key of this slice, each value as text.
		IF by_ctid THEN
			EXECUTE pg_catalog.format('SELECT ARRAY[pg_catalog.max(trackly_slice_ctid)::text] FROM pg_temp.%I',
									  slice_name)
			   INTO last_key;
		ELSE
		EXECUTE pg_catalog.format('SELECT ARRAY[%s] FROM pg_temp.%I ORDER BY %s LIMIT 1',
								  (SELECT pg_catalog.string_agg(pg_catalog.quote_ident(k) || '::text', ', ' ORDER BY o)
									 FROM pg_catalog.unnest(key_columns) WITH ORDINALITY AS u(k, o)),
								  slice_name,
								  (SELECT pg_catalog.string_agg(pg_catalog.quote_ident(k) || ' DESC', ', ' ORDER BY o)
									 FROM pg_catalog.unnest(key_columns) WITH ORDINALITY AS u(k, o)))
		   INTO last_key;
		END IF;
		RAISE NOTICE 'slice %: % rows, % stored, % failed, % duplicates (import %); % rows so far',
			slice, rows_in_slice, r->'success_count', r->'error_count', r->'duplicates_skipped', r->'import_id', read;
		COMMIT;
		EXIT WHEN rows_in_slice < batch_rows;
	END LOOP;
	IF pg_catalog.to_regclass(pg_catalog.format('pg_temp.%I', slice_name)) IS NOT NULL THEN
		EXECUTE pg_catalog.format('DROP VIEW pg_temp.%I', slice_name);
	END IF;
	RAISE NOTICE 'loaded %: % rows in % slices, % stored, % failed, % duplicates, in % (% rows a second); the failures are in trackly.import_errors',
		source, read, slice, stored, failed, duplicates,
		pg_catalog.date_trunc('second', pg_catalog.clock_timestamp() - started),
		pg_catalog.round(read / GREATEST(EXTRACT(epoch FROM pg_catalog.clock_timestamp() - started), 0.001));
END
$load$;
COMMENT ON PROCEDURE trackly_load_sends(regclass, bigint, text[], bigint) IS
	'imports a table or view in slices of batch_rows rows, each its own import, committed one by one; call it again to finish a load that failed part-way';
REVOKE ALL ON PROCEDURE trackly_load_sends(regclass, bigint, text[], bigint) FROM PUBLIC;
GRANT EXECUTE ON PROCEDURE trackly_load_sends(regclass, bigint, text[], bigint) TO trackly_admin;

-- Admin functions: NULL is 22004 as elsewhere; an invalid list number says
-- why, as the import does (the import's own explanation, in C).
CREATE FUNCTION trackly.explain_e164(text) RETURNS text
	AS 'MODULE_PATHNAME', 'trackly_explain_e164'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION trackly.explain_e164(text) IS
	'why a string is no valid E.164 number (the import''s sentence), NULL when it is one';
REVOKE ALL ON FUNCTION trackly.explain_e164(text) FROM PUBLIC;

CREATE OR REPLACE FUNCTION trackly.require_name(what text, name text) RETURNS text
	LANGUAGE plpgsql IMMUTABLE
	SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF name IS NULL THEN
		RAISE EXCEPTION '% name is NULL', what USING ERRCODE = '22004';
	END IF;
	IF btrim(name) = '' THEN
		RAISE EXCEPTION '% name must not be empty', what USING ERRCODE = '22023';
	END IF;
	IF char_length(name) > 200 THEN
		RAISE EXCEPTION '% name may have at most 200 characters, this one has %', what, char_length(name)
			USING ERRCODE = '22023';
	END IF;
	RETURN name;
END
$$;

CREATE OR REPLACE FUNCTION trackly_revoke_api_key(key text) RETURNS void
	LANGUAGE plpgsql VOLATILE SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF key IS NULL THEN
		RAISE EXCEPTION 'the API key is NULL; pass the key to revoke' USING ERRCODE = '22004';
	END IF;
	IF key !~ '^trk_[A-Za-z0-9]{32}$' THEN
		RAISE EXCEPTION 'not an API key'
			USING ERRCODE = '22023',
				  DETAIL = 'An API key is trk_ followed by 32 ASCII letters or digits.';
	END IF;
	UPDATE trackly.api_keys k SET revoked_at = coalesce(k.revoked_at, now())
	 WHERE k.key_sha256 = sha256(convert_to(key, 'UTF8'));
	IF NOT FOUND THEN
		RAISE EXCEPTION 'no such API key' USING ERRCODE = '22023';
	END IF;
END
$$;

CREATE OR REPLACE FUNCTION trackly_create_list(account_id bigint, phone_number text, name text, id bigint DEFAULT NULL)
	RETURNS bigint
	LANGUAGE plpgsql VOLATILE SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	number text := nullif(phone_number, '');
	list_id bigint := id;
	taken bigint;
BEGIN
	PERFORM trackly.require_account(account_id);
	PERFORM trackly.require_name('a list', name);
	IF number IS NOT NULL AND trackly.explain_e164(number) IS NOT NULL THEN
		RAISE EXCEPTION 'phone_number % is not a valid E.164 number: %', quote_literal(left(number, 40)),
			trackly.explain_e164(number)
			USING ERRCODE = '22023',
				  HINT = 'Write + then the country code and the national number, digits only, for example +14155551234; pass NULL for a list without a number.';
	END IF;
	IF list_id IS NOT NULL AND list_id < 1 THEN
		RAISE EXCEPTION 'a list id must be at least 1, not %', list_id USING ERRCODE = '22023';
	END IF;

	-- One list creation at a time per account, so the checks below hold.
	PERFORM FROM trackly.accounts a WHERE a.id = account_id FOR NO KEY UPDATE;

	IF number IS NOT NULL THEN
		SELECT l.id INTO taken FROM trackly.lists l
		 WHERE l.account_id = trackly_create_list.account_id AND l.phone_number = number;
		IF FOUND THEN
			RAISE EXCEPTION 'account % already has a list with phone number %', account_id, number
				USING ERRCODE = '23505', DETAIL = format('It is list %s.', taken);
		END IF;
	END IF;

	IF list_id IS NULL THEN
		-- The next id after the account's highest, or the lowest free one when that is the largest bigint.
		SELECT coalesce(max(l.id), 0) INTO taken FROM trackly.lists l
		 WHERE l.account_id = trackly_create_list.account_id;
		IF taken < 9223372036854775807 THEN
			list_id := taken + 1;
		ELSE
			SELECT min(candidate) INTO list_id
			  FROM (SELECT 1::bigint AS candidate
					UNION ALL
					SELECT l.id + 1 FROM trackly.lists l
					 WHERE l.account_id = trackly_create_list.account_id
					   AND l.id < 9223372036854775807) c
			 WHERE NOT EXISTS (SELECT FROM trackly.lists l
								WHERE l.account_id = trackly_create_list.account_id
								  AND l.id = c.candidate);
		END IF;
	ELSIF EXISTS (SELECT FROM trackly.lists l
				   WHERE l.account_id = trackly_create_list.account_id AND l.id = list_id) THEN
		RAISE EXCEPTION 'account % already has a list with id %', account_id, list_id
			USING ERRCODE = '23505',
				  HINT = 'Pass NULL as id to have a free id chosen.';
	END IF;

	INSERT INTO trackly.lists (account_id, id, phone_number, name)
		VALUES (account_id, list_id, number, name);
	RETURN list_id;
END
$$;

-- Leap seconds (RFC 3339): 23:59:60 in UTC is valid and names the next
-- second.  The validators' verdicts change, so their C entry points do too:
-- the older versions' definitions keep pointing at the old rule (no second
-- 60) until this update repoints them.  The new rule only accepts more, so
-- no value a CHECK or a domain let in is refused now; the user's objects
-- that use the validators are listed all the same.
CREATE OR REPLACE FUNCTION trackly_is_iso8601(text) RETURNS boolean
	AS 'MODULE_PATHNAME', 'trackly_is_iso8601_v2'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE OR REPLACE FUNCTION trackly_iso8601(text) RETURNS timestamptz
	AS 'MODULE_PATHNAME', 'trackly_iso8601_v2'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
DO $leap$
DECLARE
	users text;
BEGIN
	SELECT pg_catalog.string_agg(DISTINCT pg_catalog.pg_describe_object(d.classid, d.objid, d.objsubid), '; ')
	  INTO users
	  FROM pg_catalog.pg_depend d
	 WHERE d.refclassid = 'pg_catalog.pg_proc'::pg_catalog.regclass
	   AND d.refobjid IN ('@extschema@.trackly_is_iso8601(text)'::pg_catalog.regprocedure,
						  '@extschema@.trackly_iso8601(text)'::pg_catalog.regprocedure)
	   AND d.deptype = 'n';
	IF users IS NOT NULL THEN
		RAISE NOTICE 'trackly_is_iso8601 and trackly_iso8601 now accept leap seconds (23:59:60 in UTC); these use them: %', users
			USING HINT = 'Nothing they hold becomes invalid: the new rule only accepts more.';
	END IF;
END
$leap$;

