-- privileges.sql: the README's Roles and privileges.
-- PUBLIC runs only the four validators; trackly_api runs only the API forms
-- of the import and the key check, and touches no table; trackly_admin runs everything else and
-- reads every table; every SECURITY DEFINER function pins its search_path;
-- the two roles cannot log in.  The functions are enumerated from the catalog
-- (the extension's members and everything in schema trackly), so a function
-- added later is covered without editing this file.
BEGIN;
SELECT plan(55);

-- Every function of the extension, and every function of schema trackly.
CREATE TEMP VIEW ext_function AS
SELECT p.oid,
	   CASE WHEN n.nspname = 'trackly' THEN 'trackly.' ELSE '' END
		   || p.proname || '(' || pg_catalog.oidvectortypes(p.proargtypes) || ')' AS sig,
	   p.proname, n.nspname, p.prosecdef, p.proconfig,
	   p.proname IN ('trackly_is_e164', 'trackly_is_valid_phone', 'trackly_is_iso8601', 'trackly_iso8601')
		   AND n.nspname <> 'trackly' AS is_validator
  FROM pg_catalog.pg_proc p
  JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
 WHERE p.oid IN (SELECT d.objid FROM pg_catalog.pg_depend d
				  WHERE d.classid = 'pg_catalog.pg_proc'::regclass
					AND d.refclassid = 'pg_catalog.pg_extension'::regclass
					AND d.refobjid = (SELECT oid FROM pg_catalog.pg_extension WHERE extname = 'trackly_history')
					AND d.deptype = 'e')
	OR n.nspname = 'trackly';

-- Every table and sequence of schema trackly.
CREATE TEMP VIEW trackly_relation AS
SELECT c.oid, c.relname, c.relkind
  FROM pg_catalog.pg_class c
 WHERE c.relnamespace = 'trackly'::regnamespace AND c.relkind IN ('r', 'p', 'S', 'v', 'm', 'f');

CREATE TEMP TABLE expected_function (sig text PRIMARY KEY, kind text NOT NULL);
INSERT INTO expected_function VALUES
	('trackly_is_e164(text)', 'validator'),
	('trackly_is_valid_phone(text)', 'validator'),
	('trackly_is_iso8601(text)', 'validator'),
	('trackly_iso8601(text)', 'validator'),
	('trackly_create_account(text)', 'admin'),
	('trackly_create_api_key(bigint)', 'admin'),
	('trackly_list_api_keys(bigint)', 'admin'),
	('trackly_revoke_api_key(bigint)', 'admin'),
	('trackly_revoke_api_key(text)', 'admin'),
	('trackly_create_list(bigint, text, text, bigint)', 'admin'),
	('trackly_set_phone_validation(bigint, text)', 'admin'),
	('trackly_import_sends(jsonb)', 'api'),
	('trackly_import_sends(jsonb, bigint)', 'admin'),
	('trackly_clear_history(jsonb)', 'api'),
	('trackly_clear_history_body(bytea)', 'api'),
	('trackly_clear_history(jsonb, bigint)', 'admin'),
	('trackly_import_errors(jsonb)', 'api'),
	('trackly_import_errors_body(bytea)', 'api'),
	('trackly_import_errors(jsonb, bigint)', 'admin'),
	('trackly_purge_import_errors(interval)', 'admin'),
	('trackly_report(jsonb)', 'api'),
	('trackly_report_body(bytea)', 'api'),
	('trackly_report(jsonb, bigint)', 'admin'),
	('trackly_compact_send_stats(bigint)', 'admin'),
	('trackly_rebuild_send_stats(bigint)', 'admin');

-- A role with no grant at all: what it may do, PUBLIC may do.
CREATE ROLE trackly_test_nobody NOLOGIN;

-- 1. The catalog holds what the README names.
SELECT set_has($$SELECT sig FROM ext_function$$, $$SELECT sig FROM expected_function$$,
			   'the extension has every function the README names');
SELECT set_eq($$SELECT sig FROM ext_function WHERE is_validator$$,
			  $$SELECT sig FROM expected_function WHERE kind = 'validator'$$,
			  'the validators are trackly_is_e164, trackly_is_valid_phone, trackly_is_iso8601 and trackly_iso8601');
SELECT is_empty($$SELECT sig FROM ext_function WHERE nspname <> 'trackly' AND proname NOT LIKE 'trackly\_%'$$,
				'every function in the extension''s schema is named trackly_*');
SELECT cmp_ok((SELECT count(*) FROM ext_function), '>=', 11::bigint,
			  'the enumeration of the extension''s functions finds them');

-- 2. PUBLIC executes the validators and nothing else.
SELECT set_eq($$SELECT sig FROM ext_function WHERE has_function_privilege('trackly_test_nobody', oid, 'EXECUTE')$$,
			  $$SELECT sig FROM expected_function WHERE kind = 'validator'$$,
			  'a role without grants may execute exactly the four validators');
SELECT set_eq($$SELECT f.sig FROM ext_function f
				 WHERE EXISTS (SELECT FROM pg_catalog.pg_proc p,
								 aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) a
								WHERE p.oid = f.oid AND a.grantee = 0 AND a.privilege_type = 'EXECUTE')$$,
			  $$SELECT sig FROM expected_function WHERE kind = 'validator'$$,
			  'the ACLs grant EXECUTE to PUBLIC on exactly the four validators');
SELECT ok(NOT has_schema_privilege('trackly_test_nobody', 'trackly', 'USAGE'),
		  'PUBLIC has no USAGE on schema trackly');
SELECT is_empty($$SELECT r.relname, p.priv FROM trackly_relation r,
				   unnest(ARRAY['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'REFERENCES', 'TRIGGER']) p(priv)
				  WHERE r.relkind <> 'S' AND has_table_privilege('trackly_test_nobody', r.oid, p.priv)
				 UNION ALL
				 SELECT r.relname, p.priv FROM trackly_relation r, unnest(ARRAY['USAGE', 'SELECT', 'UPDATE']) p(priv)
				  WHERE r.relkind = 'S' AND has_sequence_privilege('trackly_test_nobody', r.oid, p.priv)$$,
				'PUBLIC has no privilege on any table or sequence of schema trackly');

-- 3. trackly_api: the API forms of the import (and the key check ahead of
-- the HTTP form), the API forms of the clear and of the import errors, nothing else.
SELECT set_eq($$SELECT sig FROM ext_function
				 WHERE has_function_privilege('trackly_api', oid, 'EXECUTE') AND NOT is_validator$$,
			  $$VALUES ('trackly_import_sends(jsonb)'), ('trackly_import_sends_body(bytea)'),
					   ('trackly_check_api_key()'), ('trackly_clear_history(jsonb)'), ('trackly_clear_history_body(bytea)'),
					   ('trackly_import_errors(jsonb)'), ('trackly_import_errors_body(bytea)'),
					   ('trackly_report(jsonb)'), ('trackly_report_body(bytea)')$$,
			  'trackly_api may execute the API forms, the key check and, of the rest, only the validators');
SELECT ok(NOT has_function_privilege('trackly_api', 'trackly_import_sends(jsonb, bigint)', 'EXECUTE'),
		  'trackly_api may not execute the two-argument import (it names any account)');
SELECT ok(NOT has_function_privilege('trackly_api', 'trackly_clear_history(jsonb, bigint)', 'EXECUTE')
		  AND NOT has_function_privilege('trackly_api', 'trackly_import_errors(jsonb, bigint)', 'EXECUTE'),
		  'trackly_api may not execute the admin forms of the clear and of the import errors (they name any account)');
SELECT ok(NOT has_function_privilege('trackly_api', 'trackly_purge_import_errors(interval)', 'EXECUTE')
		  AND NOT has_function_privilege('trackly_api', 'trackly_purge_import_errors_batched(interval, integer)', 'EXECUTE'),
		  'trackly_api may not purge error records');
SELECT ok(NOT has_function_privilege('trackly_api', 'trackly_report(jsonb, bigint)', 'EXECUTE')
		  AND NOT has_function_privilege('trackly_api', 'trackly_compact_send_stats(bigint)', 'EXECUTE')
		  AND NOT has_function_privilege('trackly_api', 'trackly_rebuild_send_stats(bigint)', 'EXECUTE'),
		  'trackly_api may not run the admin report, compaction or rebuild');
SELECT ok(NOT has_schema_privilege('trackly_api', 'trackly', 'USAGE'),
		  'trackly_api has no USAGE on schema trackly');
SELECT ok(NOT has_schema_privilege('trackly_api', 'trackly', 'CREATE'),
		  'trackly_api has no CREATE on schema trackly');
SELECT is_empty($$SELECT r.relname, p.priv FROM trackly_relation r,
				   unnest(ARRAY['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'REFERENCES', 'TRIGGER']) p(priv)
				  WHERE r.relkind <> 'S' AND has_table_privilege('trackly_api', r.oid, p.priv)
				 UNION ALL
				 SELECT r.relname, 'column ' || p.priv FROM trackly_relation r, unnest(ARRAY['SELECT', 'INSERT', 'UPDATE', 'REFERENCES']) p(priv)
				  WHERE r.relkind <> 'S' AND has_any_column_privilege('trackly_api', r.oid, p.priv)
				 UNION ALL
				 SELECT r.relname, p.priv FROM trackly_relation r, unnest(ARRAY['USAGE', 'SELECT', 'UPDATE']) p(priv)
				  WHERE r.relkind = 'S' AND has_sequence_privilege('trackly_api', r.oid, p.priv)$$,
				'trackly_api has no privilege on any table, column or sequence of schema trackly');

-- 4. trackly_admin: every other function, and reads every table.
SELECT is_empty($$SELECT sig FROM ext_function
				   WHERE nspname <> 'trackly' AND NOT is_validator
					 AND NOT has_function_privilege('trackly_admin', oid, 'EXECUTE')$$,
				'trackly_admin may execute every trackly_* function');
SELECT ok(has_schema_privilege('trackly_admin', 'trackly', 'USAGE'),
		  'trackly_admin has USAGE on schema trackly');
SELECT is_empty($$SELECT a.grantee::regrole FROM pg_catalog.pg_namespace n, aclexplode(n.nspacl) a
				   WHERE n.nspname = 'trackly' AND a.privilege_type = 'CREATE' AND a.grantee <> n.nspowner$$,
				'nobody but its owner may create objects in schema trackly');
SELECT is_empty($$SELECT relname FROM trackly_relation
				   WHERE relkind <> 'S' AND NOT has_table_privilege('trackly_admin', oid, 'SELECT')$$,
				'trackly_admin may SELECT every table of schema trackly');
SELECT is_empty($$SELECT r.relname, p.priv FROM trackly_relation r,
				   unnest(ARRAY['INSERT', 'UPDATE', 'DELETE', 'TRUNCATE']) p(priv)
				  WHERE r.relkind <> 'S' AND has_table_privilege('trackly_admin', r.oid, p.priv)$$,
				'trackly_admin writes only through the helpers: no INSERT, UPDATE, DELETE or TRUNCATE on the tables');

-- 5. Writing functions are SECURITY DEFINER with a pinned search_path.
SELECT set_has($$SELECT sig FROM ext_function WHERE prosecdef$$,
			   $$SELECT sig FROM expected_function WHERE kind IN ('admin', 'api')$$,
			   'every admin helper and both import forms are SECURITY DEFINER');
SELECT is_empty($$SELECT sig, proconfig FROM ext_function
				   WHERE prosecdef AND proconfig IS DISTINCT FROM ARRAY['search_path=pg_catalog, pg_temp']$$,
				'every SECURITY DEFINER function has proconfig exactly {search_path=pg_catalog, pg_temp}');
SELECT is_empty($$SELECT sig FROM ext_function WHERE is_validator AND prosecdef$$,
				'the validators are not SECURITY DEFINER');
SELECT is_empty($$SELECT f.sig FROM ext_function f JOIN pg_catalog.pg_proc p ON p.oid = f.oid
				   WHERE f.prosecdef AND p.provolatile = 'i'$$,
				'no SECURITY DEFINER function claims to be IMMUTABLE');
SELECT is_empty($$SELECT f.sig FROM ext_function f JOIN pg_catalog.pg_proc p ON p.oid = f.oid
				   WHERE f.proname = 'trackly_import_sends' AND (p.provolatile <> 'v' OR p.proisstrict)$$,
				'both import forms are VOLATILE and not STRICT');
SELECT is_empty($$SELECT f.sig FROM ext_function f JOIN pg_catalog.pg_proc p ON p.oid = f.oid
				   WHERE f.proname IN ('trackly_clear_history', 'trackly_clear_history_body', 'trackly_import_errors',
									   'trackly_import_errors_body') AND (p.provolatile <> 'v' OR p.proisstrict)$$,
				'every form of the clear and of the import errors is VOLATILE and not STRICT (SQL NULL is answered invalid_body)');
SELECT is_empty($$SELECT f.sig FROM ext_function f JOIN pg_catalog.pg_proc p ON p.oid = f.oid
				   WHERE f.proname IN ('trackly_report', 'trackly_report_body') AND (p.provolatile <> 'v' OR p.proisstrict)$$,
				'every form of the report is VOLATILE and not STRICT (SQL NULL is answered invalid_body)');
SELECT ok((SELECT p.prosecdef AND p.proconfig = ARRAY['search_path=pg_catalog, pg_temp']
				  AND NOT has_function_privilege('trackly_test_nobody', p.oid, 'EXECUTE')
			 FROM pg_catalog.pg_proc p WHERE p.oid = 'trackly.record_send_stats()'::regprocedure),
		  'the rollup''s trigger function writes as the owner, with a pinned search_path, and PUBLIC cannot call it');
SELECT is((SELECT p.prosecdef FROM pg_catalog.pg_proc p
			WHERE p.oid = 'trackly_purge_import_errors_batched(interval, integer)'::regprocedure), false,
		  'the batched purge runs as its caller (it commits), without SET');
SELECT ok(has_table_privilege('trackly_admin', 'trackly.history_clears', 'SELECT')
		  AND NOT has_table_privilege('trackly_api', 'trackly.history_clears', 'SELECT'),
		  'trackly_admin reads the clear log, trackly_api does not');
SELECT set_eq($$SELECT x::regclass::text FROM pg_catalog.pg_extension e, unnest(e.extconfig) x
				 WHERE e.extname = 'trackly_history' AND x::regclass::text LIKE 'trackly.history_clears%'$$,
			  $$VALUES ('trackly.history_clears'), ('trackly.history_clears_id_seq')$$,
			  'pg_dump keeps the clear log and its sequence');

SELECT ok(has_table_privilege('trackly_admin', 'trackly.send_stats', 'SELECT')
		  AND has_table_privilege('trackly_admin', 'trackly.send_stats_daily', 'SELECT')
		  AND NOT has_table_privilege('trackly_api', 'trackly.send_stats', 'SELECT')
		  AND NOT has_table_privilege('trackly_api', 'trackly.send_stats_daily', 'SELECT'),
		  'trackly_admin reads the rollup and its daily view, trackly_api does not');
SELECT is_empty($$SELECT x::regclass::text FROM pg_catalog.pg_extension e, unnest(e.extconfig) x
				   WHERE e.extname = 'trackly_history' AND x::regclass::text LIKE 'trackly.send_stats%'$$,
				'pg_dump does not keep the rollup: a restore of trackly.sends makes it again');

-- 6. The roles.
SELECT is((SELECT rolcanlogin FROM pg_catalog.pg_roles WHERE rolname = 'trackly_api'), false,
		  'trackly_api is NOLOGIN');
SELECT is((SELECT rolcanlogin FROM pg_catalog.pg_roles WHERE rolname = 'trackly_admin'), false,
		  'trackly_admin is NOLOGIN');
SELECT is_empty($$SELECT rolname FROM pg_catalog.pg_roles
				   WHERE rolname IN ('trackly_api', 'trackly_admin')
					 AND (rolsuper OR rolcreaterole OR rolcreatedb OR rolbypassrls OR rolreplication)$$,
				'trackly_api and trackly_admin hold no special attribute');

-- 7. In practice: a role granted trackly_api, as PostgREST's anonymous role.
CREATE ROLE trackly_test_api_user NOLOGIN;
GRANT trackly_api TO trackly_test_api_user;
CREATE ROLE trackly_test_admin_user NOLOGIN;
GRANT trackly_admin TO trackly_test_admin_user;

SELECT set_config('trackly_test.account', trackly_create_account('privileges test')::text, true);
SELECT set_config('trackly.api_key', trackly_create_api_key(current_setting('trackly_test.account')::bigint), true);

SET LOCAL ROLE trackly_test_api_user;
SELECT results_eq(
	$$SELECT r->>'success_count', r->>'error_count', r->'import_id' IS NOT NULL AND r->'import_id' <> 'null'
		FROM trackly_import_sends('{"records": [{"id": "p-1", "to_number": "+14155551234",
			"timestamp": "2025-11-15T14:30:00Z", "message": "hello"}]}') r$$,
	$$VALUES ('1', '0', true)$$,
	'a role granted trackly_api imports with its key');
SELECT throws_ok($$SELECT FROM trackly.sends$$, '42501', NULL,
				 'a role granted trackly_api cannot read trackly.sends');
SELECT is((SELECT trackly_import_errors(jsonb_build_object('import_id', 1))->'errors'->0->>'code'), 'import_not_found',
		  'a role granted trackly_api asks for an import''s errors with its key');
SELECT is(trackly_clear_history('{"ids": ["nothing-here"]}'), '{"deleted_count": 0, "errors": []}'::jsonb,
		  'a role granted trackly_api clears with its key');
SELECT throws_ok($$SELECT trackly_clear_history('{"all": true}'::jsonb, current_setting('trackly_test.account')::bigint)$$,
				 '42501', NULL, 'a role granted trackly_api cannot call the admin form of the clear');
SELECT throws_ok($$SELECT trackly_purge_import_errors('1 day')$$, '42501', NULL,
				 'a role granted trackly_api cannot purge');
SELECT is(trackly_report('{"from": "2025-11-15T00:00:00Z", "to": "2025-11-16T00:00:00Z", "interval": "day"}')->'totals'->'sends',
		  '1'::jsonb, 'a role granted trackly_api reports on its key''s account');
SELECT throws_ok($$SELECT trackly_report('{}'::jsonb, current_setting('trackly_test.account')::bigint)$$,
				 '42501', NULL, 'a role granted trackly_api cannot call the admin form of the report');
SELECT throws_ok($$SELECT trackly_create_account('nope')$$, '42501', NULL,
				 'a role granted trackly_api cannot call trackly_create_account');
SELECT throws_ok($$SELECT trackly_import_sends('{"records": []}'::jsonb, current_setting('trackly_test.account')::bigint)$$,
				 '42501', NULL,
				 'a role granted trackly_api cannot call the two-argument import');
SELECT throws_ok($$SELECT trackly_create_api_key(current_setting('trackly_test.account')::bigint)$$, '42501', NULL,
				 'a role granted trackly_api cannot create API keys');
RESET ROLE;

SELECT results_eq(
	$$SELECT s.id COLLATE "default", s.message, s.imported, i.source, i.api_key_id IS NOT NULL
		FROM trackly.sends s JOIN trackly.imports i ON i.account_id = s.account_id AND i.id = s.import_id
	   WHERE s.account_id = current_setting('trackly_test.account')::bigint$$,
	$$VALUES ('p-1'::text, 'hello'::text, true, 'api'::text, true)$$,
	'the import run by trackly_api stored the send and an api import row');

-- A role granted trackly_admin runs the helpers and reads, but writes only through them.
SET LOCAL ROLE trackly_test_admin_user;
SELECT lives_ok($$SELECT trackly_create_list(trackly_create_account('admin made'), '+14155550100', 'main')$$,
				'a role granted trackly_admin creates an account and a list');
SELECT is((SELECT count(*) FROM trackly.sends WHERE account_id = current_setting('trackly_test.account')::bigint),
		  1::bigint, 'a role granted trackly_admin reads trackly.sends');
SELECT throws_ok($$INSERT INTO trackly.accounts (name) VALUES ('sneaky')$$, '42501', NULL,
				 'a role granted trackly_admin cannot insert into trackly.accounts directly');
SELECT is((SELECT called_by || ' ' || source FROM trackly.history_clears
			WHERE account_id = current_setting('trackly_test.account')::bigint),
		  'trackly_test_api_user api', 'the clear log names the role that cleared, and the key''s form');
SELECT is(trackly_compact_send_stats(current_setting('trackly_test.account')::bigint)::text
			  || ' ' || (trackly_report('{"from": "2025-11-15T00:00:00Z", "to": "2025-11-16T00:00:00Z", "interval": "day"}',
										current_setting('trackly_test.account')::bigint)->'totals'->>'sends'),
		  '0 1', 'a role granted trackly_admin compacts the rollup and reports on any account');
RESET ROLE;

-- A role that may only DELETE from trackly.sends still keeps the rollup
-- exact: the trigger writes as the owner.
CREATE ROLE trackly_test_deleter NOLOGIN;
GRANT USAGE ON SCHEMA trackly TO trackly_test_deleter;
GRANT SELECT, DELETE ON trackly.sends TO trackly_test_deleter;
SET LOCAL ROLE trackly_test_deleter;
DELETE FROM trackly.sends WHERE account_id = current_setting('trackly_test.account')::bigint;
RESET ROLE;
SELECT is((SELECT coalesce(sum(sends) FILTER (WHERE NOT hourly), 0) || ' ' || coalesce(sum(sends) FILTER (WHERE hourly), 0)
			 FROM trackly.send_stats WHERE account_id = current_setting('trackly_test.account')::bigint),
		  '0 0', 'a DELETE by a role without any privilege on the rollup is counted in it, at both grains');

SELECT * FROM finish();
ROLLBACK;
