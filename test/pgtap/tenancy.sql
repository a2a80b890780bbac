-- tenancy.sql: accounts as tenants (README, Tables and Concurrency).
-- Every key of the tables that grow with traffic includes account_id (so
-- they can be distributed by it), every table and sequence is dumped with
-- the extension's data, and an import only ever sees and writes its own
-- account.
BEGIN;
SELECT plan(33);

-- The tables that grow with traffic, as the README names them.
CREATE TEMP TABLE traffic_table (rel regclass PRIMARY KEY);
INSERT INTO traffic_table VALUES ('trackly.lists'), ('trackly.sends'), ('trackly.imports'), ('trackly.import_errors');

-- 1. Keys include account_id.
SELECT is_empty($$SELECT t.rel FROM traffic_table t
				   WHERE NOT EXISTS (SELECT FROM pg_catalog.pg_constraint c WHERE c.conrelid = t.rel AND c.contype = 'p')$$,
				'lists, sends, imports and import_errors each have a primary key');
SELECT is_empty($$SELECT t.rel, a.attname FROM traffic_table t
				   LEFT JOIN pg_catalog.pg_attribute a ON a.attrelid = t.rel AND a.attname = 'account_id' AND NOT a.attisdropped
				  WHERE a.attname IS NULL OR NOT a.attnotnull$$,
				'each of them has a NOT NULL account_id');
SELECT cmp_ok((SELECT count(*) FROM pg_catalog.pg_constraint c JOIN traffic_table t ON t.rel = c.conrelid
				WHERE c.contype IN ('p', 'u', 'x')), '>=', 5::bigint,
			  'the catalog query sees their primary keys and unique constraints');
SELECT is_empty($$SELECT c.conrelid::regclass, c.conname FROM pg_catalog.pg_constraint c JOIN traffic_table t ON t.rel = c.conrelid
				   WHERE c.contype IN ('p', 'u', 'x')
					 AND NOT (SELECT a.attnum FROM pg_catalog.pg_attribute a
							   WHERE a.attrelid = c.conrelid AND a.attname = 'account_id') = ANY (c.conkey)$$,
				'every primary key, unique and exclusion constraint of those tables includes account_id');
SELECT is_empty($$SELECT i.indexrelid::regclass FROM pg_catalog.pg_index i JOIN traffic_table t ON t.rel = i.indrelid
				   WHERE i.indisunique
					 AND NOT (SELECT a.attnum FROM pg_catalog.pg_attribute a
							   WHERE a.attrelid = i.indrelid AND a.attname = 'account_id') = ANY (i.indkey::int2[])$$,
				'every unique index of those tables includes account_id');
SELECT is_empty($$SELECT c.conrelid::regclass, c.conname FROM pg_catalog.pg_constraint c JOIN traffic_table t ON t.rel = c.conrelid
				   WHERE c.contype = 'f' AND c.confrelid IN (SELECT rel FROM traffic_table)
					 AND NOT (SELECT a.attnum FROM pg_catalog.pg_attribute a
							   WHERE a.attrelid = c.conrelid AND a.attname = 'account_id') = ANY (c.conkey)$$,
				'every foreign key between those tables includes account_id');
SELECT results_eq(
	$$SELECT c.conrelid::regclass::text, pg_catalog.pg_get_constraintdef(c.oid)
		FROM pg_catalog.pg_constraint c JOIN traffic_table t ON t.rel = c.conrelid
	   WHERE c.contype = 'p' ORDER BY 1$$,
	$$VALUES ('trackly.import_errors', 'PRIMARY KEY (account_id, import_id, index)'),
	         ('trackly.imports', 'PRIMARY KEY (account_id, id)'),
	         ('trackly.lists', 'PRIMARY KEY (account_id, id)'),
	         ('trackly.sends', 'PRIMARY KEY (account_id, id)')$$,
	'the primary keys are those of the README''s table');

-- 2. pg_dump keeps every table and sequence but the rollup, which a restore
-- of trackly.sends makes again (its trigger counts the restored rows).
CREATE TEMP VIEW dumped AS
SELECT u.rel, u.condition
  FROM pg_catalog.pg_extension e,
	   unnest(e.extconfig, e.extcondition) AS u(rel, condition)
 WHERE e.extname = 'trackly_history';
SELECT is_empty($$SELECT c.oid::regclass FROM pg_catalog.pg_class c
				   WHERE c.relnamespace = 'trackly'::regnamespace AND c.relkind IN ('r', 'p', 'S')
					 AND c.oid NOT IN (SELECT rel FROM dumped) AND c.oid <> 'trackly.send_stats'::regclass$$,
				'every table and sequence of schema trackly but the rollup is in extconfig (pg_extension_config_dump)');
SELECT is_empty($$SELECT s.oid::regclass FROM pg_catalog.pg_class s
				   JOIN pg_catalog.pg_depend d ON d.classid = 'pg_catalog.pg_class'::regclass AND d.objid = s.oid
											 AND d.refclassid = 'pg_catalog.pg_class'::regclass AND d.deptype IN ('a', 'i')
				   JOIN pg_catalog.pg_class t ON t.oid = d.refobjid AND t.relnamespace = 'trackly'::regnamespace
				  WHERE s.relkind = 'S' AND s.oid NOT IN (SELECT rel FROM dumped)$$,
				'every sequence owned by a column of a trackly table is in extconfig');
SELECT is_empty($$SELECT rel::regclass, condition FROM dumped WHERE condition <> ''$$,
				'extconfig dumps every row (no condition)');
SELECT set_has($$SELECT rel::regclass::text FROM dumped$$,
			   $$VALUES ('trackly.accounts'), ('trackly.api_keys'), ('trackly.lists'), ('trackly.sends'),
						('trackly.imports'), ('trackly.import_errors'), ('trackly.imports_id_seq')$$,
			   'extconfig names the six tables and the import id sequence');

-- 3. Imports are isolated by account.
CREATE TEMP TABLE t (name text PRIMARY KEY, value text);
INSERT INTO t VALUES ('a', trackly_create_account('tenant A')::text), ('b', trackly_create_account('tenant B')::text);
INSERT INTO t VALUES ('key_a', trackly_create_api_key((SELECT value FROM t WHERE name = 'a')::bigint)),
					 ('key_b', trackly_create_api_key((SELECT value FROM t WHERE name = 'b')::bigint));
CREATE FUNCTION pg_temp.v(n text) RETURNS text LANGUAGE sql AS $$SELECT value FROM t WHERE name = n$$;
CREATE FUNCTION pg_temp.body(tag text) RETURNS jsonb LANGUAGE sql AS $$
	SELECT jsonb_build_object('records', jsonb_build_array(
		jsonb_build_object('id', 'same-1', 'to_number', '+14155551234', 'timestamp', '2025-11-15T14:30:00Z', 'message', tag),
		jsonb_build_object('id', 42, 'to_number', '+14155551234', 'timestamp', '2025-11-15T14:31:00Z', 'message', tag),
		jsonb_build_object('id', 'bad-1', 'to_number', '12345', 'timestamp', '2025-11-15T14:32:00Z', 'message', tag)))
$$;
CREATE TEMP TABLE response (name text PRIMARY KEY, body jsonb);

SELECT set_config('trackly.api_key', pg_temp.v('key_a'), true);
INSERT INTO response VALUES ('a1', trackly_import_sends(pg_temp.body('from A')));
SELECT set_config('trackly.api_key', pg_temp.v('key_b'), true);
INSERT INTO response VALUES ('b1', trackly_import_sends(pg_temp.body('from B')));
SELECT set_config('trackly.api_key', pg_temp.v('key_a'), true);
INSERT INTO response VALUES ('a2', trackly_import_sends(pg_temp.body('from A again')));
INSERT INTO response VALUES ('b2', trackly_import_sends(pg_temp.body('from SQL into B'), pg_temp.v('b')::bigint));

SELECT is((SELECT body - 'errors' - 'import_id' FROM response WHERE name = 'a1'),
		  '{"success_count": 2, "error_count": 1, "duplicates_skipped": 0, "invalid_phones": 1}'::jsonb,
		  'account A imports its two records');
SELECT is((SELECT body - 'errors' - 'import_id' FROM response WHERE name = 'b1'),
		  '{"success_count": 2, "error_count": 1, "duplicates_skipped": 0, "invalid_phones": 1}'::jsonb,
		  'account B imports the same ids: A''s rows are no duplicates for B');
SELECT is((SELECT body - 'errors' - 'import_id' FROM response WHERE name = 'a2'),
		  '{"success_count": 0, "error_count": 1, "duplicates_skipped": 2, "invalid_phones": 1}'::jsonb,
		  'replaying in A finds A''s own rows as duplicates');
SELECT is((SELECT body - 'errors' - 'import_id' FROM response WHERE name = 'b2'),
		  '{"success_count": 0, "error_count": 1, "duplicates_skipped": 2, "invalid_phones": 1}'::jsonb,
		  'the two-argument form into B sees B''s rows as duplicates');
SELECT results_eq(
	$$SELECT account_id::text, id COLLATE "default", message FROM trackly.sends
	   WHERE account_id IN (pg_temp.v('a')::bigint, pg_temp.v('b')::bigint) ORDER BY account_id, id$$,
	$$VALUES (pg_temp.v('a'), '42'::text, 'from A'::text), (pg_temp.v('a'), 'same-1', 'from A'),
	         (pg_temp.v('b'), '42', 'from B'), (pg_temp.v('b'), 'same-1', 'from B')$$,
	'the same ids are stored once per account, each with its own account''s data');
SELECT is((SELECT count(*) FROM trackly.sends WHERE id = 'same-1'), 2::bigint,
		  'the id same-1 is stored twice in all, once per account');
SELECT results_eq(
	$$SELECT r.name, i.account_id::text, i.source FROM response r
		JOIN trackly.imports i ON i.id = (r.body->>'import_id')::bigint ORDER BY r.name$$,
	$$VALUES ('a1', pg_temp.v('a'), 'api'), ('a2', pg_temp.v('a'), 'api'),
	         ('b1', pg_temp.v('b'), 'api'), ('b2', pg_temp.v('b'), 'sql')$$,
	'each imports row belongs to the account of the key (or of the argument)');
SELECT is((SELECT count(DISTINCT body->>'import_id') FROM response), 4::bigint,
		  'import ids are unique across accounts (one sequence)');
SELECT is((SELECT count(*) FROM trackly.imports i WHERE i.id = ANY (SELECT (body->>'import_id')::bigint FROM response)),
		  4::bigint, 'each import id names exactly one imports row, whatever the account');
SELECT is_empty($$SELECT e.* FROM trackly.import_errors e JOIN trackly.imports i ON i.id = e.import_id
				   WHERE e.account_id <> i.account_id$$,
				'every import_errors row carries its import''s account');
SELECT results_eq(
	$$SELECT r.name, e.account_id::text, e.index::int, e.id, e.code FROM response r
		JOIN trackly.import_errors e ON e.import_id = (r.body->>'import_id')::bigint ORDER BY r.name$$,
	$$VALUES ('a1', pg_temp.v('a'), 2, 'bad-1', 'invalid_phone'), ('a2', pg_temp.v('a'), 2, 'bad-1', 'invalid_phone'),
	         ('b1', pg_temp.v('b'), 2, 'bad-1', 'invalid_phone'), ('b2', pg_temp.v('b'), 2, 'bad-1', 'invalid_phone')$$,
	'the failed records are recorded under their own account');
SELECT is_empty($$SELECT s.* FROM trackly.sends s JOIN trackly.imports i ON i.id = s.import_id
				   WHERE s.account_id <> i.account_id$$,
				'every send carries its import''s account');
SELECT is((SELECT api_key_id FROM trackly.imports WHERE id = (SELECT (body->>'import_id')::bigint FROM response WHERE name = 'a1')),
		  (SELECT id FROM trackly.api_keys WHERE account_id = pg_temp.v('a')::bigint),
		  'the imports row records the key used');

-- A key of A never writes B, even when asked to in every way the body allows.
SELECT set_config('trackly.api_key', pg_temp.v('key_a'), true);
CREATE TEMP TABLE b_before AS SELECT * FROM trackly.sends WHERE account_id = pg_temp.v('b')::bigint;
INSERT INTO response VALUES ('a3', trackly_import_sends(jsonb_build_object(
	'account_id', pg_temp.v('b')::bigint, 'account', pg_temp.v('b')::bigint,
	'records', jsonb_build_array(jsonb_build_object('id', 'sneak-1', 'account_id', pg_temp.v('b')::bigint,
		'to_number', '+14155551234', 'timestamp', '2025-11-15T14:33:00Z')))));
SELECT is((SELECT account_id::text FROM trackly.sends WHERE id = 'sneak-1'), pg_temp.v('a'),
		  'account_id in the body or a record is ignored: the key''s account gets the record');
SELECT set_eq($$SELECT * FROM trackly.sends WHERE account_id = pg_temp.v('b')::bigint$$,
			  $$SELECT * FROM b_before$$,
			  'account B''s sends are unchanged by imports with A''s key');
SELECT set_config('request.headers', jsonb_build_object('x-api-key', pg_temp.v('key_b'))::text, true);
SELECT set_config('trackly.api_key', pg_temp.v('key_a'), true);
INSERT INTO response VALUES ('b3', trackly_import_sends('{"records": [{"id": "hdr-1", "to_number": "+14155551234",
	"timestamp": "2025-11-15T14:34:00Z"}]}'));
SELECT is((SELECT account_id::text FROM trackly.sends WHERE id = 'hdr-1'), pg_temp.v('b'),
		  'with request.headers the header''s key decides the account');

-- Counting an account's rows is per account.
SELECT results_eq(
	$$SELECT account_id::text, count(*) FROM trackly.sends
	   WHERE account_id IN (pg_temp.v('a')::bigint, pg_temp.v('b')::bigint) GROUP BY account_id ORDER BY account_id$$,
	$$VALUES (pg_temp.v('a'), 3::bigint), (pg_temp.v('b'), 3::bigint)$$,
	'each account holds exactly its own sends');

-- The two-argument form with no such account: ERROR 22023 (22004 for NULL),
-- as every admin function answers, whatever the body; nothing recorded.
CREATE TEMP TABLE counts_before AS
SELECT (SELECT count(*) FROM trackly.imports) AS imports, (SELECT count(*) FROM trackly.sends) AS sends;
SELECT throws_ok(format('SELECT trackly_import_sends(%L::jsonb, -1)', pg_temp.body('nobody')), '22023',
				 'no account has id -1', 'an unknown account is ERROR 22023');
SELECT throws_ok(format('SELECT trackly_import_sends(%L::jsonb, NULL)', pg_temp.body('nobody')), '22004', NULL,
				 'a NULL account is ERROR 22004');
SELECT throws_ok('SELECT trackly_import_sends(NULL::jsonb, 0)', '22023', NULL,
				 'an unknown account is an ERROR before the body is looked at (a NULL body)');
SELECT throws_ok($$SELECT trackly_import_sends('{"records": []}'::jsonb, 9223372036854775807)$$, '22023', NULL,
				 'an unknown account is an ERROR before the body is looked at (empty records)');
SELECT results_eq(
	$$SELECT (SELECT count(*) FROM trackly.imports), (SELECT count(*) FROM trackly.sends)$$,
	$$SELECT imports, sends FROM counts_before$$,
	'an unknown account records nothing');

SELECT * FROM finish();
ROLLBACK;
