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
