-- staged.sql: the staging-table import runs as its caller (it is not
-- SECURITY DEFINER), switches to the owner only around the writes, and
-- gives back the caller's role and settings.  A caller's look-alikes (an
-- = operator and an unnest in public, first on its search_path) cannot
-- hijack the writes; the source's own functions run as the caller.
BEGIN;
SELECT plan(14);

CREATE ROLE trackly_test_stager NOLOGIN;
GRANT USAGE, CREATE ON SCHEMA public TO trackly_test_stager;
GRANT trackly_admin TO trackly_test_stager;
SELECT trackly_create_account('Stager Co') AS account \gset

-- Privileges: trackly_admin only.
SELECT ok(NOT has_function_privilege('trackly_api', 'trackly_import_sends_from(regclass, bigint, text[])', 'EXECUTE'),
		  'trackly_api may not run the staged import');
SELECT ok(NOT has_function_privilege('public', 'trackly_import_sends_from(regclass, bigint, text[])', 'EXECUTE'),
		  'PUBLIC may not run the staged import');
SELECT ok(has_function_privilege('trackly_admin', 'trackly_import_sends_from(regclass, bigint, text[])', 'EXECUTE'),
		  'trackly_admin may run the staged import');
SELECT ok(NOT has_function_privilege('trackly_api', 'trackly_load_sends(regclass, bigint, text[], bigint)', 'EXECUTE'),
		  'trackly_api may not run the committing procedure');
SELECT is((SELECT prosecdef FROM pg_proc WHERE oid = 'trackly_import_sends_from(regclass, bigint, text[])'::regprocedure),
		  false, 'the staged import is not SECURITY DEFINER: it reads as its caller');
SELECT is((SELECT proconfig FROM pg_proc WHERE oid = 'trackly_load_sends(regclass, bigint, text[], bigint)'::regprocedure),
		  NULL, 'the procedure has no SET clause (it commits)');

SET LOCAL ROLE trackly_test_stager;
-- Look-alikes first on the caller's search_path.
CREATE FUNCTION public.trackly_test_false_eq(bigint, bigint) RETURNS boolean LANGUAGE sql IMMUTABLE
	AS $$SELECT false$$;
CREATE OPERATOR public.= (LEFTARG = bigint, RIGHTARG = bigint, FUNCTION = public.trackly_test_false_eq);
CREATE FUNCTION public.unnest(anyarray) RETURNS SETOF anyelement LANGUAGE sql IMMUTABLE
	AS $$SELECT $1[1] WHERE false$$;
CREATE FUNCTION public.trackly_test_whoami() RETURNS text LANGUAGE sql AS $$SELECT current_user::text$$;
CREATE TABLE public.trackly_test_stage AS
	SELECT 'st' || g || '-' || public.trackly_test_whoami() AS id, '+12025559876' AS to_number,
		   '2025-11-15T14:30:00Z' AS timestamp FROM generate_series(1, 3) g;
CREATE VIEW public.trackly_test_stage_view AS
	SELECT 'sv-' || public.trackly_test_whoami() AS id, '+12025559876' AS to_number,
		   '2025-11-15T14:30:00Z' AS timestamp;
SET LOCAL search_path = public, pg_catalog;
SET LOCAL work_mem = '1MB';
CREATE TEMP TABLE outcome AS
	SELECT trackly_import_sends_from('public.trackly_test_stage', :account) AS table_response,
		   trackly_import_sends_from('public.trackly_test_stage_view', :account) AS view_response,
		   current_user::text AS role_after, current_setting('search_path') AS path_after,
		   current_setting('work_mem') AS work_mem_after,
		   current_setting('synchronize_seqscans') AS syncscan_after;
RESET ROLE;
SET LOCAL search_path = public, pg_catalog;
RESET search_path;

SELECT is((SELECT (table_response->>'success_count')::int FROM outcome), 3,
		  'the import stored the three rows despite the caller''s = and unnest');
SELECT is((SELECT count(*)::int FROM trackly.sends WHERE account_id = :account), 4,
		  'trackly.sends holds them, and the view''s row');
SELECT is((SELECT count(*)::int FROM trackly.imports WHERE account_id = :account AND source = 'staged'), 2,
		  'two staged imports recorded');
SELECT is((SELECT id FROM trackly.sends WHERE account_id = :account AND id LIKE 'sv-%'),
		  'sv-trackly_test_stager', 'the view''s function ran as the caller, not as the owner');
SELECT is((SELECT role_after FROM outcome), 'trackly_test_stager', 'the caller''s role is back after the call');
SELECT is((SELECT path_after FROM outcome), 'public, pg_catalog', 'the caller''s search_path is back');
SELECT is((SELECT work_mem_after FROM outcome), '1MB', 'the caller''s work_mem is back');
SELECT is((SELECT syncscan_after FROM outcome), 'on', 'synchronize_seqscans is back');

SELECT * FROM finish();
ROLLBACK;
