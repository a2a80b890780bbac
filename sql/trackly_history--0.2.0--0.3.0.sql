/* trackly_history--0.2.0--0.3.0.sql: import ids that tell nothing about other accounts; the HTTP entry point's raw body and key check */

\echo Use "ALTER EXTENSION trackly_history UPDATE TO '0.3.0'" to load this file. \quit

-- Import ids: 2^52 + a keyed permutation of trackly.imports_id_seq's value
-- (src/import_id.c).  The key is this sequence's value, drawn at random
-- here and never advanced; pg_dump keeps it, and a restore puts it back.
CREATE SEQUENCE trackly.import_id_key AS bigint MINVALUE 1 MAXVALUE 9223372036854775807;
COMMENT ON SEQUENCE trackly.import_id_key IS
	'the secret key of the import ids (its value; never advanced): keep it with the data, as pg_dump does';
SELECT pg_catalog.setval('trackly.import_id_key',
	GREATEST(1, ('x' || pg_catalog.md5(pg_catalog.gen_random_uuid()::text
											   || pg_catalog.gen_random_uuid()::text))::bit(64)::bigint
						   & 9223372036854775807), true);
SELECT pg_catalog.pg_extension_config_dump('trackly.import_id_key', '');
REVOKE ALL ON SEQUENCE trackly.import_id_key FROM PUBLIC;

-- The import gives every id itself; the sequence it permutes stays below 2^52.
ALTER TABLE trackly.imports ALTER COLUMN id DROP DEFAULT;
ALTER SEQUENCE trackly.imports_id_seq MAXVALUE 4503599627370495;
COMMENT ON COLUMN trackly.imports.id IS
	'unique within the account; from 0.3.0 on a number in [2^52, 2^53) that tells nothing about other accounts'' imports';

-- The HTTP entry point: the body as the bytes the client sent.  An overload
-- of trackly_import_sends would capture psql calls written with an untyped
-- literal, so it has a name of its own.
CREATE FUNCTION trackly_import_sends_body(bytea) RETURNS jsonb
	AS 'MODULE_PATHNAME', 'trackly_import_sends_body'
	LANGUAGE C VOLATILE SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION trackly_import_sends_body(bytea) IS
	'trackly_import_sends(jsonb) for a raw HTTP body: checks the key first, then that the bytes are UTF-8 JSON nested at most 64 deep (else invalid_body); returns the response body';

-- The key check a proxy makes before it reads a body (nginx's auth_request).
-- STABLE, so PostgREST serves it to GET; it only reads.
CREATE FUNCTION trackly_check_api_key() RETURNS void
	AS 'MODULE_PATHNAME', 'trackly_check_api_key'
	LANGUAGE C STABLE SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION trackly_check_api_key() IS
	'checks the request''s API key as trackly_import_sends(jsonb) does; for a missing or not live key sets response.status 401 and the header X-Trackly-Code';

REVOKE ALL ON FUNCTION trackly_import_sends_body(bytea), trackly_check_api_key() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION trackly_import_sends_body(bytea), trackly_check_api_key() TO trackly_api, trackly_admin;
