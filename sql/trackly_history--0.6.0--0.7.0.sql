/* trackly_history--0.6.0--0.7.0.sql: the send report's counts and answer in C; on Citus, the import on the worker that holds the account's shards, and key revocation and the staged load through a coordinator; TRUNCATE of the sends with the rollup */

\echo Use "ALTER EXTENSION trackly_history UPDATE TO '0.7.0'" to load this file. \quit

-- The counts of a report and its answer (src/report_counts.c): the rollup's
-- hour rows in one range scan, the quarter-hour rows of the hours a boundary
-- splits, trackly.sends for the quarter hours it splits or for a report by
-- list or creative; each row added to its period and keys, the groups
-- sorted, the answer built as jsonb.
CREATE FUNCTION trackly.report_counts(account_id bigint, group_by text[], imported boolean,
									  low timestamptz, high timestamptz, periods date[], starts timestamptz[])
	RETURNS jsonb
	AS 'MODULE_PATHNAME', 'trackly_report_counts'
	LANGUAGE C STABLE PARALLEL RESTRICTED;
COMMENT ON FUNCTION trackly.report_counts(bigint, text[], boolean, timestamptz, timestamptz, date[], timestamptz[]) IS
	'the answer of a report of an account''s sends from low to high (exclusive), by the periods (starts: the first instant of each) and the keys of group_by, of imported history (true), live sends (false) or both (NULL)';
REVOKE ALL ON FUNCTION trackly.report_counts(bigint, text[], boolean, timestamptz, timestamptz, date[], timestamptz[])
	FROM PUBLIC;

-- The rollup's triggers: a TRUNCATE of trackly.sends together with
-- trackly.send_stats (one statement) failed in 0.6.0, its trigger truncating
-- the rollup a second time while the statement held it open.
CREATE OR REPLACE FUNCTION trackly.record_send_stats() RETURNS trigger
	LANGUAGE plpgsql SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	target text := 'trackly.send_stats';
	filled boolean;
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
		WHEN 'TRUNCATE' THEN
			-- TRUNCATE trackly.sends, trackly.send_stats has emptied both by
			-- now, and holds the rollup open: truncating it again would fail.
			EXECUTE format('SELECT EXISTS (SELECT FROM %s)', target) INTO filled;
			IF filled THEN
				EXECUTE format('TRUNCATE %s', target);
			END IF;
		WHEN 'INSERT' THEN EXECUTE format(deltas, target, written);
		WHEN 'DELETE' THEN EXECUTE format(deltas, target, deleted);
		ELSE EXECUTE format(deltas, target, written || ' UNION ALL ' || deleted);
	END CASE;
	RETURN NULL;
END
$$;
COMMENT ON FUNCTION trackly.record_send_stats() IS
	'the triggers on trackly.sends that keep trackly.send_stats: a statement''s rows written and deleted, as signed counts per quarter hour and per hour in one grouped INSERT; TRUNCATE empties it';

-- A report for an account.  STABLE: every statement sees the one snapshot
-- the call began with, so a report shows all or nothing of an import or a
-- clear that commits while it runs.  The request is checked here, the
-- local periods found (trackly.report_periods), and trackly.report_counts
-- reads and answers.
CREATE OR REPLACE FUNCTION trackly.report_run(body jsonb, account_id bigint) RETURNS jsonb
	LANGUAGE plpgsql STABLE
	SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	r record;
	first_hour timestamptz;
	last_hour timestamptz;
	low timestamptz;
	high timestamptz;
	p record;
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
		low := r.range_from;
		high := r.range_from;
	END IF;
	SELECT * INTO p FROM trackly.report_periods(r.time_zone, r.unit, low, high);
	RETURN trackly.report_counts(account_id, r.group_by, r.imported, low, high, p.periods, p.starts);
END
$$;

-- ---------------------------------------------------------------------------
-- Citus: the import runs on the worker that holds the account's shards
-- (src/import_citus.c).  The coordinator authenticates and reads the request
-- and draws the import id; this function, distributed by its account and
-- co-located with trackly.sends, imports there, into the shards directly.
-- Anywhere else (Citus did not hand it on) it imports through the
-- distributed tables.
-- ---------------------------------------------------------------------------
CREATE FUNCTION trackly.import_in_shard(account_id bigint, body text, source text, api_key_id bigint,
										import_id bigint, phone_valid boolean) RETURNS jsonb
	AS 'MODULE_PATHNAME', 'trackly_import_in_shard'
	LANGUAGE C VOLATILE
	SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION trackly.import_in_shard(bigint, text, text, bigint, bigint, boolean) IS
	'the import of a request a Citus coordinator has authenticated and read (its body as JSON text, source api or sql, the key, the import id it drew, the account''s phone rule), run where the account''s shards are';
REVOKE ALL ON FUNCTION trackly.import_in_shard(bigint, text, text, bigint, bigint, boolean) FROM PUBLIC;

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

	-- An import runs where its account's shards are: Citus hands a call of
	-- trackly.import_in_shard to the worker that holds the shard of its
	-- account argument, also from inside the import's own function
	-- (force_delegation).
	IF NOT EXISTS (SELECT FROM pg_dist_object o
					WHERE o.classid = 'pg_proc'::regclass
					  AND o.objid = 'trackly.import_in_shard(bigint, text, text, bigint, bigint, boolean)'::regprocedure
					  AND o.distribution_argument_index IS NOT NULL) THEN
		PERFORM create_distributed_function(
			'trackly.import_in_shard(bigint, text, text, bigint, bigint, boolean)'::regprocedure, '$1',
			colocate_with => 'trackly.sends', force_delegation => true);
	END IF;
END
$$;
COMMENT ON FUNCTION trackly_distribute() IS
	'makes accounts and api_keys Citus reference tables and lists, sends, imports, import_errors, history_clears, send_stats distributed by account_id, and trackly.import_in_shard a function Citus runs where its account''s shards are (run on the coordinator)';

-- ---------------------------------------------------------------------------
-- Citus: revoking a key through a coordinator (Citus refuses an UPDATE whose
-- COALESCE calls now(): the instant is taken first, the same one), and the
-- staged load's slices (Citus's DDL hook looks up a schema named pg_temp
-- when a temporary view is dropped by that name: it is dropped by the name
-- of the session's own temporary schema).
-- ---------------------------------------------------------------------------
CREATE OR REPLACE FUNCTION trackly_revoke_api_key(key_id bigint) RETURNS void
	LANGUAGE plpgsql VOLATILE SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	revoked constant timestamptz := now();
BEGIN
	IF key_id IS NULL THEN
		RAISE EXCEPTION 'key_id must not be NULL' USING ERRCODE = '22004';
	END IF;
	UPDATE trackly.api_keys k SET revoked_at = coalesce(k.revoked_at, revoked)
	 WHERE k.id = key_id;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'API key % does not exist', key_id
			USING ERRCODE = '22023',
				  HINT = 'trackly_list_api_keys(account_id) lists the keys of an account.';
	END IF;
END
$$;

CREATE OR REPLACE FUNCTION trackly_revoke_api_key(key text) RETURNS void
	LANGUAGE plpgsql VOLATILE SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	revoked constant timestamptz := now();
BEGIN
	IF key IS NULL THEN
		RAISE EXCEPTION 'the API key is NULL; pass the key to revoke' USING ERRCODE = '22004';
	END IF;
	IF key !~ '^trk_[A-Za-z0-9]{32}$' THEN
		RAISE EXCEPTION 'not an API key'
			USING ERRCODE = '22023',
				  DETAIL = 'An API key is trk_ followed by 32 ASCII letters or digits.';
	END IF;
	UPDATE trackly.api_keys k SET revoked_at = coalesce(k.revoked_at, revoked)
	 WHERE k.key_sha256 = sha256(convert_to(key, 'UTF8'));
	IF NOT FOUND THEN
		RAISE EXCEPTION 'no such API key' USING ERRCODE = '22023';
	END IF;
END
$$;

CREATE OR REPLACE PROCEDURE trackly_load_sends(source regclass, account_id bigint, order_by text[] DEFAULT NULL,
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
			EXECUTE pg_catalog.format('DROP VIEW %s', pg_catalog.to_regclass(pg_catalog.format('pg_temp.%I', slice_name)));
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
		EXECUTE pg_catalog.format('DROP VIEW %s', pg_catalog.to_regclass(pg_catalog.format('pg_temp.%I', slice_name)));
	END IF;
	RAISE NOTICE 'loaded %: % rows in % slices, % stored, % failed, % duplicates, in % (% rows a second); the failures are in trackly.import_errors',
		source, read, slice, stored, failed, duplicates,
		pg_catalog.date_trunc('second', pg_catalog.clock_timestamp() - started),
		pg_catalog.round(read / GREATEST(EXTRACT(epoch FROM pg_catalog.clock_timestamp() - started), 0.001));
END
$load$;
