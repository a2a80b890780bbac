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
